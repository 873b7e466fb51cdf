/// Why a generation ended, with OpenAI's spelling as the raw value.
public enum FinishReason: String, Sendable, Codable, Equatable {
    case stop
    case length
    case toolCalls = "tool_calls"
    case contentFilter = "content_filter"
}

/// Token accounting for one generation.
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// Prompt tokens served from a reused KV-cache prefix (OpenAI's `cached_tokens`).
    public var cachedPromptTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }

    public init(promptTokens: Int, completionTokens: Int, cachedPromptTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedPromptTokens = cachedPromptTokens
    }
}

/// The one event stream every backend produces (ARCHITECTURE.md, "One event stream").
///
/// The server encodes these as SSE chunks or folds them into one response; the SDK folds the
/// same chunks back into messages. A stream ends with exactly one `.finished`.
public enum ChatEvent: Sendable, Equatable {
    /// Visible answer text.
    case textDelta(String)
    /// Reasoning text (`<think>` and the like), reported as `reasoning_content`.
    case reasoningDelta(String)
    /// The provider's seal over the reasoning just sent (Anthropic's thinking `signature`),
    /// reported as `reasoning_signature`. Opaque: a client that sends the reasoning back on the
    /// next turn sends this with it, unchanged, or the provider cannot accept the reasoning.
    case reasoningSignature(String)
    /// A tool call begins: sent once per call, before any of its argument fragments.
    case toolCallStarted(index: Int, id: String, name: String)
    /// A fragment of a tool call's JSON arguments; fragments concatenate to the full text.
    case toolCallArgumentsDelta(index: Int, fragment: String)
    /// Generation ended.
    case finished(reason: FinishReason, usage: TokenUsage)
}
