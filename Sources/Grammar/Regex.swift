/// Parsed regular expression over Unicode scalars (ECMA-262 subset used by JSON Schema).
indirect enum RegexNode {
    case set(CodePointSet)
    case concat([RegexNode])
    case alt([RegexNode])
    case rep(RegexNode, min: Int, max: Int?)
    case start, end

    static let empty = RegexNode.concat([])
}

/// Parser for the supported regex subset: literals, escapes (\d \w \s \D \W \S \t \n \r \f \v
/// \0 \xHH \uHHHH \u{H…}), classes with ranges and negation, `.`, groups (capturing,
/// non-capturing, named), alternation, quantifiers `* + ? {n} {n,} {n,m}` (lazy forms too), and
/// `^`/`$` at the ends of top-level alternatives. Backreferences, lookaround, word boundaries,
/// unicode property escapes and inline flags are rejected by name.
struct RegexParser {
    let pattern: String
    let chars: [Unicode.Scalar]
    var i = 0

    init(_ pattern: String) {
        self.pattern = pattern
        self.chars = Array(pattern.unicodeScalars)
    }

    static func parse(_ pattern: String) throws -> RegexNode {
        var p = RegexParser(pattern)
        let node = try p.parseAlt()
        if p.i < p.chars.count { throw GrammarError.invalidRegex("unbalanced ')'", pattern: pattern) }
        return node
    }

    func unsupported(_ what: String) -> GrammarError { .unsupportedRegex(construct: what, pattern: pattern) }
    func invalid(_ what: String) -> GrammarError { .invalidRegex(what, pattern: pattern) }

    var peek: Unicode.Scalar? { i < chars.count ? chars[i] : nil }

    mutating func parseAlt() throws -> RegexNode {
        var branches = [try parseConcat()]
        while peek == "|" { i += 1; branches.append(try parseConcat()) }
        return branches.count == 1 ? branches[0] : .alt(branches)
    }

    mutating func parseConcat() throws -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek, c != "|", c != ")" {
            var atom = try parseAtom()
            atom = try parseQuantifiers(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    mutating func parseQuantifiers(_ atom: RegexNode) throws -> RegexNode {
        var node = atom
        while let c = peek {
            var q: (Int, Int?)?
            if c == "*" { q = (0, nil); i += 1 }
            else if c == "+" { q = (1, nil); i += 1 }
            else if c == "?" { q = (0, 1); i += 1 }
            else if c == "{", let (lo, hi, len) = braceQuantifier() { q = (lo, hi); i += len }
            guard let (lo, hi) = q else { break }
            if case .start = node { throw unsupported("quantified anchor") }
            if case .end = node { throw unsupported("quantified anchor") }
            if let hi, hi < lo { throw invalid("quantifier {\(lo),\(hi)} out of order") }
            if peek == "?" { i += 1 }  // lazy: same language
            if peek == "+" { throw unsupported("possessive quantifier") }
            node = .rep(node, min: lo, max: hi)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}` at i; nil when the brace is a literal.
    func braceQuantifier() -> (Int, Int?, Int)? {
        var j = i + 1
        func number() -> Int? {
            var s = ""
            while j < chars.count, chars[j].properties.numericType != nil, chars[j].isASCII { s.unicodeScalars.append(chars[j]); j += 1 }
            return Int(s)
        }
        guard let lo = number() else { return nil }
        if j < chars.count, chars[j] == "}" { return (lo, lo, j - i + 1) }
        guard j < chars.count, chars[j] == "," else { return nil }
        j += 1
        let hi = number()
        guard j < chars.count, chars[j] == "}" else { return nil }
        return (lo, hi, j - i + 1)
    }

    mutating func parseAtom() throws -> RegexNode {
        let c = chars[i]
        i += 1
        switch c {
        case "(":
            if peek == "?" {
                i += 1
                guard let k = peek else { throw invalid("unterminated group") }
                if k == ":" { i += 1 }
                else if k == "=" { throw unsupported("lookahead (?=") }
                else if k == "!" { throw unsupported("negative lookahead (?!") }
                else if k == "<" {
                    if i + 1 < chars.count, chars[i + 1] == "=" { throw unsupported("lookbehind (?<=") }
                    if i + 1 < chars.count, chars[i + 1] == "!" { throw unsupported("negative lookbehind (?<!") }
                    while let x = peek, x != ">" { i += 1 }
                    guard peek == ">" else { throw invalid("unterminated group name") }
                    i += 1
                } else if k == "P" {
                    throw unsupported("(?P group syntax")
                } else {
                    throw unsupported("inline flags (?\(k)")
                }
            }
            let inner = try parseAlt()
            guard peek == ")" else { throw invalid("missing ')'") }
            i += 1
            return inner
        case "[": return .set(try parseClass())
        case ".": return .set(.dot)
        case "^": return .start
        case "$": return .end
        case "\\": return try parseEscape(inClass: false)
        case "*", "+", "?": throw invalid("nothing to repeat")
        default: return .set(.scalar(c.value))
        }
    }

    mutating func parseClass() throws -> CodePointSet {
        var negate = false
        if peek == "^" { negate = true; i += 1 }
        var set = CodePointSet()
        var first = true
        while true {
            guard let c = peek else { throw invalid("unterminated character class") }
            if c == "]" && !first { i += 1; break }
            first = false
            let lo = try classAtom()
            if peek == "-", i + 1 < chars.count, chars[i + 1] != "]" {
                i += 1
                let hi = try classAtom()
                guard case .scalar(let a) = lo, case .scalar(let b) = hi else { throw invalid("class range with a class escape") }
                guard a <= b else { throw invalid("class range out of order") }
                set = set.union(CodePointSet([a...b]))
            } else {
                switch lo {
                case .scalar(let a): set = set.union(.scalar(a))
                case .set(let s): set = set.union(s)
                }
            }
        }
        return negate ? set.inverted : set
    }

    enum ClassAtom { case scalar(UInt32), set(CodePointSet) }

    mutating func classAtom() throws -> ClassAtom {
        let c = chars[i]
        i += 1
        if c != "\\" { return .scalar(c.value) }
        let node = try parseEscape(inClass: true)
        guard case .set(let s) = node else { throw invalid("bad escape in class") }
        if s.ranges.count == 1, s.ranges[0].lowerBound == s.ranges[0].upperBound { return .scalar(s.ranges[0].lowerBound) }
        return .set(s)
    }

    mutating func hex(_ n: Int) throws -> UInt32 {
        guard i + n <= chars.count else { throw invalid("short hex escape") }
        let s = String(String.UnicodeScalarView(chars[i..<i + n]))
        guard let v = UInt32(s, radix: 16) else { throw invalid("bad hex escape") }
        i += n
        return v
    }

    mutating func parseEscape(inClass: Bool) throws -> RegexNode {
        guard let c = peek else { throw invalid("trailing backslash") }
        i += 1
        switch c {
        case "d": return .set(.digits)
        case "D": return .set(CodePointSet.digits.inverted)
        case "w": return .set(.word)
        case "W": return .set(CodePointSet.word.inverted)
        case "s": return .set(.space)
        case "S": return .set(CodePointSet.space.inverted)
        case "t": return .set(.scalar(9))
        case "n": return .set(.scalar(10))
        case "r": return .set(.scalar(13))
        case "f": return .set(.scalar(12))
        case "v": return .set(.scalar(11))
        case "0": return .set(.scalar(0))
        case "b":
            if inClass { return .set(.scalar(8)) }
            throw unsupported("word boundary \\b")
        case "B": throw unsupported("non-word-boundary \\B")
        case "1"..."9": throw unsupported("backreference \\\(c)")
        case "k": throw unsupported("named backreference \\k")
        case "p", "P": throw unsupported("unicode property escape \\\(c)")
        case "c": throw unsupported("control escape \\c")
        case "x": return .set(.scalar(try hex(2)))
        case "u":
            if peek == "{" {
                i += 1
                var s = ""
                while let x = peek, x != "}" { s.unicodeScalars.append(x); i += 1 }
                i += 1
                guard let v = UInt32(s, radix: 16), v <= CodePointSet.maxScalar else { throw invalid("bad \\u{} escape") }
                return .set(.scalar(v))
            }
            let v = try hex(4)
            return .set(.scalar(v))
        default:
            return .set(.scalar(c.value))
        }
    }
}

/// Thompson NFA over code-point sets, built from a `RegexNode` with search semantics applied.
struct CodePointNFA {
    var edges: [[(CodePointSet, Int32)]] = []
    var eps: [[Int32]] = []
    var accept: Int32 = 0
    let start: Int32 = 0
    private var budget = 20_000

    mutating func add() throws -> Int32 {
        budget -= 1
        if budget < 0 { throw GrammarError.tooLarge("regex expands to more than 20000 states") }
        edges.append([]); eps.append([])
        return Int32(edges.count - 1)
    }

    /// Builds the NFA for JSON Schema `pattern` semantics: unanchored search, `^`/`$` allowed at
    /// the start/end of top-level alternatives.
    static func forPattern(_ pattern: String) throws -> CodePointNFA {
        let root = try RegexParser.parse(pattern)
        let branches: [RegexNode]
        if case .alt(let b) = root { branches = b } else { branches = [root] }
        var anchored: [RegexNode] = []
        for b in branches {
            var items: [RegexNode]
            if case .concat(let xs) = b { items = xs } else { items = [b] }
            var startAnchored = false, endAnchored = false
            if case .start? = items.first { startAnchored = true; items.removeFirst() }
            if case .end? = items.last { endAnchored = true; items.removeLast() }
            if try containsAnchor(.concat(items)) { throw GrammarError.unsupportedRegex(construct: "anchor ^ or $ inside the pattern", pattern: pattern) }
            let any = RegexNode.rep(.set(.all), min: 0, max: nil)
            anchored.append(.concat((startAnchored ? [] : [any]) + items + (endAnchored ? [] : [any])))
        }
        return try build(anchored.count == 1 ? anchored[0] : .alt(anchored))
    }

    /// An NFA matching exactly one of `names` (whole value, no search).
    static func forLiterals(_ names: [String]) throws -> CodePointNFA {
        let branches = names.map { name in RegexNode.concat(name.unicodeScalars.map { .set(.scalar($0.value)) }) }
        return try build(.alt(branches))
    }

    static func containsAnchor(_ n: RegexNode) throws -> Bool {
        switch n {
        case .start, .end: return true
        case .set: return false
        case .concat(let xs), .alt(let xs): return try xs.contains { try containsAnchor($0) }
        case .rep(let x, _, _): return try containsAnchor(x)
        }
    }

    static func build(_ node: RegexNode) throws -> CodePointNFA {
        var nfa = CodePointNFA()
        let s = try nfa.add()
        let e = try nfa.add()
        try nfa.emit(node, s, e)
        nfa.accept = e
        return nfa
    }

    mutating func emit(_ node: RegexNode, _ from: Int32, _ to: Int32) throws {
        switch node {
        case .set(let cs): edges[Int(from)].append((cs, to))
        case .start, .end: throw GrammarError.unsupportedRegex(construct: "anchor", pattern: "")
        case .concat(let xs):
            if xs.isEmpty { eps[Int(from)].append(to); return }
            var cur = from
            for (k, x) in xs.enumerated() {
                let nxt = k == xs.count - 1 ? to : try add()
                try emit(x, cur, nxt)
                cur = nxt
            }
        case .alt(let xs):
            for x in xs { try emit(x, from, to) }
        case .rep(let x, let lo, let hi):
            var cur = from
            for _ in 0..<lo { let n = try add(); try emit(x, cur, n); cur = n }
            if let hi {
                for _ in lo..<hi { let n = try add(); try emit(x, cur, n); eps[Int(cur)].append(to); cur = n }
                eps[Int(cur)].append(to)
            } else {
                let loop = try add()
                eps[Int(cur)].append(loop)
                let back = try add()
                try emit(x, loop, back)
                eps[Int(back)].append(loop)
                eps[Int(loop)].append(to)
            }
        }
    }
}
