import Foundation
import GGUF

/// A vocabulary as the grammar engine sees it: each token's exact bytes, which ids are special
/// (never produced by a grammar) and which end generation (allowed only when the value is
/// complete). Holds a byte trie of the ordinary tokens and per-terminal caches shared by all
/// grammars compiled against it, so create one per model and reuse it.
public final class GrammarVocabulary: @unchecked Sendable {
    public let count: Int
    public let tokenBytes: [[UInt8]]
    public let specialIDs: Set<Int>
    public let endOfGenerationIDs: Set<Int>

    // Trie of ordinary tokens in preorder. Node 0 is the root (empty prefix).
    let trieByte: [UInt8]
    let trieEnd: [Int32]
    let trieDepth: [Int32]
    /// First token id whose bytes end at this node, or -1.
    let trieToken: [Int32]
    /// Further tokens with identical bytes (rare).
    let duplicateTokens: [Int32: [Int32]]
    let hasDuplicates: [Bool]
    let maxDepth: Int

    private let lock = NSLock()
    private var terminalWalks: [ObjectIdentifier: (dfa: ByteDFA, walks: [Int32: TerminalWalk])] = [:]
    private var terminalWalkCount = 0

    /// Builds from raw token bytes. Tokens with empty bytes are treated as special.
    public init(tokenBytes: [[UInt8]], specialIDs: Set<Int>, endOfGenerationIDs: Set<Int>) {
        self.count = tokenBytes.count
        self.tokenBytes = tokenBytes
        self.endOfGenerationIDs = endOfGenerationIDs
        var special = specialIDs.union(endOfGenerationIDs)
        for (i, b) in tokenBytes.enumerated() where b.isEmpty { special.insert(i) }
        self.specialIDs = special

        let ordinary = (0..<tokenBytes.count).filter { !special.contains($0) }
            .sorted { tokenBytes[$0].lexicographicallyPrecedes(tokenBytes[$1]) }
        var bytes: [UInt8] = [0], end: [Int32] = [0], depth: [Int32] = [0], token: [Int32] = [-1]
        var dup: [Int32: [Int32]] = [:]
        var path: [Int32] = [0]  // node ids along the current path (path[0] = root)
        var pathBytes: [UInt8] = []
        for t in ordinary {
            let tb = tokenBytes[t]
            var common = 0
            while common < pathBytes.count, common < tb.count, pathBytes[common] == tb[common] { common += 1 }
            while pathBytes.count > common {
                end[Int(path.removeLast())] = Int32(bytes.count)
                pathBytes.removeLast()
            }
            for k in common..<tb.count {
                bytes.append(tb[k]); end.append(0); depth.append(Int32(k + 1)); token.append(-1)
                path.append(Int32(bytes.count - 1))
                pathBytes.append(tb[k])
            }
            let node = Int(path.last!)
            if token[node] < 0 { token[node] = Int32(t) } else { dup[Int32(node), default: []].append(Int32(t)) }
        }
        while let n = path.popLast() { end[Int(n)] = Int32(bytes.count) }
        trieByte = bytes; trieEnd = end; trieDepth = depth; trieToken = token; duplicateTokens = dup
        var hd = [Bool](repeating: false, count: bytes.count)
        for k in dup.keys { hd[Int(k)] = true }
        hasDuplicates = hd
        maxDepth = Int(depth.max() ?? 0)
    }

    /// Builds from a GGUF tokenizer vocabulary.
    public convenience init(_ v: TokenizerVocabulary) {
        self.init(tokenBytes: v.tokenBytes, specialIDs: v.specialIDs, endOfGenerationIDs: v.endOfGenerationIDs)
    }

    /// A new empty mask sized for this vocabulary.
    public func makeMask() -> TokenMask { TokenMask(count: count) }

    @inline(__always) func markTokens(at node: Int, _ mask: inout TokenMask) {
        let t = trieToken[node]
        if t >= 0 {
            mask.insert(Int(t))
            if hasDuplicates[node], let more = duplicateTokens[Int32(node)] { for x in more { mask.insert(Int(x)) } }
        }
    }

    /// Tokens that stay inside a terminal DFA from `state`, plus the trie nodes where the
    /// terminal may end with bytes of the token left over (those need the enclosing context).
    struct TerminalWalk {
        var inside: TokenMask
        /// The leftover bytes of tokens that can finish the terminal before their end, as a trie
        /// (deduplicated: many tokens share suffixes such as `",` or `}`), with the tokens that
        /// end at each node.
        var exits: SuffixTrie?
        /// Tokens of `exits` that do not count (an overlay walk recomputed them in `moreExits`).
        var exitsSkipping: TokenMask? = nil
        var moreExits: SuffixTrie? = nil
    }

    /// A preorder byte trie with token lists per node; node 0 is the root (empty suffix).
    struct SuffixTrie {
        var byte: [UInt8] = [0]
        var end: [Int32] = [0]
        var depth: [Int32] = [0]
        var tokStart: [Int32] = [0]
        var tokCount: [Int32] = [0]
        var tokens: [Int32] = []

        init(entries: [([UInt8], Int32)]) {
            let sorted = entries.sorted { $0.0.lexicographicallyPrecedes($1.0) }
            var path: [Int32] = [0]
            var pathBytes: [UInt8] = []
            for (suffix, token) in sorted {
                var common = 0
                while common < pathBytes.count, common < suffix.count, pathBytes[common] == suffix[common] { common += 1 }
                if common == suffix.count && common == pathBytes.count {
                    // Same node as the previous entry.
                } else {
                    while pathBytes.count > common { end[Int(path.removeLast())] = Int32(byte.count); pathBytes.removeLast() }
                    for k in common..<suffix.count {
                        byte.append(suffix[k]); end.append(0); depth.append(Int32(k + 1))
                        tokStart.append(Int32(tokens.count)); tokCount.append(0)
                        path.append(Int32(byte.count - 1)); pathBytes.append(suffix[k])
                    }
                }
                let node = Int(path.last!)
                if tokCount[node] == 0 { tokStart[node] = Int32(tokens.count) }
                tokens.append(token)
                tokCount[node] += 1
            }
            while let n = path.popLast() { end[Int(n)] = Int32(byte.count) }
        }
    }

    func terminalWalk(_ dfa: ByteDFA, _ state: Int32) -> TerminalWalk {
        let mimicked = dfa.overlay.map { $0.capacity[Int(state)] >= maxDepth ? $0.mimics[Int(state)] : -1 } ?? -1
        if mimicked >= 0, let o = dfa.overlay, o.differing[Int(state)].isEmpty {
            return terminalWalk(o.base, mimicked)
        }
        let oid = ObjectIdentifier(dfa)
        lock.lock()
        if let w = terminalWalks[oid]?.walks[state] { lock.unlock(); return w }
        lock.unlock()
        let w = mimicked >= 0 ? computeOverlayWalk(dfa, state) : computeTerminalWalk(dfa, state)
        lock.lock()
        if terminalWalkCount > 4_000 { terminalWalks.removeAll(); terminalWalkCount = 0 }
        if terminalWalks[oid] == nil { terminalWalks[oid] = (dfa, [:]) }
        terminalWalks[oid]!.walks[state] = w
        terminalWalkCount += 1
        lock.unlock()
        return w
    }

    /// The walk from a state that mimics a base state except on a few bytes: the base walk
    /// (cached, shared by every automaton on that base), with the tokens starting with a
    /// differing byte taken out and walked exactly.
    private func computeOverlayWalk(_ dfa: ByteDFA, _ state: Int32) -> TerminalWalk {
        let o = dfa.overlay!
        let base = terminalWalk(o.base, o.mimics[Int(state)])
        guard base.exitsSkipping == nil, base.moreExits == nil else { return computeTerminalWalk(dfa, state) }
        var only = [Bool](repeating: false, count: 256)
        for b in o.differing[Int(state)] { only[Int(b)] = true }
        let exact = computeTerminalWalk(dfa, state, firstBytes: only)
        var starting = TokenMask(count: count)
        var m = 1
        while m < trieByte.count {
            let end = Int(trieEnd[m])
            if only[Int(trieByte[m])] { for k in m..<end { markTokens(at: k, &starting) } }
            m = end
        }
        var inside = base.inside
        inside.subtract(starting)
        inside.formUnion(exact.inside)
        return TerminalWalk(inside: inside, exits: base.exits, exitsSkipping: base.exits == nil ? nil : starting,
                            moreExits: exact.exits)
    }

    /// Walks the token trie through `dfa` from `start`; `firstBytes`, when given, limits the walk
    /// to tokens whose first byte it marks.
    private func computeTerminalWalk(_ dfa: ByteDFA, _ start: Int32, firstBytes: [Bool]? = nil) -> TerminalWalk {
        var mask = TokenMask(count: count)
        var exits: [Int32] = []
        var exitEntries: [([UInt8], Int32)] = []
        var pathBytes = [UInt8](repeating: 0, count: maxDepth + 1)
        var stateAt = [Int32](repeating: 0, count: maxDepth + 1)
        stateAt[0] = start
        let n = trieByte.count
        trieByte.withUnsafeBufferPointer { tb in
        trieEnd.withUnsafeBufferPointer { te in
        trieDepth.withUnsafeBufferPointer { td in
        dfa.next.withUnsafeBufferPointer { next in
        dfa.classOf.withUnsafeBufferPointer { cls in
            let cc = dfa.classCount
            var m = 1
            while m < n {
                let d = Int(td[m])
                if d == 1, let firstBytes, !firstBytes[Int(tb[m])] { m = Int(te[m]); continue }
                let q = next[Int(stateAt[d - 1]) * cc + Int(cls[Int(tb[m])])]
                if q < 0 { m = Int(te[m]); continue }
                stateAt[d] = q
                markTokens(at: m, &mask)
                if dfa.accepting[Int(q)] && Int(te[m]) > m + 1 { exits.append(Int32(m)) }
                m += 1
            }
        }}}}}
        for node in exits {
            let n0 = Int(node)
            let base = Int(trieDepth[n0])
            var m = n0 + 1
            let stop = Int(trieEnd[n0])
            while m < stop {
                let d = Int(trieDepth[m])
                pathBytes[d - 1] = trieByte[m]
                let t = trieToken[m]
                if t >= 0 {
                    let suffix = Array(pathBytes[base..<d])
                    exitEntries.append((suffix, t))
                    if hasDuplicates[m], let more = duplicateTokens[Int32(m)] { for x in more { exitEntries.append((suffix, x)) } }
                }
                m += 1
            }
        }
        return TerminalWalk(inside: mask, exits: exitEntries.isEmpty ? nil : SuffixTrie(entries: exitEntries))
    }
}
