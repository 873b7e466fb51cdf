import JSONSchemaKit

/// The compiled form of a grammar: a recursive transition network. Each rule is a small
/// automaton whose edges consume bytes or call other rules; terminal rules (JSON strings,
/// numbers) are byte DFAs. A matcher position is a stack of frames: a structural state id (≥ 0)
/// or a terminal frame (negative: DFA index and DFA state).
final class GrammarProgram: @unchecked Sendable {
    struct ByteEdge { var lo: UInt8; var hi: UInt8; var to: Int32 }
    struct Call { var rule: Int32; var ret: Int32 }

    var byteEdges: [[ByteEdge]] = []
    var calls: [[Call]] = []
    var accepting: [Bool] = []
    /// First frame of each rule (structural start state or terminal frame).
    var ruleStart: [Int32] = []
    var dfas: [ByteDFA] = []
    var rootRule: Int32 = 0

    static let stateBits: Int32 = 20
    @inline(__always) static func terminalFrame(dfa: Int32, state: Int32) -> Int32 {
        -1 - ((dfa << stateBits) | state)
    }
    @inline(__always) static func decodeTerminal(_ frame: Int32) -> (dfa: Int, state: Int32) {
        let v = -1 - frame
        return (Int(v >> stateBits), v & ((1 << stateBits) - 1))
    }
}

/// Builds a `GrammarProgram`: states with byte, call and epsilon edges; `finish()` removes
/// epsilons and everything that cannot lead to a complete match.
final class ProgramBuilder {
    private var edges: [[GrammarProgram.ByteEdge]] = []
    private var calls: [[GrammarProgram.Call]] = []
    private var eps: [[Int32]] = []
    private var accepting: [Bool] = []
    private var ruleStart: [Int32] = []
    private var ruleIsTerminal: [Bool] = []
    private var dfas: [ByteDFA] = []
    private var dfaIndex: [ObjectIdentifier: Int32] = [:]
    private var terminalRuleOf: [Int32: Int32] = [:]
    let maxStates: Int

    init(maxStates: Int = 400_000) { self.maxStates = maxStates }

    var stateCount: Int { edges.count }

    func newState() throws -> Int32 {
        if edges.count >= maxStates { throw GrammarError.tooLarge("more than \(maxStates) grammar states") }
        edges.append([]); calls.append([]); eps.append([]); accepting.append(false)
        return Int32(edges.count - 1)
    }

    /// Declares a structural rule; its start state is created now so recursive references can
    /// call it before its body is built.
    func newRule() throws -> (rule: Int32, start: Int32) {
        let s = try newState()
        ruleStart.append(s)
        ruleIsTerminal.append(false)
        return (Int32(ruleStart.count - 1), s)
    }

    /// The rule matching exactly the language of `dfa` (one rule per distinct DFA).
    func terminalRule(_ dfa: ByteDFA) -> Int32 {
        let oid = ObjectIdentifier(dfa)
        let d: Int32
        if let x = dfaIndex[oid] { d = x } else {
            d = Int32(dfas.count)
            dfas.append(dfa)
            dfaIndex[oid] = d
        }
        if let r = terminalRuleOf[d] { return r }
        ruleStart.append(GrammarProgram.terminalFrame(dfa: d, state: 0))
        ruleIsTerminal.append(true)
        let r = Int32(ruleStart.count - 1)
        terminalRuleOf[d] = r
        return r
    }

    func accept(_ s: Int32) { accepting[Int(s)] = true }
    func epsilon(_ from: Int32, _ to: Int32) { eps[Int(from)].append(to) }
    func bytes(_ from: Int32, _ lo: UInt8, _ hi: UInt8, _ to: Int32) {
        edges[Int(from)].append(.init(lo: lo, hi: hi, to: to))
    }
    func call(_ from: Int32, _ rule: Int32, _ ret: Int32) { calls[Int(from)].append(.init(rule: rule, ret: ret)) }

    /// Appends a literal; returns the state after it.
    func literal(_ from: Int32, _ bytes: [UInt8]) throws -> Int32 {
        var s = from
        for b in bytes {
            let t = try newState()
            self.bytes(s, b, b, t)
            s = t
        }
        return s
    }

    /// A deterministic trie of byte strings from `from`; returns each entry's end state.
    func literalTrie(_ from: Int32, _ entries: [[UInt8]]) throws -> [Int32] {
        var children: [Int32: [UInt8: Int32]] = [:]
        var ends: [Int32] = []
        for entry in entries {
            var s = from
            for b in entry {
                if let t = children[s]?[b] { s = t; continue }
                let t = try newState()
                self.bytes(s, b, b, t)
                children[s, default: [:]][b] = t
                s = t
            }
            ends.append(s)
        }
        return ends
    }

    func finish(root: Int32, budget: WorkBudget) throws -> GrammarProgram {
        let n = edges.count
        // Epsilon closure.
        var outEdges = [[GrammarProgram.ByteEdge]](repeating: [], count: n)
        var outCalls = [[GrammarProgram.Call]](repeating: [], count: n)
        var outAcc = [Bool](repeating: false, count: n)
        for s in 0..<n {
            try budget.spend()
            if eps[s].isEmpty {
                outEdges[s] = edges[s]; outCalls[s] = calls[s]; outAcc[s] = accepting[s]
                continue
            }
            var seen: Set<Int32> = [Int32(s)]
            var stack = [Int32(s)]
            while let x = stack.popLast() {
                try budget.spend(1 + edges[Int(x)].count + calls[Int(x)].count)
                outEdges[s] += edges[Int(x)]
                outCalls[s] += calls[Int(x)]
                if accepting[Int(x)] { outAcc[s] = true }
                for t in eps[Int(x)] where !seen.contains(t) { seen.insert(t); stack.append(t) }
            }
        }
        let (live, productive) = try liveStatesAndProductiveRules(edges: outEdges, calls: outCalls, accepting: outAcc, budget: budget)
        guard productive[Int(root)] else { throw GrammarError.unsatisfiable("no value satisfies the schema") }
        let p = GrammarProgram()
        p.byteEdges = (0..<n).map { s in live[s] ? outEdges[s].filter { live[Int($0.to)] } : [] }
        p.calls = (0..<n).map { s in live[s] ? outCalls[s].filter { productive[Int($0.rule)] && live[Int($0.ret)] } : [] }
        p.accepting = outAcc
        p.ruleStart = ruleStart
        p.dfas = dfas
        p.rootRule = root
        return p
    }

    /// A state is live when it can reach acceptance of its rule; a rule is productive when it
    /// is a terminal or its start state is live. Propagated backwards from what is known, each
    /// edge and call looked at a bounded number of times: sweeping all states until nothing
    /// changes took one sweep per state of a long literal (minutes for a 27 KB property name).
    private func liveStatesAndProductiveRules(edges: [[GrammarProgram.ByteEdge]], calls: [[GrammarProgram.Call]], accepting: [Bool],
                                              budget: WorkBudget) throws -> (live: [Bool], productive: [Bool]) {
        let n = edges.count
        var edgeSources = [[Int32]](repeating: [], count: n)
        var callsReturningTo = [[(rule: Int32, caller: Int32)]](repeating: [], count: n)
        var callsOfRule = [[(caller: Int32, ret: Int32)]](repeating: [], count: ruleStart.count)
        var rulesStartingAt: [Int32: [Int32]] = [:]
        for s in 0..<n {
            try budget.spend(1 + edges[s].count + calls[s].count)
            for edge in edges[s] { edgeSources[Int(edge.to)].append(Int32(s)) }
            for call in calls[s] {
                callsReturningTo[Int(call.ret)].append((call.rule, Int32(s)))
                callsOfRule[Int(call.rule)].append((Int32(s), call.ret))
            }
        }
        for (rule, start) in ruleStart.enumerated() where start >= 0 { rulesStartingAt[start, default: []].append(Int32(rule)) }

        var live = [Bool](repeating: false, count: n)
        var productive = [Bool](repeating: false, count: ruleStart.count)
        var newlyLive: [Int32] = []
        var newlyProductive: [Int32] = []
        func markLive(_ s: Int32) { if !live[Int(s)] { live[Int(s)] = true; newlyLive.append(s) } }
        func markProductive(_ r: Int32) { if !productive[Int(r)] { productive[Int(r)] = true; newlyProductive.append(r) } }
        for s in 0..<n where accepting[s] { markLive(Int32(s)) }
        for r in 0..<ruleStart.count where ruleIsTerminal[r] { markProductive(Int32(r)) }
        while !newlyLive.isEmpty || !newlyProductive.isEmpty {
            try budget.spend()
            if let t = newlyLive.popLast() {
                for s in edgeSources[Int(t)] { markLive(s) }
                for call in callsReturningTo[Int(t)] where productive[Int(call.rule)] { markLive(call.caller) }
                for r in rulesStartingAt[t] ?? [] { markProductive(r) }
            } else if let r = newlyProductive.popLast() {
                for call in callsOfRule[Int(r)] where live[Int(call.ret)] { markLive(call.caller) }
            }
        }
        return (live, productive)
    }
}
