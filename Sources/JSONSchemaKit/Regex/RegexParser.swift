/// A syntax error in a regular expression, with the code-point offset where parsing stopped.
public struct RegexSyntaxError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public var description: String { "\(message) at offset \(offset)" }
}

/// Parses ECMA-262 pattern syntax (with Annex B leniency: a lone `]`, `{` or `}` is a literal,
/// unknown escapes are identity escapes) plus the few Python spellings found in real schemas:
/// `(?P<name>…)`, `(?P=name)`, `\A`, `\Z`, `\z` and leading inline flags such as `(?i)`.
///
/// This is the one regex parser: the validator (`ECMARegex`) and the grammar compiler both
/// start from its tree. Patterns come from requests, so parsing spends from a `WorkBudget` per
/// atom and stops at `budget.maxDepth` nested groups (it recurses once per group).
package struct RegexParser {
    /// Pattern-wide flags (Python-style leading `(?ims)`; ECMA patterns in JSON Schema have none).
    package struct Flags: Sendable {
        package var ignoreCase = false
        package var multiline = false
        package var dotAll = false
    }

    /// A parsed pattern: its tree and what compiling the tree needs besides.
    package struct Parsed {
        package let tree: RegexNode
        package let captureCount: Int
        package let flags: Flags
    }

    private let scalars: [UInt32]
    private let budget: WorkBudget
    private var pos = 0
    private var groupDepth = 0
    private(set) var captureCount = 0
    private var captureNames: [String: Int] = [:]
    private var pendingNamedBackrefs: [(name: String, offset: Int)] = []
    private(set) var flags = Flags()
    /// Capture groups in the whole pattern, counted once: a decimal escape needs it and a
    /// pattern may hold many of them.
    private let totalCaptureGroups: Int

    private init(_ pattern: String, budget: WorkBudget) {
        scalars = pattern.unicodeScalars.map(\.value)
        self.budget = budget
        totalCaptureGroups = RegexParser.countCaptureGroups(scalars)
    }

    /// Parses `pattern`; throws `RegexSyntaxError` for invalid syntax and `WorkBudgetExceeded`
    /// when the pattern nests groups deeper than `budget.maxDepth` or parsing costs too much.
    package static func parse(_ pattern: String, budget: WorkBudget) throws -> Parsed {
        try budget.spend(pattern.utf8.count / 16 + 1)
        var parser = RegexParser(pattern, budget: budget)
        let tree = try parser.parse()
        return Parsed(tree: tree, captureCount: parser.captureCount, flags: parser.flags)
    }

    /// Parses the whole pattern.
    private mutating func parse() throws -> RegexNode {
        parseLeadingFlags()
        let node = try parseAlternation()
        if pos < scalars.count {
            // Only an unbalanced `)` can stop the top-level alternation early.
            throw error("unmatched ')'")
        }
        for pending in pendingNamedBackrefs where captureNames[pending.name] == nil {
            throw RegexSyntaxError(message: "unknown group name '\(pending.name)'", offset: pending.offset)
        }
        return resolveNamedBackrefs(node)
    }

    // MARK: - Structure

    private mutating func parseLeadingFlags() {
        // Python-style global flags, e.g. `(?i)` or `(?is)`; ECMA has no inline flags.
        guard peek(0) == ch("("), peek(1) == ch("?") else { return }
        var i = pos + 2
        var found = Flags()
        while i < scalars.count, scalars[i] != ch(")") {
            switch scalars[i] {
            case ch("i"): found.ignoreCase = true
            case ch("m"): found.multiline = true
            case ch("s"): found.dotAll = true
            case ch("u"), ch("x"): if scalars[i] == ch("x") { return }  // verbose mode: not supported, parse literally
            default: return
            }
            i += 1
        }
        guard i < scalars.count, i > pos + 2 else { return }
        flags = found
        pos = i + 1
    }

    private mutating func parseAlternation() throws -> RegexNode {
        var branches: [RegexNode] = [try parseSequence()]
        while peek(0) == ch("|") {
            pos += 1
            branches.append(try parseSequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseSequence() throws -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek(0), c != ch("|"), c != ch(")") {
            try budget.spend()
            let atomStart = pos
            var atom = try parseAtom()
            let quantifiable: Bool
            switch atom {
            case .lineStart, .lineEnd, .inputStart, .inputEnd, .wordBoundary: quantifiable = false
            case .lookaround(_, let ahead, _): quantifiable = ahead  // Annex B allows quantified lookahead
            default: quantifiable = true
            }
            if let (min, max) = try parseQuantifier() {
                guard quantifiable else {
                    throw RegexSyntaxError(message: "nothing to repeat", offset: atomStart)
                }
                var greedy = true
                if peek(0) == ch("?") {
                    greedy = false
                    pos += 1
                }
                atom = .repetition(atom, min: min, max: max, greedy: greedy)
                if let next = peek(0), next == ch("*") || next == ch("+") || next == ch("?") {
                    throw error("nothing to repeat")
                }
                if peek(0) == ch("{"), lookaheadBraceQuantifier() != nil {
                    throw error("nothing to repeat")
                }
            }
            items.append(atom)
        }
        if items.isEmpty { return .empty }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    /// Reads `*`, `+`, `?` or a well-formed `{m}`, `{m,}`, `{m,n}`; a malformed brace is not a quantifier.
    private mutating func parseQuantifier() throws -> (Int, Int?)? {
        guard let c = peek(0) else { return nil }
        switch c {
        case ch("*"): pos += 1; return (0, nil)
        case ch("+"): pos += 1; return (1, nil)
        case ch("?"): pos += 1; return (0, 1)
        case ch("{"):
            guard let (min, max, end) = lookaheadBraceQuantifier() else { return nil }
            // A count is kept exactly up to the limit; clamping a larger one would change what
            // the pattern means (`a{99999999999999999999}` matches no string of a real length).
            if min > Self.maxRepetitionCount || (max ?? 0) > Self.maxRepetitionCount {
                throw error("repetition count above \(Self.maxRepetitionCount) is not supported")
            }
            if let max, max < min { throw error("numbers out of order in {} quantifier") }
            pos = end
            return (min, max)
        default: return nil
        }
    }

    /// Largest `m` or `n` of `{m,n}` read as written.
    static let maxRepetitionCount = 1_000_000

    /// A well-formed `{m}`, `{m,}` or `{m,n}` at `pos`, by syntax alone (JavaScript reads such a
    /// brace as a quantifier whatever its counts): the counts, one past `maxRepetitionCount`
    /// when larger, and the position after the brace. nil when the brace is a literal.
    private func lookaheadBraceQuantifier() -> (Int, Int?, Int)? {
        var i = pos + 1
        func number() -> Int? {
            let start = i
            var value = 0
            while i < scalars.count, RegexCase.isDigit(scalars[i]) {
                value = min(value * 10 + Int(scalars[i] - 0x30), Self.maxRepetitionCount + 1)
                i += 1
            }
            return i > start ? value : nil
        }
        guard let min = number() else { return nil }
        var max: Int? = min
        if i < scalars.count, scalars[i] == ch(",") {
            i += 1
            max = number()
        }
        guard i < scalars.count, scalars[i] == ch("}") else { return nil }
        return (min, max, i + 1)
    }

    private mutating func parseAtom() throws -> RegexNode {
        let c = scalars[pos]
        switch c {
        case ch("^"): pos += 1; return .lineStart
        case ch("$"): pos += 1; return .lineEnd
        case ch("."): pos += 1; return .any
        case ch("("): return try parseGroup()
        case ch("["): return .set(try parseClass())
        case ch("\\"): return try parseAtomEscape()
        case ch("*"), ch("+"), ch("?"): throw error("nothing to repeat")
        case ch("{"):
            if lookaheadBraceQuantifier() != nil { throw error("nothing to repeat") }
            pos += 1
            return literal(c)
        default:
            pos += 1
            return literal(c)
        }
    }

    private func literal(_ c: UInt32) -> RegexNode {
        guard flags.ignoreCase, let scalar = Unicode.Scalar(c) else { return .char(c) }
        let variants = RegexCase.variants(of: scalar)
        if variants.count == 1 { return .char(c) }
        return .set(CharSet(items: variants.map { .range($0, $0) }, negated: false, ignoreCase: false))
    }

    private mutating func parseGroup() throws -> RegexNode {
        let start = pos
        groupDepth += 1
        defer { groupDepth -= 1 }
        try budget.checkDepth(groupDepth, "regex groups")
        pos += 1  // (
        var capture: Int?
        var look: (ahead: Bool, negated: Bool)?
        if peek(0) == ch("?") {
            switch peek(1) {
            case ch(":"): pos += 2
            case ch("="): pos += 2; look = (true, false)
            case ch("!"): pos += 2; look = (true, true)
            case ch("<") where peek(2) == ch("="): pos += 3; look = (false, false)
            case ch("<") where peek(2) == ch("!"): pos += 3; look = (false, true)
            case ch("<"):
                pos += 2
                capture = try openNamedGroup()
            case ch("P") where peek(2) == ch("<"):
                pos += 3
                capture = try openNamedGroup()
            case ch("P") where peek(2) == ch("="):
                // Python named backreference `(?P=name)`.
                pos += 3
                let name = try readName(terminator: ch(")"))
                pendingNamedBackrefs.append((name, start))
                return .namedBackreference(name)
            default:
                throw RegexSyntaxError(message: "invalid group", offset: start)
            }
        } else {
            captureCount += 1
            capture = captureCount
        }
        let body = try parseAlternation()
        guard peek(0) == ch(")") else { throw RegexSyntaxError(message: "unterminated group", offset: start) }
        pos += 1
        if let look { return .lookaround(body, ahead: look.ahead, negated: look.negated) }
        return .group(body, capture: capture)
    }

    private mutating func openNamedGroup() throws -> Int {
        let name = try readName(terminator: ch(">"))
        captureCount += 1
        if captureNames[name] != nil { throw error("duplicate group name '\(name)'") }
        captureNames[name] = captureCount
        return captureCount
    }

    private mutating func readName(terminator: UInt32) throws -> String {
        var name = String.UnicodeScalarView()
        while let c = peek(0), c != terminator {
            guard let scalar = Unicode.Scalar(c), c == ch("_") || c == ch("$") || scalar.properties.isAlphabetic
                || (RegexCase.isDigit(c) && !name.isEmpty)
            else { throw error("invalid group name") }
            name.append(scalar)
            pos += 1
        }
        guard peek(0) == terminator, !name.isEmpty else { throw error("invalid group name") }
        pos += 1
        return String(name)
    }

    // MARK: - Escapes

    private mutating func parseAtomEscape() throws -> RegexNode {
        let start = pos
        pos += 1  // backslash
        guard let c = peek(0) else { throw error("\\ at end of pattern") }
        switch c {
        case ch("b"): pos += 1; return .wordBoundary(negated: false)
        case ch("B"): pos += 1; return .wordBoundary(negated: true)
        case ch("A"): pos += 1; return .inputStart
        case ch("Z"), ch("z"): pos += 1; return .inputEnd
        case ch("1")...ch("9"):
            // A decimal escape is a backreference when that group exists (anywhere in the
            // pattern); otherwise Annex B reads it as an octal/identity escape.
            var value = 0
            var i = pos
            while i < scalars.count, RegexCase.isDigit(scalars[i]) {
                value = min(value * 10 + Int(scalars[i] - 0x30), 100_000)
                i += 1
            }
            if value <= totalCaptureGroups {
                pos = i
                return .backreference(value)
            }
            return literal(try parseCharacterEscape())
        case ch("k") where peek(1) == ch("<"):
            pos += 2
            let name = try readName(terminator: ch(">"))
            pendingNamedBackrefs.append((name, start))
            return .namedBackreference(name)
        default:
            if let item = try parseClassEscape() { return .set(CharSet(items: [item], negated: false, ignoreCase: false)) }
            return literal(try parseCharacterEscape())
        }
    }

    /// `\d \D \w \W \s \S \p{…} \P{…}`; nil when the escape is not a class escape (pos unchanged).
    private mutating func parseClassEscape() throws -> CharSetItem? {
        guard let c = peek(0) else { return nil }
        switch c {
        case ch("d"): pos += 1; return .digit(negated: false)
        case ch("D"): pos += 1; return .digit(negated: true)
        case ch("w"): pos += 1; return .word(negated: false)
        case ch("W"): pos += 1; return .word(negated: true)
        case ch("s"): pos += 1; return .space(negated: false)
        case ch("S"): pos += 1; return .space(negated: true)
        case ch("p"), ch("P"):
            guard peek(1) == ch("{") else { return nil }
            let start = pos
            pos += 2
            var name = ""
            while let n = peek(0), n != ch("}") {
                name.unicodeScalars.append(Unicode.Scalar(n) ?? "?")
                pos += 1
            }
            guard peek(0) == ch("}") else { throw RegexSyntaxError(message: "unterminated \\p{", offset: start) }
            pos += 1
            guard let matcher = UnicodeProperties.matcher(named: name) else {
                throw RegexSyntaxError(message: "unsupported Unicode property '\(name)'", offset: start)
            }
            return .property(matcher, negated: c == ch("P"))
        default:
            return nil
        }
    }

    /// A single-character escape (the backslash is already consumed).
    private mutating func parseCharacterEscape() throws -> UInt32 {
        guard let c = peek(0) else { throw error("\\ at end of pattern") }
        pos += 1
        switch c {
        case ch("n"): return 0x0A
        case ch("r"): return 0x0D
        case ch("t"): return 0x09
        case ch("f"): return 0x0C
        case ch("v"): return 0x0B
        case ch("0") where !(peek(0).map(RegexCase.isDigit) ?? false): return 0
        case ch("0")...ch("7"):
            // Annex B legacy octal escape.
            var value = c - 0x30
            var digits = 1
            while digits < 3, let d = peek(0), d >= ch("0"), d <= ch("7"), value * 8 + (d - 0x30) <= 0o377 {
                value = value * 8 + (d - 0x30)
                pos += 1
                digits += 1
            }
            return value
        case ch("c"):
            if let letter = peek(0), (letter | 0x20) >= ch("a"), (letter | 0x20) <= ch("z") {
                pos += 1
                return letter % 32
            }
            pos -= 1  // Annex B: `\c` not followed by a letter is a literal backslash
            return ch("\\")
        case ch("x"):
            if let value = readHex(count: 2) { return value }
            return c
        case ch("u"):
            if peek(0) == ch("{") {
                let save = pos
                pos += 1
                var value: UInt32 = 0
                var digits = 0
                while let d = peek(0), let h = hexValue(d) {
                    value = value &* 16 &+ h
                    digits += 1
                    pos += 1
                }
                if digits > 0, peek(0) == ch("}"), value <= 0x10FFFF {
                    pos += 1
                    return value
                }
                pos = save
                return c
            }
            guard let high = readHex(count: 4) else { return c }
            // Combine an escaped surrogate pair into one code point.
            if high >= 0xD800, high <= 0xDBFF, peek(0) == ch("\\"), peek(1) == ch("u") {
                let save = pos
                pos += 2
                if let low = readHex(count: 4), low >= 0xDC00, low <= 0xDFFF {
                    return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                }
                pos = save
            }
            return high
        default:
            return c  // identity escape
        }
    }

    private mutating func readHex(count: Int) -> UInt32? {
        guard pos + count <= scalars.count else { return nil }
        var value: UInt32 = 0
        for i in 0..<count {
            guard let h = hexValue(scalars[pos + i]) else { return nil }
            value = value * 16 + h
        }
        pos += count
        return value
    }

    private func hexValue(_ c: UInt32) -> UInt32? {
        switch c {
        case ch("0")...ch("9"): return c - 0x30
        case ch("a")...ch("f"): return c - 0x61 + 10
        case ch("A")...ch("F"): return c - 0x41 + 10
        default: return nil
        }
    }

    // MARK: - Classes

    private mutating func parseClass() throws -> CharSet {
        let start = pos
        pos += 1  // [
        var negated = false
        if peek(0) == ch("^") {
            negated = true
            pos += 1
        }
        var items: [CharSetItem] = []
        while true {
            try budget.spend()
            guard let c = peek(0) else { throw RegexSyntaxError(message: "unterminated character class", offset: start) }
            if c == ch("]") {
                pos += 1
                break
            }
            let first = try parseClassAtom()
            if peek(0) == ch("-"), let next = peek(1), next != ch("]") {
                let save = pos
                pos += 1
                let second = try parseClassAtom()
                switch (first, second) {
                case (.range(let lo, _), .range(let hi, _)):
                    guard lo <= hi else { throw RegexSyntaxError(message: "range out of order in character class", offset: save) }
                    items.append(.range(lo, hi))
                default:
                    // Annex B: a class escape next to `-` makes the `-` literal.
                    items.append(first)
                    items.append(.range(ch("-"), ch("-")))
                    items.append(second)
                }
            } else {
                items.append(first)
            }
        }
        if flags.ignoreCase { return CharSet(items: items, negated: negated, ignoreCase: true) }
        return CharSet(items: items, negated: negated, ignoreCase: false)
    }

    private mutating func parseClassAtom() throws -> CharSetItem {
        let c = scalars[pos]
        guard c == ch("\\") else {
            pos += 1
            return .range(c, c)
        }
        pos += 1
        guard let e = peek(0) else { throw error("\\ at end of pattern") }
        if e == ch("b") {
            pos += 1
            return .range(8, 8)
        }
        if e == ch("-") {
            pos += 1
            return .range(e, e)
        }
        if let item = try parseClassEscape() { return item }
        let value = try parseCharacterEscape()
        return .range(value, value)
    }

    // MARK: - Helpers

    /// Counts capture groups in the whole pattern, so `\2` before group 2 still counts as a backref.
    private static func countCaptureGroups(_ scalars: [UInt32]) -> Int {
        var count = 0
        var i = 0
        var inClass = false
        while i < scalars.count {
            let c = scalars[i]
            if c == ch("\\") {
                i += 2
                continue
            }
            if inClass {
                if c == ch("]") { inClass = false }
            } else if c == ch("[") {
                inClass = true
            } else if c == ch("(") {
                if i + 1 < scalars.count, scalars[i + 1] == ch("?") {
                    if i + 2 < scalars.count, scalars[i + 2] == ch("<") || scalars[i + 2] == ch("P"),
                        i + 3 < scalars.count, scalars[i + 3] != ch("="), scalars[i + 3] != ch("!")
                    {
                        count += 1
                    }
                } else {
                    count += 1
                }
            }
            i += 1
        }
        return count
    }

    private func resolveNamedBackrefs(_ node: RegexNode) -> RegexNode {
        guard !pendingNamedBackrefs.isEmpty else { return node }
        func walk(_ n: RegexNode) -> RegexNode {
            switch n {
            case .namedBackreference(let name): return .backreference(captureNames[name] ?? 0)
            case .lookaround(let body, let ahead, let negated):
                return .lookaround(walk(body), ahead: ahead, negated: negated)
            case .sequence(let items): return .sequence(items.map(walk))
            case .alternation(let items): return .alternation(items.map(walk))
            case .group(let body, let capture): return .group(walk(body), capture: capture)
            case .repetition(let body, let min, let max, let greedy):
                return .repetition(walk(body), min: min, max: max, greedy: greedy)
            default: return n
            }
        }
        return walk(node)
    }

    private func peek(_ offset: Int) -> UInt32? {
        let i = pos + offset
        return i < scalars.count ? scalars[i] : nil
    }

    private func error(_ message: String) -> RegexSyntaxError { RegexSyntaxError(message: message, offset: pos) }
}

@inline(__always) private func ch(_ s: Unicode.Scalar) -> UInt32 { s.value }
