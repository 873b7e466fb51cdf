import ChatAPI
import JSONSchemaKit

/// Serializes a JSON value the way the grammar generates it: compact, object properties in
/// schema order (undeclared keys last, in their original order), number text as written.
/// Used to feed known-valid documents through a matcher (tests, benchmarks, replaying examples).
public enum CanonicalJSON {
    public static func serialize(_ value: JSONValue, schema: JSONValue) -> String {
        serializeReportingPolicy(value, schema: schema).text
    }

    /// Also says whether some object has keys outside its schema's `properties` and
    /// `patternProperties` (which the generation policy never emits, so a matcher refuses such
    /// a document by design).
    public static func serializeReportingPolicy(_ value: JSONValue, schema: JSONValue) -> (text: String, hasUndeclaredProperties: Bool) {
        guard let c = try? SchemaCompiler(builder: ProgramBuilder(), document: schema, terminals: Terminals(), budget: .offline()) else {
            return (value.serialized(), false)
        }
        var out = ""
        var flag = false
        // The compiler's copy of the schema: its references resolve from the root.
        write(value, c.document, c, &out, depth: 0, &flag)
        return (out, flag)
    }

    /// The object schema that applies to `value`, resolved the way `SchemaCompiler` does
    /// (same merge order, so the same property order), picking the anyOf/oneOf branch that fits.
    private static func effective(_ schema: JSONValue, _ c: SchemaCompiler, _ value: JSONValue, depth: Int) -> JSONObject {
        guard depth < 50, case .object(var o) = schema else { return [:] }
        if let ref = o["$ref"]?.stringValue, let target = try? c.resolve(ref) {
            o.removeValue(forKey: "$ref")
            if !c.hasAssertions(o) || c.refOverridesSiblings { return effective(target, c, value, depth: depth + 1) }
            guard let m = try? c.merge(target, .object(o)) else { return o }
            return effective(.object(m), c, value, depth: depth + 1)
        }
        if let all = o["allOf"]?.arrayValue {
            o.removeValue(forKey: "allOf")
            var acc: JSONValue = .object(o)
            for p in all { if let m = try? c.merge(acc, p) { acc = .object(m) } }
            return effective(acc, c, value, depth: depth + 1)
        }
        for key in ["anyOf", "oneOf"] {
            guard let branches = o[key]?.arrayValue else { continue }
            o.removeValue(forKey: key)
            let restHasAssertions = c.hasAssertions(o)
            // Pick the branch that best fits the value: type first, then declared-key coverage.
            var best: (Int, JSONObject)? = nil
            for br in branches {
                let merged: JSONValue = restHasAssertions ? ((try? c.merge(.object(o), br)).map { .object($0) } ?? br) : br
                let be = effective(merged, c, value, depth: depth + 1)
                // A branch the value is valid against wins: the grammar accepts the value
                // through that branch only if the properties follow its order.
                var score = branchValidates(merged, value, c) ? 100_000 : 0
                if let t = be["type"] {
                    let types = t.stringValue.map { [$0] } ?? (t.arrayValue ?? []).compactMap { $0.stringValue }
                    let tn = value.typeName
                    if types.contains(tn) || (tn == "integer" && types.contains("number")) { score += 1000 }
                } else { score += 500 }
                if case .object(let vo) = value, let props = be["properties"]?.objectValue {
                    let covered = vo.keys.filter { props[$0] != nil }.count
                    score += covered * 10 - (vo.count - covered)
                    let req = (be["required"]?.arrayValue ?? []).compactMap { $0.stringValue }
                    score -= 20 * req.filter { vo[$0] == nil }.count
                }
                if best == nil || score > best!.0 { best = (score, be) }
            }
            return best?.1 ?? o
        }
        if o["not"] != nil, case .object(let rewritten)? = try? c.eliminateNot(o) {
            // Last, as in the compiler: `not` is rewritten into positive keywords (`not: {not: X}` is X):
            // the properties it declares then decide the order and what counts as undeclared.
            return effective(.object(rewritten), c, value, depth: depth + 1)
        }
        return o
    }

    /// Whether `value` is valid against `branch`, resolved within the document (its
    /// definitions and dialect carried over). False when that cannot be decided.
    private static func branchValidates(_ branch: JSONValue, _ value: JSONValue, _ c: SchemaCompiler) -> Bool {
        guard case .object(let doc) = c.document else { return false }
        var wrapper: JSONObject = [:]
        for k in ["$schema", "definitions", "$defs"] { if let v = doc[k] { wrapper[k] = v } }
        wrapper["allOf"] = .array([branch])
        guard let schema = try? JSONSchema(json: .object(wrapper)) else { return false }
        return schema.validate(value).isEmpty
    }

    /// The `const`/`enum` value of `eff` equal to `value`: the grammar spells a listed object or
    /// array as the schema writes it, so that spelling is the canonical one.
    private static func listedValue(_ eff: JSONObject, equalTo value: JSONValue) -> JSONValue? {
        let listed = (eff["const"].map { [$0] } ?? []) + (eff["enum"]?.arrayValue ?? [])
        return listed.first { JSONEquality.equal($0, value) }
    }

    private static func write(_ value: JSONValue, _ schema: JSONValue, _ c: SchemaCompiler, _ out: inout String, depth: Int, _ flag: inout Bool) {
        switch value {
        case .object(let vo):
            let eff = effective(schema, c, value, depth: 0)
            if let literal = listedValue(eff, equalTo: value) { out += literal.serialized(); return }
            let props = eff["properties"]?.objectValue ?? [:]
            var order: [String] = Array(props.keys)
            for r in (eff["required"]?.arrayValue ?? []).compactMap({ $0.stringValue }) where !order.contains(r) { order.append(r) }
            var keys = order.filter { vo[$0] != nil }
            for k in vo.keys where !keys.contains(k) { keys.append(k) }
            // A key takes the schemas of the patterns it matches too (all of them, as the
            // grammar does); an undeclared key matching none takes additionalProperties.
            let patterns = eff["patternProperties"]?.objectValue ?? [:]
            var subschema: [String: JSONValue] = [:]
            for k in keys {
                let matching = patterns.filter { (try? c.terminals.matches(k, pattern: $0.key, budget: c.budget)) == true }.map { $0.value }
                let own = props[k].map { [$0] } ?? []
                if own.isEmpty && matching.isEmpty {
                    if !order.isEmpty || !patterns.isEmpty { flag = true }
                    continue
                }
                let all = own + matching
                subschema[k] = all.count == 1 ? all[0] : .object(["allOf": .array(all)])
            }
            out += "{"
            for (i, k) in keys.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(k, to: &out)
                out += ":"
                let sub = subschema[k] ?? eff["additionalProperties"] ?? eff["unevaluatedProperties"] ?? .bool(true)
                write(vo[k]!, sub, c, &out, depth: depth + 1, &flag)
            }
            out += "}"
        case .array(let items):
            let eff = effective(schema, c, value, depth: 0)
            if let literal = listedValue(eff, equalTo: value) { out += literal.serialized(); return }
            var prefix: [JSONValue] = eff["prefixItems"]?.arrayValue ?? []
            var rest = eff["items"] ?? .bool(true)
            if eff["prefixItems"] == nil, case .array(let tuple) = rest { prefix = tuple; rest = eff["additionalItems"] ?? .bool(true) }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, i < prefix.count ? prefix[i] : rest, c, &out, depth: depth + 1, &flag)
            }
            out += "]"
        default:
            out += value.serialized()
        }
    }
}

extension GrammarVocabulary {
    /// Greedy longest-match tokenization over the ordinary tokens (not what a model's tokenizer
    /// does, but every byte string it yields is a valid token sequence). Nil when some byte has
    /// no token.
    public func greedyTokenize(_ bytes: [UInt8]) -> [Int]? {
        var out: [Int] = []
        var i = 0
        while i < bytes.count {
            var node = 0
            var best: (len: Int, token: Int)? = nil
            var k = i
            while k < bytes.count {
                // Find the child of `node` with byte bytes[k].
                var child = node + 1
                let end = Int(trieEnd[node])
                var found = -1
                while child < end {
                    if trieByte[child] == bytes[k] { found = child; break }
                    child = Int(trieEnd[child])
                }
                if found < 0 { break }
                node = found
                k += 1
                if trieToken[node] >= 0 { best = (k - i, Int(trieToken[node])) }
            }
            guard let b = best else { return nil }
            out.append(b.token)
            i += b.len
        }
        return out
    }
}
