import ChatAPI

/// A Messages API stream (`message_start`, `content_block_start`/`_delta`/`_stop`,
/// `message_delta`, `message_stop`, `ping`, `error`) as `ChatEvent`s.
///
/// Each event's `data:` names its own `type`, so the SSE `event:` line is not needed. Content
/// blocks are numbered by Anthropic across text, thinking and tool use; calls get their own
/// consecutive indexes from 0. A `tool_use` block starts its call (id and name) and its
/// `input_json_delta`s are the argument fragments, made compact on the way (Anthropic writes
/// `{"city": "Paris"}`; the whole answer's arguments are compact too, and the guard's grammar
/// can then pass each fragment as it comes instead of holding the call); a call whose input
/// stayed empty gets `{}`. The answer tool of a `response_format` request (see
/// `AnthropicRequest.answerTool`) is no call: its input is the answer's text.
public struct AnthropicStreamDecoder: UpstreamStreamDecoder {
    private enum Block {
        case text, thinking, other
        case tool(ToolBlock)
    }

    private struct ToolBlock {
        /// The call's index among calls; nil for the answer tool, whose input is text.
        let index: Int?
        /// Whether any argument text was passed on.
        var sentArguments = false
        var compactor = JSONCompactor()

        /// `fragment` of the input as the event it makes.
        func event(_ fragment: String) -> ChatEvent {
            index.map { .toolCallArgumentsDelta(index: $0, fragment: fragment) } ?? .textDelta(fragment)
        }
    }

    private let answerTool: String?
    /// Open and closed blocks by Anthropic's index.
    private var blocks: [Int: Block] = [:]
    private var callCount = 0
    private var usage = AnthropicResponse.Usage()
    private var stopReason: FinishReason?
    private var stopped = false

    /// - Parameter answerTool: the name of the tool that carries the answer, if the request
    ///   asked for one.
    public init(answerTool: String? = nil) {
        self.answerTool = answerTool
    }

    public mutating func events(for data: JSONValue) throws -> [ChatEvent] {
        let r = try UpstreamJSON.reader(data, path: "")
        switch try UpstreamJSON.read({ try r.requiredString("type") }) {
        case "message_start":
            guard let message = try UpstreamJSON.read({ try r.objectReader("message") }) else {
                throw UpstreamJSON.missing(r.param("message"))
            }
            if let u = message.value("usage") { try usage.read(u, path: message.param("usage")) }
            return []
        case "content_block_start":
            let index = try UpstreamJSON.read { try r.int("index") } ?? blocks.count
            guard let block = try UpstreamJSON.read({ try r.objectReader("content_block") }) else {
                throw UpstreamJSON.missing(r.param("content_block"))
            }
            return try start(block, at: index)
        case "content_block_delta":
            return try delta(r)
        case "content_block_stop":
            let index = try UpstreamJSON.read { try r.int("index") }
            guard let index, case .tool(var call)? = blocks[index], !call.sentArguments else { return [] }
            call.sentArguments = true
            blocks[index] = .tool(call)
            return [call.event("{}")]
        case "message_delta":
            if let stop = try UpstreamJSON.read({ try r.objectReader("delta")?.string("stop_reason") }) {
                stopReason = try AnthropicResponse.finishReason(stop, param: "delta.stop_reason", calls: callCount)
            }
            if let u = r.value("usage") { try usage.read(u, path: r.param("usage")) }
            return []
        case "message_stop":
            stopped = true
            return []
        case "error":
            throw AnthropicResponse.streamError(r.value("error") ?? [:])
        default:
            // `ping`, and event types newer than this adapter (Anthropic may add some).
            return []
        }
    }

    public func finish() throws -> ChatEvent {
        guard stopped, let stopReason else {
            throw APIError.badUpstream("The upstream's stream ended before it finished the response.", code: "upstream_stream_cut")
        }
        return .finished(reason: stopReason, usage: usage.tokens)
    }

    private mutating func start(_ block: FieldReader, at index: Int) throws -> [ChatEvent] {
        switch try UpstreamJSON.read({ try block.requiredString("type") }) {
        case "text":
            blocks[index] = .text
            let text = try UpstreamJSON.read { try block.string("text") } ?? ""
            return text.isEmpty ? [] : [.textDelta(text)]
        case "thinking":
            blocks[index] = .thinking
            let thinking = try UpstreamJSON.read { try block.string("thinking") } ?? ""
            return thinking.isEmpty ? [] : [.reasoningDelta(thinking)]
        case "tool_use":
            let id = try UpstreamJSON.read { try block.requiredString("id") }
            let name = try UpstreamJSON.read { try block.requiredString("name") }
            // The input usually starts empty and arrives as fragments; a non-empty one is whole.
            let input = block.value("input")
            let whole = input?.objectValue.map { !$0.isEmpty } == true ? input!.serialized() : ""
            // The answer tool is no call: it takes no index and starts nothing.
            let call: Int? = name == answerTool ? nil : callCount
            if call != nil { callCount += 1 }
            let tool = ToolBlock(index: call, sentArguments: !whole.isEmpty)
            blocks[index] = .tool(tool)
            let start: [ChatEvent] = call.map { [.toolCallStarted(index: $0, id: id, name: name)] } ?? []
            return start + (whole.isEmpty ? [] : [tool.event(whole)])
        default:
            blocks[index] = .other
            return []
        }
    }

    private mutating func delta(_ r: FieldReader) throws -> [ChatEvent] {
        guard let index = try UpstreamJSON.read({ try r.int("index") }) else { throw UpstreamJSON.missing(r.param("index")) }
        guard let delta = try UpstreamJSON.read({ try r.objectReader("delta") }) else {
            throw UpstreamJSON.missing(r.param("delta"))
        }
        guard let block = blocks[index] else {
            throw APIError.badUpstream("The upstream's stream is malformed: a delta for content block \(index), which never started.")
        }
        func field(_ key: String) throws -> String { try UpstreamJSON.read { try delta.requiredString(key) } }
        switch (try field("type"), block) {
        case ("text_delta", .text):
            let text = try field("text")
            return text.isEmpty ? [] : [.textDelta(text)]
        case ("thinking_delta", .thinking):
            let thinking = try field("thinking")
            return thinking.isEmpty ? [] : [.reasoningDelta(thinking)]
        case ("signature_delta", .thinking):
            return [.reasoningSignature(try field("signature"))]
        case ("input_json_delta", .tool(var call)):
            let fragment = call.compactor.compact(try field("partial_json"))
            call.sentArguments = call.sentArguments || !fragment.isEmpty
            blocks[index] = .tool(call)
            return fragment.isEmpty ? [] : [call.event(fragment)]
        case ("text_delta", _), ("thinking_delta", _), ("signature_delta", _), ("input_json_delta", _):
            throw APIError.badUpstream("The upstream's stream is malformed: '\(delta.param("type"))' does not fit content block \(index).")
        default:
            // Delta types newer than this adapter (citations and the like).
            return []
        }
    }
}

/// Drops the whitespace between the tokens of JSON text that arrives in pieces (whitespace
/// outside strings means nothing in JSON), keeping what is inside strings byte for byte.
struct JSONCompactor: Sendable {
    private var inString = false
    private var escaped = false

    mutating func compact(_ piece: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(piece.utf8.count)
        for byte in piece.utf8 {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                continue
            case UInt8(ascii: "\""):
                inString = true
                out.append(byte)
            default:
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
