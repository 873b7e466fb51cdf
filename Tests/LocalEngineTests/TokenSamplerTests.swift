@testable import LocalEngine
import XCTest

final class TokenSamplerTests: XCTestCase {
    private func sample(_ sampler: TokenSampler, _ logits: [Float]) -> Int32 {
        var copy = logits
        return copy.withUnsafeMutableBufferPointer { sampler.sample($0) }
    }

    func testSeededGeneratorIsReproducibleAndSeedSensitive() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        let sa = (0..<8).map { _ in a.next() }
        XCTAssertEqual(sa, (0..<8).map { _ in b.next() })
        XCTAssertNotEqual(sa, (0..<8).map { _ in c.next() })
        for _ in 0..<1000 {
            let u = a.nextUnit()
            XCTAssertTrue(u >= 0 && u < 1)
        }
    }

    func testTemperatureZeroIsArgmax() {
        let sampler = TokenSampler(vocabularySize: 5)
        var p = SamplingParameters()
        p.temperature = 0
        sampler.reset(p)
        XCTAssertEqual(sample(sampler, [0.1, 3, -1, 2.9, .nan]), 1)
    }

    func testFrequencyAndPresencePenaltiesFollowOpenAI() {
        let sampler = TokenSampler(vocabularySize: 3)
        var p = SamplingParameters()
        p.temperature = 0
        p.frequencyPenalty = 0.5
        p.presencePenalty = 0.25
        sampler.reset(p)
        sampler.accept(0)
        sampler.accept(0)
        var logits: [Float] = [2.0, 1.0, 0.0]
        _ = logits.withUnsafeMutableBufferPointer { sampler.sample($0) }
        // token 0 seen twice: 2 - 2 * 0.5 - 0.25
        XCTAssertEqual(logits, [0.75, 1.0, 0.0])
        sampler.reset(p)  // a new generation forgets the counts
        logits = [2.0, 1.0, 0.0]
        XCTAssertEqual(logits.withUnsafeMutableBufferPointer { sampler.sample($0) }, 0)
    }

    func testSameSeedSameDrawsDifferentSeedsDiffer() {
        let logits = (0..<1000).map { Float(sin(Double($0))) }
        func draws(_ seed: UInt64) -> [Int32] {
            let sampler = TokenSampler(vocabularySize: logits.count)
            var p = SamplingParameters()
            p.seed = seed
            p.topP = 0.9
            sampler.reset(p)
            return (0..<50).map { _ in sample(sampler, logits) }
        }
        XCTAssertEqual(draws(3), draws(3))
        XCTAssertNotEqual(draws(3), draws(4))
    }

    func testTopPKeepsOnlyTheNucleus() {
        // Probabilities 0.5, 0.25, 0.125, … : top_p 0.7 keeps exactly the first two tokens.
        let logits: [Float] = (0..<12).map { -Float($0) * logf(2) }
        let sampler = TokenSampler(vocabularySize: logits.count)
        var p = SamplingParameters()
        p.seed = 11
        p.topP = 0.7
        sampler.reset(p)
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<4000 { counts[Int(sample(sampler, logits))] += 1 }
        XCTAssertEqual(counts[2...].reduce(0, +), 0, "tokens outside the nucleus were drawn: \(counts)")
        // Renormalised: 2/3 vs 1/3.
        XCTAssertEqual(Double(counts[0]) / 4000, 2.0 / 3.0, accuracy: 0.04)
    }

    func testNucleusSelectionMatchesSortingOnRandomInputs() {
        var rng = SeededGenerator(seed: 99)
        for trial in 0..<300 {
            let n = 1 + Int(rng.next() % 3000)
            // Many ties in some trials (coarse values), smooth in others.
            let coarse = trial % 3 == 0
            var weights = (0..<n).map { _ -> Float in
                let u = Float(rng.nextUnit())
                return coarse ? Float(Int(u * 8) + 1) : expf(u * 12)
            }
            var ids = (0..<n).map { Int32($0) }
            let original = weights
            let total = weights.reduce(0.0) { $0 + Double($1) }
            let topP = rng.nextUnit()
            let mass = topP * total
            let size = ids.withUnsafeMutableBufferPointer { i in
                weights.withUnsafeMutableBufferPointer { w in
                    TokenSampler.selectNucleus(i, w, count: n, mass: mass)
                }
            }
            // Reference: sort descending, keep until the running sum reaches the mass.
            let sorted = original.sorted(by: >)
            var expected = 0
            var sum: Double = 0
            repeat {
                sum += Double(sorted[expected])
                expected += 1
            } while expected < n && sum < mass
            XCTAssertEqual(size, expected, "trial \(trial) n \(n) topP \(topP)")
            // The selected ids carry their own weights, and are the largest ones.
            for k in 0..<size { XCTAssertEqual(weights[k], original[Int(ids[k])]) }
            let smallestKept = weights[0..<size].min()!
            if size < n { XCTAssertGreaterThanOrEqual(smallestKept, weights[size...].max()!) }
        }
    }

    func testTokenMaskForbidsEverythingElse() {
        var mask = TokenMask(vocabularySize: 130, allowed: false)
        mask[3] = true
        mask[64] = true
        mask[129] = true
        var logits = [Float](repeating: 1, count: 130)
        logits.withUnsafeMutableBufferPointer { mask.apply(to: $0) }
        let allowed = logits.indices.filter { logits[$0] == 1 }
        XCTAssertEqual(allowed, [3, 64, 129])
        XCTAssertTrue(logits.enumerated().allSatisfy { [3, 64, 129].contains($0.offset) || $0.element == -.infinity })
        let all = TokenMask(vocabularySize: 130, allowed: true)
        logits = [Float](repeating: 1, count: 130)
        logits.withUnsafeMutableBufferPointer { all.apply(to: $0) }
        XCTAssertTrue(logits.allSatisfy { $0 == 1 })
    }
}
