/// Responses and stream chunks read back into `ChatEvent`s: what a gateway receives from an
/// OpenAI-compatible upstream and a client SDK receives from any server.
///
/// The text comes from the network, so nothing here trusts it: a body that breaks the wire
/// format is a 502 `APIError` naming the field, never a crash or a silently dropped part.
/// Known spellings of other servers are read too (`reasoning` for `reasoning_content`,
/// arguments as an object, the legacy `function_call`, missing call ids).

extension APIError {
    /// A 502 for an upstream answer that cannot be used.
    public static func badUpstream(_ message: String, code: String = "upstream_malformed_response") -> APIError {
        APIError(status: 502, message: message, type: "upstream_error", code: code)
    }

    /// An upstream's error body (`{"error": {…}}`, `{"error": "…"}` or FastAPI's
    /// `{"detail": …}`) as an error with the upstream's status kept.
    public init(upstreamStatus status: Int, body: JSONValue?) {
        let error = body?["error"]
        let message = error?["message"]?.stringValue ?? error?.stringValue ?? body?["message"]?.stringValue
            ?? body?["detail"].map { $0.stringValue ?? $0.serialized() }
            ?? "The upstream answered with HTTP status \(status)."
        let fallbackType = status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error"
        self.init(status: status, message: message, type: error?["type"]?.stringValue ?? fallbackType,
                  param: error?["param"]?.stringValue,
                  // Google's errors carry the HTTP status as `code` and the name as `status`.
                  code: error?["code"]?.stringValue ?? error?["status"]?.stringValue ?? error?["code"]?.intValue.map(String.init))
    }
}

extension FinishReason {
    /// OpenAI's value, with the legacy `function_call` read as `tool_calls`; nil for text this
    /// API does not define.
    public init?(wire: String) {
        switch wire {
        case "function_call": self = .toolCalls
        default: self.init(rawValue: wire)
        }
    }
}

extension TokenUsage {
    /// OpenAI's `usage` object; absent counts are 0.
    public init(json: JSONValue) {
        self.init(promptTokens: max(0, json["prompt_tokens"]?.intValue ?? 0),
                  completionTokens: max(0, json["completion_tokens"]?.intValue ?? 0),
                  cachedPromptTokens: max(0, json["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? 0))
    }
}

extension APIError {
    /// Runs `decode` over an upstream's answer, turning a field error of the shared readers (a
    /// 400 meant for clients) into a 502 about the upstream's `what` ("response", "stream chunk").
    public static func decodingUpstream<T>(_ what: String, _ decode: () throws -> T) throws -> T {
        do {
            return try decode()
        } catch let error as APIError where error.status == 400 {
            throw APIError.badUpstream("The upstream's \(what) is malformed: \(error.message)")
        }
    }
}

extension ChatCompletion {
    /// Decodes a `chat.completion` body (the first choice).
    public init(json: JSONValue) throws {
        self = try APIError.decodingUpstream("response") {
            let r = try FieldReader(json, path: "")
            guard let choice = try r.array("choices")?.first else { throw APIError.missing("choices") }
            let c = try FieldReader(choice, path: "choices[0]")
            guard let message = try c.objectReader("message") else { throw APIError.missing(c.param("message")) }
            var calls: [ToolCall] = []
            for (i, call) in (try message.array("tool_calls") ?? []).enumerated() {
                calls.append(try ToolCall(upstreamJSON: call, path: "\(message.param("tool_calls"))[\(i)]"))
            }
            if calls.isEmpty, let legacy = message.value("function_call") {
                calls.append(try ToolCall(upstreamJSON: ["function": legacy], path: message.param("function_call")))
            }
            let content: String? = switch message.value("content") {
            case nil: nil
            case .string(let s)?: s
            case let parts?: try MessageContent(json: parts, path: message.param("content"), allowedParts: ["text", "refusal"]).text
            }
            let finish = try c.string("finish_reason")
            return ChatCompletion(
                identity: CompletionIdentity(id: try r.string("id") ?? "", created: try r.int("created") ?? 0,
                                             model: try r.string("model") ?? "",
                                             systemFingerprint: try r.string("system_fingerprint")),
                content: content,
                reasoningContent: try message.string("reasoning_content") ?? message.string("reasoning"),
                reasoningSignature: try message.string("reasoning_signature"),
                toolCalls: calls,
                finishReason: finish.flatMap(FinishReason.init(wire:)) ?? (calls.isEmpty ? .stop : .toolCalls),
                usage: r.value("usage").map(TokenUsage.init(json:)) ?? TokenUsage(promptTokens: 0, completionTokens: 0))
        }
    }

    /// The completion as the event stream a backend would have produced for it.
    public var events: [ChatEvent] {
        var out: [ChatEvent] = []
        if let reasoningContent, !reasoningContent.isEmpty { out.append(.reasoningDelta(reasoningContent)) }
        if let reasoningSignature { out.append(.reasoningSignature(reasoningSignature)) }
        if let content, !content.isEmpty { out.append(.textDelta(content)) }
        for (index, call) in toolCalls.enumerated() {
            out.append(.toolCallStarted(index: index, id: call.id, name: call.name))
            out.append(.toolCallArgumentsDelta(index: index, fragment: call.arguments))
        }
        out.append(.finished(reason: finishReason, usage: usage))
        return out
    }
}

extension ToolCall {
    /// A call as an upstream wrote it: a missing id gets a fresh one, arguments given as an
    /// object become their JSON text.
    init(upstreamJSON json: JSONValue, path: String) throws {
        let r = try FieldReader(json, path: path)
        guard let function = try r.objectReader("function") else { throw APIError.missing(r.param("function")) }
        self.init(id: try r.string("id") ?? ToolCall.newID(), name: try function.requiredString("name"),
                  arguments: try ToolCall.argumentsText(function))
    }

    /// `function.arguments` as text; absent is `""` (a fragment that adds nothing).
    static func argumentsText(_ function: FieldReader) throws -> String {
        switch function.value("arguments") {
        case nil: return ""
        case .string(let s)?: return s
        case .object(let o)?: return JSONValue.object(o).serialized()
        case let other?: throw APIError.wrongType(function.param("arguments"), expected: "a string", got: other)
        }
    }

    /// A fresh id as OpenAI's look: `call_` and 24 random letters and digits.
    public static func newID() -> String { "call_" + randomID(length: 24) }
}

/// Folds the chunks of one `chat.completion.chunk` stream into `ChatEvent`s.
///
/// Tolerates what OpenAI-compatible servers really send: a call whole in one chunk (xAI),
/// every call at index 0 told apart only by its id, calls without ids, arguments as objects,
/// usage in a last chunk with no choices, or no usage at all. Call indexes on the way out are
/// always consecutive from 0, and `.finished` comes once, from `finish()`, after the usage.
public struct ChunkDecoder: Sendable {
    /// Upstream call index → the open call's id and our index.
    private var calls: [Int: (id: String?, index: Int)] = [:]
    private var lastUpstreamIndex: Int?
    private var callCount = 0
    private var finishReason: FinishReason?
    private var usage: TokenUsage?

    public init() {}

    /// The events one chunk carries. Throws a 502 for a chunk that breaks the format, and the
    /// upstream's own error for an `error` chunk.
    public mutating func events(for chunk: JSONValue) throws -> [ChatEvent] {
        if let error = chunk["error"], !error.isNull {
            let status = error["status"]?.intValue ?? error["code"]?.intValue ?? 502
            throw APIError(upstreamStatus: (400...599).contains(status) ? status : 502, body: chunk)
        }
        return try APIError.decodingUpstream("stream chunk") {
            let r = try FieldReader(chunk, path: "")
            if let usage = r.value("usage") { self.usage = TokenUsage(json: usage) }
            guard let choice = try r.array("choices")?.first else { return [] }
            let c = try FieldReader(choice, path: "choices[0]")
            var out: [ChatEvent] = []
            if let delta = try c.objectReader("delta") {
                if let reasoning = try delta.string("reasoning_content") ?? delta.string("reasoning"), !reasoning.isEmpty {
                    out.append(.reasoningDelta(reasoning))
                }
                if let signature = try delta.string("reasoning_signature") { out.append(.reasoningSignature(signature)) }
                if let text = try delta.string("content"), !text.isEmpty { out.append(.textDelta(text)) }
                for (i, call) in (try delta.array("tool_calls") ?? []).enumerated() {
                    out += try callEvents(FieldReader(call, path: "\(delta.param("tool_calls"))[\(i)]"))
                }
                if let legacy = delta.value("function_call") {
                    out += try callEvents(FieldReader(["index": 0, "function": legacy], path: delta.param("function_call")))
                }
            }
            if let finish = try c.string("finish_reason") {
                guard let reason = FinishReason(wire: finish) else {
                    throw APIError.invalidRequest("unknown finish_reason '\(finish)'", param: c.param("finish_reason"))
                }
                finishReason = reason
            }
            return out
        }
    }

    /// The closing `.finished`, once the stream has ended (`[DONE]` or end of body). Throws a
    /// 502 when the upstream never said why it stopped: the stream was cut.
    public func finish() throws -> ChatEvent {
        guard let finishReason else {
            throw APIError.badUpstream("The upstream's stream ended before it finished the response.", code: "upstream_stream_cut")
        }
        return .finished(reason: finishReason, usage: usage ?? TokenUsage(promptTokens: 0, completionTokens: 0))
    }

    /// A `tool_calls` delta entry: a new call (a new index, or a new id at a known index) starts
    /// with its id and name; otherwise its arguments continue the call at that index.
    private mutating func callEvents(_ r: FieldReader) throws -> [ChatEvent] {
        let upstreamIndex = try r.int("index") ?? lastUpstreamIndex ?? 0
        let id = try r.string("id")
        let function = try r.objectReader("function")
        let arguments = try function.map(ToolCall.argumentsText) ?? ""
        var out: [ChatEvent] = []
        let known = calls[upstreamIndex]
        if known == nil || (id != nil && known?.id != nil && id != known?.id) {
            guard let name = try function?.string("name"), !name.isEmpty else { throw APIError.missing(r.param("function.name")) }
            let index = callCount
            callCount += 1
            calls[upstreamIndex] = (id, index)
            out.append(.toolCallStarted(index: index, id: id ?? ToolCall.newID(), name: name))
        }
        lastUpstreamIndex = upstreamIndex
        if !arguments.isEmpty, let index = calls[upstreamIndex]?.index {
            out.append(.toolCallArgumentsDelta(index: index, fragment: arguments))
        }
        return out
    }
}
