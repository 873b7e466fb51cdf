import ChatAPI

/// The JSON Schema dialect a document declares with `$schema` (2020-12 when absent).
package enum Draft: Int, Comparable, Sendable {
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

    package static func < (a: Draft, b: Draft) -> Bool { a.rawValue < b.rawValue }

    /// Before 2019-09 a `$ref` replaces its sibling keywords.
    package var refOverridesSiblings: Bool { self <= .draft7 }
    /// Up to draft-04 an integer is a literal without fraction or exponent (`2.0` is a number).
    package var integersAreLiterals: Bool { self <= .draft4 }
    /// Draft-04 and earlier spell `$id` as `id`.
    var idKeyword: String { self <= .draft4 ? "id" : "$id" }
}

/// One schema document as a set of addressable schemas: its dialect, the base URI each
/// `$id` sets, its anchors, and `$ref` resolution against them (RFC 3986 plus JSON Pointer
/// fragments).
///
/// This is the one place references are resolved: the validator (`SchemaCompiler`) and the
/// grammar compiler both use it, so they cannot disagree on what a `$ref` means. Remote
/// documents are never fetched.
package struct SchemaDocument {
    /// Keywords whose value is one subschema.
    static let singleSchemaKeywords: Set<String> = [
        "additionalProperties", "additionalItems", "contains", "propertyNames", "not", "if", "then", "else",
        "unevaluatedProperties", "unevaluatedItems", "contentSchema",
    ]
    /// Keywords whose value is an array of subschemas.
    static let schemaArrayKeywords: Set<String> = ["allOf", "anyOf", "oneOf", "prefixItems"]
    /// Keywords whose value maps names to subschemas.
    static let schemaMapKeywords: Set<String> = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]

    /// The document as given.
    package let root: JSONValue
    /// The dialect its root declares; it applies to the whole document.
    package let draft: Draft
    /// Document URI → JSON Pointer of the schema that `$id` names.
    private var resources: [String: String] = [:]
    /// `document#name` → JSON Pointer of the schema holding that anchor.
    private var anchors: [String: String] = [:]
    /// JSON Pointer of each schema with an `$id` → the base URI it sets.
    private var baseByPointer: [String: String] = [:]
    private var resolvedReferences: [String: String] = [:]

    /// Indexes the `$id`s and anchors of `root`; spends from `budget` per schema object.
    package init(root: JSONValue, budget: WorkBudget) throws {
        self.root = root
        draft = Draft(schemaURI: root["$schema"]?.stringValue)
        var path: [String] = []
        baseByPointer[""] = URIReference.defaultBase
        try indexResources(root, path: &path, depth: 0, base: URIReference.defaultBase, budget)
        resources[URIReference.defaultBase] = ""
    }

    // MARK: - Resource index ($id, $anchor)

    /// Records `$id`s and anchors with the JSON Pointer of their schema. `path` holds the
    /// pointer's tokens; the string is only built where something is recorded.
    private mutating func indexResources(_ value: JSONValue, path: inout [String], depth: Int, base: String, _ budget: WorkBudget) throws {
        guard case .object(let object) = value else { return }
        try budget.spend()
        try budget.checkDepth(depth, "schemas")
        var pointer: String { SchemaDocument.pointer(path) }
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
        try SchemaDocument.forEachSubschema(of: object, path: &path) { child, path in
            try indexResources(child, path: &path, depth: depth + 1, base: base, budget)
        }
    }

    /// Calls `body` with every direct subschema of a schema object and its path (the tokens
    /// below the object's own path are pushed onto `path` for the call).
    private static func forEachSubschema(of object: JSONObject, path: inout [String],
                                         _ body: (JSONValue, inout [String]) throws -> Void) rethrows {
        for (key, child) in object {
            switch child {
            case .object(let members):
                path.append(key)
                if schemaMapKeywords.contains(key) || key == "dependencies" {
                    for (name, member) in members {
                        path.append(name)
                        try body(member, &path)
                        path.removeLast()
                    }
                } else if singleSchemaKeywords.contains(key) || key == "items" {
                    try body(child, &path)
                }
                path.removeLast()
            case .array(let items) where schemaArrayKeywords.contains(key) || key == "items":
                path.append(key)
                for (i, item) in items.enumerated() {
                    path.append(String(i))
                    try body(item, &path)
                    path.removeLast()
                }
                path.removeLast()
            default:
                continue
            }
        }
    }

    private static func pointer(_ path: [String]) -> String { path.map { "/" + JSONPointer.escape($0) }.joined() }

    /// The base URI in effect at the schema at `pointer` (its own or its nearest ancestor's `$id`).
    package func base(for pointer: String) -> String {
        var p = Substring(pointer)
        while true {
            if let base = baseByPointer[String(p)] { return base }
            guard let slash = p.lastIndex(of: "/") else { return URIReference.defaultBase }
            p = p[..<slash]
        }
    }

    // MARK: - References

    /// Resolves `reference`, written in the schema at `pointer`, to the JSON Pointer (from the
    /// document root) of its target. Throws a `SchemaError` naming `keyword` when the target is
    /// remote or absent.
    package mutating func resolve(_ reference: String, keyword: String, at pointer: String) throws(SchemaError) -> String {
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

    /// The schema a JSON Pointer from `resolve` designates, in `document` (the root, or a copy
    /// of it with the same structure such as `withPointerReferences`).
    package static func schema(at pointer: String, in document: JSONValue) -> JSONValue? {
        JSONPointer.resolve(pointer, in: document)
    }

    /// The document with the value of every `$ref` in a schema position rewritten to `#` and the
    /// JSON Pointer of its target, so that a consumer walking schemas by value (the grammar
    /// compiler, which does not track `$id` bases) reads each reference as the validator does
    /// by resolving it against the root. A reference that does not resolve becomes its
    /// absolute URI, which fails the same way wherever it is resolved.
    package mutating func withPointerReferences(_ budget: WorkBudget) throws -> JSONValue {
        var path: [String] = []
        return try rewritingReferences(root, path: &path, depth: 0, budget) ?? root
    }

    /// `value` with its references rewritten, or nil when it has none to rewrite.
    private mutating func rewritingReferences(_ value: JSONValue, path: inout [String], depth: Int, _ budget: WorkBudget) throws -> JSONValue? {
        guard case .object(let original) = value else { return nil }
        try budget.spend()
        try budget.checkDepth(depth, "schemas")
        var object = original
        var changed = false
        if case .string(let reference)? = original["$ref"] {
            let pointer = SchemaDocument.pointer(path)
            let rewritten: String
            do {
                // `%` is the one character of a pointer that percent-decoding would alter.
                let target = try resolve(reference, keyword: "$ref", at: pointer)
                rewritten = "#" + target.replacingAll("%", with: "%25")
            } catch {
                rewritten = URIReference.resolve(reference, against: base(for: pointer))
            }
            if rewritten != reference {
                object["$ref"] = .string(rewritten)
                changed = true
            }
        }
        for (key, child) in original {
            switch child {
            case .object(var members) where SchemaDocument.schemaMapKeywords.contains(key) || key == "dependencies":
                path.append(key)
                var membersChanged = false
                for (name, member) in members {
                    path.append(name)
                    if let new = try rewritingReferences(member, path: &path, depth: depth + 1, budget) {
                        members[name] = new
                        membersChanged = true
                    }
                    path.removeLast()
                }
                path.removeLast()
                if membersChanged {
                    object[key] = .object(members)
                    changed = true
                }
            case .object where SchemaDocument.singleSchemaKeywords.contains(key) || key == "items":
                path.append(key)
                if let new = try rewritingReferences(child, path: &path, depth: depth + 1, budget) {
                    object[key] = new
                    changed = true
                }
                path.removeLast()
            case .array(var items) where SchemaDocument.schemaArrayKeywords.contains(key) || key == "items":
                path.append(key)
                var itemsChanged = false
                for i in items.indices {
                    path.append(String(i))
                    if let new = try rewritingReferences(items[i], path: &path, depth: depth + 1, budget) {
                        items[i] = new
                        itemsChanged = true
                    }
                    path.removeLast()
                }
                path.removeLast()
                if itemsChanged {
                    object[key] = .array(items)
                    changed = true
                }
            default:
                continue
            }
        }
        return changed ? .object(object) : nil
    }
}

private extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
