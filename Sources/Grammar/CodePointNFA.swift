import JSONSchemaKit

/// Thompson NFA over code-point sets, built from the syntax tree of JSONSchemaKit's regex
/// parser (the one the validator uses), so a `pattern` means the same to both.
///
/// Supported: everything that is a regular language over code points — literals, escapes,
/// classes, `.`, groups, alternation, quantifiers (lazy ones denote the same language), the
/// `(?i)` and `(?s)` flags, and `^`/`$`/`\A`/`\Z` at the ends of top-level alternatives.
/// What an automaton cannot express, or this one does not, is rejected by name with
/// `GrammarError.unsupportedRegex`: backreferences, lookaround, word boundaries, anchors
/// elsewhere, multiline anchors and `\p{…}` property classes.
struct CodePointNFA {
    var edges: [[(CodePointSet, Int32)]] = []
    var eps: [[Int32]] = []
    var accept: Int32 = 0
    let start: Int32 = 0
    private var stateBudget = CodePointNFA.maxStates
    private var edgeBudget = CodePointNFA.maxEdges

    static let maxStates = 20_000
    /// Edges are bounded too: `(a|b|…){n}` adds a whole alternation's edges per state.
    static let maxEdges = 200_000

    mutating func add() throws -> Int32 {
        stateBudget -= 1
        if stateBudget < 0 { throw GrammarError.tooLarge("regex expands to more than \(CodePointNFA.maxStates) states") }
        edges.append([]); eps.append([])
        return Int32(edges.count - 1)
    }

    fileprivate mutating func spendEdge(_ budget: WorkBudget) throws {
        try budget.spend()
        edgeBudget -= 1
        if edgeBudget < 0 { throw GrammarError.tooLarge("regex expands to more than \(CodePointNFA.maxEdges) transitions") }
    }

    /// Builds the NFA for JSON Schema `pattern` semantics: unanchored search, anchors allowed at
    /// the start/end of top-level alternatives. Throws `GrammarError` for invalid or unsupported
    /// patterns and `WorkBudgetExceeded` when `budget` runs out (groups nested deeper than
    /// `budget.maxDepth` included).
    static func forPattern(_ pattern: String, budget: WorkBudget) throws -> CodePointNFA {
        let parsed: RegexParser.Parsed
        do {
            parsed = try RegexParser.parse(pattern, budget: budget)
        } catch let error as RegexSyntaxError {
            throw GrammarError.invalidRegex(error.description, pattern: pattern)
        }
        let builder = PatternLowering(pattern: pattern, flags: parsed.flags, budget: budget)
        var nfa = CodePointNFA()
        let s = try nfa.add()
        let e = try nfa.add()
        nfa.accept = e
        for branch in topLevelBranches(parsed.tree) {
            var items = sequenceItems(branch)
            let startAnchored = try items.first.map { try builder.isStartAnchor($0) } ?? false
            if startAnchored { items.removeFirst() }
            let endAnchored = try items.last.map { try builder.isEndAnchor($0) } ?? false
            if endAnchored { items.removeLast() }
            // Search semantics: an unanchored end admits anything around the match.
            var cur = s
            if !startAnchored {
                let loop = try nfa.add()
                nfa.eps[Int(cur)].append(loop)
                try nfa.spendEdge(budget)
                nfa.edges[Int(loop)].append((.all, loop))
                cur = loop
            }
            for item in items {
                let next = try nfa.add()
                try builder.emit(item, into: &nfa, cur, next, depth: 0)
                cur = next
            }
            if !endAnchored {
                // A self-loop on the state after the last item: no extra state, so the product
                // automata built from several patterns stay small. When `cur` is the shared
                // start state (a bare `^`), this alternative matches every string already, so
                // the loop adds nothing to the others.
                try nfa.spendEdge(budget)
                nfa.edges[Int(cur)].append((.all, cur))
            }
            nfa.eps[Int(cur)].append(e)
        }
        return nfa
    }

    /// The alternatives of the whole pattern, through enclosing groups: `(^a|b$)` has two.
    private static func topLevelBranches(_ tree: RegexNode) -> [RegexNode] {
        if case .alternation(let branches) = ungrouped(tree) { return branches }
        return [tree]
    }

    /// The items of one alternative in order, through enclosing groups.
    private static func sequenceItems(_ branch: RegexNode) -> [RegexNode] {
        switch ungrouped(branch) {
        case .sequence(let items): return items
        case .empty: return []
        default: return [branch]
        }
    }

    /// `node` without the groups around it (they do not change the language).
    static func ungrouped(_ node: RegexNode) -> RegexNode {
        var node = node
        while case .group(let body, _) = node { node = body }
        return node
    }

    /// An NFA matching exactly one of `names` (whole value, no search).
    static func forLiterals(_ names: [String], budget: WorkBudget) throws -> CodePointNFA {
        var nfa = CodePointNFA()
        let s = try nfa.add()
        let e = try nfa.add()
        nfa.accept = e
        for name in names {
            var cur = s
            for scalar in name.unicodeScalars {
                let next = try nfa.add()
                try nfa.spendEdge(budget)
                nfa.edges[Int(cur)].append((.scalar(scalar.value), next))
                cur = next
            }
            nfa.eps[Int(cur)].append(e)
        }
        return nfa
    }
}

/// Turns the parser's nodes into NFA fragments, applying the pattern's flags and rejecting
/// what the automaton cannot do.
private struct PatternLowering {
    let pattern: String
    let flags: RegexParser.Flags
    let budget: WorkBudget

    func unsupported(_ construct: String) -> GrammarError { .unsupportedRegex(construct: construct, pattern: pattern) }

    /// True for `^` or `\A` (possibly in groups); `^` under `(?m)` is rejected.
    func isStartAnchor(_ node: RegexNode) throws -> Bool {
        switch CodePointNFA.ungrouped(node) {
        case .inputStart: return true
        case .lineStart:
            if flags.multiline { throw unsupported("multiline anchor ^ under (?m)") }
            return true
        default: return false
        }
    }

    /// True for `$`, `\Z` or `\z` (possibly in groups); `$` under `(?m)` is rejected.
    func isEndAnchor(_ node: RegexNode) throws -> Bool {
        switch CodePointNFA.ungrouped(node) {
        case .inputEnd: return true
        case .lineEnd:
            if flags.multiline { throw unsupported("multiline anchor $ under (?m)") }
            return true
        default: return false
        }
    }

    /// Adds paths from `from` to `to` spelling `node`. `depth` counts enclosing groups, as the
    /// parser did, so recursion here is bounded by the same `maxDepth`.
    func emit(_ node: RegexNode, into nfa: inout CodePointNFA, _ from: Int32, _ to: Int32, depth: Int) throws {
        try budget.spend()
        switch node {
        case .empty:
            nfa.eps[Int(from)].append(to)
        case .char(let c):
            try edge(.scalar(c), &nfa, from, to)
        case .any:
            try edge(flags.dotAll ? .all : .dot, &nfa, from, to)
        case .set(let set):
            try edge(try codePoints(set), &nfa, from, to)
        case .sequence(let items):
            if items.isEmpty { nfa.eps[Int(from)].append(to); return }
            var cur = from
            for (k, item) in items.enumerated() {
                let next = k == items.count - 1 ? to : try nfa.add()
                try emit(item, into: &nfa, cur, next, depth: depth)
                cur = next
            }
        case .alternation(let branches):
            for branch in branches { try emit(branch, into: &nfa, from, to, depth: depth) }
        case .group(let body, _):
            try budget.checkDepth(depth + 1, "regex groups")
            try emit(body, into: &nfa, from, to, depth: depth + 1)
        case .repetition(let body, let lo, let hi, _):
            // Lazy and greedy quantifiers match the same strings; only the match found differs.
            var cur = from
            for _ in 0..<lo {
                let next = try nfa.add()
                try emit(body, into: &nfa, cur, next, depth: depth)
                cur = next
            }
            if let hi {
                for _ in lo..<hi {
                    let next = try nfa.add()
                    try emit(body, into: &nfa, cur, next, depth: depth)
                    nfa.eps[Int(cur)].append(to)
                    cur = next
                }
                nfa.eps[Int(cur)].append(to)
            } else {
                let loop = try nfa.add()
                nfa.eps[Int(cur)].append(loop)
                let back = try nfa.add()
                try emit(body, into: &nfa, loop, back, depth: depth)
                nfa.eps[Int(back)].append(loop)
                nfa.eps[Int(loop)].append(to)
            }
        case .lineStart, .lineEnd, .inputStart, .inputEnd:
            throw unsupported("anchor ^ or $ inside the pattern")
        case .wordBoundary(let negated):
            throw unsupported(negated ? "non-word-boundary \\B" : "word boundary \\b")
        case .lookaround(_, let ahead, let negated):
            switch (ahead, negated) {
            case (true, false): throw unsupported("lookahead (?=")
            case (true, true): throw unsupported("negative lookahead (?!")
            case (false, false): throw unsupported("lookbehind (?<=")
            case (false, true): throw unsupported("negative lookbehind (?<!")
            }
        case .backreference(let n):
            throw unsupported("backreference \\\(n)")
        case .namedBackreference(let name):
            throw unsupported("backreference \\k<\(name)>")
        }
    }

    private func edge(_ set: CodePointSet, _ nfa: inout CodePointNFA, _ from: Int32, _ to: Int32) throws {
        try nfa.spendEdge(budget)
        nfa.edges[Int(from)].append((set, to))
    }

    /// The code points a class matches, exactly as `CharSet.contains` decides.
    func codePoints(_ set: CharSet) throws -> CodePointSet {
        var members = CodePointSet()
        var ranges: [ClosedRange<UInt32>] = []
        for item in set.items {
            switch item {
            case .range(let lo, let hi): ranges.append(lo...hi)
            case .digit(let negated): members = members.union(negated ? CodePointSet.digits.inverted : .digits)
            case .word(let negated): members = members.union(negated ? CodePointSet.word.inverted : .word)
            case .space(let negated): members = members.union(negated ? CodePointSet.space.inverted : .space)
            case .property:
                // Enumerating a property over every code point is too slow per request.
                throw unsupported("Unicode property escape \\p{…}")
            }
        }
        members = members.union(CodePointSet(ranges))
        if set.ignoreCase { members = CaseFolding.closure(of: members) }
        return set.negated ? members.inverted : members
    }
}

/// Simple case mapping for `(?i)` classes, in the validator's terms (`RegexCase.variants`).
enum CaseFolding {
    /// Every scalar whose single-scalar lowercase or uppercase mapping differs from it, with
    /// those variants. Computed once: case mappings stop before plane 2.
    static let variantsByScalar: [(UInt32, [UInt32])] = {
        var out: [(UInt32, [UInt32])] = []
        for value in UInt32(0)...0x1FFFF {
            guard let scalar = Unicode.Scalar(value), scalar.properties.changesWhenCaseMapped else { continue }
            let variants = RegexCase.variants(of: scalar).filter { $0 != value }
            if !variants.isEmpty { out.append((value, variants)) }
        }
        return out
    }()

    /// `set` plus every scalar one of whose variants is in `set` (what an ignore-case class
    /// matches before negation).
    static func closure(of set: CodePointSet) -> CodePointSet {
        var added: [ClosedRange<UInt32>] = []
        for (value, variants) in variantsByScalar where !set.contains(value) && variants.contains(where: { set.contains($0) }) {
            added.append(value...value)
        }
        return added.isEmpty ? set : set.union(CodePointSet(added))
    }
}
