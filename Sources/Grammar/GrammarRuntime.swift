import Foundation

/// Mutable, shared state behind the matchers of one compiled grammar: the interned stacks
/// (a graph-structured stack: equal stacks have equal ids), memoized closures and byte steps,
/// and cached per-stack token masks. Access is serialized by `lock`.
final class GrammarRuntime: @unchecked Sendable {
    let program: GrammarProgram
    let vocab: GrammarVocabulary
    let lock = NSLock()

    // Stack node 0 is the empty stack (the value is complete).
    private(set) var frames: [Int32] = [0]
    private(set) var parents: [Int32] = [-1]
    private var interned: [Int64: Int32] = [:]
    private var closureCache: [[Int32]?] = [nil]
    private var stepCache: [Int64: [Int32]] = [:]
    private var stackMasks: [Int32: TokenMask] = [:]
    private var walkConfigs: [[Int32]] = []

    init(program: GrammarProgram, vocab: GrammarVocabulary) {
        self.program = program
        self.vocab = vocab
        walkConfigs = [[Int32]](repeating: [], count: vocab.maxDepth + 1)
    }

    @inline(__always) func intern(_ frame: Int32, _ parent: Int32) -> Int32 {
        let key = (Int64(frame) << 32) | Int64(UInt32(bitPattern: parent))
        if let id = interned[key] { return id }
        let id = Int32(frames.count)
        frames.append(frame); parents.append(parent); closureCache.append(nil)
        interned[key] = id
        return id
    }

    /// The positions (stacks whose top can consume a byte, or 0 for "complete") reachable from
    /// stack `s` without consuming input: calls are entered, finished rules return.
    func closure(_ s: Int32) -> [Int32] {
        if let c = closureCache[Int(s)] { return c }
        var out: [Int32] = []
        expand(s, &out, depth: 0)
        if out.count > 1 { out.sort(); out = dedupSorted(out) }
        closureCache[Int(s)] = out
        return out
    }

    private func expand(_ s: Int32, _ out: inout [Int32], depth: Int) {
        if depth > 256 { return }  // left recursion guard: such paths consume nothing
        if s == 0 { out.append(0); return }
        if let c = closureCache[Int(s)] { out += c; return }
        let f = frames[Int(s)], p = parents[Int(s)]
        if f < 0 {
            let (d, q) = GrammarProgram.decodeTerminal(f)
            let dfa = program.dfas[d]
            if dfa.hasOut[Int(q)] { out.append(s) }
            if dfa.accepting[Int(q)] { expand(p, &out, depth: depth + 1) }
            return
        }
        if !program.byteEdges[Int(f)].isEmpty { out.append(s) }
        for c in program.calls[Int(f)] {
            let base = intern(c.ret, p)
            expand(intern(program.ruleStart[Int(c.rule)], base), &out, depth: depth + 1)
        }
        if program.accepting[Int(f)] { expand(p, &out, depth: depth + 1) }
    }

    /// Successor positions of one position after byte `b` (closed, sorted, unique).
    func step(_ s: Int32, _ b: UInt8) -> [Int32] {
        if s == 0 { return [] }
        let key = (Int64(s) << 8) | Int64(b)
        if let hit = stepCache[key] { return hit }
        var out: [Int32] = []
        let f = frames[Int(s)], p = parents[Int(s)]
        if f < 0 {
            let (d, q) = GrammarProgram.decodeTerminal(f)
            let q2 = program.dfas[d].step(q, b)
            if q2 >= 0 { out = closure(intern(GrammarProgram.terminalFrame(dfa: Int32(d), state: q2), p)) }
        } else {
            for e in program.byteEdges[Int(f)] where e.lo <= b && b <= e.hi {
                out += closure(intern(e.to, p))
            }
            if out.count > 1 { out.sort(); out = dedupSorted(out) }
        }
        if stepCache.count > 2_000_000 { stepCache.removeAll() }
        stepCache[key] = out
        return out
    }

    func step(config c: [Int32], _ b: UInt8) -> [Int32] {
        if c.count == 1 { return step(c[0], b) }
        var out: [Int32] = []
        for s in c { out += step(s, b) }
        if out.count > 1 { out.sort(); out = dedupSorted(out) }
        return out
    }

    func dedupSorted(_ a: [Int32]) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(a.count)
        for x in a where out.last != x { out.append(x) }
        return out
    }

    // MARK: masks

    /// The tokens (ordinary ones; not EOG) acceptable from one position.
    func mask(ofStack s: Int32) -> TokenMask {
        if let m = stackMasks[s] { return m }
        var mask = vocab.makeMask()
        let f = frames[Int(s)]
        if f < 0 {
            let (d, q) = GrammarProgram.decodeTerminal(f)
            let walk = vocab.terminalWalk(program.dfas[d], q)
            mask.assign(walk.inside)
            if walk.exits != nil || walk.moreExits != nil {
                let after = closure(parents[Int(s)])
                if !after.isEmpty && !(after.count == 1 && after[0] == 0) {
                    if let exits = walk.exits { walkSuffixes(exits, from: after, into: &mask, skipping: walk.exitsSkipping) }
                    if let exits = walk.moreExits { walkSuffixes(exits, from: after, into: &mask) }
                }
            }
        } else {
            walkSubtree(0, from: [s], into: &mask)
        }
        if stackMasks.count > 3_000 { stackMasks.removeAll() }
        stackMasks[s] = mask
        return mask
    }

    /// Quick test (no allocation, no hashing) whether some position of `c` can consume `b`.
    @inline(__always) func mayStep(_ c: [Int32], _ b: UInt8) -> Bool {
        for s in c where s != 0 {
            let f = frames[Int(s)]
            if f < 0 {
                let (d, q) = GrammarProgram.decodeTerminal(f)
                if program.dfas[d].step(q, b) >= 0 { return true }
            } else {
                for e in program.byteEdges[Int(f)] where e.lo <= b && b <= e.hi { return true }
            }
        }
        return false
    }

    /// Marks the tokens of every suffix-trie node whose bytes the positions `start` accept.
    func walkSuffixes(_ t: GrammarVocabulary.SuffixTrie, from start: [Int32], into mask: inout TokenMask,
                      skipping: TokenMask? = nil) {
        var configs = [[Int32]](repeating: [], count: Int(t.depth.max() ?? 0) + 1)
        configs[0] = start
        var m = 1
        let n = t.byte.count
        while m < n {
            let d = Int(t.depth[m])
            let prev = configs[d - 1]
            let b = t.byte[m]
            if !mayStep(prev, b) { m = Int(t.end[m]); continue }
            let c = step(config: prev, b)
            if c.isEmpty { m = Int(t.end[m]); continue }
            let k = Int(t.tokCount[m])
            if k > 0 {
                let s0 = Int(t.tokStart[m])
                for i in s0..<s0 + k where skipping?.contains(Int(t.tokens[i])) != true { mask.insert(Int(t.tokens[i])) }
            }
            if c.count == 1 && c[0] == 0 { m = Int(t.end[m]); continue }
            configs[d] = c
            m += 1
        }
    }

    /// Marks every token below trie node `root` whose remaining bytes the positions `start`
    /// (the state after the bytes up to `root`) accept.
    func walkSubtree(_ root: Int, from start: [Int32], into mask: inout TokenMask) {
        let v = vocab
        let end = Int(v.trieEnd[root])
        walkConfigs[Int(v.trieDepth[root])] = start
        var m = root + 1
        while m < end {
            let d = Int(v.trieDepth[m])
            let prev = walkConfigs[d - 1]
            let b = v.trieByte[m]
            if !mayStep(prev, b) { m = Int(v.trieEnd[m]); continue }
            let c = step(config: prev, b)
            if c.isEmpty || (c.count == 1 && c[0] == 0) {
                // Nothing more can follow a complete value except end of generation.
                if !c.isEmpty { v.markTokens(at: m, &mask) }
                m = Int(v.trieEnd[m])
                continue
            }
            walkConfigs[d] = c
            v.markTokens(at: m, &mask)
            m += 1
        }
    }

    /// Fills `mask` for a configuration (EOG ids set when the value is complete).
    func fillMask(_ config: [Int32], _ out: inout TokenMask) {
        var first = true
        for s in config where s != 0 {
            let m = mask(ofStack: s)
            if first { out.assign(m); first = false } else { out.formUnion(m) }
        }
        if first { out.clear() }
        if config.first == 0 { for e in vocab.endOfGenerationIDs { out.insert(e) } }
    }

    func advance(_ config: [Int32], bytes: [UInt8]) -> [Int32] {
        var c = config
        for b in bytes {
            c = step(config: c, b)
            if c.isEmpty { return [] }
        }
        return c
    }

    func initialConfig() -> [Int32] {
        closure(intern(program.ruleStart[Int(program.rootRule)], 0))
    }
}
