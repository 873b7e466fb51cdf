import ChatAPI
import SwitchboardKit
import XCTest

/// The SDK's stream reader and aggregator over recorded chunk sequences: OpenAI's own style,
/// xAI-style whole calls, interleaved parallel calls, repeated index 0 and missing ids, usage
/// in a last chunk or none, and bytes split at every position (inside UTF-8 sequences too).
final class ChatStreamReaderTests: XCTestCase {
    private static func chunk(_ delta: JSONValue, finish: String? = nil) -> JSONValue {
        ["id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 7, "model": "m",
         "choices": [["index": 0, "delta": delta, "finish_reason": finish.map(JSONValue.string) ?? .null]]]
    }
    private static func calls(_ entries: [JSONValue]) -> JSONValue { chunk(["tool_calls": .array(entries)]) }
    private static let usage: JSONValue = ["id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 7, "model": "m",
                                           "choices": [], "usage": ["prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16]]

    /// The stream's SSE bytes, fed in pieces of `size` bytes; the aggregated completion.
    private func aggregate(_ chunks: [JSONValue], pieceSize size: Int = .max, done: Bool = true) throws -> ChatCompletion {
        let bytes = Array((chunks.map(SSE.event).joined() + (done ? SSE.done : "")).utf8)
        var reader = ChatStreamReader()
        var aggregator = StreamAggregator()
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            for chunk in try reader.feed(bytes[start..<end]) { aggregator.add(chunk) }
            start = end
        }
        aggregator.add(try reader.finish())
        return try XCTUnwrap(aggregator.completion)
    }

    func testOpenAIStyle() throws {
        let completion = try aggregate([
            Self.chunk(["role": "assistant", "content": ""]),
            Self.chunk(["content": "Checking "]), Self.chunk(["content": "the weather."]),
            Self.calls([["index": 0, "id": "call_a", "type": "function", "function": ["name": "get_weather", "arguments": ""]]]),
            Self.calls([["index": 0, "function": ["arguments": "{\"city\":"]]]),
            Self.calls([["index": 0, "function": ["arguments": "\"Paris\"}"]]]),
            Self.chunk([:], finish: "tool_calls"), Self.usage,
        ])
        XCTAssertEqual(completion.identity, CompletionIdentity(id: "chatcmpl-1", created: 7, model: "m"))
        XCTAssertEqual(completion.content, "Checking the weather.")
        XCTAssertEqual(completion.toolCalls, [ToolCall(id: "call_a", name: "get_weather", arguments: #"{"city":"Paris"}"#)])
        XCTAssertEqual(completion.finishReason, .toolCalls)
        XCTAssertEqual(completion.usage, TokenUsage(promptTokens: 11, completionTokens: 5))
    }

    /// xAI sends each call whole in one chunk, every one at index 0, told apart by its id.
    func testWholeCallsAtRepeatedIndexZero() throws {
        let completion = try aggregate([
            Self.calls([["index": 0, "id": "call_1", "type": "function", "function": ["name": "a", "arguments": #"{"x":1}"#]]]),
            Self.calls([["index": 0, "id": "call_2", "type": "function", "function": ["name": "b", "arguments": #"{"y":2}"#]]]),
            Self.chunk([:], finish: "tool_calls"),
        ])
        XCTAssertEqual(completion.toolCalls, [ToolCall(id: "call_1", name: "a", arguments: #"{"x":1}"#),
                                              ToolCall(id: "call_2", name: "b", arguments: #"{"y":2}"#)])
        XCTAssertEqual(completion.usage, TokenUsage(promptTokens: 0, completionTokens: 0), "no usage sent: zero, not a failure")
    }

    func testInterleavedParallelCallsAndMissingIDs() throws {
        let completion = try aggregate([
            Self.calls([["index": 0, "function": ["name": "a", "arguments": "{\"x\":"]],
                        ["index": 1, "function": ["name": "b", "arguments": "{\"y\":"]]]),
            Self.calls([["index": 1, "function": ["arguments": "2}"]]]),
            Self.calls([["index": 0, "function": ["arguments": "1}"]]]),
            Self.chunk([:], finish: "tool_calls"), Self.usage,
        ])
        XCTAssertEqual(completion.toolCalls.map(\.name), ["a", "b"])
        XCTAssertEqual(completion.toolCalls.map(\.arguments), [#"{"x":1}"#, #"{"y":2}"#])
        XCTAssertTrue(completion.toolCalls.allSatisfy { $0.id.hasPrefix("call_") }, "missing ids are made up")
    }

    /// Every split of the bytes gives the same completion: mid-line, mid-event, and inside the
    /// UTF-8 of "é" and of an emoji, in text and in arguments.
    func testBytesSplitAnywhere() throws {
        let chunks: [JSONValue] = [
            Self.chunk(["content": "Météo 🌦️ à "]), Self.chunk(["content": "Paris"]),
            Self.calls([["index": 0, "id": "call_é", "type": "function", "function": ["name": "note", "arguments": "{\"t\":\"Crème 🍰"]]]),
            Self.calls([["index": 0, "function": ["arguments": " brûlée\"}"]]]),
            Self.chunk([:], finish: "tool_calls"), Self.usage,
        ]
        let whole = try aggregate(chunks)
        XCTAssertEqual(whole.content, "Météo 🌦️ à Paris")
        XCTAssertEqual(whole.toolCalls.first?.arguments, #"{"t":"Crème 🍰 brûlée"}"#)
        for size in 1...13 {
            XCTAssertEqual(try aggregate(chunks, pieceSize: size), whole, "pieces of \(size) bytes")
        }
    }

    func testReasoningAndUsageInTheFinishChunk() throws {
        var finish = Self.chunk([:], finish: "stop")
        if case .object(var object) = finish {
            object["usage"] = ["prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5]
            finish = .object(object)
        }
        let completion = try aggregate([Self.chunk(["reasoning_content": "Think."]), Self.chunk(["content": "Done."]), finish])
        XCTAssertEqual(completion.reasoningContent, "Think.")
        XCTAssertEqual(completion.content, "Done.")
        XCTAssertEqual(completion.usage, TokenUsage(promptTokens: 3, completionTokens: 2))
    }

    func testACutStreamIsAnError() {
        XCTAssertThrowsError(try aggregate([Self.chunk(["content": "Hal"])], done: false)) {
            XCTAssertEqual(($0 as? APIError)?.code, "upstream_stream_cut")
        }
    }

    func testAnErrorEventIsTheServersError() {
        let error: JSONValue = ["error": ["message": "Rate limited", "type": "rate_limit_error", "code": "rate_limit_exceeded"]]
        XCTAssertThrowsError(try aggregate([Self.chunk(["content": "a"]), error])) {
            let apiError = $0 as? APIError
            XCTAssertEqual(apiError?.message, "Rate limited")
            XCTAssertEqual(apiError?.code, "rate_limit_exceeded")
        }
    }

    func testLaterBytesAfterDoneAreIgnored() throws {
        var reader = ChatStreamReader()
        let bytes = Array((SSE.event(Self.chunk(["content": "a"], finish: "stop")) + SSE.done + "data: {not json}\n\n").utf8)
        XCTAssertEqual(try reader.feed(bytes).map(\.text), ["a"])
        XCTAssertTrue(reader.isDone)
        XCTAssertEqual(try reader.finish().finish?.reason, .stop)
    }
}
