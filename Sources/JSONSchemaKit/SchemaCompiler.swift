import ChatAPI

/// Turns a schema document into `SchemaNode`s: every keyword checked once, regexes compiled,
/// `$ref`s resolved to node indices.
struct SchemaCompiler {
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
    /// Schemas being compiled, each inside the one before: a subschema is compiled from within
    /// its parent, and a `$ref` from within the schema holding it, so a chain of references
    /// through `$defs` nests as deep as it is long although the document itself is shallow.
    private var compilingDepth = 0
    /// `$id`s, anchors and `$ref` resolution, shared with the grammar compiler.
    private var document: SchemaDocument

    init(root: JSONValue, budget: WorkBudget) throws {
        self.root = root
        self.budget = budget
        document = try SchemaDocument(root: root, budget: budget)
        draft = document.draft
    }

    /// Compiles the whole document; the root schema is node 0.
    mutating func compile() throws {
        _ = try compileSchema(at: "", keyword: "schema")
    }

    // MARK: - Nodes

    /// Compiles the schema at `pointer` once; `known` is its value when the caller has it at hand.
    private mutating func compileSchema(at pointer: String, keyword: String, known: JSONValue? = nil) throws -> Int {
        if let existing = indexByPointer[pointer] { return existing }
        try budget.spend()
        compilingDepth += 1
        defer { compilingDepth -= 1 }
        try budget.checkDepth(compilingDepth, "schemas (counting $ref targets)")
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
            let target = try document.resolve(key == "$recursiveRef" ? "#" : reference, keyword: key, at: pointer)
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
            node.pattern = try r.regex(source, keyword: "pattern", budget)
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
                node.patternProperties.append((try r.regex(source, keyword: "patternProperties", budget), index))
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

    /// Compiles a `pattern`/`patternProperties` regex; a syntax error names `keyword`, an
    /// overrun of `budget` (groups nested too deep, too much work) propagates as is.
    func regex(_ source: String, keyword: String, _ budget: WorkBudget) throws -> ECMARegex {
        do {
            return try ECMARegex(source, budget: budget)
        } catch let e as RegexSyntaxError {
            throw error(keyword, "invalid regular expression \(JSONValue.quoted(source)): \(e)")
        }
    }
}
