/// A hook into every sampling step, for constrained decoding (the Grammar module's token masks)
/// and anything else that must see or shape the logits.
///
/// The engine calls both methods on its generation thread only, so an implementation may keep
/// mutable per-request state without locks; it must not be shared between requests, which
/// generate side by side.
public protocol LogitsProcessor: AnyObject, Sendable {
    /// Adjusts the raw logits of the next token in place before penalties, temperature and
    /// top-p are applied. Set a token's logit to `-Float.infinity` to forbid it. At least one
    /// token must stay allowed.
    func process(_ logits: UnsafeMutableBufferPointer<Float>)
    /// Called with every token the sampler accepted, in order (including the final
    /// end-of-generation token, if one is sampled).
    func didAccept(_ token: Int32)
}

/// A set of allowed tokens as a bitset over the vocabulary (bit t set = token t allowed),
/// with a fast `apply` that forbids every other token.
public struct TokenMask: Sendable, Equatable {
    public private(set) var words: [UInt64]
    public let vocabularySize: Int

    /// A mask allowing everything (`allowed: true`) or nothing.
    public init(vocabularySize: Int, allowed: Bool) {
        self.vocabularySize = vocabularySize
        let count = (vocabularySize + 63) / 64
        words = [UInt64](repeating: allowed ? ~0 : 0, count: count)
        if allowed, vocabularySize % 64 != 0 {
            words[count - 1] = (UInt64(1) << UInt64(vocabularySize % 64)) - 1
        }
    }

    public subscript(token: Int32) -> Bool {
        get { words[Int(token) >> 6] & (UInt64(1) << UInt64(token & 63)) != 0 }
        set {
            if newValue { words[Int(token) >> 6] |= UInt64(1) << UInt64(token & 63) }
            else { words[Int(token) >> 6] &= ~(UInt64(1) << UInt64(token & 63)) }
        }
    }

    /// Sets every forbidden token's logit to -infinity.
    public func apply(to logits: UnsafeMutableBufferPointer<Float>) {
        words.withUnsafeBufferPointer { _ = LogitsMasking.keepOnly($0, vocabularySize: vocabularySize, in: logits) }
    }
}

/// Applying an allowed-token bitset (bit t of word t/64 set = token t allowed) to logits; shared
/// by `TokenMask` and the grammar processor, whose masks use the same layout.
enum LogitsMasking {
    /// Sets the logit of every token outside the bitset (and beyond `vocabularySize`) to
    /// -infinity, skipping whole 64-token words that are all allowed. Returns how many tokens
    /// stay allowed.
    @discardableResult
    static func keepOnly(_ words: UnsafeBufferPointer<UInt64>, vocabularySize: Int,
                         in logits: UnsafeMutableBufferPointer<Float>) -> Int {
        let n = min(vocabularySize, logits.count)
        let wordCount = min(words.count, (n + 63) / 64)
        func word(_ w: Int) -> UInt64 {
            let valid = n - (w << 6)
            return valid >= 64 ? words[w] : words[w] & ((UInt64(1) << UInt64(valid)) - 1)
        }
        var allowed = 0
        for w in 0..<wordCount { allowed += word(w).nonzeroBitCount }
        if allowed * 4 < n {
            // Few allowed (the usual case under a grammar): save them, wipe everything with one
            // fill, put them back; far cheaper than a store per forbidden token.
            var kept: [(Int, Float)] = []
            kept.reserveCapacity(allowed)
            for w in 0..<wordCount {
                var bits = word(w)
                while bits != 0 {
                    let token = (w << 6) + bits.trailingZeroBitCount
                    kept.append((token, logits[token]))
                    bits &= bits - 1
                }
            }
            logits.update(repeating: -.infinity)
            for (token, value) in kept { logits[token] = value }
            return allowed
        }
        for w in 0..<wordCount {
            let base = w << 6
            let bits = word(w)
            if bits == ~0 { continue }
            let end = min(base + 64, n)
            var forbidden = ~bits
            while forbidden != 0 {
                let token = base + forbidden.trailingZeroBitCount
                if token >= end { break }
                logits[token] = -.infinity
                forbidden &= forbidden - 1
            }
        }
        for token in n..<logits.count { logits[token] = -.infinity }
        return allowed
    }
}

/// A `LogitsProcessor` that forbids a fixed set of tokens (e.g. end-of-generation tokens in a
/// benchmark that must produce exactly N tokens).
public final class BannedTokensProcessor: LogitsProcessor {
    public let banned: [Int32]
    public init(banned: [Int32]) { self.banned = banned }
    public func process(_ logits: UnsafeMutableBufferPointer<Float>) {
        for token in banned where Int(token) < logits.count { logits[Int(token)] = -.infinity }
    }
    public func didAccept(_ token: Int32) {}
}
