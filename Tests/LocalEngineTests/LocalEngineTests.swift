import ChatAPI
import Foundation
import LocalEngine
import XCTest

final class LocalEngineTests: XCTestCase {
    func testModelLoadsWithNameVocabularyAndTemplate() throws {
        let engine = try requireEngine(TestEngines.shared)
        XCTAssertEqual(engine.model.vocabularySize, 49152)
        XCTAssertFalse(engine.modelName.isEmpty)
        XCTAssertEqual(engine.contextSize, 4096, "default: 4096 (SmolLM2 was trained on 8192)")
        XCTAssertNotNil(engine.model.chatTemplate)
        XCTAssertFalse(engine.model.endOfGenerationTokens.isEmpty)
        XCTAssertEqual(engine.model.detokenize(engine.model.tokenize("Hello, wörld 🌍!", addSpecial: false, parseSpecial: false)),
                       "Hello, wörld 🌍!")
    }

    func testPromptRenderingUsesTheModelTemplateAndMapsDeveloperToSystem() throws {
        let engine = try requireEngine(TestEngines.shared)
        var request = GenerationRequest(messages: [
            PromptMessage(role: "developer", content: "Be brief."),
            PromptMessage(role: "user", content: "Hi"),
        ])
        XCTAssertEqual(try engine.renderPrompt(request),
                       "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        request.addGenerationPrompt = false
        XCTAssertFalse(try engine.renderPrompt(request).hasSuffix("<|im_start|>assistant\n"))
        // Special-token text in the rendered prompt becomes the special tokens themselves.
        let tokens = try engine.promptTokens(request)
        let imStart = engine.model.tokenize("<|im_start|>", addSpecial: false, parseSpecial: true)
        XCTAssertEqual(imStart.count, 1)
        XCTAssertEqual(tokens.first, imStart.first)
    }

    func testGreedyGenerationIsDeterministic() async throws {
        let engine = try requireEngine(TestEngines.shared)
        let request = chat("Name three colors.", maxTokens: 24)
        let first = try await collect(engine.generate(request))
        let second = try await collect(engine.generate(request))
        XCTAssertFalse(first.text.isEmpty)
        XCTAssertEqual(first.text, second.text)
        XCTAssertEqual(first.usage?.completionTokens, second.usage?.completionTokens)
    }

    func testSameSeedReproducesDifferentSeedsDiffer() async throws {
        let engine = try requireEngine(TestEngines.shared)
        func run(_ seed: UInt64) async throws -> String {
            try await collect(engine.generate(chat("Tell me a story.", maxTokens: 24, temperature: 1.0, seed: seed))).text
        }
        let a1 = try await run(1), a2 = try await run(1)
        XCTAssertEqual(a1, a2, "same seed, same request")
        var others: Set<String> = [a1]
        for seed: UInt64 in 2...4 { others.insert(try await run(seed)) }
        XCTAssertGreaterThan(others.count, 1, "four seeds all gave the same text")
    }

    func testMaxTokensEndsWithLengthAndCountsExactly() async throws {
        let engine = try requireEngine(TestEngines.shared)
        var request = chat("Write a long essay about the sea.", maxTokens: 7)
        let recorder = RecordingProcessor(banned: engine.model.endOfGenerationTokens)
        request.logitsProcessor = recorder
        let result = try await collect(engine.generate(request))
        XCTAssertEqual(result.reason, .length)
        XCTAssertEqual(result.usage?.completionTokens, 7)
        XCTAssertEqual(recorder.accepted.count, 7)
        XCTAssertEqual(result.text, engine.model.detokenize(recorder.accepted))

        request.maxTokens = 0
        let none = try await collect(engine.generate(request))
        XCTAssertEqual(none.reason, .length)
        XCTAssertEqual(none.usage?.completionTokens, 0)
        XCTAssertEqual(none.text, "")
    }

    func testStopStringsNeverLeakAndFinishWithStop() async throws {
        let engine = try requireEngine(TestEngines.shared)
        var request = chat("Write a long essay about the sea.", maxTokens: 48)
        request.logitsProcessor = RecordingProcessor(banned: engine.model.endOfGenerationTokens)
        let full = try await collect(engine.generate(request)).text
        let characters = Array(full)
        XCTAssertGreaterThan(characters.count, 40)
        // Stops taken from inside the text (likely spanning token boundaries), plus one that
        // never occurs.
        for (start, length) in [(10, 5), (25, 2), (30, 9)] {
            let stop = String(characters[start..<(start + length)])
            let expected = String(full[..<full.range(of: stop)!.lowerBound])
            request.stop = [stop, "never-occurs-xyz"]
            request.logitsProcessor = RecordingProcessor(banned: engine.model.endOfGenerationTokens)
            let result = try await collect(engine.generate(request))
            XCTAssertEqual(result.text, expected, "stop \(stop.debugDescription)")
            XCTAssertFalse(result.text.contains(stop))
            XCTAssertEqual(result.reason, .stop)
        }
    }

    func testCancellingTheConsumerStopsGenerationAtOnce() async throws {
        let engine = try requireEngine(TestEngines.shared)
        var request = chat("Write a long essay about the sea.", maxTokens: 2000)
        let recorder = RecordingProcessor(banned: engine.model.endOfGenerationTokens)
        request.logitsProcessor = recorder

        // 1. The consumer breaks out of its loop and drops the stream.
        let stepsAtBreak = try await Task { () -> Int in
            var deltas = 0
            for try await event in engine.generate(request) {
                if case .textDelta = event { deltas += 1 }
                if deltas == 5 { return recorder.steps }
            }
            return -1
        }.value
        XCTAssertGreaterThan(stepsAtBreak, 0)
        try await Task.sleep(nanoseconds: 400_000_000)
        let afterBreak = recorder.steps
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(recorder.steps, afterBreak, "generation still running after the consumer left")
        XCTAssertLessThanOrEqual(afterBreak - stepsAtBreak, 2, "tokens generated after cancellation")

        // 2. The consuming task is cancelled while waiting.
        let second = RecordingProcessor(banned: engine.model.endOfGenerationTokens)
        request.logitsProcessor = second
        let task = Task { () -> Int in
            var deltas = 0
            for try await event in engine.generate(request) {
                if case .textDelta = event { deltas += 1 }
            }
            return deltas
        }
        while second.steps < 5 { try await Task.sleep(nanoseconds: 5_000_000) }
        let stepsAtCancel = second.steps
        task.cancel()
        _ = try? await task.value
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertLessThanOrEqual(second.steps - stepsAtCancel, 2, "tokens generated after cancellation")

        // 3. The engine serves the next request normally.
        let next = try await collect(engine.generate(chat("Say hi.", maxTokens: 4)))
        XCTAssertNotNil(next.reason)
    }

    func testConcurrentRequestsBothCompleteCorrectly() async throws {
        let engine = try requireEngine(TestEngines.small)
        let a = chat("Name three fruits.", maxTokens: 20)
        let b = chat("What is the capital of France?", maxTokens: 20)
        let soloA = try await collect(engine.generate(a))
        let soloB = try await collect(engine.generate(b))
        async let concurrentA = collect(engine.generate(a))
        async let concurrentB = collect(engine.generate(b))
        async let concurrentA2 = collect(engine.generate(a))
        let (ra, rb, ra2) = try await (concurrentA, concurrentB, concurrentA2)
        XCTAssertEqual(ra.text, soloA.text)
        XCTAssertEqual(rb.text, soloB.text)
        XCTAssertEqual(ra2.text, soloA.text)
        XCTAssertEqual(ra.usage, soloA.usage)
        XCTAssertEqual(rb.usage, soloB.usage)
    }

    func testDeltasAreValidUTF8EvenWhenTokensSplitCharacters() async throws {
        let engine = try requireEngine(TestEngines.shared)
        let model = engine.model
        // Allow only tokens made entirely of bytes >= 0x80: the text is then built from
        // fragments of multi-byte characters that must be joined across tokens.
        var mask = TokenMask(vocabularySize: model.vocabularySize, allowed: false)
        var splitters = Set<Int32>()
        for token in 0..<Int32(model.vocabularySize) {
            let bytes = model.tokenBytes(token)
            guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x80 }) else { continue }
            mask[token] = true
            if String(validatingUTF8: (Array(bytes) + [0]).map { CChar(bitPattern: $0) }) == nil {
                splitters.insert(token)
            }
        }
        XCTAssertFalse(splitters.isEmpty)
        var request = chat("Écris en chinois: 你好，世界。", maxTokens: 40, temperature: 0.7, seed: 5)
        let recorder = RecordingProcessor(allowed: mask)
        request.logitsProcessor = recorder
        let result = try await collect(engine.generate(request))
        XCTAssertEqual(recorder.accepted.count, 40)
        XCTAssertTrue(recorder.accepted.contains { splitters.contains($0) },
                      "no token split a character; the test proves nothing")
        // Streaming in pieces gives exactly what decoding all bytes at once gives.
        XCTAssertEqual(result.text, model.detokenize(recorder.accepted))
        let replacements = result.text.unicodeScalars.filter { $0 == "\u{FFFD}" }.count
        let expectedReplacements = model.detokenize(recorder.accepted).unicodeScalars.filter { $0 == "\u{FFFD}" }.count
        XCTAssertEqual(replacements, expectedReplacements)
    }

    func testPromptTooLongIsATypedError() async throws {
        let engine = try requireEngine(TestEngines.small)
        let request = chat(String(repeating: "lorem ipsum dolor sit amet ", count: 200))
        let count = try engine.countTokens(request)
        XCTAssertGreaterThan(count, engine.contextSize)
        XCTAssertThrowsError(try engine.validate(request)) { error in
            XCTAssertEqual(error as? LocalEngineError, .promptTooLong(tokens: count, limit: engine.contextSize))
        }
        do {
            _ = try await collect(engine.generate(request))
            XCTFail("expected promptTooLong")
        } catch let error as LocalEngineError {
            XCTAssertEqual(error, .promptTooLong(tokens: count, limit: engine.contextSize))
        }
    }

    func testRunningOutOfContextEndsWithLength() async throws {
        let engine = try requireEngine(TestEngines.small)
        var request = chat("Write a long essay about the sea.", maxTokens: nil)
        request.logitsProcessor = RecordingProcessor(banned: engine.model.endOfGenerationTokens)
        let result = try await collect(engine.generate(request))
        XCTAssertEqual(result.reason, .length)
        let usage = try XCTUnwrap(result.usage)
        XCTAssertEqual(usage.promptTokens + usage.completionTokens, engine.contextSize + 1,
                       "the last token is sampled from the last slot's logits without being stored")
    }

    func testUsageMatchesTokenization() async throws {
        let engine = try requireEngine(TestEngines.shared)
        var request = chat("What is 2+2?", system: "You are a calculator.", maxTokens: 16)
        let recorder = RecordingProcessor()
        request.logitsProcessor = recorder
        let result = try await collect(engine.generate(request))
        let usage = try XCTUnwrap(result.usage)
        let rendered = try engine.renderPrompt(request)
        XCTAssertEqual(usage.promptTokens, engine.model.tokenize(rendered, addSpecial: false, parseSpecial: true).count)
        XCTAssertEqual(usage.promptTokens, try engine.countTokens(request))
        let textTokens = recorder.accepted.filter { !engine.model.isEndOfGeneration($0) }
        XCTAssertEqual(usage.completionTokens, textTokens.count)
        XCTAssertEqual(result.text, engine.model.detokenize(textTokens))
        if result.reason == .stop { XCTAssertTrue(engine.model.isEndOfGeneration(recorder.accepted.last!)) }
    }

    func testConsecutiveRequestsReuseTheSharedPromptPrefix() async throws {
        let engine = try requireEngine(TestEngines.shared)
        let request = chat("Reuse check: name a planet.", system: "You are an astronomer.", maxTokens: 4)
        _ = try await collect(engine.generate(request))
        let again = try await collect(engine.generate(request))
        let usage = try XCTUnwrap(again.usage)
        XCTAssertEqual(usage.cachedPromptTokens, usage.promptTokens - 1)
        let other = try await collect(engine.generate(chat("Something else entirely.", system: "You are an astronomer.", maxTokens: 2)))
        let otherUsage = try XCTUnwrap(other.usage)
        XCTAssertGreaterThan(otherUsage.cachedPromptTokens, 3, "the system turn is shared")
        XCTAssertLessThan(otherUsage.cachedPromptTokens, otherUsage.promptTokens - 1)
    }

    func testInvalidSamplingParametersAreRejected() throws {
        let engine = try requireEngine(TestEngines.shared)
        var request = chat("Hi")
        request.sampling.topP = 0
        XCTAssertThrowsError(try engine.validate(request))
        request = chat("Hi")
        request.maxTokens = -1
        XCTAssertThrowsError(try engine.validate(request))
        request = chat("Hi", temperature: -1)
        XCTAssertThrowsError(try engine.validate(request))
    }
}
