/// Turns the `ChatEvent` stream into OpenAI stream chunks (`chat.completion.chunk`).
///
/// Rules it keeps (the conformance kit checks each): the first delta carries `role`; each tool
/// call's first delta carries `index`, `id`, `type` and `function.name` with empty arguments, and
/// later deltas carry only `index` and argument fragments; `finish_reason` appears exactly once;
/// every chunk has `usage: null` except the optional final usage chunk with `choices: []`.
public struct ChunkEncoder: Sendable {
    public let identity: CompletionIdentity
    public let includeUsage: Bool
    public let legacyFunctionCall: Bool
    private var sentRole = false
    private var calledTools = false

    public init(identity: CompletionIdentity, includeUsage: Bool, legacyFunctionCall: Bool = false) {
        self.identity = identity
        self.includeUsage = includeUsage
        self.legacyFunctionCall = legacyFunctionCall
    }

    /// The chunk that opens the stream (role only). Sending it early gives clients a fast first byte.
    public mutating func roleChunk() -> JSONValue {
        sentRole = true
        return chunk(delta: ["role": "assistant", "content": ""], finish: nil)
    }

    /// Chunks for one event (usually one; the finish event may add a usage chunk).
    public mutating func chunks(for event: ChatEvent) -> [JSONValue] {
        var out: [JSONValue] = []
        if !sentRole { out.append(roleChunk()) }
        switch event {
        case .textDelta(let text):
            if !text.isEmpty { out.append(chunk(delta: ["content": .string(text)], finish: nil)) }
        case .reasoningDelta(let text):
            if !text.isEmpty { out.append(chunk(delta: ["reasoning_content": .string(text)], finish: nil)) }
        case .reasoningSignature(let signature):
            out.append(chunk(delta: ["reasoning_signature": .string(signature)], finish: nil))
        case .toolCallStarted(let index, let id, let name):
            calledTools = true
            if legacyFunctionCall {
                out.append(chunk(delta: ["function_call": ["name": .string(name), "arguments": ""]], finish: nil))
            } else {
                out.append(chunk(delta: ["tool_calls": [["index": .int(index), "id": .string(id), "type": "function",
                                                         "function": ["name": .string(name), "arguments": ""]]]],
                                 finish: nil))
            }
        case .toolCallArgumentsDelta(let index, let fragment):
            guard !fragment.isEmpty else { break }
            if legacyFunctionCall {
                out.append(chunk(delta: ["function_call": ["arguments": .string(fragment)]], finish: nil))
            } else {
                out.append(chunk(delta: ["tool_calls": [["index": .int(index), "function": ["arguments": .string(fragment)]]]],
                                 finish: nil))
            }
        case .finished(let reason, let usage):
            var finish = reason.rawValue
            if legacyFunctionCall && reason == .toolCalls { finish = "function_call" }
            out.append(chunk(delta: [:], finish: finish))
            if includeUsage {
                var o = identity.envelope(object: "chat.completion.chunk")
                o["choices"] = []
                o["usage"] = usage.json
                out.append(.object(o))
            }
        }
        return out
    }

    /// A chunk whose delta carries fields of ours beyond OpenAI's (`mcp_calls`).
    public mutating func extensionChunk(_ delta: JSONObject) -> JSONValue {
        chunk(delta: delta, finish: nil)
    }

    private func chunk(delta: JSONObject, finish: String?) -> JSONValue {
        var o = identity.envelope(object: "chat.completion.chunk")
        o["choices"] = [["index": 0, "delta": .object(delta), "logprobs": .null,
                         "finish_reason": finish.map(JSONValue.string) ?? .null]]
        if includeUsage { o["usage"] = .null }
        return .object(o)
    }
}

/// Folds a `ChatEvent` stream into one `ChatCompletion` (the non-streaming response).
public struct CompletionAssembler: Sendable {
    public private(set) var text = ""
    public private(set) var reasoning = ""
    public private(set) var reasoningSignature: String?
    public private(set) var toolCalls: [ToolCall] = []
    public private(set) var finish: (reason: FinishReason, usage: TokenUsage)?

    public init() {}

    public mutating func add(_ event: ChatEvent) {
        switch event {
        case .textDelta(let t): text += t
        case .reasoningDelta(let t): reasoning += t
        case .reasoningSignature(let s): reasoningSignature = s
        case .toolCallStarted(let index, let id, let name):
            precondition(index == toolCalls.count, "tool calls must start in index order")
            toolCalls.append(ToolCall(id: id, name: name, arguments: ""))
        case .toolCallArgumentsDelta(let index, let fragment):
            toolCalls[index].arguments += fragment
        case .finished(let reason, let usage):
            finish = (reason, usage)
        }
    }

    /// The completion, once the stream has finished.
    /// When the token limit cut a call short, that call is left out: a half call is never
    /// presented as one the client could run (`finish_reason` still says `length`).
    public func completion(identity: CompletionIdentity, legacyFunctionCall: Bool = false) -> ChatCompletion? {
        guard let finish else { return nil }
        var toolCalls = self.toolCalls
        if finish.reason == .length {
            toolCalls.removeAll { (try? JSONValue(parsing: $0.arguments))?.objectValue == nil }
        }
        return ChatCompletion(
            identity: identity,
            content: text.isEmpty && !toolCalls.isEmpty ? nil : text,
            reasoningContent: reasoning.isEmpty ? nil : reasoning, reasoningSignature: reasoningSignature,
            toolCalls: toolCalls, finishReason: finish.reason, usage: finish.usage,
            legacyFunctionCall: legacyFunctionCall)
    }
}

/// Server-sent events framing as OpenAI uses it.
public enum SSE {
    /// `data: <json>\n\n`
    public static func event(_ json: JSONValue) -> String { "data: " + json.serialized() + "\n\n" }
    /// The terminator OpenAI clients wait for.
    public static let done = "data: [DONE]\n\n"
}
