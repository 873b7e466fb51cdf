/// The parsed form of an ECMA-262 pattern (what JSON Schema's `pattern` uses).
///
/// Patterns are parsed over Unicode scalars (code points), as JSON Schema asks, not UTF-16 units.
/// The validator compiles this tree to a `RegexProgram`; the grammar compiler (package access)
/// turns the same tree into an automaton, so both read a pattern alike.
package indirect enum RegexNode {
    case empty
    case char(UInt32)
    /// `.`: any code point except line terminators (unless the `s` flag is on).
    case any
    case set(CharSet)
    case sequence([RegexNode])
    case alternation([RegexNode])
    /// A group; `capture` is the 1-based capture number, nil for `(?:…)`.
    case group(RegexNode, capture: Int?)
    case repetition(RegexNode, min: Int, max: Int?, greedy: Bool)
    case lineStart
    case lineEnd
    /// `\A` (Python), always the start of the input.
    case inputStart
    /// `\Z`/`\z` (Python), always the end of the input.
    case inputEnd
    case wordBoundary(negated: Bool)
    case lookaround(RegexNode, ahead: Bool, negated: Bool)
    case backreference(Int)
    /// `\k<name>` or `(?P=name)`; replaced by `backreference` once parsing is complete.
    case namedBackreference(String)
}

/// One member of a bracket class or a class escape such as `\d`.
package enum CharSetItem {
    case range(UInt32, UInt32)
    case digit(negated: Bool)
    case word(negated: Bool)
    case space(negated: Bool)
    case property(UnicodePropertyMatcher, negated: Bool)
}

/// A `\p{…}` matcher over Swift's Unicode scalar properties.
package struct UnicodePropertyMatcher {
    let categories: Set<Unicode.GeneralCategory>?
    let predicate: (@Sendable (Unicode.Scalar) -> Bool)?

    func matches(_ scalar: Unicode.Scalar) -> Bool {
        if let categories, categories.contains(scalar.properties.generalCategory) { return true }
        if let predicate, predicate(scalar) { return true }
        return false
    }
}

/// A character class: a union of items, optionally negated, with an ASCII bitmap for speed.
package struct CharSet {
    package private(set) var items: [CharSetItem]
    package private(set) var negated: Bool
    /// A code point is in the class when it, or one of its simple case variants, is in `items`.
    package private(set) var ignoreCase: Bool
    private var asciiLow: UInt64 = 0
    private var asciiHigh: UInt64 = 0

    init(items: [CharSetItem], negated: Bool, ignoreCase: Bool) {
        self.items = items
        self.negated = negated
        self.ignoreCase = ignoreCase
        // Simple ranges set their ASCII bits directly; anything else is probed per character.
        let simple = !ignoreCase && items.allSatisfy { if case .range = $0 { return true } else { return false } }
        if simple {
            for case .range(let lo, let hi) in items where lo < 128 {
                for c in lo...min(hi, 127) {
                    if c < 64 { asciiLow |= 1 << UInt64(c) } else { asciiHigh |= 1 << UInt64(c - 64) }
                }
            }
            if negated {
                asciiLow = ~asciiLow
                asciiHigh = ~asciiHigh
            }
        } else {
            for c in UInt32(0)..<128 where slowContains(c) {
                if c < 64 { asciiLow |= 1 << UInt64(c) } else { asciiHigh |= 1 << UInt64(c - 64) }
            }
        }
    }

    @inline(__always) func contains(_ c: UInt32) -> Bool {
        if c < 64 { return asciiLow & (1 << UInt64(c)) != 0 }
        if c < 128 { return asciiHigh & (1 << UInt64(c - 64)) != 0 }
        return slowContains(c)
    }

    private func slowContains(_ c: UInt32) -> Bool {
        var hit = itemsContain(c)
        if !hit, ignoreCase, let scalar = Unicode.Scalar(c) {
            for variant in RegexCase.variants(of: scalar) where variant != c && itemsContain(variant) {
                hit = true
                break
            }
        }
        return hit != negated
    }

    private func itemsContain(_ c: UInt32) -> Bool {
        for item in items {
            switch item {
            case .range(let lo, let hi): if c >= lo && c <= hi { return true }
            case .digit(let neg): if RegexCase.isDigit(c) != neg { return true }
            case .word(let neg): if RegexCase.isWord(c) != neg { return true }
            case .space(let neg): if RegexCase.isSpace(c) != neg { return true }
            case .property(let matcher, let neg):
                guard let scalar = Unicode.Scalar(c) else { continue }
                if matcher.matches(scalar) != neg { return true }
            }
        }
        return false
    }
}

/// Character predicates shared by the parser and the matcher (ECMA-262 definitions).
package enum RegexCase {
    static func isDigit(_ c: UInt32) -> Bool { c >= 0x30 && c <= 0x39 }

    static func isWord(_ c: UInt32) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }

    /// ECMA-262 WhiteSpace and LineTerminator.
    static func isSpace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
            return true
        default:
            return false
        }
    }

    static func isLineTerminator(_ c: UInt32) -> Bool { c == 0x0A || c == 0x0D || c == 0x2028 || c == 0x2029 }

    /// Simple case variants of a scalar (single-scalar mappings only).
    package static func variants(of scalar: Unicode.Scalar) -> [UInt32] {
        var out: [UInt32] = [scalar.value]
        for mapped in [scalar.properties.lowercaseMapping, scalar.properties.uppercaseMapping] {
            let scalars = mapped.unicodeScalars
            if scalars.count == 1, let only = scalars.first, !out.contains(only.value) { out.append(only.value) }
        }
        return out
    }
}
