import ChatAPI

/// The JSON Schema dialect a document declares with `$schema` (2020-12 when absent).
enum Draft: Int, Comparable {
    case draft3 = 3, draft4 = 4, draft6 = 6, draft7 = 7, draft2019 = 2019, draft2020 = 2020

    init(schemaURI: String?) {
        guard let uri = schemaURI else { self = .draft2020; return }
        if uri.contains("draft-03") { self = .draft3 }
        else if uri.contains("draft-04") { self = .draft4 }
        else if uri.contains("draft-06") { self = .draft6 }
        else if uri.contains("draft-07") { self = .draft7 }
        else if uri.contains("2019-09") { self = .draft2019 }
        else { self = .draft2020 }
    }

    static func < (a: Draft, b: Draft) -> Bool { a.rawValue < b.rawValue }

    /// Before 2019-09 a `$ref` replaces its sibling keywords.
    var refOverridesSiblings: Bool { self <= .draft7 }
    /// Draft-04 and earlier spell `$id` as `id`.
    var idKeyword: String { self <= .draft4 ? "id" : "$id" }
}

/// Turns a schema document into `SchemaNode`s: every keyword checked once, regexes compiled,
/// `$ref`s resolved to node indices.
struct SchemaCompiler {
    static let singleSchemaKeywords: Set<String> = [
        "additionalProperties", "additionalItems", "contains", "propertyNames", "not", "if", "then", "else",
        "unevaluatedProperties", "unevaluatedItems", "contentSchema",
    ]
    static let schemaArrayKeywords: Set<String> = ["allOf", "anyOf", "oneOf", "prefixItems"]
    static let schemaMapKeywords: Set<String> = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]

    /// Keywords this validator understands (assertions, applicators and the core ones).
    static let knownKeywords: Set<String> = [
        "$schema", "$id", "id", "$ref", "$dynamicRef", "$recursiveRef", "$anchor", "$dynamicAnchor", "$recursiveAnchor",
        "$defs", "definitions", "$comment", "$vocabulary",
        "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "format", "items", "prefixItems", "additionalItems", "maxItems", "minItems",
        "uniqueItems", "contains", "maxContains", "minContains", "properties", "patternProperties",
        "additionalProperties", "propertyNames", "required", "maxProperties", "minProperties", "dependentRequired",
        "dependentSchemas", "dependencies", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
        "unevaluatedProperties", "unevaluatedItems",
    ]

    let root: JSONValue
    let draft: Draft
    let budget: WorkBudget
    private(set) var nodes: [SchemaNode] = []
    private(set) var usedKeywords: Set<String> = []
    private var indexByPointer: [String: Int] = [:]
    private var resources: [String: String] = [:]
    private var anchors: [String: String] = [:]
    private var baseByPointer: [String: String] = [:]
    private var resolvedReferences: [String: String] = [:]

    init(root: JSONValue, budget: WorkBudget) {
        self.root = root
        self.budget = budget
        draft = Draft(schemaURI: root["$schema"]?.stringValue)
    }

    /// Compiles the whole document; the root schema is node 0.
    mutating func compile() throws {
        var path: [String] = []
        baseByPointer[""] = URIReference.defaultBase
        indexResources(root, path: &path, base: URIReference.defaultBase)
        resources[URIReference.defaultBase] = ""
        _ = try compileSchema(at: "", keyword: "schema")
    }

    // MARK: - Resource index ($id, $anchor)

    /// Records `$id`s and anchors with the JSON Pointer of their schema. `path` holds the
    /// pointer's tokens; the string is only built where something is recorded.
    private mutating func indexResources(_ value: JSONValue, path: inout [String], base: String) {
        guard case .object(let object) = value else { return }
        var pointer: String { path.map { "/" + JSONPointer.escape($0) }.joined() }
        // One pass to find the identifying keywords (cheaper than several dictionary lookups).
        var id: String?
        var hasRef = false
        var anchorNames: [String] = []
        for (key, member) in object {
            switch key {
            case draft.idKeyword: id = member.stringValue
            case "$ref": hasRef = true
            case "$anchor", "$dynamicAnchor": if let name = member.stringValue { anchorNames.append(name) }
            default: break
            }
        }
        var base = base
        if let id, !hasRef || !draft.refOverridesSiblings {
            let here = pointer
            let resolved = URIReference.resolve(id, against: base)
            let (document, fragment) = URIReference.split(resolved)
            if !id.hasPrefix("#") {
                resources[document] = resources[document] ?? here
                base = document
                baseByPointer[here] = base
            }
            if !fragment.isEmpty, !fragment.hasPrefix("/") { anchors[document + "#" + fragment] = here }
        }
        for anchor in anchorNames {
            let name = base + "#" + anchor
            anchors[name] = anchors[name] ?? pointer
        }
        for (key, child) in object {
            guard case .object = child, SchemaCompiler.singleSchemaKeywords.contains(key) || key == "items"
                || SchemaCompiler.schemaMapKeywords.contains(key) || key == "dependencies"
            else {
                if case .array(let items) = child, SchemaCompiler.schemaArrayKeywords.contains(key) || key == "items" {
                    path.append(key)
                    for (i, item) in items.enumerated() {
                        path.append(String(i))
                        indexResources(item, path: &path, base: base)
                        path.removeLast()
                    }
                    path.removeLast()
                }
                continue
            }
            path.append(key)
            if SchemaCompiler.schemaMapKeywords.contains(key) || key == "dependencies" {
                if case .object(let members) = child {
                    for (name, member) in members {
                        path.append(name)
                        indexResources(member, path: &path, base: base)
                        path.removeLast()
                    }
                }
            } else {
                indexResources(child, path: &path, base: base)
            }
            path.removeLast()
        }
    }

    private func base(for pointer: String) -> String {
        var p = Substring(pointer)
        while true {
            if let base = baseByPointer[String(p)] { return base }
            guard let slash = p.lastIndex(of: "/") else { return URIReference.defaultBase }
            p = p[..<slash]
        }
    }

    // MARK: - Nodes

    /// Compiles the schema at `pointer` once; `known` is its value when the caller has it at hand.
    private mutating func compileSchema(at pointer: String, keyword: String, known: JSONValue? = nil) throws -> Int {
        if let existing = indexByPointer[pointer] { return existing }
        try budget.spend()
        guard let value = known ?? JSONPointer.resolve(pointer, in: root) else {
            throw SchemaError(keyword: keyword, schemaPath: pointer, message: "no schema at this location")
        }
        let index = nodes.count
        nodes.append(SchemaNode(path: pointer))
        indexByPointer[pointer] = index
        nodes[index] = try buildNode(value, pointer: pointer, keyword: keyword)
        return index
    }

    private mutating func buildNode(_ value: JSONValue, pointer: String, keyword: String) throws -> SchemaNode {
        var node = SchemaNode(path: pointer)
        switch value {
        case .bool(let b):
            node.constant = b
            return node
        case .object(let object):
            if object.isEmpty {
                node.constant = true
                return node
            }
            // One pass over the members into a standard Dictionary: ~50 keyword lookups follow,
            // and the standard library's hashing is much cheaper than OrderedDictionary's.
            var members = [String: JSONValue](minimumCapacity: object.count)
            for (key, member) in object {
                members[key] = member
                usedKeywords.insert(key)
            }
            var reader = KeywordReader(object: members, pointer: pointer)
            try readKeywords(&reader, into: &node)
            return node
        default:
            throw SchemaError(keyword: keyword, schemaPath: pointer,
                              message: "a schema must be an object or a boolean, not \(value.typeName)")
        }
    }

    private mutating func readKeywords(_ r: inout KeywordReader, into node: inout SchemaNode) throws {
        let object = r.object
        let pointer = r.pointer
        for key in ["$ref", "$dynamicRef", "$recursiveRef"] {
            guard let value = object[key] else { continue }
            guard case .string(let reference) = value else {
                throw r.error(key, "must be a string, not \(value.typeName)")
            }
            let target = try resolveReference(key == "$recursiveRef" ? "#" : reference, keyword: key, at: pointer)
            node.ref = try compileSchema(at: target, keyword: key)
            node.refKeyword = key
            if key == "$ref" && draft.refOverridesSiblings { return }
            break
        }

        if let value = object["type"] {
            var set: TypeSet = []
            let names: [JSONValue]
            if case .array(let list) = value { names = list } else { names = [value] }
            guard !names.isEmpty || value.arrayValue != nil else { throw r.error("type", "must be a string or an array of strings") }
            for name in names {
                guard case .string(let s) = name else { throw r.error("type", "must be a string or an array of strings") }
                if s == "any" && draft <= .draft3 {
                    set.formUnion(.all)
                    continue
                }
                guard let t = TypeSet(name: s) else {
                    throw r.error("type", "\(JSONValue.quoted(s)) is not a JSON Schema type (expected one of null, boolean, object, array, number, string, integer)")
                }
                set.insert(t)
            }
            node.types = set
        }
        if let value = object["enum"] {
            guard case .array(let values) = value else { throw r.error("enum", "must be an array") }
            node.enumValues = values
        }
        if draft >= .draft6, let value = object["const"] { node.constValue = value }

        // Numbers.
        node.multipleOf = try r.number("multipleOf")
        if let m = node.multipleOf, m.double <= 0 || ExactDecimal(m).isZero || ExactDecimal(m).negative {
            throw r.error("multipleOf", "must be greater than 0")
        }
        node.minimum = try r.number("minimum")
        node.maximum = try r.number("maximum")
        switch object["exclusiveMinimum"] {
        case .bool(let exclusive)?:  // draft-04 form modifies `minimum`
            if exclusive { node.exclusiveMinimum = node.minimum; node.minimum = nil }
        case .some: node.exclusiveMinimum = try r.number("exclusiveMinimum")
        case nil: break
        }
        switch object["exclusiveMaximum"] {
        case .bool(let exclusive)?:
            if exclusive { node.exclusiveMaximum = node.maximum; node.maximum = nil }
        case .some: node.exclusiveMaximum = try r.number("exclusiveMaximum")
        case nil: break
        }

        // Strings.
        node.minLength = try r.count("minLength")
        node.maxLength = try r.count("maxLength")
        if let value = object["pattern"] {
            guard case .string(let source) = value else { throw r.error("pattern", "must be a string") }
            node.pattern = try r.regex(source, keyword: "pattern")
        }
        if let value = object["format"] {
            guard case .string(let name) = value else { throw r.error("format", "must be a string") }
            node.format = FormatKind(rawValue: name)
        }

        // Arrays.
        if draft >= .draft2020, let prefix = object["prefixItems"] {
            node.prefixItems = try schemaArray(prefix, keyword: "prefixItems", r)
            if let items = object["items"] { node.items = try schema(items, keyword: "items", r) }
        } else if let items = object["items"] {
            if case .array = items {
                node.prefixItems = try schemaArray(items, keyword: "items", r)
                if let additional = object["additionalItems"] {
                    node.items = try schema(additional, keyword: "additionalItems", r)
                    node.itemsKeyword = "additionalItems"
                }
            } else {
                node.items = try schema(items, keyword: "items", r)
            }
        }
        node.minItems = try r.count("minItems")
        node.maxItems = try r.count("maxItems")
        if let value = object["uniqueItems"] {
            guard case .bool(let unique) = value else { throw r.error("uniqueItems", "must be a boolean") }
            node.uniqueItems = unique
        }
        if draft >= .draft6, let value = object["contains"] {
            node.contains = try schema(value, keyword: "contains", r)
            if draft >= .draft2019 {
                node.minContains = try r.count("minContains")
                node.maxContains = try r.count("maxContains")
            }
        }
        if draft >= .draft2019, let value = object["unevaluatedItems"] { node.unevaluatedItems = try schema(value, keyword: "unevaluatedItems", r) }

        // Objects.
        if let value = object["properties"] {
            for (name, index) in try schemaMap(value, keyword: "properties", r) { node.properties[name] = index }
        }
        if let value = object["patternProperties"] {
            for (source, index) in try schemaMap(value, keyword: "patternProperties", r) {
                node.patternProperties.append((try r.regex(source, keyword: "patternProperties"), index))
            }
        }
        if let value = object["additionalProperties"] {
            node.additionalProperties = try schema(value, keyword: "additionalProperties", r)
        }
        if draft >= .draft6, let value = object["propertyNames"] { node.propertyNames = try schema(value, keyword: "propertyNames", r) }
        if let value = object["required"] {
            if case .bool = value, draft <= .draft3 {
                // Draft-03 put `required: true` on the property itself; the parent handles it below.
            } else {
                node.required = try r.stringArray(value, keyword: "required")
            }
        }
        if draft <= .draft3, case .object(let properties)? = object["properties"] {
            for (name, property) in properties where property["required"] == .bool(true) { node.required.append(name) }
        }
        node.minProperties = try r.count("minProperties")
        node.maxProperties = try r.count("maxProperties")
        if draft >= .draft2019, let value = object["dependentRequired"] {
            guard case .object(let members) = value else { throw r.error("dependentRequired", "must be an object") }
            for (name, list) in members {
                node.dependentRequired.append((name, try r.stringArray(list, keyword: "dependentRequired")))
            }
        }
        if draft >= .draft2019, let value = object["dependentSchemas"] {
            node.dependentSchemas = try schemaMap(value, keyword: "dependentSchemas", r)
        }
        if let value = object["dependencies"] {
            guard case .object(let members) = value else { throw r.error("dependencies", "must be an object") }
            for (name, member) in members {
                switch member {
                case .array: node.dependentRequired.append((name, try r.stringArray(member, keyword: "dependencies")))
                case .string(let single) where draft <= .draft3: node.dependentRequired.append((name, [single]))
                default:
                    let index = try compileSchema(at: pointer + "/dependencies/" + JSONPointer.escape(name), keyword: "dependencies", known: member)
                    node.dependentSchemas.append((name, index))
                }
            }
        }
        if draft >= .draft2019, let value = object["unevaluatedProperties"] {
            node.unevaluatedProperties = try schema(value, keyword: "unevaluatedProperties", r)
        }

        // Combinators.
        if let value = object["allOf"] { node.allOf = try schemaArray(value, keyword: "allOf", r) }
        if let value = object["anyOf"] { node.anyOf = try schemaArray(value, keyword: "anyOf", r) }
        if let value = object["oneOf"] { node.oneOf = try schemaArray(value, keyword: "oneOf", r) }
        if let value = object["not"] { node.not = try schema(value, keyword: "not", r) }
        if draft >= .draft7, let value = object["if"] {
            node.ifSchema = try schema(value, keyword: "if", r)
            if let then = object["then"] { node.thenSchema = try schema(then, keyword: "then", r) }
            if let otherwise = object["else"] { node.elseSchema = try schema(otherwise, keyword: "else", r) }
        }
        // `$defs`/`definitions` are compiled on demand, when a `$ref` reaches them; but their
        // syntax is still checked so a broken definition is reported even if unused.
        for key in ["$defs", "definitions"] {
            guard let value = object[key] else { continue }
            guard case .object = value else { throw r.error(key, "must be an object") }
        }
    }

    // MARK: - Subschemas

    private mutating func schema(_ value: JSONValue, keyword: String, _ r: KeywordReader) throws -> Int {
        try compileSchema(at: r.pointer + "/" + JSONPointer.escape(keyword), keyword: keyword, known: value)
    }

    private mutating func schemaArray(_ value: JSONValue, keyword: String, _ r: KeywordReader) throws -> [Int] {
        guard case .array(let items) = value else { throw r.error(keyword, "must be an array of schemas") }
        let base = r.pointer + "/" + JSONPointer.escape(keyword)
        return try items.enumerated().map { try compileSchema(at: base + "/\($0.offset)", keyword: keyword, known: $0.element) }
    }

    private mutating func schemaMap(_ value: JSONValue, keyword: String, _ r: KeywordReader) throws -> [(String, Int)] {
        guard case .object(let members) = value else { throw r.error(keyword, "must be an object whose values are schemas") }
        let base = r.pointer + "/" + JSONPointer.escape(keyword)
        var out: [(String, Int)] = []
        out.reserveCapacity(members.count)
        for (name, member) in members {
            out.append((name, try compileSchema(at: base + "/" + JSONPointer.escape(name), keyword: keyword, known: member)))
        }
        return out
    }

    // MARK: - References

    /// Resolves a `$ref` to the JSON Pointer (from the document root) of its target.
    private mutating func resolveReference(_ reference: String, keyword: String, at pointer: String) throws -> String {
        let base = base(for: pointer)
        let cacheKey = base + " " + reference
        if let cached = resolvedReferences[cacheKey] { return cached }
        let absolute = URIReference.resolve(reference, against: base)
        let (document, rawFragment) = URIReference.split(absolute)
        guard let documentPointer = resources[document] else {
            let scheme = URIReference.scheme(document) ?? ""
            let what = scheme.hasPrefix("http") || scheme == "file" ? "remote $ref not supported" : "unresolvable $ref"
            throw SchemaError(keyword: keyword, schemaPath: pointer, message: "\(what): \(JSONValue.quoted(reference))")
        }
        let fragment = URIReference.percentDecode(rawFragment)
        let target: String
        if fragment.isEmpty {
            target = documentPointer
        } else if fragment.hasPrefix("/") {
            target = documentPointer + fragment
        } else if let anchored = anchors[document + "#" + fragment] {
            target = anchored
        } else {
            throw SchemaError(keyword: keyword, schemaPath: pointer, message: "unresolvable $ref: no anchor \(JSONValue.quoted(fragment))")
        }
        guard JSONPointer.resolve(target, in: root) != nil else {
            throw SchemaError(keyword: keyword, schemaPath: pointer, message: "unresolvable $ref: \(JSONValue.quoted(reference)) points nowhere")
        }
        resolvedReferences[cacheKey] = target
        return target
    }
}

/// Reads and checks the scalar keywords of one schema object.
struct KeywordReader {
    let object: [String: JSONValue]
    let pointer: String

    func error(_ keyword: String, _ message: String) -> SchemaError {
        SchemaError(keyword: keyword, schemaPath: pointer, message: message)
    }

    func number(_ keyword: String) throws -> JSONNumber? {
        guard let value = object[keyword] else { return nil }
        guard case .number(let n) = value else { throw error(keyword, "must be a number, not \(value.typeName)") }
        return n
    }

    /// A non-negative integer (`2.0` is accepted, as the spec allows).
    func count(_ keyword: String) throws -> Int? {
        guard let value = object[keyword] else { return nil }
        guard case .number(let n) = value, NumberMath.isInteger(n), n.double >= 0 else {
            throw error(keyword, "must be a non-negative integer, not \(value)")
        }
        return n.double >= Double(Int.max) ? Int.max : Int(n.double)
    }

    func stringArray(_ value: JSONValue, keyword: String) throws -> [String] {
        guard case .array(let items) = value else { throw error(keyword, "must be an array of strings, not \(value.typeName)") }
        return try items.map {
            guard case .string(let s) = $0 else { throw error(keyword, "must be an array of strings, found \($0.typeName)") }
            return s
        }
    }

    func regex(_ source: String, keyword: String) throws -> ECMARegex {
        do {
            return try ECMARegex(source)
        } catch let e as RegexSyntaxError {
            throw error(keyword, "invalid regular expression \(JSONValue.quoted(source)): \(e)")
        }
    }
}
