/// A set of Unicode scalar values as sorted, disjoint, non-adjacent closed ranges.
struct CodePointSet: Hashable {
    static let maxScalar: UInt32 = 0x10FFFF
    private(set) var ranges: [ClosedRange<UInt32>]

    init(_ ranges: [ClosedRange<UInt32>] = []) {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var out: [ClosedRange<UInt32>] = []
        for r in sorted {
            if let last = out.last, r.lowerBound <= last.upperBound &+ 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        self.ranges = out
    }

    static let all = CodePointSet([0...maxScalar])
    static func scalar(_ c: UInt32) -> CodePointSet { CodePointSet([c...c]) }
    var isEmpty: Bool { ranges.isEmpty }

    func union(_ o: CodePointSet) -> CodePointSet { CodePointSet(ranges + o.ranges) }

    var inverted: CodePointSet {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = r.upperBound &+ 1
        }
        if next <= CodePointSet.maxScalar && !(ranges.last?.upperBound == CodePointSet.maxScalar) {
            out.append(next...CodePointSet.maxScalar)
        }
        return CodePointSet(out)
    }

    func subtracting(_ o: CodePointSet) -> CodePointSet { intersection(o.inverted) }

    func intersection(_ o: CodePointSet) -> CodePointSet {
        var out: [ClosedRange<UInt32>] = []
        var i = 0, j = 0
        while i < ranges.count && j < o.ranges.count {
            let a = ranges[i], b = o.ranges[j]
            let lo = max(a.lowerBound, b.lowerBound), hi = min(a.upperBound, b.upperBound)
            if lo <= hi { out.append(lo...hi) }
            if a.upperBound < b.upperBound { i += 1 } else { j += 1 }
        }
        return CodePointSet(out)
    }

    func contains(_ c: UInt32) -> Bool { ranges.contains { $0.contains(c) } }
    func contains(range r: ClosedRange<UInt32>) -> Bool { ranges.contains { $0.lowerBound <= r.lowerBound && r.upperBound <= $0.upperBound } }

    /// ASCII-case-insensitive closure (for the few patterns that need it).
    static let digits = CodePointSet([0x30...0x39])
    static let word = CodePointSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    static let space = CodePointSet([0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A,
                                     0x2028...0x2029, 0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF])
    /// ECMAScript `.`: anything but line terminators.
    static let dot = CodePointSet([0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029]).inverted
}

/// Byte-level spellings of a code point set inside a JSON string literal: raw UTF-8 (for code
/// points that may appear unescaped) plus every JSON escape form. Each spelling is a sequence of
/// positions; each position is a list of alternative byte ranges.
enum JSONCharSpelling {
    typealias Position = [(UInt8, UInt8)]

    /// - Parameter escapesOnlyWhenNeeded: offer escapes only for the code points that cannot be
    ///   written raw (controls, quote, backslash). Every value keeps a spelling; automata get
    ///   several times smaller. Used for formats, whose patterns are large.
    static func spellings(_ set: CodePointSet, escapesOnlyWhenNeeded: Bool = false) -> [[Position]] {
        var out: [[Position]] = []
        // Raw UTF-8: no controls, quote, backslash or surrogates.
        let mustEscape = CodePointSet([0...0x1F, 0x22...0x22, 0x5C...0x5C, 0xD800...0xDFFF])
        let raw = set.subtracting(mustEscape)
        for r in raw.ranges { utf8Sequences(r.lowerBound, r.upperBound, &out) }
        if escapesOnlyWhenNeeded {
            let set = set.intersection(mustEscape)
            if set.isEmpty { return out }
            return out + spellings(set)
        }
        let bs = UInt8(ascii: "\\")
        for (cp, ch) in [(0x22, "\""), (0x5C, "\\"), (0x2F, "/"), (0x08, "b"), (0x0C, "f"), (0x0A, "n"), (0x0D, "r"), (0x09, "t")]
        where set.contains(UInt32(cp)) {
            out.append([[(bs, bs)], [(UInt8(ascii: Unicode.Scalar(ch)!), UInt8(ascii: Unicode.Scalar(ch)!))]])
        }
        // \uXXXX for BMP scalars.
        let bmp = set.intersection(CodePointSet([0...0xD7FF, 0xE000...0xFFFF]))
        let u = UInt8(ascii: "u")
        for r in bmp.ranges {
            for digits in DigitRanges.fixedLength(Int(r.lowerBound), Int(r.upperBound), base: 16, length: 4) {
                out.append([[(bs, bs)], [(u, u)]] + digits.map(hexPosition))
            }
        }
        // Escaped surrogate pairs only when every astral scalar is allowed (e.g. `.` or negated classes).
        if set.contains(range: 0x10000...CodePointSet.maxScalar) {
            let hi: [Position] = [[(bs, bs)], [(u, u)], hexPosition((0xD, 0xD)), hexPosition((0x8, 0xB)), hexPosition((0, 15)), hexPosition((0, 15))]
            let lo: [Position] = [[(bs, bs)], [(u, u)], hexPosition((0xD, 0xD)), hexPosition((0xC, 0xF)), hexPosition((0, 15)), hexPosition((0, 15))]
            out.append(hi + lo)
        }
        return out
    }

    /// Byte ranges spelling hex digit values lo...hi, either case.
    static func hexPosition(_ r: (Int, Int)) -> Position {
        var out: Position = []
        let (lo, hi) = r
        if lo <= 9 { out.append((UInt8(48 + lo), UInt8(48 + min(hi, 9)))) }
        if hi >= 10 {
            let a = max(lo, 10) - 10, b = hi - 10
            out.append((UInt8(97 + a), UInt8(97 + b)))
            out.append((UInt8(65 + a), UInt8(65 + b)))
        }
        return out
    }

    /// UTF-8 byte-range sequences covering scalars lo...hi (no surrogates inside).
    static func utf8Sequences(_ lo: UInt32, _ hi: UInt32, _ out: inout [[Position]]) {
        if lo > hi { return }
        for b: UInt32 in [0x7F, 0x7FF, 0xFFFF] where lo <= b && b < hi {
            utf8Sequences(lo, b, &out)
            utf8Sequences(b + 1, hi, &out)
            return
        }
        if hi <= 0x7F { out.append([[(UInt8(lo), UInt8(hi))]]); return }
        let n = hi <= 0x7FF ? 2 : hi <= 0xFFFF ? 3 : 4
        for i in 1..<n {
            let m: UInt32 = (1 << (6 * UInt32(i))) - 1
            if lo & ~m != hi & ~m {
                if lo & m != 0 { utf8Sequences(lo, lo | m, &out); utf8Sequences((lo | m) + 1, hi, &out); return }
                if hi & m != m { utf8Sequences(lo, (hi & ~m) - 1, &out); utf8Sequences(hi & ~m, hi, &out); return }
            }
        }
        let a = encode(lo), b = encode(hi)
        out.append(zip(a, b).map { [($0, $1)] })
    }

    static func encode(_ c: UInt32) -> [UInt8] {
        Array(String(Unicode.Scalar(c)!).utf8)
    }
}

/// Digit-string ranges: the sequences of per-position digit ranges spelling every number in a
/// closed interval (no leading zeros handled by the caller through the length split).
enum DigitRanges {
    /// All `length`-digit strings (leading zeros allowed) whose value lies in lo...hi.
    static func fixedLength(_ lo: Int, _ hi: Int, base: Int, length: Int) -> [[(Int, Int)]] {
        func digits(_ v: Int) -> [Int] {
            var d = [Int](repeating: 0, count: length)
            var x = v
            for i in stride(from: length - 1, through: 0, by: -1) { d[i] = x % base; x /= base }
            return d
        }
        guard lo <= hi else { return [] }
        return fixedLength(digits: digits(lo), digits(hi), base: base)
    }

    /// All digit strings of the bounds' (equal) length between `lo` and `hi`, given as digits so
    /// that bounds beyond `Int` (twenty nines) can be written.
    static func fixedLength(digits lo: [Int], _ hi: [Int], base: Int) -> [[(Int, Int)]] {
        var out: [[(Int, Int)]] = []
        func rec(_ a: ArraySlice<Int>, _ b: ArraySlice<Int>, _ prefix: [(Int, Int)]) {
            if a.count == 1 { out.append(prefix + [(a.first!, b.first!)]); return }
            let a0 = a.first!, b0 = b.first!
            let restA = a.dropFirst(), restB = b.dropFirst()
            if a0 == b0 { rec(restA, restB, prefix + [(a0, a0)]); return }
            let allMin = restA.allSatisfy { $0 == 0 }, allMax = restB.allSatisfy { $0 == base - 1 }
            let free = [(Int, Int)](repeating: (0, base - 1), count: restA.count)
            if allMin && allMax { out.append(prefix + [(a0, b0)] + free); return }
            var first = a0, last = b0
            if !allMin { rec(restA, ArraySlice([Int](repeating: base - 1, count: restA.count)), prefix + [(a0, a0)]); first = a0 + 1 }
            if !allMax { last = b0 - 1 }
            if first <= last { out.append(prefix + [(first, last)] + free) }
            if !allMax { rec(ArraySlice([Int](repeating: 0, count: restB.count)), restB, prefix + [(b0, b0)]) }
        }
        guard lo.count == hi.count, !lo.isEmpty, !hi.lexicographicallyPrecedes(lo) else { return [] }
        rec(ArraySlice(lo), ArraySlice(hi), [])
        return out
    }

    /// `digits` minus one (digits of a positive integer, no leading zeros in the result).
    static func decrement(_ digits: [Int]) -> [Int] {
        var d = digits
        var i = d.count - 1
        while i >= 0 && d[i] == 0 { d[i] = 9; i -= 1 }
        if i >= 0 { d[i] -= 1 }
        while d.count > 1 && d[0] == 0 { d.removeFirst() }
        return d
    }

    /// Decimal spellings (no leading zeros) of every integer in lo...hi (both ≥ 0), hi nil = ∞.
    /// Returns fixed sequences plus, for an unbounded top, the minimal length from which any
    /// digit string with a non-zero first digit is allowed.
    static func decimal(_ lo: Int, _ hi: Int?) -> (fixed: [[(Int, Int)]], unboundedFromLength: Int?) {
        decimal(lo, hiDigits: hi.map { String($0).map { Int(String($0))! } })
    }

    /// The same with the upper bound as decimal digits (no leading zeros), which may exceed Int.
    static func decimal(_ lo: Int, hiDigits: [Int]?) -> (fixed: [[(Int, Int)]], unboundedFromLength: Int?) {
        var fixed: [[(Int, Int)]] = []
        let loDigits = String(lo).map { Int(String($0))! }
        let topLen = hiDigits?.count ?? loDigits.count
        guard loDigits.count <= topLen else { return ([], nil) }
        for len in loDigits.count...topLen {
            // Digits, not Ints: the largest of 19 digits does not fit an Int.
            let a = len == loDigits.count ? loDigits : [len == 1 ? 0 : 1] + [Int](repeating: 0, count: len - 1)
            let b = len == topLen && hiDigits != nil ? hiDigits! : [Int](repeating: 9, count: len)
            fixed += fixedLength(digits: a, b, base: 10)
        }
        return (fixed, hiDigits == nil ? topLen + 1 : nil)
    }

}
