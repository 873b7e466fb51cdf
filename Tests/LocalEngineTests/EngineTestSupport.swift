import ChatAPI
import Foundation
import LocalEngine
import XCTest

/// The default model, loaded once for all engine tests (XCTest runs them in one process).
enum TestEngines {
    static let modelPath = LocalEngineConfiguration.defaultModelPath

    static let shared: LocalEngine? = make { _ in }

    /// A small context without prefix reuse: every request reads its whole prompt from
    /// position 0, so outputs are comparable bit for bit across runs.
    static let small: LocalEngine? = make {
        $0.contextSize = 256
        $0.reusePromptPrefix = false
    }

    private static func make(_ adjust: (inout LocalEngineConfiguration) -> Void) -> LocalEngine? {
        guard FileManager.default.fileExists(atPath: modelPath) else { return nil }
        var configuration = LocalEngineConfiguration(modelPath: modelPath)
        adjust(&configuration)
        do {
            return try LocalEngine(configuration: configuration)
        } catch {
            fatalError("could not load \(modelPath): \(error)")
        }
    }
}

func requireEngine(_ engine: LocalEngine?) throws -> LocalEngine {
    guard let engine else { throw XCTSkip("model file missing: \(TestEngines.modelPath) (run scripts/bootstrap)") }
    return engine
}

/// Everything a stream produced.
struct Collected {
    var deltas: [String] = []
    var finishes: [(FinishReason, TokenUsage)] = []
    var text: String { deltas.joined() }
    var reason: FinishReason? { finishes.last?.0 }
    var usage: TokenUsage? { finishes.last?.1 }
}

func collect(_ stream: AsyncThrowingStream<ChatEvent, Error>) async throws -> Collected {
    var result = Collected()
    for try await event in stream {
        switch event {
        case .textDelta(let text): result.deltas.append(text)
        case .finished(let reason, let usage): result.finishes.append((reason, usage))
        default: XCTFail("unexpected event \(event)")
        }
    }
    XCTAssertEqual(result.finishes.count, 1, "a stream ends with exactly one .finished")
    return result
}

func chat(_ user: String, system: String? = nil, maxTokens: Int? = 32, temperature: Double = 0,
          seed: UInt64? = nil) -> GenerationRequest {
    var messages: [PromptMessage] = []
    if let system { messages.append(PromptMessage(role: "system", content: system)) }
    messages.append(PromptMessage(role: "user", content: user))
    var request = GenerationRequest(messages: messages)
    request.maxTokens = maxTokens
    request.sampling.temperature = temperature
    request.sampling.seed = seed
    return request
}

/// Records every accepted token and every sampling step; optionally forbids tokens
/// (end-of-generation, so a run lasts exactly max_tokens) or allows only some.
final class RecordingProcessor: LogitsProcessor, @unchecked Sendable {
    private let lock = NSLock()
    private var _accepted: [Int32] = []
    private var _steps = 0
    private let banned: [Int32]
    private let allowed: TokenMask?

    init(banned: [Int32] = [], allowed: TokenMask? = nil) {
        self.banned = banned
        self.allowed = allowed
    }

    var accepted: [Int32] { lock.withLock { _accepted } }
    var steps: Int { lock.withLock { _steps } }

    func process(_ logits: UnsafeMutableBufferPointer<Float>) {
        lock.withLock { _steps += 1 }
        for token in banned { logits[Int(token)] = -.infinity }
        allowed?.apply(to: logits)
    }

    func didAccept(_ token: Int32) { lock.withLock { _accepted.append(token) } }
}
