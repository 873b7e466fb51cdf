import ChatAPI
import JSONSchemaKit

/// `enum`/`const` values are literals, so the grammar admits exactly those that satisfy the
/// keywords beside them; which ones do is decided by JSONSchemaKit's validator itself, so the
/// two cannot disagree, whatever the keywords (`uniqueItems`, `patternProperties`, …).
extension SchemaCompiler {
    /// Whether `v` satisfies `o`'s keywords other than `enum`/`const`.
    func enumValueSatisfies(_ v: JSONValue, _ o: JSONObject) throws -> Bool {
        var local = o
        local.removeValue(forKey: "enum")
        local.removeValue(forKey: "const")
        if !hasAssertions(local) { return true }
        guard let validator = try siblingValidator(local) else { return try admitsEnumValue(v, o) }
        _ = try memoKey(v)  // charges the value's size
        return validator.isValid(v)
    }

    /// A validator for `local` inside this document (its `$defs`/`definitions` and dialect),
    /// cached per schema; nil when the document's references reach into its root's own
    /// assertions (then the root cannot be replaced) or the validator refuses the schema.
    private func siblingValidator(_ local: JSONObject) throws -> JSONSchema? {
        let key = try memoKey(.object(local))
        if let hit = enumValidators[key] { return hit }
        var root = JSONObject()
        if case .object(let doc) = document {
            if try referencesRootAssertions(document) { enumValidators[key] = .some(nil); return nil }
            for (k, v) in doc where !SchemaCompiler.assertionKeys.contains(k) { root[k] = v }
        }
        root["allOf"] = .array([SchemaCompiler.publicSpelling(.object(local))])
        let validator: JSONSchema?
        do { validator = try JSONSchema(json: .object(root), budget: budget) } catch let stop as WorkBudgetExceeded {
            throw stop
        } catch {
            validator = nil
        }
        enumValidators[key] = .some(validator)
        return validator
    }

    /// True when some `$ref` in `v` is `#` or points into one of the root's assertion keywords.
    private func referencesRootAssertions(_ v: JSONValue) throws -> Bool {
        if let known = rootReferenced { return known }
        var found = false
        var stack = [v]
        while let x = stack.popLast(), !found {
            try budget.spend()
            switch x {
            case .object(let o):
                if let ref = o["$ref"]?.stringValue {
                    let first = ref.hasPrefix("#/") ? String(ref.dropFirst(2).split(separator: "/").first ?? "") : nil
                    if ref == "#" || first.map({ SchemaCompiler.assertionKeys.contains($0) }) == true { found = true }
                }
                stack.append(contentsOf: o.values)
            case .array(let a): stack.append(contentsOf: a)
            default: break
            }
        }
        rootReferenced = found
        return found
    }

    /// `v` with the compiler's internal keywords (from merges and negations) spelled as JSON
    /// Schema: `$patterns` as patterns, `$notPatterns` and `$notNames` as negations.
    static func publicSpelling(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o):
            var out = JSONObject()
            var extra: [JSONValue] = []
            for (k, x) in o {
                switch k {
                case "$patterns": extra += (x.arrayValue ?? []).map { .object(["pattern": $0]) }
                case "$notPatterns": extra += (x.arrayValue ?? []).map { .object(["not": .object(["pattern": $0])]) }
                case "$notNames": extra.append(.object(["not": .object(["enum": x])]))
                // Schema-valued keywords recurse; everything else is data (enum values, names).
                case "properties", "patternProperties", "$defs", "definitions", "dependentSchemas":
                    if case .object(let m) = x { out[k] = .object(m.mapValues(publicSpelling)) } else { out[k] = x }
                case "items", "additionalProperties", "additionalItems", "propertyNames", "not", "contains",
                     "unevaluatedProperties", "unevaluatedItems", "if", "then", "else":
                    out[k] = publicSpelling(x)
                case "allOf", "anyOf", "oneOf", "prefixItems":
                    if case .array(let a) = x { out[k] = .array(a.map(publicSpelling)) } else { out[k] = x }
                default: out[k] = x
                }
            }
            if !extra.isEmpty { out["allOf"] = .array((out["allOf"]?.arrayValue ?? []) + extra) }
            return .object(out)
        default:
            return v
        }
    }
}
