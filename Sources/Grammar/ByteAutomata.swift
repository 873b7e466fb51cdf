import ChatAPI
import JSONSchemaKit

/// A nondeterministic automaton over bytes with epsilon moves; the building material for
/// terminals (strings, numbers) before determinization.
struct ByteNFA {
    struct Edge { var lo: UInt8; var hi: UInt8; var to: Int32 }
    var edges: [[Edge]] = []
    var eps: [[Int32]] = []
    var accepting: [Bool] = []

    @discardableResult mutating func addState() -> Int32 {
        edges.append([]); eps.append([]); accepting.append(false)
        return Int32(edges.count - 1)
    }
    mutating func edge(_ from: Int32, _ lo: UInt8, _ hi: UInt8, _ to: Int32) {
        edges[Int(from)].append(Edge(lo: lo, hi: hi, to: to))
    }
    mutating func byte(_ from: Int32, _ b: UInt8, _ to: Int32) { edge(from, b, b, to) }
    mutating func epsilon(_ from: Int32, _ to: Int32) { eps[Int(from)].append(to) }

    /// Appends a literal byte string starting at `from`; returns the end state.
    mutating func literal(_ from: Int32, _ bytes: [UInt8]) -> Int32 {
        var s = from
        for b in bytes {
            let t = addState()
            byte(s, b, t)
            s = t
        }
        return s
    }

    /// Appends a sequence of byte ranges (one position each).
    mutating func ranges(_ from: Int32, _ seq: [(UInt8, UInt8)], to end: Int32) {
        var s = from
        for (i, r) in seq.enumerated() {
            let t = i == seq.count - 1 ? end : addState()
            edge(s, r.0, r.1, t)
            s = t
        }
    }

    var stateCount: Int { edges.count }
}

/// A deterministic automaton over bytes with byte equivalence classes. State 0 is the start;
/// every state can reach an accepting state (dead states are removed), so a transition that
/// exists is always a step towards some valid completion.
final class ByteDFA: @unchecked Sendable {
    let classOf: [UInt8]
    let classCount: Int
    /// next[state * classCount + class], -1 = no transition.
    let next: [Int32]
    let accepting: [Bool]
    /// True when the state has at least one outgoing transition.
    let hasOut: [Bool]
    /// Stable identity used to share token-walk caches across grammars.
    let key: String
    /// For automata built around a shared one (see `Overlay`); nil for ordinary ones.
    let overlay: Overlay?

    /// How the states of an automaton relate to a shared `base` automaton whose token walks are
    /// cached once per vocabulary. From state `q`, a token of at most `capacity[q]` bytes that
    /// does not start with a byte of `differing[q]` is accepted (and leaves the automaton at the
    /// same offset, if it does) exactly as from `base` state `mimics[q]`. Token walks from such a
    /// state reuse the base walk and walk only the tokens that start with a differing byte.
    /// Examples: "any key but these names" steps like "rest of a string" except on the names'
    /// bytes; a string of at most 2,000 characters, 100 characters in, accepts the same tokens as
    /// an unbounded string (no token is 1,900 bytes long).
    struct Overlay {
        let base: ByteDFA
        /// Base state mimicked by each state, or -1 (walked in full).
        let mimics: [Int32]
        let differing: [[UInt8]]
        /// Longest token (bytes) for which the mimicry holds.
        let capacity: [Int32]
    }

    var stateCount: Int { accepting.count }

    init(classOf: [UInt8], classCount: Int, next: [Int32], accepting: [Bool], key: String, overlay: Overlay? = nil) {
        self.classOf = classOf
        self.classCount = classCount
        self.next = next
        self.accepting = accepting
        self.key = key
        self.overlay = overlay
        var out = [Bool](repeating: false, count: accepting.count)
        for s in 0..<accepting.count {
            for c in 0..<classCount where next[s * classCount + c] >= 0 { out[s] = true; break }
        }
        self.hasOut = out
    }

    @inline(__always) func step(_ state: Int32, _ byte: UInt8) -> Int32 {
        next[Int(state) * classCount + Int(classOf[Int(byte)])]
    }

    /// Whether this string automaton accepts `value` spelled as a JSON string literal (quotes
    /// included); charges `budget` for the walk.
    func acceptsQuoted(_ value: String, budget: WorkBudget) throws -> Bool {
        try budget.spend(1 + value.utf8.count / 16)
        var s: Int32 = 0
        for byte in JSONValue.quoted(value).utf8 {
            s = step(s, byte)
            if s < 0 { return false }
        }
        return accepting[Int(s)]
    }

    /// Subset construction; `nil` when the language is empty.
    static func determinize(_ nfa: ByteNFA, start: Int32, key: String, maxStates: Int = 60_000,
                            budget: WorkBudget? = nil) throws -> ByteDFA? {
        // Byte classes: bytes that no edge boundary separates behave identically.
        var boundary = [Bool](repeating: false, count: 257)
        for list in nfa.edges { for e in list { boundary[Int(e.lo)] = true; boundary[Int(e.hi) + 1] = true } }
        var classOf = [UInt8](repeating: 0, count: 256)
        var cls = -1
        var reps: [UInt8] = []
        for b in 0..<256 {
            if b == 0 || boundary[b] { cls += 1; reps.append(UInt8(b)) }
            classOf[b] = UInt8(cls)
        }
        let classCount = cls + 1

        func closure(_ set: [Int32]) -> [Int32] {
            var seen = Set(set)
            var stack = set
            while let s = stack.popLast() {
                for t in nfa.eps[Int(s)] where !seen.contains(t) { seen.insert(t); stack.append(t) }
            }
            return seen.sorted()
        }
        var ids: [[Int32]: Int32] = [:]
        var sets: [[Int32]] = []
        var next: [Int32] = []
        var accepting: [Bool] = []
        let s0 = closure([start])
        ids[s0] = 0; sets.append(s0)
        var i = 0
        while i < sets.count {
            let cur = sets[i]
            try budget?.spend(classCount * cur.count)
            accepting.append(cur.contains { nfa.accepting[Int($0)] })
            for c in 0..<classCount {
                let b = reps[c]
                var moved: [Int32] = []
                for s in cur { for e in nfa.edges[Int(s)] where e.lo <= b && b <= e.hi { moved.append(e.to) } }
                if moved.isEmpty { next.append(-1); continue }
                let target = closure(moved)
                try budget?.spend(moved.count + target.count)
                if let id = ids[target] {
                    next.append(id)
                } else {
                    let id = Int32(sets.count)
                    if sets.count >= maxStates { throw GrammarError.tooLarge("string/number automaton exceeds \(maxStates) states") }
                    ids[target] = id; sets.append(target); next.append(id)
                }
            }
            i += 1
        }
        return prune(classOf: classOf, classCount: classCount, next: next, accepting: accepting, key: key)
    }

    /// Removes states that cannot reach acceptance and renumbers; nil when the start is dead.
    static func prune(classOf: [UInt8], classCount: Int, next: [Int32], accepting: [Bool], key: String) -> ByteDFA? {
        let n = accepting.count
        var reverse = [[Int32]](repeating: [], count: n)
        for s in 0..<n { for c in 0..<classCount { let t = next[s * classCount + c]; if t >= 0 { reverse[Int(t)].append(Int32(s)) } } }
        var live = accepting
        var stack = (0..<n).filter { accepting[$0] }.map(Int32.init)
        while let t = stack.popLast() { for s in reverse[Int(t)] where !live[Int(s)] { live[Int(s)] = true; stack.append(s) } }
        guard live[0] else { return nil }
        var map = [Int32](repeating: -1, count: n)
        var count: Int32 = 0
        for s in 0..<n where live[s] { map[s] = count; count += 1 }
        var newNext = [Int32](repeating: -1, count: Int(count) * classCount)
        var newAcc = [Bool](repeating: false, count: Int(count))
        for s in 0..<n where live[s] {
            let ns = Int(map[s])
            newAcc[ns] = accepting[s]
            for c in 0..<classCount {
                let t = next[s * classCount + c]
                if t >= 0 { newNext[ns * classCount + c] = map[Int(t)] }
            }
        }
        return ByteDFA(classOf: classOf, classCount: classCount, next: newNext, accepting: newAcc, key: key)
    }
}
