/// A set of token ids as a bitset, one bit per vocabulary entry (bit set = token allowed).
public struct TokenMask: Equatable, Sendable {
    public private(set) var words: [UInt64]
    public let count: Int

    public init(count: Int) {
        self.count = count
        self.words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    @inline(__always) public func contains(_ token: Int) -> Bool {
        words[token >> 6] & (1 << UInt64(token & 63)) != 0
    }

    @inline(__always) public mutating func insert(_ token: Int) {
        words[token >> 6] |= 1 << UInt64(token & 63)
    }

    public mutating func remove(_ token: Int) {
        words[token >> 6] &= ~(1 << UInt64(token & 63))
    }

    public mutating func clear() {
        for i in words.indices { words[i] = 0 }
    }

    public mutating func formUnion(_ other: TokenMask) {
        words.withUnsafeMutableBufferPointer { dst in
            other.words.withUnsafeBufferPointer { src in
                for i in 0..<dst.count { dst[i] |= src[i] }
            }
        }
    }

    /// Removes every token of `other`.
    public mutating func subtract(_ other: TokenMask) {
        words.withUnsafeMutableBufferPointer { dst in
            other.words.withUnsafeBufferPointer { src in
                for i in 0..<dst.count { dst[i] &= ~src[i] }
            }
        }
    }

    /// Overwrites this mask with `other` (same vocabulary size).
    public mutating func assign(_ other: TokenMask) {
        words.withUnsafeMutableBufferPointer { dst in
            other.words.withUnsafeBufferPointer { src in
                dst.baseAddress!.update(from: src.baseAddress!, count: dst.count)
            }
        }
    }

    /// Number of allowed tokens.
    public var popCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The allowed token ids in increasing order.
    public var tokens: [Int] {
        var out: [Int] = []
        for (w, word) in words.enumerated() where word != 0 {
            var x = word
            while x != 0 {
                out.append(w * 64 + x.trailingZeroBitCount)
                x &= x - 1
            }
        }
        return out
    }
}
