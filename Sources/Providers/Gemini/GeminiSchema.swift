import ChatAPI

/// A JSON Schema (a tool's `parameters`, a `response_format` schema) as the OpenAPI 3.0 subset
/// Gemini's `Schema` accepts.
///
/// The guard checks every answer against the ORIGINAL schema, so what Gemini cannot say may be
/// left out upstream without loosening the guarantee:
/// - `$ref` to `$defs`/`definitions` is inlined (a recursive one is a 400: Gemini has no
///   references);
/// - `type: [T, "null"]` and `anyOf` with a `null` branch become `nullable`; several types
///   become `anyOf`; `oneOf` becomes `anyOf`; a one-element `allOf` is inlined;
/// - `const` and `enum` of strings become `enum`; `exclusiveMinimum`/`exclusiveMaximum`
///   become `minimum`/`maximum`;
/// - `required` keeps only declared properties (Gemini refuses the others);
/// - keywords Gemini has no field for (`additionalProperties`, `uniqueItems`, `multipleOf`,
///   `patternProperties`, non-string `enum`, formats it does not know, …) are dropped.
///
/// What cannot be said at all, a schema with no type or an array with no `items`, is a 400
/// naming the place, never a guess.
struct GeminiSchema {
    /// Keywords copied as they are.
    private static let kept = ["title", "description", "minItems", "maxItems", "minLength", "maxLength", "pattern",
                               "minimum", "maximum", "minProperties", "maxProperties"]
    /// The formats Gemini knows, by type.
    private static let formats: [String: Set<String>] = [
        "STRING": ["enum", "date-time"], "INTEGER": ["int32", "int64"], "NUMBER": ["float", "double"],
    ]
    /// Nesting deeper than this is refused (the request's own parser allows deeper JSON).
    static let maxDepth = 64
    /// Inlining `$ref`s may copy a definition many times; past this many schema nodes the
    /// request is refused instead of growing without bound.
    static let maxNodes = 10_000

    private let root: JSONValue
    /// Where the schema sits in the request, for errors (`tools[0].function.parameters`).
    private let param: String
    private var nodes = 0

    /// `schema` converted; `param` names it in errors.
    static func convert(_ schema: JSONValue, param: String) throws -> JSONValue {
        var converter = GeminiSchema(root: schema, param: param)
        return try converter.convert(schema, path: param, depth: 0, refs: [])
    }

    private init(root: JSONValue, param: String) {
        self.root = root
        self.param = param
    }

    private func refuse(_ path: String, _ why: String) -> APIError {
        APIError.invalidRequest("Invalid schema at '\(path)': \(why)", param: param, code: "unsupported_schema")
    }

    private mutating func convert(_ schema: JSONValue, path: String, depth: Int, refs: [String]) throws -> JSONValue {
        nodes += 1
        guard depth <= Self.maxDepth else { throw refuse(path, "nested deeper than \(Self.maxDepth) levels.") }
        guard nodes <= Self.maxNodes else { throw refuse(path, "more than \(Self.maxNodes) schemas once '$ref's are inlined.") }
        guard var s = schema.objectValue else { throw refuse(path, "Gemini needs every schema to be an object with a 'type'.") }

        if let ref = s["$ref"]?.stringValue {
            guard !refs.contains(ref) else { throw refuse(path, "'$ref' \(ref) refers to itself; Gemini schemas cannot recurse.") }
            var target = try resolve(ref, path: path)
            // Siblings of `$ref` (a description, say) describe this use of the definition.
            for (key, value) in s where key != "$ref" { target[key] = value }
            return try convert(.object(target), path: path, depth: depth + 1, refs: refs + [ref])
        }
        if let all = s["allOf"]?.arrayValue {
            guard all.count == 1, var only = all[0].objectValue else {
                throw refuse(path, "'allOf' with \(all.count) schemas has no Gemini form.")
            }
            s.removeValue(forKey: "allOf")
            for (key, value) in s { only[key] = value }
            return try convert(.object(only), path: path, depth: depth + 1, refs: refs)
        }

        var out: JSONObject = [:]
        var nullable = false
        var types: [String] = []
        switch s["type"] {
        case .string(let t)?: types = [t]
        case .array(let ts)?: types = ts.compactMap(\.stringValue)
        default: break
        }
        if types.contains("null") {
            nullable = true
            types.removeAll { $0 == "null" }
        }
        var branches = (s["anyOf"] ?? s["oneOf"])?.arrayValue ?? []
        if branches.contains(where: { $0["type"] == "null" }) {
            nullable = true
            branches.removeAll { $0["type"] == "null" }
        }

        // Strings only: Gemini's `enum` is a list of strings.
        var strings: [JSONValue]?
        if let c = s["const"] {
            strings = c.stringValue != nil ? [c] : nil
        } else if let e = s["enum"]?.arrayValue {
            if e.contains(.null) { nullable = true }
            let values = e.filter { $0 != .null }
            strings = values.allSatisfy { $0.stringValue != nil } ? values : nil
        }
        if types.isEmpty, strings != nil { types = ["string"] }

        if types.count > 1 {
            // Each type as a branch; the guard holds the branches to the rest of the keywords.
            out["anyOf"] = .array(try types.map { t in
                var branch = s
                branch["type"] = .string(t)
                for key in ["anyOf", "oneOf", "enum", "const"] { branch.removeValue(forKey: key) }
                return try convert(.object(branch), path: path, depth: depth + 1, refs: refs)
            })
        } else if !branches.isEmpty, types.isEmpty {
            if branches.count == 1 {
                var only = try convert(branches[0], path: "\(path).anyOf[0]", depth: depth + 1, refs: refs).objectValue ?? [:]
                if nullable { only["nullable"] = true }
                if let description = s["description"], only["description"] == nil { only["description"] = description }
                return .object(only)
            }
            out["anyOf"] = .array(try branches.enumerated().map { i, branch in
                try convert(branch, path: "\(path).anyOf[\(i)]", depth: depth + 1, refs: refs)
            })
        } else if let t = types.first {
            let type = t.uppercased()
            guard ["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"].contains(type) else {
                throw refuse(path, "unknown type '\(t)'.")
            }
            out["type"] = .string(type)
            if let format = s["format"]?.stringValue, Self.formats[type]?.contains(format) == true { out["format"] = .string(format) }
            if type == "STRING", let strings { out["enum"] = .array(strings) }
            if type == "ARRAY" {
                guard let items = s["items"], items.objectValue != nil else {
                    throw refuse(path, "an array needs 'items' (a schema) for Gemini.")
                }
                out["items"] = try convert(items, path: "\(path).items", depth: depth + 1, refs: refs)
            }
            if type == "OBJECT", let properties = s["properties"]?.objectValue, !properties.isEmpty {
                var converted: JSONObject = [:]
                for (name, property) in properties {
                    converted[name] = try convert(property, path: "\(path).properties.\(name)", depth: depth + 1, refs: refs)
                }
                out["properties"] = .object(converted)
                let required = (s["required"]?.arrayValue ?? []).filter { $0.stringValue.map { properties[$0] != nil } ?? false }
                if !required.isEmpty { out["required"] = .array(required) }
            }
        } else {
            throw refuse(path, "Gemini needs a 'type' (or 'anyOf') for every schema.")
        }

        for key in Self.kept { if let value = s[key] { out[key] = value } }
        if let minimum = s["exclusiveMinimum"], minimum.doubleValue != nil, out["minimum"] == nil { out["minimum"] = minimum }
        if let maximum = s["exclusiveMaximum"], maximum.doubleValue != nil, out["maximum"] == nil { out["maximum"] = maximum }
        if nullable { out["nullable"] = true }
        return .object(out)
    }

    /// The definition `#/$defs/Name` (or `#/definitions/Name`) names.
    private func resolve(_ ref: String, path: String) throws -> JSONObject {
        for prefix in ["#/$defs/", "#/definitions/"] where ref.hasPrefix(prefix) {
            let name = String(ref.dropFirst(prefix.count))
            let defs = root[prefix == "#/$defs/" ? "$defs" : "definitions"]
            if let target = defs?[name]?.objectValue { return target }
        }
        throw refuse(path, "'$ref' \(ref) does not name a definition in '$defs' or 'definitions'.")
    }
}
