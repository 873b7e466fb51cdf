import TestSupport

/// Byte-level mutations in the style of libFuzzer's: flips, inserts of tokens the target cares
/// about, deletions, splices of two inputs, deep nesting, huge numbers, invalid UTF-8, long runs.
struct ByteMutator: Sendable {
    /// Tokens worth inserting whole (keywords, operators, delimiters of the target's language).
    var dictionary: [[UInt8]]
    /// Opening/closing pairs to wrap a slice in many times over (`[`/`]`, `(`/`)`, `{% if x %}`...).
    var nestings: [(open: [UInt8], close: [UInt8])]
    /// Deepest nesting to produce. Targets whose parsers are known to recurse without a bound
    /// (issue 8: the regex parsers) keep this low so the random phase does not rediscover that one
    /// crash on every run; their known failures replay it explicitly.
    var maxNesting: Int
    /// Largest input to produce.
    var maxSize: Int = 1 << 20

    static let hugeNumbers: [String] = [
        "1e999999", "-1e999999", "99999999999999999999999999999", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "18446744073709551616", "4294967296", "2147483648", "-0", "0.0000000000000000001",
        "1e-999999", "1.7976931348623157e308", "5e-324", "123456789012345678901234567890.5e-10", "NaN", "Infinity",
    ]
    static let invalidUTF8: [[UInt8]] = [
        [0xFF], [0xC0, 0x80], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80],
        [0xF0, 0x9F, 0x98], [0x00],
    ]
    static let oddUnicode: [String] = ["é", "e\u{301}", "😀", "\u{FEFF}", "\u{2028}", "\u{10FFFF}", "ǅ", "İ", "ß", "\u{0}"]

    func mutate(_ input: [UInt8], other: [UInt8], rng: inout SplitMix64) -> [UInt8] {
        var data = input
        for _ in 0..<(1 + rng.below(4)) {
            mutateOnce(&data, other: other, rng: &rng)
        }
        if data.count > maxSize { data.removeLast(data.count - maxSize) }
        return data
    }

    private func position(_ data: [UInt8], _ rng: inout SplitMix64) -> Int { rng.below(data.count + 1) }

    private func mutateOnce(_ data: inout [UInt8], other: [UInt8], rng: inout SplitMix64) {
        switch rng.below(13) {
        case 0 where !data.isEmpty:  // flip a bit
            let i = rng.below(data.count)
            data[i] ^= 1 << UInt8(rng.below(8))
        case 1 where !data.isEmpty:  // random byte
            data[rng.below(data.count)] = UInt8(truncatingIfNeeded: rng.next())
        case 2, 3:  // insert a dictionary token
            if let token = dictionary.isEmpty ? nil : rng.pick(dictionary) {
                data.insert(contentsOf: token, at: position(data, &rng))
            }
        case 4 where !data.isEmpty:  // delete a range
            let start = rng.below(data.count)
            let length = 1 + rng.skewedSize(max: data.count - start - 1)
            data.removeSubrange(start..<min(data.count, start + length))
        case 5 where !data.isEmpty:  // duplicate a range in place
            let start = rng.below(data.count)
            let length = 1 + rng.skewedSize(max: min(4096, data.count - start - 1))
            let slice = Array(data[start..<min(data.count, start + length)])
            data.insert(contentsOf: slice, at: position(data, &rng))
        case 6 where !other.isEmpty:  // splice: our head, the other input's tail
            let cut = position(data, &rng)
            let otherCut = rng.below(other.count)
            data = Array(data[..<cut]) + Array(other[otherCut...])
        case 7 where !nestings.isEmpty:  // deep nesting around a slice
            let (open, close) = rng.pick(nestings)
            let depth = 1 + rng.skewedSize(max: maxNesting)
            let a = position(data, &rng), b = a + rng.below(data.count - a + 1)
            var out = Array(data[..<a])
            out.reserveCapacity(data.count + depth * (open.count + close.count))
            for _ in 0..<depth { out += open }
            out += data[a..<b]
            for _ in 0..<depth { out += close }
            out += data[b...]
            data = out
        case 8:  // a huge or odd number
            data.insert(contentsOf: Array(rng.pick(Self.hugeNumbers).utf8), at: position(data, &rng))
        case 9:  // invalid UTF-8 or odd Unicode
            let bytes = rng.oneIn(2) ? rng.pick(Self.invalidUTF8) : Array(rng.pick(Self.oddUnicode).utf8)
            data.insert(contentsOf: bytes, at: position(data, &rng))
        case 10:  // a long run of one byte or token
            let unit = !data.isEmpty && rng.oneIn(2) ? [data[rng.below(data.count)]] : (dictionary.isEmpty ? [0x61] : rng.pick(dictionary))
            let count = 1 + rng.skewedSize(max: 100_000 / max(1, unit.count))
            var run: [UInt8] = []
            run.reserveCapacity(count * unit.count)
            for _ in 0..<count { run += unit }
            data.insert(contentsOf: run, at: position(data, &rng))
        case 11 where data.count > 1:  // swap two bytes
            data.swapAt(rng.below(data.count), rng.below(data.count))
        default:  // replace a digit run or ASCII letter with another ASCII byte
            if data.isEmpty { data = Array(rng.pick(dictionary.isEmpty ? [[0x30]] : dictionary)) } else {
                data[rng.below(data.count)] = UInt8(32 + rng.below(95))
            }
        }
    }
}
