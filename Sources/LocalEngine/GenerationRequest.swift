import ChatAPI

/// One message of the prompt, already reduced to text (content parts joined).
public struct PromptMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// Sampling settings, with OpenAI's meanings and defaults.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy (argmax). OpenAI default 1.
    public var temperature: Double = 1.0
    /// Nucleus sampling mass. OpenAI default 1.
    public var topP: Double = 1.0
    /// Same seed + same request → same output. nil draws a random seed.
    public var seed: UInt64? = nil
    /// OpenAI's presence penalty (-2...2): subtract once for every token already generated.
    public var presencePenalty: Double = 0
    /// OpenAI's frequency penalty (-2...2): subtract per occurrence of a generated token.
    public var frequencyPenalty: Double = 0
    public init() {}
}

/// What the local engine needs to generate one completion.
public struct GenerationRequest: Sendable {
    public var messages: [PromptMessage]
    public var sampling = SamplingParameters()
    /// Maximum number of generated tokens; nil means until end-of-generation or the context ends.
    public var maxTokens: Int? = nil
    /// Stop sequences: generation ends before the first occurrence, which is never emitted.
    public var stop: [String] = []
    /// End the rendered prompt with the opening of an assistant turn (the usual case).
    public var addGenerationPrompt = true
    /// Prompt text rendered elsewhere (e.g. by the Jinja templates with tools); when set,
    /// `messages` are ignored. Every request-derived string in it must have been escaped with
    /// the model's `requestTextEscaping` before rendering: the rest is the template's markup,
    /// whose special-token text becomes special tokens (`LlamaModel.tokenizePrompt`).
    public var renderedPrompt: String? = nil
    /// Hook applied to the logits at every step and told of every accepted token
    /// (constrained decoding). Must not be shared between concurrent requests.
    public var logitsProcessor: (any LogitsProcessor)? = nil
    public init(messages: [PromptMessage]) { self.messages = messages }
}
