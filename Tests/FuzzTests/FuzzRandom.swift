/// A seeded, deterministic generator (SplitMix64), so a failing run can be replayed exactly
/// with `FUZZ_SEED=<seed>`. The system generator cannot be seeded, hence our own.
struct FuzzRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

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
