import ChatAPI
import Foundation
import Gateway
@testable import Providers
import XCTest

/// The Anthropic translation both ways, over the wire-format fixtures in
/// `Fixtures/anthropic/` (one file per scenario, written from Anthropic's API reference): each
/// OpenAI request must become exactly the Messages body expected, and each Messages answer,
/// whole or streamed, exactly the events expected.
final class AnthropicFixtureTests: XCTestCase {
    static func fixtures() throws -> [(name: String, json: JSONValue)] { try ProviderFixtures.all("anthropic") }

    static func fixture(_ name: String) throws -> JSONValue { try ProviderFixtures.named(name, of: "anthropic") }

    func testFixturesAreThere() throws {
        XCTAssertEqual(try Self.fixtures().map(\.name), [
            "cut_stream.json", "json_schema.json", "multi_turn.json", "named_choice.json", "overloaded.json", "parallel_calls.json",
            "single_call.json", "thinking_tools.json",
        ])
    }

    func testRequestsTranslateExactly() throws {
        for (name, fixture) in try Self.fixtures() {
            let request = try ChatCompletionRequest(json: try XCTUnwrap(fixture["openai_request"], name))
            let body = try AnthropicRequest.body(for: request, defaultMaxTokens: 4096)
            XCTAssertEqual(ProviderFixtures.canonical(body), ProviderFixtures.canonical(try XCTUnwrap(fixture["anthropic_request"], name)), name)
        }
    }

    func testWholeResponsesTranslateExactly() throws {
        var checked = 0
        for (name, fixture) in try Self.fixtures() {
            guard let response = fixture["anthropic_response"] else { continue }
            let events = try AnthropicResponse.events(response, answerTool: try Self.answerTool(fixture))
            XCTAssertEqual(events.map(ProviderFixtures.json), fixture["openai_events"]?.arrayValue, name)
            checked += 1
        }
        XCTAssertEqual(checked, 6)
    }

    func testStreamsTranslateExactly() throws {
        var checked = 0
        for (name, fixture) in try Self.fixtures() {
            guard fixture["anthropic_stream"] != nil else { continue }
            XCTAssertEqual(Self.decode(ProviderFixtures.sseText(fixture["anthropic_stream"]), answerTool: try Self.answerTool(fixture)),
                           fixture["openai_stream_events"]?.arrayValue, name)
            checked += 1
        }
        XCTAssertEqual(checked, 6)
    }

    /// The same streams cut at every byte boundary decode the same.
    func testStreamsSplitAnywhere() throws {
        let text = ProviderFixtures.sseText(try Self.fixture("thinking_tools")["anthropic_stream"])
        let whole = Self.decode(text)
        for cut in stride(from: 1, to: text.utf8.count, by: 7) {
            XCTAssertEqual(Self.decode(text, splitAt: cut), whole, "split at \(cut)")
        }
    }

    /// Streamed input loses the spaces between tokens, never those inside strings, wherever
    /// the pieces split (here inside an escape).
    func testStreamedInputIsMadeCompact() {
        var compactor = JSONCompactor()
        let pieces = ["{ \"a b\" :", " \"x \\", "\" y\" ,\n \"n\": [1, 2] }"]
        XCTAssertEqual(pieces.map { compactor.compact($0) }.joined(), #"{"a b":"x \" y","n":[1,2]}"#)
    }

    /// A `tool_use` block that starts with its whole input (no deltas follow) gives its call
    /// and the arguments at once, and the answer tool's gives text.
    func testToolUseStartingWithItsInput() throws {
        let start: JSONValue = ["type": "content_block_start", "index": 0,
                                "content_block": ["type": "tool_use", "id": "toolu_9", "name": "f", "input": ["a": 1]]]
        var decoder = AnthropicStreamDecoder()
        XCTAssertEqual(try decoder.events(for: start), [.toolCallStarted(index: 0, id: "toolu_9", name: "f"),
                                                        .toolCallArgumentsDelta(index: 0, fragment: #"{"a":1}"#)])
        XCTAssertEqual(try decoder.events(for: ["type": "content_block_stop", "index": 0]), [])
        var answering = AnthropicStreamDecoder(answerTool: "f")
        XCTAssertEqual(try answering.events(for: start), [.textDelta(#"{"a":1}"#)])
    }

    // MARK: - Requests Anthropic cannot take

    func testTemperatureAboveOneNamesTheParameter() throws {
        var json = try XCTUnwrap(Self.fixture("single_call")["openai_request"]?.objectValue)
        json["temperature"] = 1.5
        let request = try ChatCompletionRequest(json: .object(json))
        XCTAssertThrowsError(try AnthropicRequest.body(for: request, defaultMaxTokens: 4096)) { error in
            XCTAssertEqual((error as? APIError)?.status, 400)
            XCTAssertEqual((error as? APIError)?.param, "temperature")
        }
    }

    func testUnsupportedInputsAreRefused() throws {
        let audio: JSONValue = ["model": "claude-x", "messages": [["role": "user", "content": [
            ["type": "input_audio", "input_audio": ["data": "AAAA", "format": "wav"]]]]]]
        XCTAssertThrowsError(try AnthropicRequest.body(for: ChatCompletionRequest(json: audio), defaultMaxTokens: 10)) { error in
            XCTAssertEqual((error as? APIError)?.param, "messages[0].content[0].type")
        }
        let arguments: JSONValue = ["model": "claude-x", "messages": [
            ["role": "user", "content": "Hi"],
            ["role": "assistant", "tool_calls": [["id": "toolu_1", "type": "function", "function": ["name": "f", "arguments": "[1]"]]]],
        ]]
        XCTAssertThrowsError(try AnthropicRequest.body(for: ChatCompletionRequest(json: arguments), defaultMaxTokens: 10)) { error in
            XCTAssertEqual((error as? APIError)?.param, "messages[1].tool_calls[0].function.arguments")
        }
        let penalty: JSONValue = ["model": "claude-x", "presence_penalty": 0.5, "messages": [["role": "user", "content": "Hi"]]]
        XCTAssertThrowsError(try AnthropicRequest.body(for: ChatCompletionRequest(json: penalty), defaultMaxTokens: 10)) { error in
            XCTAssertEqual((error as? APIError)?.param, "presence_penalty")
        }
        let thinking: JSONValue = ["model": "claude-x", "reasoning_effort": "high", "max_tokens": 500, "messages": [["role": "user", "content": "Hi"]]]
        XCTAssertThrowsError(try AnthropicRequest.body(for: ChatCompletionRequest(json: thinking), defaultMaxTokens: 10)) { error in
            XCTAssertEqual((error as? APIError)?.param, "max_tokens")
        }
    }

    // MARK: - Answers that break the format

    func testMalformedAnswersNameTheField() throws {
        let cases: [(JSONValue, String)] = [
            (["type": "message", "stop_reason": "end_turn"], "'content' is missing"),
            (["content": [["type": "tool_use", "id": "t", "name": "f", "input": "x"]], "stop_reason": "tool_use"], "'content[0].input' is not an object"),
            (["content": [["type": "text"]], "stop_reason": "end_turn"], "content[0].text"),
            (["content": [], "stop_reason": "sleepy"], "unknown 'stop_reason' 'sleepy'"),
            (["content": [], "stop_reason": "end_turn", "usage": ["input_tokens": -3]], "'usage.input_tokens' is negative"),
        ]
        for (body, expected) in cases {
            XCTAssertThrowsError(try AnthropicResponse.events(body)) { error in
                let apiError = error as? APIError
                XCTAssertEqual(apiError?.status, 502)
                XCTAssertTrue(apiError?.message.contains(expected) == true, "\(apiError?.message ?? "") lacks \(expected)")
            }
        }
        var decoder = AnthropicStreamDecoder()
        XCTAssertThrowsError(try decoder.events(for: ["type": "content_block_delta", "index": 3, "delta": ["type": "text_delta", "text": "x"]])) { error in
            XCTAssertTrue((error as? APIError)?.message.contains("content block 3") == true)
        }
    }

    func testStopReasons() throws {
        let expected: [String: FinishReason] = [
            "end_turn": .stop, "stop_sequence": .stop, "max_tokens": .length, "tool_use": .toolCalls, "refusal": .contentFilter,
        ]
        for (stop, reason) in expected {
            XCTAssertEqual(try AnthropicResponse.finishReason(stop, param: "stop_reason", calls: 1), reason, stop)
        }
    }

    // MARK: - Helpers

    /// What the stream decoder makes of `text`, fed in pieces of `splitAt` bytes.
    static func decode(_ text: String, splitAt size: Int? = nil, answerTool: String? = nil) -> [JSONValue] {
        ProviderFixtures.decode(text, with: AnthropicStreamDecoder(answerTool: answerTool), splitAt: size)
    }

    /// The answer tool the adapter would name for the fixture's request, as it decodes with.
    static func answerTool(_ fixture: JSONValue) throws -> String? {
        AnthropicRequest.answerTool(for: try ChatCompletionRequest(json: fixture["openai_request"] ?? [:]))?.name
    }
}
