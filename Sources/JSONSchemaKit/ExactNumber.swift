import ChatAPI

/// Exact arithmetic on JSON number literals, for the cases where `Double` is not enough:
/// `multipleOf: 0.01` (0.07 / 0.01 is not an integer in binary floating point), comparisons of
/// integers beyond 2^53, and "is this literal integral" for `1.0`, `1e2` or `1e400`.
///
/// A literal is read as `digits × 10^exponent` with no leading or trailing zeros in `digits`.
struct ExactDecimal {
    var negative: Bool
    /// Decimal digits (0–9), most significant first; empty for zero.
    var digits: [UInt8]
    var exponent: Int

    init(_ number: JSONNumber) {
        var negative = false
        var digits: [UInt8] = []
        var exponent = 0
        var exponentValue = 0
        var exponentNegative = false
        var seenPoint = false
        var inExponent = false
        for byte in number.text.utf8 {
            switch byte {
            case UInt8(ascii: "-"):
                if inExponent { exponentNegative = true } else { negative = true }
            case UInt8(ascii: "+"):
                break
            case UInt8(ascii: "."):
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                inExponent = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let d = byte - UInt8(ascii: "0")
                if inExponent {
                    exponentValue = min(exponentValue * 10 + Int(d), 100_000_000)
                } else {
                    if !(digits.isEmpty && d == 0) { digits.append(d) }
                    if seenPoint { exponent -= 1 }
                }
            default:
                break
            }
        }
        exponent += exponentNegative ? -exponentValue : exponentValue
        while let last = digits.last, last == 0 {
            digits.removeLast()
            exponent += 1
        }
        if digits.isEmpty {
            exponent = 0
            negative = false
        }
        self.negative = negative
        self.digits = digits
        self.exponent = exponent
    }

    var isZero: Bool { digits.isEmpty }
    var isInteger: Bool { exponent >= 0 }

    /// -1, 0 or 1 as `a` is less than, equal to or greater than `b`.
    static func compare(_ a: ExactDecimal, _ b: ExactDecimal) -> Int {
        if a.isZero && b.isZero { return 0 }
        let signA = a.isZero ? 0 : (a.negative ? -1 : 1)
        let signB = b.isZero ? 0 : (b.negative ? -1 : 1)
        if signA != signB { return signA < signB ? -1 : 1 }
        let magnitude = compareMagnitude(a, b)
        return signA < 0 ? -magnitude : magnitude
    }

    private static func compareMagnitude(_ a: ExactDecimal, _ b: ExactDecimal) -> Int {
        // Order of magnitude first: the position of the leading digit.
        let leadA = a.digits.count + a.exponent
        let leadB = b.digits.count + b.exponent
        if leadA != leadB { return leadA < leadB ? -1 : 1 }
        for i in 0..<max(a.digits.count, b.digits.count) {
            let da = i < a.digits.count ? a.digits[i] : 0
            let db = i < b.digits.count ? b.digits[i] : 0
            if da != db { return da < db ? -1 : 1 }
        }
        return 0
    }

    /// Whether `self` is an integer multiple of `divisor`; nil when the numbers are too large for
    /// the exact method (the caller then falls back to floating point).
    func isMultiple(of divisor: ExactDecimal) -> Bool? {
        if isZero { return true }
        guard !divisor.isZero else { return nil }
        // Scale both to the smaller exponent: A = digits·10^(exponent-e), B likewise.
        let e = Swift.min(exponent, divisor.exponent)
        let divisorZeros = divisor.exponent - e
        guard divisor.digits.count + divisorZeros <= 18 else { return nil }
        var b: UInt64 = 0
        for d in divisor.digits { b = b * 10 + UInt64(d) }
        for _ in 0..<divisorZeros { b *= 10 }
        let zeros = exponent - e
        guard zeros <= 100_000 else { return nil }
        var remainder: UInt64 = 0
        for d in digits { remainder = (remainder * 10 + UInt64(d)) % b }
        for _ in 0..<zeros {
            remainder = (remainder * 10) % b
            if remainder == 0 { break }
        }
        return remainder == 0
    }
}

enum NumberMath {
    /// -1, 0, 1: exact comparison, with a floating-point fast path when the doubles differ
    /// (rounding is monotonic, so different doubles order their literals correctly).
    static func compare(_ a: JSONNumber, _ b: JSONNumber) -> Int {
        if a.double.isFinite, b.double.isFinite, a.double != b.double { return a.double < b.double ? -1 : 1 }
        return ExactDecimal.compare(ExactDecimal(a), ExactDecimal(b))
    }

    /// True when the literal denotes an integer (`1.0`, `1e2` and `1e400` do; `1.5` does not).
    static func isInteger(_ n: JSONNumber) -> Bool {
        if n.double.isFinite, abs(n.double) < 9e15 { return n.double == n.double.rounded(.towardZero) }
        return ExactDecimal(n).isInteger
    }

    static func isMultiple(_ value: JSONNumber, of divisor: JSONNumber) -> Bool {
        if let v = value.int, let d = divisor.int, d != 0, value.text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 || $0 == 0x2D }) {
            return v % d == 0
        }
        if let exact = ExactDecimal(value).isMultiple(of: ExactDecimal(divisor)) { return exact }
        let quotient = value.double / divisor.double
        guard quotient.isFinite else { return false }
        return abs(quotient - quotient.rounded()) <= 1e-9 * max(1, abs(quotient))
    }
}
