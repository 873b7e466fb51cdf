import ChatAPI
import Gateway

/// Gemini's answers (`GenerateContentResponse`) as `ChatEvent`s. A stream is a series of the
/// same objects, each with the next parts, so one decoder reads both: a whole answer is one
/// object, then `finish()`.
///
/// - Parts: `text` → text, `text` with `thought: true` → reasoning, `functionCall` → one call,
///   whole (Gemini streams each call whole), with consecutive indexes from 0 and the call's
///   `id` or, as Gemini usually gives none, one generated from `callIDPrefix`.
/// - The first `thoughtSignature` becomes the answer's reasoning signature (Gemini puts it on
///   the first call); `GeminiRequest` puts it back there on the next turn.
/// - `finishReason` `STOP` → `stop`, or `tool_calls` when calls came; `MAX_TOKENS` → `length`;
///   the safety family → `content_filter`; a malformed or unexpected call is a retryable 502.
/// - `usageMetadata` (cumulative) → usage, thoughts counted as completion tokens as OpenAI does.
///
/// Nothing here trusts the upstream: a body that breaks the format is a 502 naming the field.
public struct GeminiResponseDecoder: UpstreamStreamDecoder {
    private let callIDPrefix: String
    private var callCount = 0
    private var signed = false
    private var usage = TokenUsage(promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0)
    private var finishReason: FinishReason?

    /// - Parameter callIDPrefix: the start of the ids generated for calls without one; unique
    ///   per request, since clients answer calls by id.
    public init(callIDPrefix: String) {
        self.callIDPrefix = callIDPrefix
    }

    /// The events of a whole (non-streaming) answer, in the order a stream would give them:
    /// reasoning and its signature, text, then calls.
    static func events(whole json: JSONValue, callIDPrefix: String) throws -> [ChatEvent] {
        var decoder = GeminiResponseDecoder(callIDPrefix: callIDPrefix)
        let events = try decoder.events(for: json)
        let reasoning = events.filter { if case .reasoningDelta = $0 { true } else if case .reasoningSignature = $0 { true } else { false } }
        let text = events.compactMap { if case .textDelta(let t) = $0 { t } else { nil } }.joined()
        let calls = events.filter { if case .toolCallStarted = $0 { true } else if case .toolCallArgumentsDelta = $0 { true } else { false } }
        return reasoning + (text.isEmpty ? [] : [.textDelta(text)]) + calls + [try decoder.finish()]
    }

    public mutating func events(for data: JSONValue) throws -> [ChatEvent] {
        let r = try UpstreamJSON.reader(data, path: "")
        if let error = r.value("error") { throw Self.streamError(error) }
        if let metadata = try UpstreamJSON.read({ try r.objectReader("usageMetadata") }) { try readUsage(metadata) }
        guard let candidates = try UpstreamJSON.read({ try r.array("candidates") }), let first = candidates.first else {
            // A prompt blocked before any answer says why in `promptFeedback`.
            if let blocked = r.value("promptFeedback")?["blockReason"]?.stringValue, !blocked.isEmpty { finishReason = .contentFilter }
            return []
        }
        let candidate = try UpstreamJSON.reader(first, path: "candidates[0]")
        var out: [ChatEvent] = []
        if let content = try UpstreamJSON.read({ try candidate.objectReader("content") }) {
            let parts = try UpstreamJSON.read({ try content.array("parts") }) ?? []
            for (i, part) in parts.enumerated() {
                out += try events(part: try UpstreamJSON.reader(part, path: content.param("parts[\(i)]")))
            }
        }
        if let reason = try UpstreamJSON.read({ try candidate.string("finishReason") }) {
            finishReason = try Self.finishReason(reason, param: candidate.param("finishReason"), calls: callCount)
        }
        return out
    }

    public func finish() throws -> ChatEvent {
        guard let finishReason else {
            throw APIError.badUpstream("The upstream's stream ended before it finished the response.", code: "upstream_stream_cut")
        }
        return .finished(reason: finishReason, usage: usage)
    }

    private mutating func events(part p: FieldReader) throws -> [ChatEvent] {
        var out: [ChatEvent] = []
        if !signed, let signature = try UpstreamJSON.read({ try p.string("thoughtSignature") }) {
            signed = true
            out.append(.reasoningSignature(signature))
        }
        if let call = try UpstreamJSON.read({ try p.objectReader("functionCall") }) {
            let name = try UpstreamJSON.read { try call.requiredString("name") }
            let args = call.value("args") ?? .object([:])
            guard args.objectValue != nil else {
                throw APIError.badUpstream("The upstream's response is malformed: '\(call.param("args"))' is not an object.")
            }
            let id = try UpstreamJSON.read { try call.string("id") }.flatMap { $0.isEmpty ? nil : $0 } ?? "\(callIDPrefix)\(callCount)"
            out += [.toolCallStarted(index: callCount, id: id, name: name),
                    .toolCallArgumentsDelta(index: callCount, fragment: args.serialized())]
            callCount += 1
        } else if let text = try UpstreamJSON.read({ try p.string("text") }), !text.isEmpty {
            out.append(try UpstreamJSON.read { try p.bool("thought") } == true ? .reasoningDelta(text) : .textDelta(text))
        }
        // Executable code, inline data and part kinds newer than this adapter carry nothing
        // the OpenAI shape can say.
        return out
    }

    private mutating func readUsage(_ u: FieldReader) throws {
        func count(_ key: String) throws -> Int {
            guard let n = try UpstreamJSON.read({ try u.int(key) }) else { return 0 }
            guard n >= 0 else { throw APIError.badUpstream("The upstream's response is malformed: '\(u.param(key))' is negative.") }
            return n
        }
        usage = TokenUsage(promptTokens: try count("promptTokenCount") + count("toolUsePromptTokenCount"),
                           completionTokens: try count("candidatesTokenCount") + count("thoughtsTokenCount"),
                           cachedPromptTokens: try count("cachedContentTokenCount"))
    }

    /// Gemini's `finishReason` as OpenAI's `finish_reason`.
    static func finishReason(_ reason: String, param: String, calls: Int) throws -> FinishReason {
        switch reason {
        case "STOP", "FINISH_REASON_UNSPECIFIED", "OTHER", "LANGUAGE", "NO_IMAGE", "IMAGE_OTHER":
            return calls > 0 ? .toolCalls : .stop
        case "MAX_TOKENS":
            return .length
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
             "IMAGE_RECITATION":
            return .contentFilter
        case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS":
            // The model's call broke before it reached us; another attempt may well succeed.
            throw UpstreamError(.badUpstream("The upstream ended its answer with '\(reason)': the model produced no usable tool call.",
                                             code: "upstream_malformed_function_call"), retryable: true)
        default:
            throw APIError.badUpstream("The upstream's response is malformed: unknown '\(param)' '\(reason)'.")
        }
    }

    /// An `error` object sent mid-stream, with the HTTP status it names; rate limits and server
    /// errors may pass on another attempt.
    static func streamError(_ error: JSONValue) -> UpstreamError {
        let name = error["status"]?.stringValue ?? "INTERNAL"
        let status = error["code"]?.intValue.flatMap { (400...599).contains($0) ? $0 : nil } ?? statuses[name] ?? 502
        let apiError = APIError(upstreamStatus: status, body: ["error": error])
        return UpstreamError(apiError, retryable: status == 429 || status >= 500)
    }

    /// Google's status names and the HTTP statuses they go with.
    static let statuses = [
        "INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "OUT_OF_RANGE": 400, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403,
        "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429, "CANCELLED": 499, "INTERNAL": 500, "UNKNOWN": 500, "UNAVAILABLE": 503,
        "DEADLINE_EXCEEDED": 504,
    ]
}
