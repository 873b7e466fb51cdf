import Foundation

/// Chooses the next token from raw logits with OpenAI's sampling semantics, in Swift
/// (llama.cpp's sampler chain is not used).
///
/// Order per step: presence/frequency penalties over the tokens generated so far → greedy
/// argmax when temperature is 0 → otherwise softmax at the temperature, nucleus (top-p) cut by
/// partial selection (expected O(vocabulary), no full sort), and a draw from the seeded PRNG.
/// All buffers are allocated once per vocabulary; a step allocates nothing.
public final class TokenSampler {
    public let vocabularySize: Int
    public private(set) var parameters = SamplingParameters()
    private var generator = SeededGenerator(seed: 0)
    /// How often each token was accepted in this generation (for the penalties).
    private var counts: [Int32]
    /// Tokens whose count is non-zero, so penalties and resets touch only those.
    private var seen: [Int32] = []
    /// Scratch: candidate token ids and their unnormalised probabilities.
    private var ids: [Int32]
    private var weights: [Float]

    public init(vocabularySize: Int) {
        self.vocabularySize = vocabularySize
        counts = [Int32](repeating: 0, count: vocabularySize)
        ids = [Int32](repeating: 0, count: vocabularySize)
        weights = [Float](repeating: 0, count: vocabularySize)
        seen.reserveCapacity(1024)
    }

    /// Starts a new generation with `parameters`; `seed` nil draws a random seed.
    public func reset(_ parameters: SamplingParameters) {
        self.parameters = parameters
        generator = SeededGenerator(seed: parameters.seed ?? UInt64.random(in: .min ... .max))
        for token in seen { counts[Int(token)] = 0 }
        seen.removeAll(keepingCapacity: true)
    }

    /// Records an accepted token for the presence/frequency penalties.
    public func accept(_ token: Int32) {
        guard token >= 0, Int(token) < vocabularySize else { return }
        if counts[Int(token)] == 0 { seen.append(token) }
        counts[Int(token)] += 1
    }

    /// Samples one token. `logits` (vocabularySize entries) is modified in place by the penalties.
    public func sample(_ logits: UnsafeMutableBufferPointer<Float>) -> Int32 {
        precondition(logits.count >= vocabularySize, "logits shorter than the vocabulary")
        applyPenalties(logits)
        if parameters.temperature <= 0 { return Self.argmax(logits, count: vocabularySize) }
        return sampleWithTemperature(logits)
    }

    private func applyPenalties(_ logits: UnsafeMutableBufferPointer<Float>) {
        let presence = Float(parameters.presencePenalty)
        let frequency = Float(parameters.frequencyPenalty)
        if presence == 0 && frequency == 0 { return }
        for token in seen {
            let count = Float(counts[Int(token)])
            logits[Int(token)] -= count * frequency + presence
        }
    }

    /// Index of the largest logit (the first one on ties); NaN never wins.
    public static func argmax(_ logits: UnsafeMutableBufferPointer<Float>, count: Int) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<count where logits[i] > bestValue {
            bestValue = logits[i]
            best = i
        }
        return Int32(best)
    }

    private func sampleWithTemperature(_ logits: UnsafeMutableBufferPointer<Float>) -> Int32 {
        let n = vocabularySize
        let maxLogit = logits[Int(Self.argmax(logits, count: n))]
        if maxLogit == -.infinity { return 0 }  // everything forbidden: nothing sensible to do
        let inverseTemperature = Float(1 / parameters.temperature)
        return ids.withUnsafeMutableBufferPointer { ids in
            weights.withUnsafeMutableBufferPointer { weights in
                // Softmax numerators; tokens with weight 0 (forbidden or underflowed) are dropped.
                var count = 0
                var total: Double = 0
                for i in 0..<n {
                    let w = expf((logits[i] - maxLogit) * inverseTemperature)
                    if w > 0 {
                        ids[count] = Int32(i)
                        weights[count] = w
                        total += Double(w)
                        count += 1
                    }
                }
                if parameters.topP < 1 {
                    count = Self.selectNucleus(
                        ids, weights, count: count, mass: max(parameters.topP, 0) * total)
                    total = 0
                    for i in 0..<count { total += Double(weights[i]) }
                }
                var target = generator.nextUnit() * total
                for i in 0..<count {
                    target -= Double(weights[i])
                    if target < 0 { return ids[i] }
                }
                return ids[count - 1]  // rounding left a sliver of mass unassigned
            }
        }
    }

    /// Reorders the first `count` candidates so the nucleus comes first and returns its size:
    /// the fewest highest-weight candidates whose weights sum to at least `mass` (the one that
    /// crosses the line is included; at least one candidate). Quickselect with 3-way partitions,
    /// expected linear time; deterministic, so a seed reproduces the same draw.
    static func selectNucleus(
        _ ids: UnsafeMutableBufferPointer<Int32>, _ weights: UnsafeMutableBufferPointer<Float>,
        count: Int, mass: Double
    ) -> Int {
        var lo = 0
        var hi = count
        var need = mass
        func swapAt(_ a: Int, _ b: Int) {
            ids.swapAt(a, b)
            weights.swapAt(a, b)
        }
        while hi - lo > 16 {
            // Median of three as the pivot.
            let a = weights[lo], b = weights[(lo + hi) / 2], c = weights[hi - 1]
            let pivot = max(min(a, b), min(max(a, b), c))
            // Dutch-flag partition of [lo, hi): > pivot | == pivot | < pivot.
            var greaterEnd = lo, i = lo, lessStart = hi
            var greaterSum: Double = 0
            while i < lessStart {
                let w = weights[i]
                if w > pivot {
                    greaterSum += Double(w)
                    swapAt(i, greaterEnd)
                    greaterEnd += 1
                    i += 1
                } else if w < pivot {
                    lessStart -= 1
                    swapAt(i, lessStart)
                } else {
                    i += 1
                }
            }
            if greaterEnd > lo && greaterSum >= need {
                hi = greaterEnd  // the nucleus ends inside the larger part
                continue
            }
            need -= greaterSum
            let equalCount = lessStart - greaterEnd
            let equalSum = Double(equalCount) * Double(pivot)
            if equalSum >= need {
                let taken = min(equalCount, max(1, Int((need / Double(pivot)).rounded(.up))))
                return greaterEnd + taken
            }
            need -= equalSum
            lo = lessStart
            if lo >= hi { return hi }
        }
        // Small remainder: insertion sort descending, then take until the mass is reached.
        if lo < hi {
            for i in (lo + 1)..<hi {
                var j = i
                while j > lo && weights[j - 1] < weights[j] {
                    swapAt(j - 1, j)
                    j -= 1
                }
            }
        }
        var end = lo
        while end < hi {
            let w = weights[end]
            end += 1
            need -= Double(w)
            if need <= 0 { break }
        }
        return max(end, 1)
    }
}
