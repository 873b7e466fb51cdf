import ChatAPI
import Foundation
import LocalEngine
import XCTest

/// Continuous batching on the real default model: concurrent streams generate side by side in
/// one context and get exactly what they get alone; a cancelled stream gives its sequence up at
/// once; a long prompt is read in chunks between the running streams' tokens.
final class BatchingTests: XCTestCase {
    /// Scheduler steps as they happen.
    final class StepLog: @unchecked Sendable {
        private let lock = NSLock()
        private var _steps: [SchedulerStep] = []
        var steps: [SchedulerStep] { lock.withLock { _steps } }
        var count: Int { lock.withLock { _steps.count } }
        func record(_ step: SchedulerStep) { lock.withLock { _steps.append(step) } }
    }

    private func engine(parallel: Int, promptChunk: Int = 128, log: StepLog) throws -> LocalEngine {
        _ = try requireEngine(TestEngines.shared)
        var configuration = LocalEngineConfiguration(modelPath: TestEngines.modelPath)
        configuration.contextSize = 2048
        configuration.parallel = parallel
        configuration.promptChunk = promptChunk
        configuration.reusePromptPrefix = false
        configuration.stepObserver = { log.record($0) }
        return try LocalEngine(configuration: configuration)
    }

    func testEightConcurrentStreamsGetTheTokensTheyGetAlone() async throws {
        let log = StepLog()
        let engine = try engine(parallel: 8, log: log)
        XCTAssertEqual(engine.parallel, 8)
        let questions = ["Name three fruits.", "What is the capital of France?", "Count from one to five.",
                         "Describe the sea in one sentence.", "What colour is the sky?", "Say hello in Spanish.",
                         "Name a large planet.", "What do bees make?"]
        func request(_ question: String, _ recorder: RecordingProcessor) -> GenerationRequest {
            var request = chat(question, maxTokens: 24)
            request.logitsProcessor = recorder
            return request
        }
        var alone: [(String, [Int32])] = []
        for question in questions {
            let recorder = RecordingProcessor()
            let result = try await collect(engine.generate(request(question, recorder)))
            alone.append((result.text, recorder.accepted))
        }
        let stepsAlone = log.count
        let recorders = questions.map { _ in RecordingProcessor() }
        let together = try await withThrowingTaskGroup(of: (Int, Collected).self) { group in
            for (i, question) in questions.enumerated() {
                let generation = request(question, recorders[i])
                group.addTask { (i, try await collect(engine.generate(generation))) }
            }
            var results = [Collected](repeating: Collected(), count: questions.count)
            for try await (i, result) in group { results[i] = result }
            return results
        }
        for i in questions.indices {
            XCTAssertEqual(recorders[i].accepted, alone[i].1, "tokens of '\(questions[i])'")
            XCTAssertEqual(together[i].text, alone[i].0)
        }
        let batched = log.steps[stepsAlone...].map(\.generating.count).max() ?? 0
        XCTAssertGreaterThanOrEqual(batched, 6, "the streams decoded in shared steps")
    }

    func testACancelledStreamFreesItsSequenceWithinOneStep() async throws {
        let log = StepLog()
        let engine = try engine(parallel: 2, log: log)
        func long() -> (GenerationRequest, RecordingProcessor) {
            var request = chat("Write a long essay about the sea.", maxTokens: 1000)
            let recorder = RecordingProcessor(banned: engine.model.endOfGenerationTokens)
            request.logitsProcessor = recorder
            return (request, recorder)
        }
        let (first, firstRecorder) = long()
        let (second, _) = long()
        let cancelled = Task { for try await _ in engine.generate(first) {} }
        while firstRecorder.steps < 2 { try await Task.sleep(for: .milliseconds(5)) }
        // The stream to cancel generates alone for now: its sequence is the one in the steps.
        let firstSequence = try XCTUnwrap(log.steps.last?.generating.first)
        let kept = Task { for try await _ in engine.generate(second) {} }
        while engine.load.generating < 2 || firstRecorder.steps < 3 { try await Task.sleep(for: .milliseconds(5)) }

        // A third request waits: both sequences are busy.
        let waiting = Task { try await collect(engine.generate(chat("Say hi.", maxTokens: 4))) }
        while engine.load.queued < 1 { try await Task.sleep(for: .milliseconds(5)) }
        cancelled.cancel()
        _ = try? await cancelled.value  // the stream is dropped: its job is marked cancelled
        let stepAtCancel = log.count
        let third = try await waiting.value
        XCTAssertNotNil(third.reason)
        let steps = log.steps
        // The step running when the job was marked may still hold it; the next one must not.
        let stillThere = steps[stepAtCancel...].prefix(while: { $0.generating.count == 2 && $0.promptTokens.isEmpty })
        XCTAssertLessThanOrEqual(stillThere.count, 1, "the cancelled stream kept its sequence")
        XCTAssertTrue(steps[(stepAtCancel + 1)...].contains { $0.promptTokens[firstSequence] != nil },
                      "the waiting request took the freed sequence")
        kept.cancel()
        _ = try? await kept.value
    }

    func testALongPromptIsReadInChunksBetweenTheRunningStreamsTokens() async throws {
        let log = StepLog()
        let engine = try engine(parallel: 2, promptChunk: 64, log: log)
        var running = chat("Write a long essay about the sea.", maxTokens: 400)
        let recorder = RecordingProcessor(banned: engine.model.endOfGenerationTokens)
        running.logitsProcessor = recorder
        let stream = Task { for try await _ in engine.generate(running) {} }
        while recorder.steps < 3 { try await Task.sleep(for: .milliseconds(5)) }

        let longText = Array(repeating: "The quick brown fox jumps over the lazy dog.", count: 120).joined(separator: " ")
        let long = chat("Summarise: " + longText, maxTokens: 2)
        let promptLength = try engine.countTokens(long)
        XCTAssertGreaterThan(promptLength, 1000)
        let longResult = try await collect(engine.generate(long))
        XCTAssertEqual(longResult.usage?.promptTokens, promptLength)

        let reading = log.steps.filter { step in step.promptTokens.values.contains { $0 > 0 } && !step.generating.isEmpty }
        let chunks = reading.compactMap { $0.promptTokens.values.max() }
        XCTAssertGreaterThanOrEqual(chunks.reduce(0, +), promptLength - 64, "the prompt was read while the other stream ran")
        XCTAssertLessThanOrEqual(chunks.max() ?? 0, 64, "a step read more than one chunk while a stream was generating")
        XCTAssertGreaterThanOrEqual(reading.count, promptLength / 64, "one chunk per step, each with the running stream's token")
        stream.cancel()
        _ = try? await stream.value
    }

    /// `shutdown()` returns only once llama.cpp is idle for good: no step runs after it, the
    /// running stream ends with `shutDown`, and new requests are refused. (A process that
    /// exited with a decode still running crashed in llama.cpp's torn-down globals.)
    func testShutdownReturnsOnlyWhenGenerationHasStopped() async throws {
        let log = StepLog()
        let engine = try engine(parallel: 2, log: log)
        var running = chat("Write a long essay about the sea.", maxTokens: 1000)
        let recorder = RecordingProcessor(banned: engine.model.endOfGenerationTokens)
        running.logitsProcessor = recorder
        let stream = Task { try await collect(engine.generate(running)) }
        while recorder.steps < 3 { try await Task.sleep(for: .milliseconds(5)) }

        await engine.shutdown()
        let stepsAtReturn = log.count
        XCTAssertEqual(engine.load.generating, 0, "shutdown() returned while a sequence still generated")
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(log.count, stepsAtReturn, "a step ran after shutdown() returned")
        do {
            _ = try await stream.value
            XCTFail("the running stream finished normally")
        } catch LocalEngineError.shutDown {}
        do {
            _ = try await collect(engine.generate(chat("Say hi.", maxTokens: 4)))
            XCTFail("a request after shutdown was served")
        } catch LocalEngineError.shutDown {}
    }
}
