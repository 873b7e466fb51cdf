/// Turns the byte pieces of generated tokens into text deltas that are always valid UTF-8
/// and never contain any part of a stop string.
///
/// It holds back (a) the tail that could still become a stop string and (b) an incomplete
/// multi-byte character at the end, and releases them once the next bytes rule that out.
/// A stop string cuts the output at its first occurrence; it is never emitted.
public struct TextStreamer {
    private let stops: [[UInt8]]
    private var pending: [UInt8] = []
    public private(set) var stopped = false

    /// Empty stop strings are ignored (they would match everywhere).
    public init(stops: [String]) {
        self.stops = stops.map { Array($0.utf8) }.filter { !$0.isEmpty }
        pending.reserveCapacity(64)
    }

    /// Adds a token's bytes; returns the text that is now safe to emit (possibly empty).
    /// After a stop string is found, `stopped` is true and further input is ignored.
    public mutating func append<Bytes: Collection>(_ bytes: Bytes) -> String
    where Bytes.Element == UInt8 {
        if stopped { return "" }
        pending.append(contentsOf: bytes)
        if let cut = firstStopOccurrence() {
            stopped = true
            let text = String(decoding: pending[0..<cut], as: UTF8.self)
            pending.removeAll()
            return text
        }
        var end = pending.count - longestStopPrefixSuffix()
        end = Self.completeCharacterBoundary(pending, end: end)
        if end == 0 { return "" }
        let text = String(decoding: pending[0..<end], as: UTF8.self)
        pending.removeFirst(end)
        return text
    }

    /// Releases everything held back (at the end of generation without a stop string).
    /// An incomplete trailing character becomes U+FFFD.
    public mutating func finish() -> String {
        if stopped { return "" }
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        return text
    }

    private func firstStopOccurrence() -> Int? {
        var best: Int?
        for stop in stops where stop.count <= pending.count {
            let last = pending.count - stop.count
            var start = 0
            search: while start <= last {
                if let b = best, start >= b { break }
                var k = 0
                while k < stop.count && pending[start + k] == stop[k] { k += 1 }
                if k == stop.count {
                    best = start
                    break search
                }
                start += 1
            }
        }
        return best
    }

    /// Length of the longest suffix of `pending` that is a proper prefix of some stop string.
    private func longestStopPrefixSuffix() -> Int {
        var longest = 0
        for stop in stops {
            var length = min(stop.count - 1, pending.count)
            while length > longest {
                if pending[(pending.count - length)...].elementsEqual(stop[0..<length]) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest
    }

    /// Moves `end` back so that `bytes[0..<end]` does not finish with an incomplete
    /// multi-byte UTF-8 sequence. Invalid bytes are left for decoding to replace.
    static func completeCharacterBoundary(_ bytes: [UInt8], end: Int) -> Int {
        var i = end - 1
        var continuation = 0
        while i >= 0 && continuation < 3 && bytes[i] & 0xC0 == 0x80 {
            continuation += 1
            i -= 1
        }
        guard i >= 0 else { return end }
        let lead = bytes[i]
        let length: Int
        switch lead {
        case 0xC0...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF7: length = 4
        default: length = 1
        }
        return i + length > end ? i : end
    }
}
