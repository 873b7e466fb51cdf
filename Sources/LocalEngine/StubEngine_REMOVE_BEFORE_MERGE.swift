import ChatAPI

// Temporary stand-in so the server compiles before the real engine is merged.
public struct LocalEngineConfiguration: Sendable {
    public var modelPath: String
    public var contextSize: Int = 4096
    public var threads: Int = 2
    public init(modelPath: String) { self.modelPath = modelPath }
}

public final class LocalEngine: Sendable {
    public init(configuration: LocalEngineConfiguration) throws {}
    public func generate(_ request: GenerationRequest) -> AsyncThrowingStream<ChatEvent, Error> {
        AsyncThrowingStream { c in
            for w in ["Hello", " there", "!"] { c.yield(.textDelta(w)) }
            c.yield(.finished(reason: .stop, usage: TokenUsage(promptTokens: 10, completionTokens: 3)))
            c.finish()
        }
    }
}
