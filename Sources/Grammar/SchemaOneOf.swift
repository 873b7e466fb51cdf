import ChatAPI
import JSONSchemaKit

/// `oneOf` is enforced exactly by compiling it as `anyOf` of branches no two of which can match
/// the same instance (then "exactly one" and "at least one" admit the same instances):
/// - branches this file proves disjoint are kept as they are;
/// - a branch that may overlap others is narrowed to "this one and not those"
///   (`allOf: [B_i, {not: B_j}…]`), where `not` is one of the shapes SchemaNegation.swift
///   rewrites exactly (e.g. `required` lists: exactly one of two keys present);
/// - otherwise the `oneOf` is refused by name, never widened.
///
/// Every rule here is a proof: a keyword the prover does not read only ever removes instances
/// from a branch, so ignoring it keeps the argument sound (it may just fail to find a proof).
extension SchemaCompiler {
    /// The (already merged) branches rewritten to be pairwise disjoint, with the same union of
    /// instances matching exactly one of them; `narrowed` tells which carry negations.
    /// `unmerged` are the branches as written: since every instance also satisfies the sibling
    /// keywords merged into `branches`, negating the plain branch is enough (and simpler).
    func exclusiveBranches(_ branches: [JSONValue], unmerged: [JSONValue]) throws -> [(schema: JSONValue, narrowed: Bool)] {
        try budget.spend(branches.count * branches.count)
        let flat: [JSONObject?] = try branches.map { try flattenedOrNil($0) }
        var overlapping = [[Int]](repeating: [], count: branches.count)
        for i in flat.indices {
            for j in flat.indices where j > i {
                if let a = flat[i], let c = flat[j], try disjoint(a, c) { continue }
                overlapping[i].append(j)
                overlapping[j].append(i)
            }
        }
        return branches.indices.map { i in
            if overlapping[i].isEmpty { return (branches[i], false) }
            return (.object(["allOf": .array([branches[i]] + overlapping[i].map { .object(["not": unmerged[$0]]) })]), true)
        }
    }

    /// The refusal for a `oneOf` whose overlapping branches cannot be negated.
    static func oneOfRefusal(_ why: String) -> GrammarError {
        .unsupportedKeyword("oneOf", detail: "branches may both match an instance and \(why); exactly-one cannot be enforced while generating (use anyOf, or tell the branches apart by type, a const/enum property or required keys)")
    }

    /// The schema as one object (`$ref`/`allOf` merged in); nil when that merge is refused (then
    /// nothing is proven about it). `false` is `{"enum": []}`.
    private func flattenedOrNil(_ v: JSONValue) throws -> JSONObject? {
        do { return try flattened(v) } catch is GrammarError { return nil }
    }

    /// True only if no instance satisfies both `a` and `c`.
    func disjoint(_ a: JSONObject, _ c: JSONObject) throws -> Bool {
        try budget.spend()
        depth += 1
        defer { depth -= 1 }
        try budget.checkDepth(depth, "oneOf branches")
        if depth > 200 { return false }
        // Finite value lists: each listed value must fail the other side.
        if let values = enumerated(a) { return try values.allSatisfy { try !mayAdmit($0, c) } }
        if let values = enumerated(c) { return try values.allSatisfy { try !mayAdmit($0, a) } }
        let common = SchemaCompiler.typeSet(a).intersection(SchemaCompiler.typeSet(c))
        for t in common {
            let apart: Bool
            switch t {
            case "object": apart = try objectsDisjoint(a, c)
            case "string": apart = try stringsDisjoint(a, c)
            case "number", "integer": apart = numbersDisjoint(a, c)
            default: apart = false
            }
            if !apart { return false }
        }
        return true
    }

    /// The values of `const`/`enum` (their intersection when both are present), nil for neither.
    private func enumerated(_ o: JSONObject) -> [JSONValue]? {
        let e = o["enum"]?.arrayValue
        guard let c = o["const"] else { return e }
        guard let e else { return [c] }
        return e.contains(where: { JSONEquality.equal($0, c) }) ? [c] : []
    }

    /// False only if `v` certainly fails `o` (type, listed values, string and number keywords,
    /// and required or listed-value properties of objects); true when it may pass.
    private func mayAdmit(_ v: JSONValue, _ o: JSONObject) throws -> Bool {
        try budget.spend()
        let types = SchemaCompiler.typeSet(o)
        let tn = v.typeName
        guard types.contains(tn) else { return false }
        if integerLiteralsOnly, tn == "integer", !types.contains("number"), case .number(let n) = v,
           n.text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return false
        }
        if let values = enumerated(o), !values.contains(where: { JSONEquality.equal($0, v) }) { return false }
        switch v {
        case .string, .number:
            do { return try admitsEnumValue(v, o) } catch is GrammarError { return true }
        case .object(let members):
            for case .string(let name) in o["required"]?.arrayValue ?? [] where members[name] == nil { return false }
            for (name, value) in members {
                guard let sub = propertySchema(o, name) else { return false }
                guard let s = try flattenedOrNil(sub) else { continue }
                if try !mayAdmit(value, s) { return false }
            }
            return true
        default:
            return true
        }
    }

    /// Objects: some property is required by one side, and its value cannot satisfy both
    /// sides' schemas for it (distinct `const`/`enum` discriminators, disjoint types, or a name
    /// the other side forbids with `additionalProperties: false`).
    private func objectsDisjoint(_ a: JSONObject, _ c: JSONObject) throws -> Bool {
        let requiredA = (a["required"]?.arrayValue ?? []).compactMap(\.stringValue)
        let requiredC = (c["required"]?.arrayValue ?? []).compactMap(\.stringValue)
        var seen = Set<String>()
        for name in requiredA + requiredC where seen.insert(name).inserted {
            try budget.spend()
            guard let sa = propertySchema(a, name), let sc = propertySchema(c, name) else { return true }
            guard let fa = try flattenedOrNil(sa), let fc = try flattenedOrNil(sc) else { continue }
            if try disjoint(fa, fc) { return true }
        }
        return false
    }

    /// The schema `o` applies to a property called `name`: nil when `o` forbids it, `true` when
    /// unknown (a `patternProperties` pattern might apply; ignoring it only widens the branch).
    private func propertySchema(_ o: JSONObject, _ name: String) -> JSONValue? {
        if let declared = o["properties"]?.objectValue?[name] {
            return declared == .bool(false) ? nil : declared
        }
        if let patterns = o["patternProperties"]?.objectValue, !patterns.isEmpty { return .bool(true) }
        if case .bool(false)? = o["additionalProperties"] { return nil }
        return o["additionalProperties"] ?? .bool(true)
    }

    /// Strings: the two sides' string keywords together admit no string.
    private func stringsDisjoint(_ a: JSONObject, _ c: JSONObject) throws -> Bool {
        func stringPart(_ o: JSONObject) -> JSONObject {
            o.filter { SchemaCompiler.stringKeys.contains($0.key) || $0.key == "format" || $0.key == "$notNames" }
        }
        let sa = stringPart(a), sc = stringPart(c)
        if sa.isEmpty || sc.isEmpty { return false }
        do {
            return try stringDFA(try merge(.object(sa), .object(sc))) == nil
        } catch is GrammarError {
            return false
        }
    }

    /// Numbers: the two sides' bounds leave no value between them.
    private func numbersDisjoint(_ a: JSONObject, _ c: JSONObject) -> Bool {
        let (loA, hiA) = SchemaCompiler.bounds(a), (loC, hiC) = SchemaCompiler.bounds(c)
        func below(_ hi: (Double, Bool)?, _ lo: (Double, Bool)?) -> Bool {
            guard let hi, let lo else { return false }
            return hi.0 < lo.0 || (hi.0 == lo.0 && (hi.1 || lo.1))
        }
        return below(hiA, loC) || below(hiC, loA)
    }

    /// Lower and upper bound (value, exclusive), draft-04 boolean or later numeric spelling.
    static func bounds(_ o: JSONObject) -> (lo: (Double, Bool)?, hi: (Double, Bool)?) {
        var lo: (Double, Bool)?, hi: (Double, Bool)?
        if let v = o["minimum"]?.doubleValue { lo = (v, o["exclusiveMinimum"]?.boolValue == true) }
        if let v = o["maximum"]?.doubleValue { hi = (v, o["exclusiveMaximum"]?.boolValue == true) }
        if let v = o["exclusiveMinimum"]?.doubleValue, lo == nil || v >= lo!.0 { lo = (v, true) }
        if let v = o["exclusiveMaximum"]?.doubleValue, hi == nil || v <= hi!.0 { hi = (v, true) }
        return (lo, hi)
    }

    /// The JSON types `o` may admit by its `type` keyword (`integer` kept apart from `number`).
    static func typeSet(_ o: JSONObject) -> Set<String> {
        let all: Set<String> = ["null", "boolean", "object", "array", "number", "integer", "string"]
        guard let t = o["type"] else { return all }
        var listed = Set(t.stringValue.map { [$0] } ?? (t.arrayValue ?? []).compactMap(\.stringValue))
        if listed.contains("number") { listed.insert("integer") }
        return listed.intersection(all)
    }
}
