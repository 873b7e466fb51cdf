/// Identity shared by a response and all chunks of one stream.
public struct CompletionIdentity: Sendable, Equatable {
    /// `chatcmpl-…`
    public var id: String
    /// Unix seconds.
    public var created: Int
    public var model: String
    public var systemFingerprint: String?

    public init(id: String, created: Int, model: String, systemFingerprint: String? = nil) {
        self.id = id
        self.created = created
        self.model = model
        self.systemFingerprint = systemFingerprint
    }

    /// A fresh identity with a random `chatcmpl-` id and the current time.
    public static func new(model: String, systemFingerprint: String? = nil, now: Double) -> CompletionIdentity {
        CompletionIdentity(id: "chatcmpl-" + randomID(length: 24), created: Int(now), model: model,
                           systemFingerprint: systemFingerprint)
    }

    func envelope(object: String) -> JSONObject {
        var o: JSONObject = ["id": .string(id), "object": .string(object), "created": .int(created), "model": .string(model)]
        o["system_fingerprint"] = systemFingerprint.map(JSONValue.string) ?? .null
        return o
    }
}

/// Random alphanumeric id text (for `chatcmpl-…` and `call_…` ids).
public func randomID(length: Int) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    let base = UInt64(alphabet.count)
    var g = SystemRandomNumberGenerator()
    var id: [UInt8] = []
    id.reserveCapacity(length)
    // Each draw is a system call on Linux, so one draw gives up to 8 characters: a number
    // uniform below 62^8 has 8 uniform, independent base-62 digits.
    while id.count < length {
        let digits = min(8, length - id.count)
        var n = g.next(upperBound: (0..<digits).reduce(1) { product, _ in product * base })
        for _ in 0..<digits {
            id.append(alphabet[Int(n % base)])
            n /= base
        }
    }
    return String(decoding: id, as: UTF8.self)
}

extension TokenUsage {
    /// OpenAI's `usage` object.
    public var json: JSONValue {
        [
            "prompt_tokens": .int(promptTokens),
            "completion_tokens": .int(completionTokens),
            "total_tokens": .int(totalTokens),
            "prompt_tokens_details": ["cached_tokens": .int(cachedPromptTokens)],
        ]
    }
}

/// A complete (non-streaming) chat completion with one choice.
public struct ChatCompletion: Sendable, Equatable {
    public var identity: CompletionIdentity
    public var content: String?
    public var reasoningContent: String?
    /// The provider's seal over `reasoningContent` (see `ChatEvent.reasoningSignature`).
    public var reasoningSignature: String?
    public var toolCalls: [ToolCall]
    public var finishReason: FinishReason
    public var usage: TokenUsage
    /// Answer in the deprecated `function_call` dialect (the request used `functions`).
    public var legacyFunctionCall: Bool

    public init(identity: CompletionIdentity, content: String?, reasoningContent: String? = nil, reasoningSignature: String? = nil, toolCalls: [ToolCall] = [],
                finishReason: FinishReason, usage: TokenUsage, legacyFunctionCall: Bool = false) {
        self.identity = identity
        self.content = content
        self.reasoningContent = reasoningContent
        self.reasoningSignature = reasoningSignature
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.usage = usage
        self.legacyFunctionCall = legacyFunctionCall
    }

    /// The response body as OpenAI sends it (`object: "chat.completion"`).
    public var json: JSONValue {
        var message: JSONObject = ["role": "assistant", "content": content.map(JSONValue.string) ?? .null, "refusal": .null]
        if let reasoning = reasoningContent { message["reasoning_content"] = .string(reasoning) }
        if let reasoningSignature { message["reasoning_signature"] = .string(reasoningSignature) }
        var finish = finishReason.rawValue
        if legacyFunctionCall, let call = toolCalls.first {
            message["function_call"] = ["name": .string(call.name), "arguments": .string(call.arguments)]
            if finishReason == .toolCalls { finish = "function_call" }
        } else if !toolCalls.isEmpty {
            message["tool_calls"] = .array(toolCalls.map { call in
                ["id": .string(call.id), "type": "function",
                 "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
            })
        }
        var o = identity.envelope(object: "chat.completion")
        o["choices"] = [["index": 0, "message": .object(message), "logprobs": .null, "finish_reason": .string(finish)]]
        o["usage"] = usage.json
        return .object(o)
    }
}

/// The models list of `GET /v1/models`.
public struct ModelList: Sendable {
    public struct Entry: Sendable {
        public var id: String
        public var created: Int
        public var ownedBy: String
        /// What the model can do (`tools`, `streaming`, …), listed as the extra field `capabilities`.
        public var capabilities: JSONObject?
        public init(id: String, created: Int, ownedBy: String, capabilities: JSONObject? = nil) {
            self.id = id
            self.created = created
            self.ownedBy = ownedBy
            self.capabilities = capabilities
        }
        public var json: JSONValue {
            var o: JSONObject = ["id": .string(id), "object": "model", "created": .int(created), "owned_by": .string(ownedBy)]
            if let capabilities { o["capabilities"] = .object(capabilities) }
            return .object(o)
        }
    }
    public var models: [Entry]
    public init(models: [Entry]) { self.models = models }
    public var json: JSONValue { ["object": "list", "data": .array(models.map(\.json))] }
}
