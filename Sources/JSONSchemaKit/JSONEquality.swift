import ChatAPI

/// Equality as JSON Schema defines it for `enum`, `const` and `uniqueItems`: numbers compare by
/// value (`1 == 1.0`), objects ignore key order, booleans are never numbers.
package enum JSONEquality {
    package static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.number(let x), .number(let y)): return x.text == y.text || NumberMath.compare(x, y) == 0
        case (.array(let x), .array(let y)):
            guard x.count == y.count else { return false }
            for i in x.indices where !equal(x[i], y[i]) { return false }
            return true
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (key, value) in x {
                guard let other = y[key], equal(value, other) else { return false }
            }
            return true
        default:
            return false
        }
    }

    /// A hash consistent with `equal` (key-order independent, numerically normalised).
    static func hash(_ value: JSONValue, into hasher: inout Hasher) {
        switch value {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .string(let s): hasher.combine(2); hasher.combine(s)
        case .number(let n):
            hasher.combine(3)
            hasher.combine(n.double.isFinite ? n.double : 0)
        case .array(let items):
            hasher.combine(4)
            hasher.combine(items.count)
            for item in items { hash(item, into: &hasher) }
        case .object(let object):
            hasher.combine(5)
            var combined = 0
            for (key, member) in object {
                var h = Hasher()
                h.combine(key)
                hash(member, into: &h)
                combined ^= h.finalize()
            }
            hasher.combine(combined)
        }
    }

    /// The first pair of equal items, if any (`uniqueItems`).
    static func firstDuplicate(in items: [JSONValue]) -> (Int, Int)? {
        if items.count <= 16 {
            for i in items.indices {
                for j in (i + 1)..<items.count where equal(items[i], items[j]) { return (i, j) }
            }
            return nil
        }
        var buckets: [Int: [Int]] = [:]
        for (j, item) in items.enumerated() {
            var hasher = Hasher()
            hash(item, into: &hasher)
            let key = hasher.finalize()
            if let candidates = buckets[key] {
                for i in candidates where equal(items[i], item) { return (i, j) }
            }
            buckets[key, default: []].append(j)
        }
        return nil
    }
}
