import ChatAPI
import Foundation
import JSONSchemaKit

/// How a string terminal writes its characters.
enum StringSpelling: String {
    /// A JSON string literal; each character in any of its JSON spellings.
    case json
    /// A JSON string literal; characters raw wherever JSON allows.
    case jsonPlain
    /// The characters' UTF-8 bytes, without quotes or escapes: a parameter value in an XML-style
    /// tool-call format.
    case raw
}

/// Builds (and remembers) the byte DFAs of JSON strings and numbers. Owned by a
/// `GrammarCompiler`: identical terminals of its grammars get the same `ByteDFA` instance, so
/// the vocabulary's token-walk caches keyed by the DFA are shared by every grammar that uses it.
final class Terminals: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: ByteDFA?] = [:]  // guarded by `lock`, as are the two below
    private var spellingCache: [CodePointSet: [[JSONCharSpelling.Position]]] = [:]
    private var plainSpellingCache: [CodePointSet: [[JSONCharSpelling.Position]]] = [:]

    init() {}

    func cached(_ key: String, _ make: () throws -> ByteDFA?) throws -> ByteDFA? {
        lock.lock()
        if let hit = cache[key] { lock.unlock(); return hit }
        lock.unlock()
        let dfa = try make()
        lock.lock()
        if cache.count > 20_000 { cache.removeAll() }
        cache[key] = dfa
        lock.unlock()
        return dfa
    }

    func spellings(_ set: CodePointSet, _ spelling: StringSpelling = .json) -> [[JSONCharSpelling.Position]] {
        if spelling == .raw {
            // Every scalar as its UTF-8 bytes; nothing is escaped, so the sets need no cache.
            var out: [[JSONCharSpelling.Position]] = []
            for r in set.subtracting(CodePointSet([0xD800...0xDFFF])).ranges {
                JSONCharSpelling.utf8Sequences(r.lowerBound, r.upperBound, &out)
            }
            return out
        }
        let plain = spelling == .jsonPlain
        lock.lock()
        if let hit = plain ? plainSpellingCache[set] : spellingCache[set] { lock.unlock(); return hit }
        lock.unlock()
        let s = JSONCharSpelling.spellings(set, escapesOnlyWhenNeeded: plain)
        lock.lock()
        if plain { plainSpellingCache[set] = s } else { spellingCache[set] = s }
        lock.unlock()
        return s
    }

    // MARK: strings

    /// DFA for a string (a JSON string literal, quotes included, unless `spelling` is `.raw`) whose value matches all `patterns`
    /// (search semantics) and has minLength...maxLength code points.
    ///
    /// `spelling` says how characters are written: every JSON spelling, raw wherever JSON allows
    /// (the same values, far fewer states; for the large patterns of formats), or as bare UTF-8
    /// without quotes (see `StringSpelling`).
    ///
    /// `excludingPatterns` and `excludingNames` remove values: the decoded value must match none
    /// of those patterns and equal none of those names (used for `patternProperties`,
    /// additional-property keys and `not` of string values). Parsing the patterns and building
    /// their automata spend from `budget`.
    func string(patterns: [String], minLength: Int, maxLength: Int?,
                       excludingPatterns: [String] = [], excludingNames: [String] = [],
                       spelling: StringSpelling = .json, budget: WorkBudget) throws -> ByteDFA? {
        var key = "s|\(minLength)|\(maxLength.map(String.init) ?? "")|" + patterns.joined(separator: "\u{0}")
        if spelling != .json { key = spelling.rawValue + "|" + key }
        if !excludingPatterns.isEmpty || !excludingNames.isEmpty {
            key += "|not|" + excludingPatterns.joined(separator: "\u{0}") + "|names|" + excludingNames.joined(separator: "\u{0}")
        }
        return try cached(key) {
            if let maxLength, maxLength > 2_000 {
                throw GrammarError.tooLarge("maxLength \(maxLength) (limit 2000)")
            }
            if minLength > 2_000 { throw GrammarError.tooLarge("minLength \(minLength) (limit 2000)") }
            var negated: [CodePointNFA] = []
            for p in excludingPatterns { negated.append(try CodePointNFA.forPattern(p, budget: budget)) }
            if !excludingNames.isEmpty { negated.append(try CodePointNFA.forLiterals(excludingNames, budget: budget)) }
            if patterns.isEmpty && negated.isEmpty && spelling != .raw { return try lengthOnlyString(minLength: minLength, maxLength: maxLength, key: key, budget: budget) }
            var nfas: [CodePointNFA] = []
            for p in patterns { nfas.append(try CodePointNFA.forPattern(p, budget: budget)) }
            return try buildString(nfas, negated: negated, minLength: minLength, maxLength: maxLength, key: key,
                                   spelling: spelling, budget: budget)
        }
    }

    /// True when `value` matches the ECMA-262 `pattern` (search semantics), decided with the
    /// same automaton the grammar uses.
    func matches(_ value: String, pattern: String, budget: WorkBudget) throws -> Bool {
        guard let dfa = try string(patterns: [pattern], minLength: 0, maxLength: nil, budget: budget) else { return false }
        return try dfa.acceptsQuoted(value, budget: budget)
    }

    /// Product of the pattern NFAs (if any) and a code-point counter, spelled in JSON bytes.
    private func buildString(_ nfas: [CodePointNFA], negated: [CodePointNFA], minLength: Int, maxLength: Int?, key: String,
                                    spelling: StringSpelling, budget: WorkBudget) throws -> ByteDFA? {
        // Epsilon-free view of each pattern NFA: closure-expanded edges and acceptance.
        struct Flat { var edges: [[(CodePointSet, Int32)]]; var accepting: [Bool]; var startSet: [Int32] }
        // Closures grow quadratically along chains of optional copies (`(?:a?){n}`): bounded
        // here so such a pattern is refused instead of exhausting memory.
        let maxFlatEntries = 10_000_000
        var flatEntries = 0
        func flatten(_ n: CodePointNFA) throws -> Flat {
            let count = n.edges.count
            var closures: [[Int32]] = []
            try budget.spend(count)
            for s in 0..<count {
                var seen: Set<Int32> = [Int32(s)]
                var stack = [Int32(s)]
                while let x = stack.popLast() { for t in n.eps[Int(x)] where !seen.contains(t) { seen.insert(t); stack.append(t) } }
                try budget.spend(seen.count)
                closures.append(Array(seen))
            }
            var edges: [[(CodePointSet, Int32)]] = []
            var acc: [Bool] = []
            for s in 0..<count {
                edges.append(closures[s].flatMap { n.edges[Int($0)] })
                flatEntries += closures[s].count + edges[s].count
                if flatEntries > maxFlatEntries {
                    throw GrammarError.tooLarge("string pattern automata need more than \(maxFlatEntries) closure entries")
                }
                try budget.spend(edges[s].count)
                acc.append(closures[s].contains(n.accept))
            }
            return Flat(edges: edges, accepting: acc, startSet: [0])
        }
        let flats = try nfas.map(flatten)
        let negFlats = try negated.map(flatten)
        let cap = maxLength ?? minLength
        // Product state: one state per pattern NFA, the subset of states of every excluded
        // pattern's NFA (determinized on the fly, so "matches none" is decidable), plus a count.
        struct PState: Hashable { var states: [Int32]; var neg: [[Int32]]; var count: Int }
        var nfa = ByteNFA()
        let start = nfa.addState()
        let final = nfa.addState()
        nfa.accepting[Int(final)] = true
        var ids: [PState: Int32] = [:]
        // Format patterns (plain spelling) are big but known, and cheap per state without escapes.
        let productCap = spelling == .json ? 3_000 : 10_000
        var queue: [PState] = []
        func id(_ p: PState) throws -> Int32 {
            if let x = ids[p] { return x }
            if ids.count > productCap { throw GrammarError.tooLarge("string pattern/length constraints need more than \(productCap) product states") }
            let x = nfa.addState()
            ids[p] = x
            queue.append(p)
            return x
        }
        let p0 = PState(states: flats.map { _ in 0 }, neg: negFlats.map { _ in [0] }, count: 0)
        // A raw string has no quotes: it starts and ends on epsilon moves.
        if spelling == .raw { nfa.epsilon(start, try id(p0)) } else { nfa.byte(start, 0x22, try id(p0)) }
        var qi = 0
        while qi < queue.count {
            let p = queue[qi]; qi += 1
            try budget.spend(1 + p.states.count + p.neg.count)
            let from = ids[p]!
            let acceptsHere = p.count >= minLength && zip(flats, p.states).allSatisfy { $0.accepting[Int($1)] }
                && zip(negFlats, p.neg).allSatisfy { f, set in !set.contains { f.accepting[Int($0)] } }
            if acceptsHere {
                if spelling == .raw { nfa.epsilon(from, final) } else { nfa.byte(from, 0x22, final) }
            }
            if let maxLength, p.count >= maxLength { continue }
            let nextCount = maxLength != nil ? p.count + 1 : min(p.count + 1, cap)
            // Joint moves: intersect one edge from every pattern NFA.
            var moves: [(CodePointSet, [Int32])] = [(.all, [])]
            for (k, f) in flats.enumerated() {
                var nextMoves: [(CodePointSet, [Int32])] = []
                for (set, targets) in moves {
                    try budget.spend(f.edges[Int(p.states[k])].count)
                    for (es, t) in f.edges[Int(p.states[k])] {
                        let both = set.intersection(es)
                        if !both.isEmpty { nextMoves.append((both, targets + [t])) }
                    }
                }
                try budget.spend(nextMoves.count)
                moves = nextMoves
            }
            // Split every joint move by the excluded patterns' subset transitions.
            var negMoves: [(CodePointSet, [Int32], [[Int32]])] = moves.map { ($0.0, $0.1, []) }
            for (k, f) in negFlats.enumerated() {
                let edges = p.neg[k].flatMap { f.edges[Int($0)] }
                var pieces: [(CodePointSet, [Int32], [[Int32]])] = []
                for (set, targets, negs) in negMoves {
                    try budget.spend(edges.count)
                    var parts: [(CodePointSet, Set<Int32>)] = [(set, [])]
                    for (es, t) in edges {
                        var refined: [(CodePointSet, Set<Int32>)] = []
                        for (ps, ts) in parts {
                            let inside = ps.intersection(es)
                            if inside.isEmpty { refined.append((ps, ts)); continue }
                            var withT = ts; withT.insert(t)
                            refined.append((inside, withT))
                            let outside = ps.subtracting(es)
                            if !outside.isEmpty { refined.append((outside, ts)) }
                        }
                        try budget.spend(refined.count)
                        parts = refined
                    }
                    for (ps, ts) in parts { pieces.append((ps, targets, negs + [ts.sorted()])) }
                }
                negMoves = pieces
            }
            // Spellings leaving this state share their byte prefixes (the `\u00` of escapes, UTF-8
            // lead bytes): one trie of intermediate states per product state instead of one
            // chain per spelling keeps large patterns (formats) within the state limits.
            var prefixStates: [[UInt8]: Int32] = [:]
            for (set, targets, negs) in negMoves {
                let to = try id(PState(states: targets, neg: negs, count: nextCount))
                for path in spellings(set, spelling) {
                    var cur = from
                    var prefix: [UInt8] = []
                    for (i, pos) in path.enumerated() {
                        if i == path.count - 1 {
                            for (lo, hi) in pos { nfa.edge(cur, lo, hi, to) }
                            break
                        }
                        prefix.append(UInt8(pos.count))
                        for (lo, hi) in pos { prefix.append(lo); prefix.append(hi) }
                        if let shared = prefixStates[prefix] { cur = shared; continue }
                        let nxt = nfa.addState()
                        for (lo, hi) in pos { nfa.edge(cur, lo, hi, nxt) }
                        prefixStates[prefix] = nxt
                        cur = nxt
                    }
                }
            }
        }
        if nfa.stateCount > 40_000 { throw GrammarError.tooLarge("string pattern/length constraints need more than 40000 automaton states") }
        return try ByteDFA.determinize(nfa, start: start, key: key, maxStates: 12_000, budget: budget)
    }

    /// Adds every spelling of one JSON string character (any code point, escaped or not) as
    /// paths from `from` to `to`.
    static func addCharacter(_ nfa: inout ByteNFA, from: Int32, to: Int32) {
        for spelling in JSONCharSpelling.spellings(.all) {
            var cur = from
            for (i, pos) in spelling.enumerated() {
                let nxt = i == spelling.count - 1 ? to : nfa.addState()
                for (lo, hi) in pos { nfa.edge(cur, lo, hi, nxt) }
                cur = nxt
            }
        }
    }

    /// One JSON string character (any code point, any spelling) as a DFA from state 0 to its
    /// single accepting state.
    private static let charDFA: ByteDFA = {
        var nfa = ByteNFA()
        let start = nfa.addState()
        let done = nfa.addState()
        nfa.accepting[Int(done)] = true
        addCharacter(&nfa, from: start, to: done)
        return try! ByteDFA.determinize(nfa, start: start, key: "char")!
    }()

    /// Strings with only length bounds, built directly as (count × character-state) without
    /// subset construction.
    private func lengthOnlyString(minLength: Int, maxLength: Int?, key: String, budget: WorkBudget) throws -> ByteDFA? {
        let c = Self.charDFA
        let cap = maxLength ?? minLength
        let inner = (0..<c.stateCount).filter { !c.accepting[$0] }  // character states (0 = start)
        var index = [Int](repeating: -1, count: c.stateCount)
        for (i, q) in inner.enumerated() { index[q] = i }
        let per = inner.count
        // States: 0 = before the opening quote, 1 = after the closing quote, then 2 + c*per + i.
        let stateCount = 2 + (cap + 1) * per
        let quoteClass = c.classCount
        let classCount = c.classCount + 1
        var classOf = c.classOf
        classOf[0x22] = UInt8(quoteClass)
        var next = [Int32](repeating: -1, count: stateCount * classCount)
        var accepting = [Bool](repeating: false, count: stateCount)
        accepting[1] = true
        func id(_ count: Int, _ q: Int) -> Int32 { Int32(2 + count * per + index[q]) }
        next[0 * classCount + quoteClass] = id(0, 0)
        // A representative byte for each of the character DFA's classes.
        var rep = [UInt8](repeating: 0, count: c.classCount)
        for b in (0..<256).reversed() { rep[Int(c.classOf[b])] = UInt8(b) }
        for count in 0...cap {
            let nextCount = maxLength != nil ? count + 1 : min(count + 1, cap)
            for q in inner {
                let from = Int(id(count, q))
                if q == 0 && count >= minLength { next[from * classCount + quoteClass] = 1 }
                if let maxLength, count >= maxLength { continue }
                for k in 0..<c.classCount {
                    let q2 = c.next[q * c.classCount + k]
                    if q2 < 0 { continue }
                    next[from * classCount + k] = c.accepting[Int(q2)] ? id(nextCount, 0) : id(count, Int(q2))
                }
                // The quote byte inside an escape (`\"`).
                let q2 = c.step(Int32(q), 0x22)
                if q2 >= 0 {
                    next[from * classCount + quoteClass] = c.accepting[Int(q2)] ? id(nextCount, 0) : id(count, Int(q2))
                }
                _ = rep
            }
        }
        // Far enough from both bounds, a state accepts exactly the tokens the same character
        // state of an unbounded string does, so masks there reuse that string's cached walks
        // instead of walking the vocabulary once per character count.
        var overlay: ByteDFA.Overlay?
        if let maxLength, let unbounded = try string(patterns: [], minLength: 0, maxLength: nil, budget: budget) {
            var mimics = [Int32](repeating: -1, count: stateCount)
            var capacity = [Int32](repeating: 0, count: stateCount)
            for count in minLength...max(minLength, maxLength) where count <= maxLength {
                for q in inner {
                    mimics[Int(id(count, q))] = Int32(2 + index[q])
                    capacity[Int(id(count, q))] = Int32(maxLength - count)
                }
            }
            overlay = .init(base: unbounded, mimics: mimics, differing: [[UInt8]](repeating: [], count: stateCount), capacity: capacity)
        }
        // No pruning (it would renumber the states): the only dead states, inside a character
        // at the maximum count, are unreachable.
        return ByteDFA(classOf: classOf, classCount: classCount, next: next, accepting: accepting, key: key, overlay: overlay)
    }

    // MARK: numbers

    enum Fraction { case zero, any, nonzero }

    /// How numbers may be spelled beyond what the schema says (see `GrammarOptions`).
    struct NumberSpelling {
        var integersMayHaveZeroFraction = true
        var maxIntegerDigits: Int? = nil
        var maxFractionDigits: Int? = nil
        var maxExponentDigits: Int? = nil
        static let faithful = NumberSpelling()
        var key: String {
            "|z\(integersMayHaveZeroFraction ? 1 : 0)i\(maxIntegerDigits ?? -1)f\(maxFractionDigits ?? -1)e\(maxExponentDigits ?? -1)"
        }
    }

    /// One family of number spellings: optional sign, an integer part, a fraction kind.
    struct NumberPiece {
        var negative: Bool
        var lo: Int
        var hi: Int?
        var fraction: Fraction
        /// An upper bound beyond Int, as decimal digits; replaces `hi` when set.
        var hiDigits: [Int]? = nil
    }

    /// DFA for JSON numbers built from pieces; `exponent` adds `[eE][+-]?[0-9]+` (or `[eE]+?[0-9]+`
    /// when `nonNegativeExponent`) to every piece.
    func number(pieces: [NumberPiece], exponent: Bool, nonNegativeExponent: Bool, key: String,
                       spelling: NumberSpelling = .faithful, budget: WorkBudget) throws -> ByteDFA? {
        try cached(key + spelling.key) {
            var nfa = ByteNFA()
            let start = nfa.addState()
            let accept = nfa.addState()
            nfa.accepting[Int(accept)] = true
            let d0 = UInt8(ascii: "0"), d9 = UInt8(ascii: "9")
            for piece in pieces {
                try budget.spend(1 + (piece.hiDigits?.count ?? 0))
                var s = start
                if piece.negative { s = nfa.literal(s, [UInt8(ascii: "-")]) }
                let intEnd = nfa.addState()
                let spell = piece.hiDigits.map { DigitRanges.decimal(piece.lo, hiDigits: $0) } ?? DigitRanges.decimal(piece.lo, piece.hi)
                try budget.spend(spell.fixed.count)
                for seq in spell.fixed {
                    nfa.ranges(s, seq.map { (UInt8(48 + $0.0), UInt8(48 + $0.1)) }, to: intEnd)
                }
                if let fromLen = spell.unboundedFromLength {
                    // [1-9][0-9]{fromLen-1,}
                    var cur = nfa.addState()
                    nfa.edge(s, d0 + 1, d9, cur)
                    for _ in 1..<fromLen { let n = nfa.addState(); nfa.edge(cur, d0, d9, n); cur = n }
                    nfa.epsilon(cur, intEnd)
                    if let limit = spelling.maxIntegerDigits {
                        for _ in fromLen..<max(limit, fromLen) {
                            let n = nfa.addState(); nfa.edge(cur, d0, d9, n); nfa.epsilon(n, intEnd); cur = n
                        }
                    } else {
                        nfa.edge(cur, d0, d9, cur)
                    }
                }
                let fracEnd = nfa.addState()
                let dot = nfa.addState()
                nfa.byte(intEnd, UInt8(ascii: "."), dot)
                switch piece.fraction {
                case .zero:
                    nfa.epsilon(intEnd, fracEnd)
                    if spelling.integersMayHaveZeroFraction {
                        let z = nfa.addState()
                        nfa.byte(dot, d0, z); nfa.byte(z, d0, z); nfa.epsilon(z, fracEnd)
                    }
                case .any:
                    nfa.epsilon(intEnd, fracEnd)
                    if let limit = spelling.maxFractionDigits {
                        var cur = dot
                        for _ in 0..<max(limit, 1) {
                            let n = nfa.addState()
                            nfa.edge(cur, d0, d9, n); nfa.epsilon(n, fracEnd)
                            cur = n
                        }
                    } else {
                        let z = nfa.addState()
                        nfa.edge(dot, d0, d9, z); nfa.edge(z, d0, d9, z); nfa.epsilon(z, fracEnd)
                    }
                case .nonzero:
                    let pre = dot
                    nfa.byte(pre, d0, pre)
                    let nz = nfa.addState()
                    nfa.edge(pre, d0 + 1, d9, nz); nfa.edge(nz, d0, d9, nz); nfa.epsilon(nz, fracEnd)
                }
                if exponent {
                    nfa.epsilon(fracEnd, accept)
                    let e = nfa.addState()
                    nfa.byte(fracEnd, UInt8(ascii: "e"), e); nfa.byte(fracEnd, UInt8(ascii: "E"), e)
                    let sign = nfa.addState()
                    nfa.epsilon(e, sign)
                    nfa.byte(e, UInt8(ascii: "+"), sign)
                    if !nonNegativeExponent { nfa.byte(e, UInt8(ascii: "-"), sign) }
                    let digits = nfa.addState()
                    nfa.edge(sign, d0, d9, digits)
                    nfa.epsilon(digits, accept)
                    if let limit = spelling.maxExponentDigits {
                        var cur = digits
                        for _ in 1..<max(limit, 1) {
                            let n = nfa.addState(); nfa.edge(cur, d0, d9, n); nfa.epsilon(n, accept); cur = n
                        }
                    } else {
                        nfa.edge(digits, d0, d9, digits)
                    }
                } else {
                    nfa.epsilon(fracEnd, accept)
                }
            }
            return try ByteDFA.determinize(nfa, start: start, key: key, budget: budget)
        }
    }
}
