import ChatAPI
import TestSupport

/// Structure-aware mutations of JSON documents (request bodies, schemas): byte mutations mostly
/// produce text the JSON parser rejects, so validators behind it would see little. These keep
/// the document well-formed and change what it means.
struct JSONValueMutator: Sendable {
    /// Keys worth adding (the target's field names or schema keywords).
    var keys: [String]
    /// Values worth planting: each is tried as-is wherever a value fits.
    var interestingValues: [JSONValue]

    func mutate(_ value: JSONValue, donor: JSONValue, rng: inout SplitMix64) -> JSONValue {
        var v = value
        for _ in 0..<(1 + rng.below(3)) { v = mutateSomewhere(v, donor: donor, rng: &rng, depth: 0) }
        return v
    }

    /// Walks down a random path and mutates the node where it stops.
    private func mutateSomewhere(_ value: JSONValue, donor: JSONValue, rng: inout SplitMix64, depth: Int) -> JSONValue {
        let descend = depth < 64 && !rng.oneIn(3)
        switch value {
        case .object(var o) where descend && !o.isEmpty:
            let i = rng.below(o.count)
            o.values[i] = mutateSomewhere(o.values[i], donor: donor, rng: &rng, depth: depth + 1)
            return .object(o)
        case .array(var a) where descend && !a.isEmpty:
            let i = rng.below(a.count)
            a[i] = mutateSomewhere(a[i], donor: donor, rng: &rng, depth: depth + 1)
            return .array(a)
        default:
            return mutateHere(value, donor: donor, rng: &rng)
        }
    }

    private func mutateHere(_ value: JSONValue, donor: JSONValue, rng: inout SplitMix64) -> JSONValue {
        switch rng.below(9) {
        case 0: return rng.pick(interestingValues)
        case 1: return RandomJSON.value(&rng, depth: 3)
        case 2: return randomSubtree(of: donor, rng: &rng)
        case 3:  // add a key
            guard case .object(var o) = value else { return value }
            o[rng.pick(keys)] = rng.oneIn(2) ? rng.pick(interestingValues) : randomSubtree(of: donor, rng: &rng)
            return .object(o)
        case 4:  // drop a key or element
            if case .object(var o) = value, !o.isEmpty { o.removeValue(forKey: o.keys[rng.below(o.count)]); return .object(o) }
            if case .array(var a) = value, !a.isEmpty { a.remove(at: rng.below(a.count)); return .array(a) }
            return .null
        case 5:  // wrap: the same value one level deeper
            switch rng.below(4) {
            case 0: return .array([value])
            case 1: return .object([rng.pick(keys): value])
            case 2: return .object(["allOf": .array([value, value])])
            default: return .object(["not": .object(["not": value])])
            }
        case 6:  // duplicate elements / keys, growing the document
            if case .array(let a) = value, !a.isEmpty { return .array(a + a) }
            if case .object(var o) = value, !o.isEmpty {
                let k = o.keys[rng.below(o.count)]
                o[rng.pick(keys)] = o[k]
                return .object(o)
            }
            return .array([value, value])
        case 7:  // change a scalar's type or size
            switch value {
            case .string(let s): return rng.oneIn(2) ? .string(s + String(repeating: "x", count: rng.skewedSize(max: 10_000))) : .int(s.count)
            case .number: return JSONValue.number(JSONNumber(text: rng.pick(ByteMutator.hugeNumbers)) ?? JSONNumber(-1))
            case .bool(let b): return .bool(!b)
            default: return .string("")
            }
        default:  // rename a key
            guard case .object(let o) = value, !o.isEmpty else { return value }
            var renamed = JSONObject()
            let victim = rng.below(o.count)
            for (i, (k, v)) in o.enumerated() { renamed[i == victim ? rng.pick(keys) : k] = v }
            return .object(renamed)
        }
    }

    private func randomSubtree(of value: JSONValue, rng: inout SplitMix64) -> JSONValue {
        var v = value
        for _ in 0..<rng.below(6) {
            switch v {
            case .object(let o) where !o.isEmpty: v = o.values[rng.below(o.count)]
            case .array(let a) where !a.isEmpty: v = a[rng.below(a.count)]
            default: return v
            }
        }
        return v
    }
}

/// Random JSON values: instances to validate, and filler for mutations.
enum RandomJSON {
    static let strings = ["", "a", "abc", "0", "A1", "x y", "é", "😀", "\u{0}", "\\", "\"", "2024-02-29", "2024-02-30",
                          "user@example.com", "http://x", "12:00:00Z", "a\nb", "\u{FFFD}"]

    static func scalar(_ rng: inout SplitMix64) -> JSONValue {
        switch rng.below(7) {
        case 0: return .null
        case 1: return .bool(rng.oneIn(2))
        case 2: return .int(rng.below(21) - 10)
        case 3: return .number(JSONNumber(text: rng.pick(ByteMutator.hugeNumbers)) ?? JSONNumber(0.5))
        case 4: return .double(Double(rng.below(2001) - 1000) / 8)
        default: return .string(rng.pick(strings))
        }
    }

    static func value(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
        guard depth > 0, rng.below(3) != 0 else { return scalar(&rng) }
        if rng.oneIn(2) {
            return .array((0..<rng.below(4)).map { _ in value(&rng, depth: depth - 1) })
        }
        var o = JSONObject()
        for _ in 0..<rng.below(4) { o[rng.pick(["a", "b", "name", "id", "x", ""])] = value(&rng, depth: depth - 1) }
        return .object(o)
    }
}
