import TestSupport

/// The fuzz targets' draws on the seeded generator (`FUZZ_SEED` replays a run exactly).
extension SplitMix64 {
    /// A value in `0..<upperBound` (`upperBound` > 0).
    mutating func below(_ upperBound: Int) -> Int { Int.random(in: 0..<upperBound, using: &self) }

    /// True with probability `1 / n`.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A size skewed toward small values but reaching `max` now and then: hostile inputs are
    /// mostly small, and the rare large ones are where limits get tested.
    mutating func skewedSize(max: Int) -> Int {
        let bits = below(Int.bitWidth - max.leadingZeroBitCount + 1)
        return Swift.min(max, below((1 << bits) + 1))
    }
}
