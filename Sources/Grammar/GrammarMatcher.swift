/// Tracks one generation against a compiled grammar: which tokens may come next, accepting
/// tokens, completion, forced continuations and rollback.
///
/// Not thread-safe by itself (use one matcher per sequence); matchers of the same grammar may be
/// used from different threads (shared caches are locked).
public struct GrammarMatcher {
    let runtime: GrammarRuntime
    var config: [Int32]
    var history: [[Int32]] = []
    /// True once an end-of-generation token was accepted.
    public private(set) var isTerminated = false

    init(runtime: GrammarRuntime) {
        self.runtime = runtime
        runtime.lock.lock()
        self.config = runtime.initialConfig()
        runtime.lock.unlock()
    }

    /// True when the text so far is a complete match (end of generation is allowed now).
    public var isComplete: Bool { config.first == 0 }

    /// True when no further text can be added (complete and nothing may follow).
    public var mustEnd: Bool { config == [0] }

    /// Number of tokens accepted (and not rolled back) so far.
    public var tokenCount: Int { history.count }

    /// Writes the allowed-token mask for the next token into `mask` (sized to the vocabulary).
    /// End-of-generation ids are allowed exactly when `isComplete`.
    public func fillMask(_ mask: inout TokenMask) {
        if isTerminated { mask.clear(); return }
        runtime.lock.lock()
        runtime.fillMask(config, &mask)
        runtime.lock.unlock()
    }

    /// Whether `token` may come next.
    public func canAccept(token: Int) -> Bool {
        if isTerminated { return false }
        let v = runtime.vocab
        if v.endOfGenerationIDs.contains(token) { return isComplete }
        if v.specialIDs.contains(token) { return false }
        runtime.lock.lock()
        defer { runtime.lock.unlock() }
        return !runtime.advance(config, bytes: v.tokenBytes[token]).isEmpty
    }

    /// Advances by `token`; returns false (and changes nothing) when it is not allowed.
    @discardableResult
    public mutating func accept(token: Int) -> Bool {
        if isTerminated { return false }
        let v = runtime.vocab
        if v.endOfGenerationIDs.contains(token) {
            guard isComplete else { return false }
            history.append(config)
            isTerminated = true
            return true
        }
        if v.specialIDs.contains(token) { return false }
        return accept(bytes: v.tokenBytes[token])
    }

    /// Advances by raw bytes (counted as one step for rollback).
    @discardableResult
    public mutating func accept(bytes: [UInt8]) -> Bool {
        if isTerminated { return false }
        runtime.lock.lock()
        let next = runtime.advance(config, bytes: bytes)
        runtime.lock.unlock()
        guard !next.isEmpty else { return false }
        history.append(config)
        config = next
        return true
    }

    /// Undoes the last `n` accepted tokens (or byte runs).
    public mutating func rollback(_ n: Int) {
        let k = min(n, history.count)
        guard k > 0 else { return }
        config = history[history.count - k]
        history.removeLast(k)
        isTerminated = false
    }

    /// The bytes that must come next whatever is generated (e.g. `":` after a unique key
    /// prefix, or a whole constant), stopping where a choice exists or the value may end.
    public func forcedBytes(limit: Int = 256) -> [UInt8] {
        if isTerminated { return [] }
        runtime.lock.lock()
        defer { runtime.lock.unlock() }
        var out: [UInt8] = []
        var c = config
        while out.count < limit, c.first != 0 {
            var only: (UInt8, [Int32])?
            var many = false
            for b in 0...255 {
                let n = runtime.step(config: c, UInt8(b))
                if n.isEmpty { continue }
                if only != nil { many = true; break }
                only = (UInt8(b), n)
            }
            guard !many, let (b, n) = only else { break }
            out.append(b)
            c = n
        }
        return out
    }
}
