import ChatAPI
import JSONSchemaKit

/// Compiles JSON Schema (a `JSONValue`) into rules of a `ProgramBuilder`.
///
/// Every keyword that asserts something is enforced exactly, rejected with an error naming it,
/// or — only for the narrowings listed here and in BENCHMARKS.md — enforced on a subset of the
/// valid values. Nothing is silently widened.
/// - output is compact JSON; object properties appear in schema order;
/// - with `GrammarOptions.additionalProperties == .declaredOnly` (the default) an object with
///   `properties` never gets properties beyond them (plus `required` names and
///   `patternProperties` keys), whatever `additionalProperties` says; with `.asSchema` undeclared
///   keys follow the declared ones, with values per `additionalProperties`. Under
///   `.declaredOnly` an object with only `patternProperties` gets keys matching them; one with
///   neither takes any keys (or `propertyNames`-conforming keys) in both modes;
/// - integers may carry a zero fraction (`2.0`) and numbers any number of digits unless the
///   options bound them (`GrammarOptions.generation` does); bounded numbers have no exponent. In
///   draft-03/04 documents an integer is a literal without fraction or exponent, as there;
/// - `oneOf` is exact: branches proven disjoint (SchemaOneOf.swift) are compiled as `anyOf`,
///   overlapping ones are narrowed to "this branch and not the others" where that negation is
///   exact, anything else is refused by name;
/// - `enum`/`const` values are filtered by `type` and checked against the string and number
///   keywords beside them; object/array values beside object/array keywords are refused;
/// - every `format` JSONSchemaKit's validator asserts is enforced exactly (FormatPatterns.swift)
///   or refused by name (`regex`, `idn-email`, `idn-hostname`); other formats are annotations
///   for the validator and so for the grammar.
/// `not` is rewritten for the shapes in `SchemaNegation.swift`. Keywords that cannot be enforced
/// (other `not`s, `if`, `contains`, `uniqueItems`, `dependentRequired`, `dependentSchemas`,
/// `unevaluatedItems`, `$dynamicRef`, non-integral number bounds, `multipleOf` other than 1) make
/// compilation fail with an error naming them.
///
/// Untrusted input: `allOf`/`$ref` merges and negations are memoized (a chain naming the same
/// schema twice per level stays linear), and every loop or recursion whose size the schema
/// decides spends from the `WorkBudget`, so anything still costly stops with
/// `WorkBudgetExceeded`.
final class SchemaCompiler {
    let b: ProgramBuilder
    /// The schema document with every `$ref` rewritten to a JSON Pointer from its root, so a
    /// reference means the same wherever merging or memoization moves the schema holding it.
    let document: JSONValue
    /// `$id`/anchor/`$ref` resolution, shared with the validator.
    private var references: SchemaDocument
    let options: GrammarOptions
    let budget: WorkBudget
    private var memo: [String: Int32] = [:]
    /// Validators deciding `enum` values against their sibling keywords (EnumValueCheck.swift).
    var enumValidators: [String: JSONSchema?] = [:]
    var rootReferenced: Bool?
    private var refRules: [String: Int32] = [:]
    /// `merge` results by the serialized pair merged, and `$ref` targets flattened to one object
    /// (their own `$ref`/`allOf` merged in) by reference: each combination is worked out once,
    /// so chains of `allOf`/`$ref` that name the same schema twice stay linear, not exponential.
    private var mergeMemo: [String: JSONObject] = [:]
    private var flattenedRefs: [String: JSONObject] = [:]
    private var refsBeingFlattened: Set<String> = []
    /// `negation(of:)` results by the serialized schema negated (see SchemaNegation.swift).
    var negationMemo: [String: JSONValue] = [:]
    private var anyValue: Int32?
    /// Current nesting of `rule`, `merge` and `negation` (bounded: recursive `$ref`s).
    var depth = 0

    /// The string and number automata, shared with the compiler's other grammars.
    let terminals: Terminals
    /// Number spellings allowed beyond the schema (generation keeps them short).
    let numberSpelling: Terminals.NumberSpelling
    /// How values of `type: integer` may be spelled: in draft-03/04 documents an integer is a
    /// literal without fraction or exponent (`2.0` and `2e0` are numbers there, as the validator
    /// says), later drafts accept any integral value.
    let integerSpelling: Terminals.NumberSpelling
    let integerLiteralsOnly: Bool

    /// Before JSON Schema 2019-09 (a document declaring draft-03 to draft-07), `$ref` replaces
    /// its sibling keywords instead of adding to them.
    let refOverridesSiblings: Bool

    /// Compile the document's root with `rule(document)` (its references rewritten), not with
    /// the value passed here.
    init(builder: ProgramBuilder, document: JSONValue, options: GrammarOptions = GrammarOptions(), terminals: Terminals,
         budget: WorkBudget) throws {
        self.b = builder
        self.terminals = terminals
        self.budget = budget
        var references = try SchemaDocument(root: document, budget: budget)
        self.document = try references.withPointerReferences(budget)
        self.references = references
        self.refOverridesSiblings = references.draft.refOverridesSiblings
        self.options = options
        self.integerLiteralsOnly = references.draft.integersAreLiterals
        var integers = Terminals.NumberSpelling(
            integersMayHaveZeroFraction: options.integersMayHaveZeroFraction, maxIntegerDigits: options.maxIntegerDigits,
            maxFractionDigits: options.maxFractionDigits, maxExponentDigits: options.maxExponentDigits)
        if integerLiteralsOnly { integers.integersMayHaveZeroFraction = false }
        self.integerSpelling = integers
        self.numberSpelling = Terminals.NumberSpelling(
            integersMayHaveZeroFraction: options.integersMayHaveZeroFraction, maxIntegerDigits: options.maxIntegerDigits,
            maxFractionDigits: options.maxFractionDigits, maxExponentDigits: options.maxExponentDigits)
    }

    static let annotationKeys: Set<String> = [
        "title", "description", "examples", "default", "$schema", "$id", "id", "$comment", "readOnly",
        "writeOnly", "deprecated", "$defs", "definitions", "$anchor", "contentEncoding",
        "contentMediaType", "contentSchema", "nullable", "discriminator", "xml", "externalDocs",
        "example", "$vocabulary", "then", "else", "format",
    ]

    /// Every keyword that constrains instances (the compiler enforces it or rejects it by name);
    /// any other keyword is an annotation.
    static let assertionKeys: Set<String> = Set(objectKeys + arrayKeys + stringKeys + numberKeys + rejected.keys)
        .union(["type", "enum", "const", "not", "anyOf", "oneOf", "allOf", "$ref", "format", "$notNames",
                "unevaluatedProperties", "then", "else"])

    static let rejected: [String: String] = [
        "if": "conditional schemas are not supported",
        "contains": "array contains constraints are not supported",
        "minContains": "array contains constraints are not supported",
        "maxContains": "array contains constraints are not supported",
        "dependentRequired": "property dependencies are not supported",
        "dependentSchemas": "property dependencies are not supported",
        "dependencies": "property dependencies are not supported",
        "unevaluatedItems": "not supported",
        "$dynamicRef": "dynamic references are not supported",
        "$recursiveRef": "recursive references are not supported",
    ]

    // MARK: entry points

    func rule(_ schema: JSONValue) throws -> Int32 {
        try budget.spend()
        depth += 1
        defer { depth -= 1 }
        try budget.checkDepth(depth, "schemas")
        if depth > 200 { throw GrammarError.tooLarge("schema nesting deeper than 200") }
        switch schema {
        case .bool(true): return try anyValueRule()
        case .bool(false): return try b.newRule().rule  // no accepting path: pruned
        case .object(let o):
            let key = try memoKey(schema)
            if let r = memo[key] { return r }
            let r = try compileObjectSchema(o)
            memo[key] = r
            return r
        default:
            throw GrammarError.invalidSchema("a schema must be an object or a boolean, got \(schema.typeName)")
        }
    }

    private func compileObjectSchema(_ o: JSONObject) throws -> Int32 {
        if let ref = o["$ref"] {
            guard let refString = ref.stringValue else { throw GrammarError.invalidSchema("$ref must be a string") }
            var rest = o
            rest.removeValue(forKey: "$ref")
            if !hasAssertions(rest) || refOverridesSiblings { return try refRule(refString) }
            return try rule(.object(try merge(try resolve(refString), .object(rest))))
        }
        if let all = o["allOf"] {
            guard case .array(let parts) = all else { throw GrammarError.invalidSchema("allOf must be an array") }
            var merged = o
            merged.removeValue(forKey: "allOf")
            var acc: JSONValue = .object(merged)
            for p in parts { acc = .object(try merge(acc, p)) }
            return try rule(acc)
        }
        for key in ["anyOf", "oneOf"] {
            guard let alts = o[key] else { continue }
            guard case .array(let branches) = alts, !branches.isEmpty else {
                throw GrammarError.invalidSchema("\(key) must be a non-empty array")
            }
            var rest = o
            rest.removeValue(forKey: key)
            let (r, start) = try b.newRule()
            let end = try b.newState()
            b.accept(end)
            let restHasAssertions = hasAssertions(rest)
            var schemas: [JSONValue] = []
            for branch in branches {
                try budget.spend()
                schemas.append(restHasAssertions ? .object(try merge(.object(rest), branch)) : branch)
            }
            // Exactly one branch matches iff at least one does, once no two can match together.
            if key == "oneOf" && schemas.count > 1 {
                for (schema, narrowed) in try exclusiveBranches(schemas, unmerged: branches) {
                    do {
                        b.call(start, try rule(schema), end)
                    } catch GrammarError.unsupportedKeyword(let k, let detail) where k == "not" && narrowed {
                        throw SchemaCompiler.oneOfRefusal("one cannot be negated (\(detail))")
                    }
                }
                return r
            }
            for schema in schemas { b.call(start, try rule(schema), end) }
            return r
        }
        return try compileBase(o)
    }

    /// `v` serialized, as a memo key; charges the budget by its size, since merged schemas can
    /// grow with every level of a hostile chain.
    func memoKey(_ v: JSONValue) throws -> String {
        // Bounded: merges and negations share subtrees, so a schema can be small in memory
        // and exponentially large written out.
        guard let key = v.serialized(maxBytes: SchemaCompiler.maxMemoKeyBytes) else {
            throw GrammarError.tooLarge("a merged or negated subschema is larger than \(SchemaCompiler.maxMemoKeyBytes) bytes")
        }
        try budget.spend(1 + key.utf8.count / 16)
        return key
    }
    static let maxMemoKeyBytes = 1 << 20

    /// True when the object has keywords other than annotations.
    func hasAssertions(_ o: JSONObject) -> Bool {
        o.keys.contains { !SchemaCompiler.annotationKeys.contains($0) || $0 == "format" }
    }

    // MARK: references

    private func refRule(_ ref: String) throws -> Int32 {
        if let r = refRules[ref] { return r }
        let target = try resolve(ref)
        // Recursive references call the rule before its body exists: route through a
        // forwarding rule created first.
        let (r, start) = try b.newRule()
        refRules[ref] = r
        let end = try b.newState()
        b.accept(end)
        b.call(start, try rule(target), end)
        return r
    }

    /// The schema `ref` designates. After `withPointerReferences` every resolvable reference
    /// is a pointer from the root; others fail here as they fail in the validator.
    func resolve(_ ref: String) throws -> JSONValue {
        do {
            let pointer = try references.resolve(ref, keyword: "$ref", at: "")
            guard let target = SchemaDocument.schema(at: pointer, in: document) else { throw GrammarError.unresolvedReference(ref) }
            return target
        } catch let error as SchemaError {
            throw GrammarError.unresolvedReference("\(ref) (\(error.message))")
        }
    }

    // MARK: allOf merging

    /// Merges two schemas into one object schema that admits their intersection, for the cases
    /// where that is a keyword-wise combination; otherwise throws naming the keyword.
    func merge(_ a: JSONValue, _ bv: JSONValue) throws -> JSONObject {
        depth += 1
        defer { depth -= 1 }
        try budget.checkDepth(depth, "allOf/$ref merges")
        if depth > 200 { throw GrammarError.unsupportedKeyword("allOf", detail: "recursive merge too deep") }
        let key = try memoKey(a) + "\u{1}" + memoKey(bv)
        if let hit = mergeMemo[key] { return hit }
        let out = try mergeUncached(a, bv)
        mergeMemo[key] = out
        return out
    }

    /// `v` as one object schema: a top-level `$ref` and `allOf` merged into it.
    func flattened(_ v: JSONValue) throws -> JSONObject {
        switch v {
        case .bool(true): return [:]
        case .bool(false): return ["enum": .array([])]
        case .object(var o):
            if let ref = o["$ref"]?.stringValue {
                o.removeValue(forKey: "$ref")
                return try merge(.object(try flattenedRef(ref)), .object(refOverridesSiblings ? [:] : o))
            }
            if case .array(let parts)? = o["allOf"] {
                o.removeValue(forKey: "allOf")
                var acc: JSONValue = .object(o)
                for p in parts { acc = .object(try merge(acc, p)) }
                guard case .object(let r) = acc else { return o }
                return r
            }
            return o
        default: throw GrammarError.invalidSchema("allOf member is not a schema")
        }
    }

    /// The target of `ref`, flattened once per reference.
    private func flattenedRef(_ ref: String) throws -> JSONObject {
        if let hit = flattenedRefs[ref] { return hit }
        // A reference that reaches itself through top-level allOf/$ref only has no finite merge.
        guard refsBeingFlattened.insert(ref).inserted else {
            throw GrammarError.unsupportedKeyword("allOf", detail: "\(ref) includes itself through allOf/$ref")
        }
        defer { refsBeingFlattened.remove(ref) }
        let out = try flattened(try resolve(ref))
        flattenedRefs[ref] = out
        return out
    }

    private func mergeUncached(_ a: JSONValue, _ bv: JSONValue) throws -> JSONObject {
        let x = try flattened(a), y = try flattened(bv)
        try budget.spend(x.count + y.count)
        for side in [x, y] {
            if let u = side["unevaluatedProperties"], u != .bool(true) {
                // Which properties count as evaluated depends on which subschema matched.
                throw GrammarError.unsupportedKeyword("unevaluatedProperties", detail: "combined with allOf, $ref, anyOf or oneOf")
            }
        }
        for (side, other) in [(x, y), (y, x)] {
            // A side's additionalProperties covers every name its own properties and patterns
            // miss, those the other side's patterns match included; the merged
            // patternProperties (the union) would exempt those names from it.
            guard let addl = side["additionalProperties"], addl != .bool(true) else { continue }
            let own = side["patternProperties"]?.objectValue ?? [:]
            if let foreign = other["patternProperties"]?.objectValue?.keys.first(where: { own[$0] == nil }) {
                throw GrammarError.unsupportedKeyword("additionalProperties", detail: "an allOf member's additionalProperties next to "
                                                      + "another member's patternProperties \(JSONValue.quoted(foreign))")
            }
        }
        var out = x
        for (k, yv) in y {
            try budget.spend()
            guard let xv = out[k] else { out[k] = yv; continue }
            if xv == yv { continue }
            switch k {
            case "properties":
                guard case .object(var xp) = xv, case .object(let yp) = yv else { throw GrammarError.invalidSchema("properties must be an object") }
                for (pk, pv) in yp {
                    try budget.spend()
                    if let existing = xp[pk] { xp[pk] = .object(["allOf": .array([existing, pv])]) } else { xp[pk] = pv }
                }
                out[k] = .object(xp)
            case "required":
                var names = xv.arrayValue ?? []
                try budget.spend(names.count * (yv.arrayValue?.count ?? 0) / 8)
                for n in yv.arrayValue ?? [] where !names.contains(n) { names.append(n) }
                out[k] = .array(names)
            case "type":
                out[k] = try intersectTypes(xv, yv)
            case "enum":
                let ys = yv.arrayValue ?? []
                try budget.spend((xv.arrayValue?.count ?? 0) * ys.count / 8)
                out[k] = .array((xv.arrayValue ?? []).filter { v in ys.contains { JSONEquality.equal($0, v) } })
            case "const":
                if !JSONEquality.equal(xv, yv) { out["enum"] = .array([]) }
            case "minimum", "minLength", "minItems", "minProperties", "exclusiveMinimum":
                guard let p = xv.doubleValue, let q = yv.doubleValue else { throw GrammarError.unsupportedKeyword(k, detail: "allOf with non-numeric \(k)") }
                out[k] = p >= q ? xv : yv
            case "maximum", "maxLength", "maxItems", "maxProperties", "exclusiveMaximum":
                guard let p = xv.doubleValue, let q = yv.doubleValue else { throw GrammarError.unsupportedKeyword(k, detail: "allOf with non-numeric \(k)") }
                out[k] = p <= q ? xv : yv
            case "not":
                // not A ∧ not B = not (A ∨ B)
                out[k] = .object(["anyOf": .array([xv, yv])])
            case "$notPatterns", "$patterns", "$notNames":
                out[k] = .array((xv.arrayValue ?? []) + (yv.arrayValue ?? []))
            case "patternProperties":
                guard case .object(var xp) = xv, case .object(let yp) = yv else { throw GrammarError.invalidSchema("patternProperties must be an object") }
                for (pk, pv) in yp {
                    try budget.spend()
                    if let existing = xp[pk] { xp[pk] = .object(["allOf": .array([existing, pv])]) } else { xp[pk] = pv }
                }
                out[k] = .object(xp)
            case "pattern":
                var extra = out["$patterns"]?.arrayValue ?? []
                extra.append(yv)
                out["$patterns"] = .array(extra)
            case "additionalProperties", "items", "propertyNames":
                if case .bool(false) = xv { continue }
                if case .bool(false) = yv { out[k] = yv; continue }
                out[k] = .object(["allOf": .array([xv, yv])])
            case "anyOf", "oneOf":
                let xs = xv.arrayValue ?? [], ys = yv.arrayValue ?? []
                guard xs.count * ys.count <= 64 else { throw GrammarError.tooLarge("allOf of \(k) with \(xs.count)×\(ys.count) branches") }
                var combos: [JSONValue] = []
                try budget.spend(xs.count * ys.count)
                for p in xs { for q in ys { combos.append(.object(["allOf": .array([p, q])])) } }
                out[k] = .array(combos)
            case _ where !SchemaCompiler.assertionKeys.contains(k):
                // Annotations and unknown keywords (`x-…`, vendor extensions) assert nothing;
                // JSON Schema says to ignore them, so differing values do not matter.
                continue
            default:
                throw GrammarError.unsupportedKeyword(k, detail: "allOf members with different values of '\(k)'")
            }
        }
        // A side's additionalProperties constrains the other side's extra properties.
        if case .object(var props)? = out["properties"] {
            for (side, other) in [(x, y), (y, x)] {
                guard let addl = side["additionalProperties"] else { continue }
                if case .bool(true) = addl { continue }
                let declared = side["properties"]?.objectValue ?? [:]
                let patterns = (side["patternProperties"]?.objectValue ?? [:]).keys
                _ = other
                // additionalProperties covers the names that side neither declares nor matches
                // with a pattern (a matched name gets the pattern's schema when compiled).
                try budget.spend(props.count * (1 + patterns.count))
                for (pk, pv) in props where try declared[pk] == nil
                    && !patterns.contains(where: { try terminals.matches(pk, pattern: $0, budget: budget) }) {
                    if case .bool(false) = addl { props[pk] = .bool(false) }
                    else { props[pk] = .object(["allOf": .array([pv, addl])]) }
                }
            }
            out["properties"] = .object(props)
        }
        return out
    }

    private func intersectTypes(_ a: JSONValue, _ b: JSONValue) throws -> JSONValue {
        func list(_ v: JSONValue) -> [String] {
            if let s = v.stringValue { return [s] }
            return (v.arrayValue ?? []).compactMap { $0.stringValue }
        }
        let la = list(a), lb = list(b)
        var out: [String] = []
        for t in la {
            if lb.contains(t) { out.append(t) }
            else if t == "integer" && lb.contains("number") { out.append("integer") }
            else if t == "number" && lb.contains("integer") { out.append("integer") }
        }
        return .array(out.map { .string($0) })
    }

    // MARK: base schemas

    static let objectKeys = ["properties", "required", "additionalProperties", "minProperties", "maxProperties", "propertyNames", "patternProperties"]
    static let arrayKeys = ["items", "prefixItems", "minItems", "maxItems", "additionalItems", "uniqueItems"]
    static let stringKeys = ["minLength", "maxLength", "pattern", "$patterns", "$notPatterns"]
    static let numberKeys = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]

    private func compileBase(_ o: JSONObject) throws -> Int32 {
        if o["not"] != nil { return try rule(try eliminateNot(o)) }
        for (k, why) in SchemaCompiler.rejected where o[k] != nil {
            throw GrammarError.unsupportedKeyword(k, detail: why)
        }
        var types: [String]
        if let t = o["type"] {
            if let s = t.stringValue { types = [s] }
            else if case .array(let items) = t { types = items.compactMap { $0.stringValue } }
            else { throw GrammarError.invalidSchema("type must be a string or an array") }
            for ty in types where !["null", "boolean", "object", "array", "number", "integer", "string"].contains(ty) {
                throw GrammarError.invalidSchema("unknown type '\(ty)'")
            }
        } else {
            // No type: every type is allowed; type-specific keywords constrain their own type.
            types = ["null", "boolean", "object", "array", "number", "string"]
        }
        if types.contains("number") { types.removeAll { $0 == "integer" } }

        let (r, start) = try b.newRule()
        let end = try b.newState()
        b.accept(end)

        if o["enum"] != nil || o["const"] != nil {
            var values: [JSONValue] = []
            if let c = o["const"] { values = [c] }
            if let e = o["enum"] {
                guard case .array(let ev) = e else { throw GrammarError.invalidSchema("enum must be an array") }
                values = o["const"] == nil ? ev : values.filter { v in ev.contains { JSONEquality.equal($0, v) } }
            }
            try budget.spend(values.count)
            let typed = try values.filter { v in
                let tn = v.typeName
                guard types.contains(tn) || (tn == "integer" && types.contains("number")) else { return false }
                return try enumValueSatisfies(v, o)
            }
            var seen = Set<String>()
            var literals: [[UInt8]] = []
            var integers = Set<Int>()
            for v in typed {
                try budget.spend()
                // Integral numbers become one number automaton that admits any spelling of
                // those values (`2` for `2.0`, and `2.0` for `2` where the options allow a zero
                // fraction), as JSON Schema compares numbers by value.
                if case .number(let n) = v, let x = n.int, x != Int.min { integers.insert(x); continue }
                let text = try memoKey(v)
                if seen.insert(text).inserted { literals.append(Array(text.utf8)) }
            }
            if !integers.isEmpty {
                let sorted = integers.sorted()
                let pieces = sorted.map { Terminals.NumberPiece(negative: $0 < 0, lo: abs($0), hi: abs($0), fraction: .zero) }
                let key = "ienum|" + sorted.map(String.init).joined(separator: ",")
                let spelling = types.contains("number") ? numberSpelling : integerSpelling
                if let dfa = try terminals.number(pieces: pieces, exponent: false, nonNegativeExponent: true, key: key, spelling: spelling, budget: budget) {
                    b.call(start, b.terminalRule(dfa), end)
                }
            }
            for e in try b.literalTrie(start, literals) { b.epsilon(e, end) }
            return r
        }

        for t in types {
            switch t {
            case "null": b.epsilon(try b.literal(start, Array("null".utf8)), end)
            case "boolean":
                for e in try b.literalTrie(start, [Array("true".utf8), Array("false".utf8)]) { b.epsilon(e, end) }
            case "string": b.call(start, try stringRule(o), end)
            case "integer", "number": b.call(start, try numberRule(o, integer: t == "integer"), end)
            case "array": try arrayFragment(o, start, end)
            case "object": try objectFragment(o, start, end)
            default: break
            }
        }
        return r
    }

    // MARK: strings

    private func stringRule(_ o: JSONObject) throws -> Int32 {
        guard let dfa = try stringDFA(o) else { return try b.newRule().rule }
        return b.terminalRule(dfa)
    }

    /// The automaton of the strings `o` admits (nil: none).
    ///
    /// With `rawExcluding`, the strings are spelled as bare UTF-8 (no quotes, no escapes) and
    /// never contain that text.
    func stringDFA(_ o: JSONObject, rawExcluding terminator: String? = nil) throws -> ByteDFA? {
        var patterns: [String] = []
        if let p = o["pattern"] {
            guard let s = p.stringValue else { throw GrammarError.invalidSchema("pattern must be a string") }
            patterns.append(s)
        }
        for p in o["$patterns"]?.arrayValue ?? [] { if let s = p.stringValue { patterns.append(s) } }
        // Format patterns are large: their strings are spelled without needless escapes.
        var plain = false
        if let f = o["format"]?.stringValue {
            switch FormatPatterns.treatment(f) {
            case .annotation: break
            case .patterns(let ps): patterns += ps; plain = true
            case .refused(let why): throw GrammarError.unsupportedKeyword("format", detail: "'\(f)': \(why)")
            }
        }
        let minL = try intKeyword(o, "minLength") ?? 0
        if minL > options.maxStringLengthBound {
            throw GrammarError.tooLarge("minLength \(minL) (limit \(options.maxStringLengthBound))")
        }
        let maxL = try intKeyword(o, "maxLength").map { min($0, options.maxStringLengthBound) }
        if let maxL, maxL < minL { return nil }
        var excluded = (o["$notPatterns"]?.arrayValue ?? []).compactMap { $0.stringValue }
        let excludedNames = (o["$notNames"]?.arrayValue ?? []).compactMap { $0.stringValue }
        var spelling: StringSpelling = plain ? .jsonPlain : .json
        if let terminator {
            excluded.append(Self.regexMatchingLiteral(terminator))
            spelling = .raw
        }
        return try terminals.string(patterns: patterns, minLength: minL, maxLength: maxL,
                                    excludingPatterns: excluded, excludingNames: excludedNames, spelling: spelling, budget: budget)
    }

    // MARK: enum and const values

    /// Whether `v` (an `enum`/`const` value of an allowed type) satisfies the other keywords of
    /// `o`: string values run through the schema's own string automaton, numbers are checked
    /// against the bounds; objects and arrays next to keywords of their kind are refused by name
    /// rather than admitted unchecked.
    func admitsEnumValue(_ v: JSONValue, _ o: JSONObject) throws -> Bool {
        switch v {
        case .string(let text):
            guard o.keys.contains(where: { SchemaCompiler.stringKeys.contains($0) || $0 == "format" || $0 == "$notNames" }) else { return true }
            guard let dfa = try stringDFA(o) else { return false }
            return try dfa.acceptsQuoted(text, budget: budget)
        case .number(let n):
            let x = n.double
            if let m = o["multipleOf"] {
                guard m.doubleValue == 1 else {
                    throw GrammarError.unsupportedKeyword("multipleOf", detail: "only multipleOf 1 can be enforced (got \(m.serialized()))")
                }
                if x != x.rounded() { return false }
            }
            if let lo = o["minimum"]?.doubleValue {
                if o["exclusiveMinimum"]?.boolValue == true ? !(x > lo) : !(x >= lo) { return false }
            }
            if let hi = o["maximum"]?.doubleValue {
                if o["exclusiveMaximum"]?.boolValue == true ? !(x < hi) : !(x <= hi) { return false }
            }
            if o["exclusiveMinimum"]?.boolValue == nil, let lo = o["exclusiveMinimum"]?.doubleValue, !(x > lo) { return false }
            if o["exclusiveMaximum"]?.boolValue == nil, let hi = o["exclusiveMaximum"]?.doubleValue, !(x < hi) { return false }
            return true
        case .object:
            if let k = o.keys.first(where: { SchemaCompiler.objectKeys.contains($0) }) {
                throw GrammarError.unsupportedKeyword(k, detail: "next to an enum/const with object values")
            }
            return true
        case .array:
            if let k = o.keys.first(where: { SchemaCompiler.arrayKeys.contains($0) }) {
                throw GrammarError.unsupportedKeyword(k, detail: "next to an enum/const with array values")
            }
            return true
        default:
            return true
        }
    }

    private func intKeyword(_ o: JSONObject, _ k: String) throws -> Int? {
        guard let v = o[k] else { return nil }
        guard let d = v.doubleValue, d >= 0, d == d.rounded() else { throw GrammarError.invalidSchema("\(k) must be a non-negative integer") }
        return d > 1e9 ? 1_000_000_000 : Int(d)
    }

    // MARK: numbers

    private func numberRule(_ o: JSONObject, integer: Bool) throws -> Int32 {
        var isInteger = integer
        if let m = o["multipleOf"] {
            guard let d = m.doubleValue, d > 0 else { throw GrammarError.invalidSchema("multipleOf must be positive") }
            if d == 1 || (isInteger && d == d.rounded() && d == 1) { isInteger = true }
            else { throw GrammarError.unsupportedKeyword("multipleOf", detail: "only multipleOf 1 can be enforced (got \(m.serialized()))") }
        }
        // Lower and upper bounds with exclusivity (draft 4 booleans or draft 6+ numbers).
        var lo: (Double, Bool)?  // (value, exclusive)
        var hi: (Double, Bool)?
        // The bound as written, when it is an integer literal that fits an Int: integer bounds
        // such as 2^63 - 1 are enforced exactly, beyond what a Double represents.
        func exact(_ key: String) -> Int? {
            if case .number(let n)? = o[key] { return Int(n.text) }
            return nil
        }
        // Outward integer bounds beyond Int (maximum above Int.max, minimum below Int.min),
        // written as integer literals: their magnitude as digits.
        func beyondInt(_ key: String, negative: Bool) -> [Int]? {
            guard case .number(let n)? = o[key], Int(n.text) == nil else { return nil }
            var t = Substring(n.text)
            guard t.hasPrefix("-") == negative else { return nil }
            if negative { t = t.dropFirst() }
            guard !t.isEmpty, t.first != "0", t.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
            return t.map { Int(String($0))! }
        }
        var loExact: Int?, hiExact: Int?
        var loBeyond: [Int]?, hiBeyond: [Int]?
        if let v = o["minimum"]?.doubleValue {
            lo = (v, o["exclusiveMinimum"]?.boolValue == true); loExact = exact("minimum"); loBeyond = beyondInt("minimum", negative: true)
        }
        if let v = o["maximum"]?.doubleValue {
            hi = (v, o["exclusiveMaximum"]?.boolValue == true); hiExact = exact("maximum"); hiBeyond = beyondInt("maximum", negative: false)
        }
        if let v = o["exclusiveMinimum"]?.doubleValue, o["exclusiveMinimum"]?.boolValue == nil {
            if lo == nil || v >= lo!.0 { lo = (v, true); loExact = exact("exclusiveMinimum"); loBeyond = beyondInt("exclusiveMinimum", negative: true) }
        }
        if let v = o["exclusiveMaximum"]?.doubleValue, o["exclusiveMaximum"]?.boolValue == nil {
            if hi == nil || v <= hi!.0 { hi = (v, true); hiExact = exact("exclusiveMaximum"); hiBeyond = beyondInt("exclusiveMaximum", negative: false) }
        }
        if !isInteger { loExact = nil; hiExact = nil; loBeyond = nil; hiBeyond = nil }
        // Other bounds far outside the exactly representable range only ever widen: drop them
        // when they point outwards (max huge, min very negative); reject inward huge bounds.
        let limit = 1e15
        if let h = hi, h.0 >= limit, hiExact == nil, hiBeyond == nil { hi = nil }
        if let l = lo, l.0 <= -limit, loExact == nil, loBeyond == nil { lo = nil }
        if let h = hi, h.0 <= -limit, hiExact == nil { throw GrammarError.unsupportedKeyword("maximum", detail: "bound \(h.0) too large to enforce") }
        if let l = lo, l.0 >= limit, loExact == nil { throw GrammarError.unsupportedKeyword("minimum", detail: "bound \(l.0) too large to enforce") }
        // Integers: exact bounds as written where they are integer literals, else the Double
        // rounded inwards (within ±1e15 here, so it fits an Int).
        if isInteger {
            var a: Int? = nil, c: Int? = nil
            var belowIntAbs: [Int]? = nil, aboveInt: [Int]? = nil
            if let (v, ex) = lo {
                if let e = loExact { let (x, overflow) = e.addingReportingOverflow(ex ? 1 : 0); if overflow { return try b.newRule().rule }; a = x }
                else if let d = loBeyond { belowIntAbs = ex ? DigitRanges.decrement(d) : d }
                else { let x = v.rounded(.up); a = Int(x) + ((ex && x == v) ? 1 : 0) }
            }
            if let (v, ex) = hi {
                if let e = hiExact { let (x, overflow) = e.subtractingReportingOverflow(ex ? 1 : 0); if overflow { return try b.newRule().rule }; c = x }
                else if let d = hiBeyond { aboveInt = ex ? DigitRanges.decrement(d) : d }
                else { let x = v.rounded(.down); c = Int(x) - ((ex && x == v) ? 1 : 0) }
            }
            return try integerRule(a, c, unbounded: lo == nil && hi == nil, aboveInt: aboveInt, belowIntAbs: belowIntAbs)
        }

        var pieces: [Terminals.NumberPiece] = []
        let key: String
        if lo == nil && hi == nil {
            pieces = [.init(negative: false, lo: 0, hi: nil, fraction: .any), .init(negative: true, lo: 0, hi: nil, fraction: .any)]
            guard let dfa = try terminals.number(pieces: pieces, exponent: true, nonNegativeExponent: false, key: "n", spelling: numberSpelling, budget: budget) else {
                return try b.newRule().rule
            }
            return b.terminalRule(dfa)
        }
        for (name, bound) in [("minimum", lo), ("maximum", hi)] {
            if let (v, _) = bound, v != v.rounded() {
                throw GrammarError.unsupportedKeyword(name, detail: "non-integer bound \(v) on a number")
            }
        }
        // Positive side x ≥ 0 (as D.F) and negative side y = -x > 0, each bounded by integers.
        func side(lower: (Int, Bool)?, upper: (Int, Bool)?, negative: Bool) {
            let (l, lex) = lower ?? (0, false)
            if let (u, uex) = upper {
                if u < l || (u == l && (lex || uex)) { return }
            }
            let anyLo = lex ? l + 1 : l
            let anyHi = upper.map { $0.0 - 1 }
            if anyHi == nil || anyLo <= anyHi! { pieces.append(.init(negative: negative, lo: anyLo, hi: anyHi, fraction: .any)) }
            if let (u, uex) = upper, !uex, u >= anyLo { pieces.append(.init(negative: negative, lo: u, hi: u, fraction: .zero)) }
            if lex, upper == nil || upper!.0 > l { pieces.append(.init(negative: negative, lo: l, hi: l, fraction: .nonzero)) }
        }
        let a = lo.map { (Int($0.0), $0.1) }, c = hi.map { (Int($0.0), $0.1) }
        if c == nil || c!.0 > 0 || (c!.0 == 0 && !c!.1) {
            // x ≥ max(a, 0)
            let lower: (Int, Bool)? = (a == nil || a!.0 < 0) ? nil : a
            side(lower: lower, upper: c, negative: false)
        }
        if a == nil || a!.0 < 0 {
            // y = -x in (max(-c, 0), -a]
            let lower: (Int, Bool)? = (c == nil || c!.0 > 0) ? (0, true) : (-c!.0, c!.1 || c!.0 == 0)
            let upper: (Int, Bool)? = a.map { (-$0.0, $0.1) }
            side(lower: lower, upper: upper, negative: true)
        }
        key = "n|\(lo.map { "\($0.0),\($0.1)" } ?? "")|\(hi.map { "\($0.0),\($0.1)" } ?? "")"
        guard let dfa = try terminals.number(pieces: pieces, exponent: false, nonNegativeExponent: false, key: key, spelling: numberSpelling, budget: budget) else {
            return try b.newRule().rule
        }
        return b.terminalRule(dfa)
    }

    /// Integers in a...c (either side open); exponents only when the schema sets no bound.
    /// `aboveInt` / `belowIntAbs`: an upper bound above Int.max / the magnitude of a lower
    /// bound below Int.min, as decimal digits (`c` / `a` are then nil).
    private func integerRule(_ a: Int?, _ c: Int?, unbounded: Bool, aboveInt: [Int]? = nil, belowIntAbs: [Int]? = nil) throws -> Int32 {
        if let a, let c, a > c { return try b.newRule().rule }
        var pieces: [Terminals.NumberPiece] = []
        // Non-negative part.
        if c == nil || c! >= 0 { pieces.append(.init(negative: false, lo: max(a ?? 0, 0), hi: c, fraction: .zero, hiDigits: aboveInt)) }
        // Negative part: absolute values (-Int.min does not fit an Int: its digits do).
        if a == nil || a! < 0 {
            let absLo = c.map { max(1, -min($0, -1)) } ?? 1
            let absHi = a.map { $0 == Int.min ? Int.max : -$0 }
            let absHiDigits = a == Int.min ? String(Int.min).dropFirst().map { Int(String($0))! } : belowIntAbs
            if absHi == nil || absLo <= absHi! {
                pieces.append(.init(negative: true, lo: absLo, hi: absHi, fraction: .zero, hiDigits: absHiDigits))
            }
        }
        let key = "i|\(a.map(String.init) ?? "")|\(c.map(String.init) ?? "")|\(aboveInt.map { $0.map(String.init).joined() } ?? "")|\(belowIntAbs.map { $0.map(String.init).joined() } ?? "")"
        guard let dfa = try terminals.number(pieces: pieces, exponent: unbounded && !integerLiteralsOnly, nonNegativeExponent: true, key: key + (integerLiteralsOnly ? "|lit" : ""),
                                             spelling: integerSpelling, budget: budget) else {
            return try b.newRule().rule
        }
        return b.terminalRule(dfa)
    }

    // MARK: arrays

    private func arrayFragment(_ o: JSONObject, _ start: Int32, _ end: Int32) throws {
        if o["uniqueItems"]?.boolValue == true, (try intKeyword(o, "maxItems") ?? 2) > 1 {
            throw GrammarError.unsupportedKeyword("uniqueItems", detail: "item uniqueness cannot be enforced while generating")
        }
        var prefix: [JSONValue] = []
        var rest: JSONValue? = nil  // nil = any
        if let p = o["prefixItems"] {
            prefix = p.arrayValue ?? []
            rest = o["items"]
        } else if case .array(let tuple)? = o["items"] {
            prefix = tuple
            rest = o["additionalItems"]
        } else {
            rest = o["items"]
        }
        let restAllowed: Bool
        if case .bool(false)? = rest { restAllowed = false } else { restAllowed = true }
        let minI = try intKeyword(o, "minItems") ?? 0
        var maxI = try intKeyword(o, "maxItems")
        if !restAllowed { maxI = min(maxI ?? prefix.count, prefix.count) }
        if let m = maxI, m < minI { return }
        let cap = maxI ?? max(prefix.count, minI, 1)
        if cap > 5_000 { throw GrammarError.tooLarge("array bounds need \(cap) counter states") }
        let open = try b.literal(start, [UInt8(ascii: "[")])
        var states: [Int32] = [open]
        for _ in 0..<cap { states.append(try b.newState()) }
        let restRule = restAllowed ? try rule(rest ?? .bool(true)) : nil
        try budget.spend(cap)
        for c in 0...cap {
            let s = states[c]
            if c >= minI { b.bytes(s, 0x5D, 0x5D, end) }
            if let m = maxI, c >= m { continue }
            let elem: Int32
            if c < prefix.count { elem = try rule(prefix[c]) } else if let rr = restRule { elem = rr } else { continue }
            let from = c > 0 ? try b.literal(s, [UInt8(ascii: ",")]) : s
            let next = maxI != nil ? c + 1 : min(c + 1, cap)
            b.call(from, elem, states[next])
        }
    }

    // MARK: objects

    private func objectFragment(_ o: JSONObject, _ start: Int32, _ end: Int32) throws {
        var patternProps: [(String, JSONValue)] = []
        if let pp = o["patternProperties"] {
            guard case .object(let ppo) = pp else { throw GrammarError.invalidSchema("patternProperties must be an object") }
            patternProps = ppo.map { ($0.key, $0.value) }
        }
        var props: [(String, JSONValue)] = []
        if let p = o["properties"] {
            guard case .object(let po) = p else { throw GrammarError.invalidSchema("properties must be an object") }
            props = po.map { ($0.key, $0.value) }
        }
        let required = Set((o["required"]?.arrayValue ?? []).compactMap { $0.stringValue })
        // In a schema without applicators (`merge` refuses it next to allOf, $ref and
        // anyOf/oneOf), the properties `unevaluatedProperties` governs are exactly those
        // `additionalProperties` would; with both, `additionalProperties` already covers them all.
        let addl = o["additionalProperties"] ?? o["unevaluatedProperties"]
        for r in (o["required"]?.arrayValue ?? []).compactMap({ $0.stringValue }) where !props.contains(where: { $0.0 == r }) {
            // A required name that is not declared gets its schema from the patterns it
            // matches, else from additionalProperties.
            let matching = try patternProps.filter { try terminals.matches(r, pattern: $0.0, budget: budget) }.map { $0.1 }
            props.append((r, matching.isEmpty ? (addl ?? .bool(true)) : .object(["allOf": .array(matching)])))
        }
        // Declared names that match a pattern must satisfy that pattern's schema too.
        if !patternProps.isEmpty {
            try budget.spend(props.count * patternProps.count)
            for k in props.indices {
                let matching = try patternProps.filter { try terminals.matches(props[k].0, pattern: $0.0, budget: budget) }.map { $0.1 }
                if !matching.isEmpty { props[k].1 = .object(["allOf": .array([props[k].1] + matching)]) }
            }
        }
        if let pn = o["propertyNames"], !props.isEmpty || !patternProps.isEmpty {
            _ = pn
            throw GrammarError.unsupportedKeyword("propertyNames", detail: "only supported on objects without properties or patternProperties")
        }
        let minP = try intKeyword(o, "minProperties") ?? 0
        let maxP = try intKeyword(o, "maxProperties")
        if let maxP, maxP < minP { return }
        let open = try b.literal(start, [UInt8(ascii: "{")])
        let close: UInt8 = 0x7D

        let addlForbidden: Bool
        if case .bool(false)? = addl { addlForbidden = true } else { addlForbidden = false }
        if props.isEmpty && patternProps.isEmpty && !addlForbidden {
            // Free-form map.
            var keySchema: JSONValue = ["type": "string"]
            if let pn = o["propertyNames"] { keySchema = .object(try merge(pn, ["type": "string"])) }
            let keyRule = try rule(keySchema)
            let valRule = try rule(addl ?? .bool(true))
            let cap = maxP ?? max(minP, 1)
            if cap > 5_000 { throw GrammarError.tooLarge("object bounds need \(cap) counter states") }
            try budget.spend(cap)
            var states: [Int32] = [open]
            for _ in 0..<cap { states.append(try b.newState()) }
            for c in 0...cap {
                let s = states[c]
                if c >= minP { b.bytes(s, close, close, end) }
                if let m = maxP, c >= m { continue }
                let from = c > 0 ? try b.literal(s, [UInt8(ascii: ",")]) : s
                let afterKey = try b.newState()
                b.call(from, keyRule, afterKey)
                let colon = try b.literal(afterKey, [UInt8(ascii: ":")])
                let next = maxP != nil ? c + 1 : min(c + 1, cap)
                b.call(colon, valRule, states[next])
            }
            return
        }
        // Undeclared keys, emitted after the declared properties: one (key automaton, value
        // rule) per set of patterns a key can match (its value must satisfy all their schemas),
        // then "additional" keys matching no pattern.
        let declaredNames = props.map { $0.0 }
        var extras: [(key: Int32, value: Int32)] = []
        let patterns = patternProps.map { $0.0 }
        for region in PatternRegions.all(count: patterns.count) {
            try budget.spend(patterns.count)
            let matched = region.map { patterns[$0] }
            let others = patterns.indices.filter { !region.contains($0) }.map { patterns[$0] }
            let dfa: ByteDFA?
            if region.count == 1 {
                dfa = try terminals.string(patterns: matched, minLength: 0, maxLength: nil, excludingPatterns: others, excludingNames: declaredNames, budget: budget)
            } else {
                // An overlap too costly to build is left out: such keys are refused (narrowing).
                do {
                    dfa = try terminals.string(patterns: matched, minLength: 0, maxLength: nil, excludingPatterns: others, excludingNames: declaredNames, budget: budget)
                } catch is GrammarError {
                    dfa = nil
                }
            }
            guard let dfa else { continue }
            let schemas = region.map { patternProps[$0].1 }
            extras.append((b.terminalRule(dfa), try rule(schemas.count == 1 ? schemas[0] : .object(["allOf": .array(schemas)]))))
        }
        let additionalAllowed: Bool
        switch options.additionalProperties {
        case .asSchema: additionalAllowed = !addlForbidden
        case .declaredOnly: additionalAllowed = false
        }
        if additionalAllowed {
            if patterns.isEmpty {
                extras.append((try keyRule(excluding: declaredNames), try rule(addl ?? .bool(true))))
            } else if let dfa = try terminals.string(patterns: [], minLength: 0, maxLength: nil,
                                                     excludingPatterns: patterns, excludingNames: declaredNames, budget: budget) {
                extras.append((b.terminalRule(dfa), try rule(addl ?? .bool(true))))
            }
        }

        let n = props.count
        let track = minP > 0 || maxP != nil
        // Counts above this are all alike (only reachable with unbounded extras).
        let countCap = maxP ?? max(minP, n + 1)
        if countCap > 5_000 { throw GrammarError.tooLarge("object bounds need \(countCap) counter states") }
        var stateOf: [Int: Int32] = [:]  // i * (countCap + 2) + c
        var pending: [(Int, Int)] = []
        func state(_ i: Int, _ c: Int) throws -> Int32 {
            let k = i * (countCap + 2) + c
            if let s = stateOf[k] { return s }
            let s = (i == 0 && c == 0) ? open : try b.newState()
            stateOf[k] = s
            pending.append((i, c))
            return s
        }
        func nextCount(_ c: Int) -> Int { track ? min(c + 1, countCap) : 1 }
        let valueRules = try props.map { try rule($0.1) }
        _ = try state(0, 0)
        while let (i, c) = pending.popLast() {
            try budget.spend(1 + n - i)
            let s = stateOf[i * (countCap + 2) + c]!
            let canAdd = maxP == nil || c < maxP!
            var allOptional = true
            var entries: [[UInt8]] = []
            var targets: [(Int32, Int32)] = []  // (value rule, return state)
            var j = i
            while j < n {
                if canAdd {
                    var key: [UInt8] = c > 0 ? [UInt8(ascii: ",")] : []
                    key += Array(JSONValue.quoted(props[j].0).utf8)
                    key.append(UInt8(ascii: ":"))
                    entries.append(key)
                    targets.append((valueRules[j], try state(j + 1, nextCount(c))))
                }
                if required.contains(props[j].0) { allOptional = false; break }
                j += 1
            }
            if allOptional && c >= minP { b.bytes(s, close, close, end) }
            let ends = try b.literalTrie(s, entries)
            for (e, t) in zip(ends, targets) { b.call(e, t.0, t.1) }
            if allOptional && canAdd && !extras.isEmpty {
                let from = c > 0 ? try b.literal(s, [UInt8(ascii: ",")]) : s
                let target = try state(n, nextCount(c))
                for x in extras {
                    let afterKey = try b.newState()
                    b.call(from, x.key, afterKey)
                    b.call(try b.literal(afterKey, [UInt8(ascii: ":")]), x.value, target)
                }
            }
        }
    }

    // MARK: keys other than the declared names

    /// A JSON string that is none of `names` (see `terminals.keyExcluding(names:)`).
    func keyRule(excluding names: [String]) throws -> Int32 {
        b.terminalRule(try terminals.keyExcluding(names: names))
    }

    // MARK: any value

    func anyValueRule() throws -> Int32 {
        if let r = anyValue { return r }
        let (value, vStart) = try b.newRule()
        anyValue = value
        let vEnd = try b.newState()
        b.accept(vEnd)
        let str = b.terminalRule(try terminals.string(patterns: [], minLength: 0, maxLength: nil, budget: budget)!)
        let num = b.terminalRule(try terminals.number(
            pieces: [.init(negative: false, lo: 0, hi: nil, fraction: .any), .init(negative: true, lo: 0, hi: nil, fraction: .any)],
            exponent: true, nonNegativeExponent: false, key: "n", spelling: numberSpelling, budget: budget)!)
        b.call(vStart, str, vEnd)
        b.call(vStart, num, vEnd)
        for e in try b.literalTrie(vStart, ["true", "false", "null"].map { Array($0.utf8) }) { b.epsilon(e, vEnd) }
        // Object: { } | { k:v (, k:v)* }
        let (obj, oStart) = try b.newRule()
        let oEnd = try b.newState(); b.accept(oEnd)
        let o1 = try b.literal(oStart, [0x7B])
        b.bytes(o1, 0x7D, 0x7D, oEnd)
        let afterKey = try b.newState()
        b.call(o1, str, afterKey)
        let colon = try b.literal(afterKey, [0x3A])
        let afterVal = try b.newState()
        b.call(colon, value, afterVal)
        b.bytes(afterVal, 0x7D, 0x7D, oEnd)
        let comma = try b.literal(afterVal, [0x2C])
        b.call(comma, str, afterKey)
        // Array: [ ] | [ v (, v)* ]
        let (arr, aStart) = try b.newRule()
        let aEnd = try b.newState(); b.accept(aEnd)
        let a1 = try b.literal(aStart, [0x5B])
        b.bytes(a1, 0x5D, 0x5D, aEnd)
        let afterItem = try b.newState()
        b.call(a1, value, afterItem)
        b.bytes(afterItem, 0x5D, 0x5D, aEnd)
        let aComma = try b.literal(afterItem, [0x2C])
        b.call(aComma, value, afterItem)
        b.call(vStart, obj, vEnd)
        b.call(vStart, arr, vEnd)
        return value
    }
}

/// The sets of `patternProperties` patterns a key can match at once, as index lists: every
/// non-empty subset for up to six patterns (a key matching several takes all their schemas),
/// only the single patterns beyond that (keys matching several are then refused: narrowing).
enum PatternRegions {
    static func all(count n: Int) -> [[Int]] {
        guard n <= 6 else { return (0..<n).map { [$0] } }
        return (1..<(1 << n)).map { mask in (0..<n).filter { mask & (1 << $0) != 0 } }
            .sorted { $0.count < $1.count }
    }
}
