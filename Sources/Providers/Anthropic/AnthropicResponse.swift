import ChatAPI
import Gateway

/// A Messages API answer read as `ChatEvent`s, the parts a whole response and a stream share.
///
/// Nothing here trusts the upstream: a body that breaks the format is a 502 naming the field.
enum AnthropicResponse {
    /// The events of a whole (non-streaming) `message` body, in the order a stream would give
    /// them: reasoning and its signature, text, then calls with consecutive indexes. The input
    /// of `answerTool` (see `AnthropicRequest.answerTool`) is text, not a call.
    static func events(_ json: JSONValue, answerTool: String? = nil) throws -> [ChatEvent] {
        let r = try UpstreamJSON.reader(json, path: "")
        if let error = r.value("error"), r.value("type") == "error" { throw streamError(error) }
        guard let content = try UpstreamJSON.read({ try r.array("content") }) else { throw UpstreamJSON.missing(r.param("content")) }
        var reasoning: [ChatEvent] = []
        var text = ""
        var calls: [ChatEvent] = []
        for (i, block) in content.enumerated() {
            let b = try UpstreamJSON.reader(block, path: "content[\(i)]")
            switch try UpstreamJSON.read({ try b.requiredString("type") }) {
            case "text":
                text += try UpstreamJSON.read { try b.requiredString("text") }
            case "thinking":
                let thinking = try UpstreamJSON.read { try b.string("thinking") } ?? ""
                if !thinking.isEmpty { reasoning.append(.reasoningDelta(thinking)) }
                if let signature = try UpstreamJSON.read({ try b.string("signature") }) { reasoning.append(.reasoningSignature(signature)) }
            case "tool_use":
                let index = calls.count / 2
                let input = try UpstreamJSON.read { try b.required("input") }
                guard input.objectValue != nil else {
                    throw APIError.badUpstream("The upstream's response is malformed: '\(b.param("input"))' is not an object.")
                }
                let id = try UpstreamJSON.read { try b.requiredString("id") }
                let name = try UpstreamJSON.read { try b.requiredString("name") }
                guard name != answerTool else {
                    text += input.serialized()
                    continue
                }
                calls.append(.toolCallStarted(index: index, id: id, name: name))
                calls.append(.toolCallArgumentsDelta(index: index, fragment: input.serialized()))
            default:
                // redacted_thinking and block types newer than this adapter carry nothing the
                // OpenAI shape can say.
                break
            }
        }
        let stop = try UpstreamJSON.read { try r.string("stop_reason") }
        guard let stop else { throw UpstreamJSON.missing(r.param("stop_reason")) }
        var usage = Usage()
        if let u = r.value("usage") { try usage.read(u, path: r.param("usage")) }
        return reasoning + (text.isEmpty ? [] : [.textDelta(text)]) + calls
            + [.finished(reason: try finishReason(stop, param: "stop_reason", calls: calls.count / 2), usage: usage.tokens)]
    }

    /// Anthropic's `stop_reason` as OpenAI's `finish_reason`; `tool_use` without `calls` is
    /// the answer tool's stop, an ordinary one.
    static func finishReason(_ stop: String, param: String, calls: Int) throws -> FinishReason {
        switch stop {
        case "end_turn", "stop_sequence", "pause_turn": return .stop
        case "max_tokens", "model_context_window_exceeded": return .length
        case "tool_use": return calls > 0 ? .toolCalls : .stop
        case "refusal": return .contentFilter
        default: throw APIError.badUpstream("The upstream's response is malformed: unknown '\(param)' '\(stop)'.")
        }
    }

    /// Token counts as Anthropic splits them: the prompt is the uncached input plus what was
    /// read from and written to the cache; OpenAI's `cached_tokens` is what was read.
    struct Usage: Sendable {
        var input = 0
        var output = 0
        var cacheRead = 0
        var cacheCreation = 0

        /// Takes the counts `json` gives; a stream's `message_delta` repeats them cumulatively.
        mutating func read(_ json: JSONValue, path: String) throws {
            let r = try UpstreamJSON.reader(json, path: path)
            func count(_ key: String) throws -> Int? {
                guard let n = try UpstreamJSON.read({ try r.int(key) }) else { return nil }
                guard n >= 0 else { throw APIError.badUpstream("The upstream's response is malformed: '\(r.param(key))' is negative.") }
                return n
            }
            input = try count("input_tokens") ?? input
            output = try count("output_tokens") ?? output
            cacheRead = try count("cache_read_input_tokens") ?? cacheRead
            cacheCreation = try count("cache_creation_input_tokens") ?? cacheCreation
        }

        var tokens: TokenUsage {
            TokenUsage(promptTokens: input + cacheRead + cacheCreation, completionTokens: output, cachedPromptTokens: cacheRead)
        }
    }

    /// An `error` object (a stream's `error` event) as the error the client gets, with the
    /// status Anthropic gives that type over HTTP; overloads, rate limits and server errors
    /// may pass on another attempt.
    static func streamError(_ error: JSONValue) -> UpstreamError {
        let type = error["type"]?.stringValue ?? "api_error"
        let status = statuses[type] ?? 502
        let apiError = APIError(status: status, message: error["message"]?.stringValue ?? "The upstream reported \(type).",
                                type: type, code: type)
        return UpstreamError(apiError, retryable: status == 429 || status >= 500)
    }

    /// Anthropic's error types and the HTTP statuses it sends them with.
    static let statuses = [
        "invalid_request_error": 400, "authentication_error": 401, "billing_error": 402, "permission_error": 403,
        "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
        "timeout_error": 504, "overloaded_error": 529,
    ]
}
