import ChatAPI
import TestSupport

/// Random JSON Schemas: random keyword combinations, nesting, `$ref`/`$defs`, the combinators,
/// patterns and bounds (huge, fractional, contradictory). Real schemas (MaskBench) are well
/// behaved; these reach the corners where keywords interact.
enum RandomSchema {
    static let types = ["string", "number", "integer", "boolean", "object", "array", "null"]
    static let patterns = ["^a+$", "[0-9]{2,4}", "^(ab|cd)*$", "\\d+\\.\\d*", "^[^\"\\\\]{0,8}$", "(a|b)?c", ".*", "^$",
                           "[\\u0041-\\u005A]+", "\\p{L}+", "(?:x{3}){2}", "a{0,1000}", "^\\w+@\\w+$", "[a-", "(?=a)", "\\1(a)"]
    static let formats = ["date", "time", "date-time", "email", "uuid", "uri", "ipv4", "ipv6", "hostname", "duration", "regex", "bogus"]
    static let bounds: [JSONValue] = [0, 1, 2, 3, -1, 0.5, 1e308, -1e308, 1e-300, 9_007_199_254_740_993, 2.5, 100]

    /// A whole schema: a root with `$defs` that the tree refers to (possibly circularly).
    static func document(_ rng: inout SplitMix64) -> JSONValue {
        let defCount = rng.below(4)
        var root = schema(&rng, depth: 4, defs: defCount)
        guard case .object(var o) = root else { return root }
        if defCount > 0 {
            var defs = JSONObject()
            for i in 0..<defCount { defs["d\(i)"] = schema(&rng, depth: 3, defs: defCount) }
            o[rng.oneIn(4) ? "definitions" : "$defs"] = .object(defs)
        }
        root = .object(o)
        return root
    }

    static func schema(_ rng: inout SplitMix64, depth: Int, defs: Int) -> JSONValue {
        if rng.oneIn(12) { return .bool(!rng.oneIn(4)) }
        var o = JSONObject()
        if defs > 0, rng.oneIn(5) {
            o["$ref"] = .string("#/$defs/d\(rng.below(defs))")
            if rng.oneIn(2) { return .object(o) }
        }
        if rng.below(4) != 0 {
            o["type"] = rng.oneIn(4) ? .array((0..<(1 + rng.below(3))).map { _ in .string(rng.pick(types)) }) : .string(rng.pick(types))
        }
        let sub = { (rng: inout SplitMix64) -> JSONValue in
            depth > 0 ? schema(&rng, depth: depth - 1, defs: defs) : .object(["type": .string(rng.pick(types))])
        }
        for _ in 0..<rng.below(5) {
            switch rng.below(30) {
            case 0:
                var props = JSONObject()
                for i in 0..<(1 + rng.below(3)) { props[rng.pick(["a", "b", "name", "p\(i)", ""])] = sub(&rng) }
                o["properties"] = .object(props)
            case 1: o["required"] = .array((0..<rng.below(3)).map { _ in .string(rng.pick(["a", "b", "name", "p0"])) })
            case 2: o["additionalProperties"] = rng.oneIn(2) ? .bool(rng.oneIn(2)) : sub(&rng)
            case 3: o["items"] = sub(&rng)
            case 4: o["prefixItems"] = .array((0..<(1 + rng.below(3))).map { _ in sub(&rng) })
            case 5: o[rng.pick(["minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"])] = rng.pick(bounds)
            case 6: o[rng.pick(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"])] = rng.pick(bounds)
            case 7: o["multipleOf"] = rng.pick(bounds)
            case 8: o["enum"] = .array((0..<rng.below(4)).map { _ in RandomJSON.value(&rng, depth: 2) })
            case 9: o["const"] = RandomJSON.value(&rng, depth: 2)
            case 10, 11: o["pattern"] = .string(rng.pick(patterns))
            case 12: o["format"] = .string(rng.pick(formats))
            case 13, 14: o[rng.pick(["allOf", "anyOf", "oneOf"])] = .array((0..<(1 + rng.below(3))).map { _ in sub(&rng) })
            case 15: o["not"] = sub(&rng)
            case 16:
                o["if"] = sub(&rng)
                o["then"] = sub(&rng)
                if rng.oneIn(2) { o["else"] = sub(&rng) }
            case 17: o["patternProperties"] = .object([rng.pick(patterns): sub(&rng)])
            case 18: o["propertyNames"] = .object(["pattern": .string(rng.pick(patterns))])
            case 19: o["uniqueItems"] = .bool(rng.oneIn(2))
            case 20:
                o["contains"] = sub(&rng)
                if rng.oneIn(2) { o[rng.pick(["minContains", "maxContains"])] = rng.pick(bounds) }
            case 21: o["dependentRequired"] = .object(["a": .array(["b"])])
            case 22: o["dependentSchemas"] = .object(["a": sub(&rng)])
            case 23: o["unevaluatedProperties"] = rng.oneIn(2) ? .bool(false) : sub(&rng)
            case 24: o["unevaluatedItems"] = .bool(rng.oneIn(2))
            case 25: o["additionalItems"] = sub(&rng)
            case 26: o["$ref"] = .string(rng.pick(["#", "#/properties/a", "#/$defs/missing", "http://example.com/x", "#/definitions/d0"]))
            case 27: o["nullable"] = .bool(true)
            case 28: o["$anchor"] = "a"
            default: o["description"] = "d"
            }
        }
        return .object(o)
    }

    /// The issue's stall: each definition is `allOf` of the next one twice, so naive merging does
    /// 2^depth work in a few kilobytes.
    static func allOfRefDoublingChain(depth: Int) -> JSONValue {
        var defs = JSONObject()
        for i in 0..<depth {
            defs["d\(i)"] = .object(["allOf": .array([.object(["$ref": .string("#/$defs/d\(i + 1)")]),
                                                      .object(["$ref": .string("#/$defs/d\(i + 1)")])])])
        }
        defs["d\(depth)"] = .object(["type": "object", "properties": .object(["a": .object(["type": "string"])])])
        return .object(["$defs": .object(defs), "$ref": "#/$defs/d0"])
    }

    /// The same stall spelled with `not` over `anyOf`.
    static func notAnyOfRefChain(depth: Int) -> JSONValue {
        var defs = JSONObject()
        for i in 0..<depth {
            defs["d\(i)"] = .object(["not": .object(["anyOf": .array([.object(["$ref": .string("#/$defs/d\(i + 1)")]),
                                                                      .object(["$ref": .string("#/$defs/d\(i + 1)")])])])])
        }
        defs["d\(depth)"] = .object(["type": "string", "maxLength": 3])
        return .object(["$defs": .object(defs), "$ref": "#/$defs/d0"])
    }
}
