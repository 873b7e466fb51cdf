import ChatAPI
import JSONSchemaKit

/// Rewrites `not` into positive keywords the compiler enforces, for the shapes tool schemas use:
/// `not: {required: [...]}` (with `properties`/`type: object`), `not: {type}`, `not: {enum}` /
/// `not: {const}`, `not: {pattern}` (with `type: string`), and `anyOf`/`allOf` of those.
/// Any other negation fails compilation with an error naming `not`.
extension SchemaCompiler {
    static let allTypes = ["null", "boolean", "object", "array", "number", "string"]

    /// `o` (which has a `not`) as an equivalent schema without that `not`.
    func eliminateNot(_ o: JSONObject) throws -> JSONValue {
        var rest = o
        guard let n = rest.removeValue(forKey: "not") else { return .object(o) }
        // Enum minus enum is a plain filter.
        if rest["enum"] != nil || rest["const"] != nil, let excluded = enumValues(n) {
            try budget.spend((rest["enum"]?.arrayValue?.count ?? 1) * excluded.count / 8)
            var values = rest["const"].map { [$0] } ?? rest["enum"]?.arrayValue ?? []
            if let e = rest["enum"]?.arrayValue, rest["const"] != nil { values = values.filter { v in e.contains { JSONEquality.equal($0, v) } } }
            rest.removeValue(forKey: "const")
            rest["enum"] = .array(values.filter { v in !excluded.contains { JSONEquality.equal($0, v) } })
            return .object(rest)
        }
        return .object(try merge(.object(rest), try negation(of: n)))
    }

    private func enumValues(_ n: JSONValue) -> [JSONValue]? {
        guard case .object(let s) = n else { return nil }
        let keys = s.keys.filter { !SchemaCompiler.annotationKeys.contains($0) }
        if keys == ["const"] { return [s["const"]!] }
        if keys == ["enum"] { return s["enum"]?.arrayValue }
        return nil
    }

    private func unsupported(_ n: JSONValue) -> GrammarError {
        .unsupportedKeyword("not", detail: "negation of \(n.serialized(maxBytes: 120) ?? "a large schema") cannot be enforced while generating")
    }

    /// A schema admitting exactly the instances `n` rejects.
    func negation(of n: JSONValue) throws -> JSONValue {
        // Memoized: `not` over `anyOf`/`$ref` chains that name a schema twice would otherwise
        // negate it once per path, exponentially often.
        let key = try memoKey(n)
        if let hit = negationMemo[key] { return hit }
        let out = try negationUncached(n)
        negationMemo[key] = out
        return out
    }

    private func negationUncached(_ n: JSONValue) throws -> JSONValue {
        try budget.spend()
        depth += 1
        defer { depth -= 1 }
        try budget.checkDepth(depth, "negated schemas")
        if depth > 200 { throw GrammarError.unsupportedKeyword("not", detail: "negation nested deeper than 200 (recursive $ref?)") }
        switch n {
        case .bool(let b): return .bool(!b)
        case .object(var s):
            if let ref = s["$ref"]?.stringValue {
                s.removeValue(forKey: "$ref")
                return try negation(of: .object(try merge(try resolve(ref), .object(refOverridesSiblings ? [:] : s))))
            }
            let keys = Set(s.keys.filter { !SchemaCompiler.annotationKeys.contains($0) || $0 == "format" })
            if keys.isEmpty { return .bool(false) }
            if keys == ["not"] { return s["not"]! }  // not(not X) = X
            if keys == ["anyOf"] || keys == ["allOf"], let parts = s[keys.first!]?.arrayValue {
                // De Morgan: not(A ∨ B) = ¬A ∧ ¬B, not(A ∧ B) = ¬A ∨ ¬B.
                try budget.spend(parts.count)
                let negs = try parts.map { try negation(of: $0) }
                return .object([keys == ["anyOf"] ? "allOf" : "anyOf": .array(negs)])
            }
            if keys == ["type"] { return .object(["type": .array(try typeComplement(s["type"]!, n).map { .string($0) })]) }
            if keys == ["enum"] || keys == ["const"] {
                let values = keys == ["const"] ? [s["const"]!] : (s["enum"]?.arrayValue ?? [])
                // Only string values can be removed from the string automaton; other types
                // would need number/literal complements.
                var strings: [JSONValue] = []
                try budget.spend(values.count)
                for v in values {
                    guard case .string = v else { throw unsupported(n) }
                    strings.append(v)
                }
                return .object(["$notNames": .array(strings)])
            }
            if keys.isSubset(of: ["type", "pattern"]), let p = s["pattern"] {
                var branches: [JSONValue] = []
                if s["type"] != nil {
                    guard s["type"]?.stringValue == "string" else { throw unsupported(n) }
                    branches.append(.object(["type": .array(try typeComplement("string", n).map { .string($0) })]))
                }
                branches.append(.object(["type": "string", "$notPatterns": .array([p])]))
                return branches.count == 1 ? branches[0] : .object(["anyOf": .array(branches)])
            }
            if keys.isSubset(of: ["type", "required", "properties"]) {
                // not(object ∧ all required present ∧ each property fits) =
                //   non-object (only if n says type object) ∨ some required name absent ∨
                //   some property present and not fitting.
                var branches: [JSONValue] = []
                try budget.spend(1 + (s["required"]?.arrayValue?.count ?? 0) + (s["properties"]?.objectValue?.count ?? 0))
                if let t = s["type"] {
                    guard t.stringValue == "object" else { throw unsupported(n) }
                    branches.append(.object(["type": .array(try typeComplement("object", n).map { .string($0) })]))
                }
                for case .string(let name) in s["required"]?.arrayValue ?? [] {
                    branches.append(.object(["type": "object", "properties": .object([name: .bool(false)])]))
                }
                for (name, sub) in s["properties"]?.objectValue ?? [:] {
                    branches.append(.object(["type": "object", "required": .array([.string(name)]),
                                             "properties": .object([name: try negation(of: sub)])]))
                }
                if branches.isEmpty { return .bool(false) }
                return branches.count == 1 ? branches[0] : .object(["anyOf": .array(branches)])
            }
            throw unsupported(n)
        default:
            throw GrammarError.invalidSchema("not must be a schema")
        }
    }

    private func typeComplement(_ t: JSONValue, _ n: JSONValue) throws -> [String] {
        let listed = t.stringValue.map { [$0] } ?? (t.arrayValue ?? []).compactMap { $0.stringValue }
        if listed.contains("integer") && !listed.contains("number") { throw unsupported(n) }
        return SchemaCompiler.allTypes.filter { !listed.contains($0) }
    }
}
