import ChatAPI
import Foundation
import Gateway
@testable import Providers
import XCTest

/// The Gemini translation both ways, over the wire-format fixtures in `Fixtures/gemini/` (one
/// file per scenario, written from Google's API reference): each OpenAI request must become
/// exactly the `generateContent` body expected, and each answer, whole or streamed, exactly
/// the events expected. Calls Gemini gives no id get `call_test_<index>` here.
final class GeminiFixtureTests: XCTestCase {
    static func fixtures() throws -> [(name: String, json: JSONValue)] { try ProviderFixtures.all("gemini") }

    static func fixture(_ name: String) throws -> JSONValue { try ProviderFixtures.named(name, of: "gemini") }

    static func decode(_ text: String, splitAt size: Int? = nil) -> [JSONValue] {
        ProviderFixtures.decode(text, with: GeminiResponseDecoder(callIDPrefix: "call_test_"), splitAt: size)
    }

    func testFixturesAreThere() throws {
        XCTAssertEqual(try Self.fixtures().map(\.name), [
            "cut_stream.json", "multi_turn.json", "named_choice.json", "parallel_calls.json", "rate_limited.json",
            "schema_conversion.json", "single_call.json", "thinking_tools.json",
        ])
    }

    func testRequestsTranslateExactly() throws {
        for (name, fixture) in try Self.fixtures() {
            let request = try ChatCompletionRequest(json: try XCTUnwrap(fixture["openai_request"], name))
            XCTAssertEqual(ProviderFixtures.canonical(try GeminiRequest.body(for: request)),
                           ProviderFixtures.canonical(try XCTUnwrap(fixture["gemini_request"], name)), name)
        }
    }

    func testWholeResponsesTranslateExactly() throws {
        var checked = 0
        for (name, fixture) in try Self.fixtures() {
            guard let response = fixture["gemini_response"] else { continue }
            let events = try GeminiResponseDecoder.events(whole: response, callIDPrefix: "call_test_")
            XCTAssertEqual(events.map(ProviderFixtures.json), fixture["openai_events"]?.arrayValue, name)
            checked += 1
        }
        XCTAssertEqual(checked, 6)
    }

    func testStreamsTranslateExactly() throws {
        var checked = 0
        for (name, fixture) in try Self.fixtures() {
            guard fixture["gemini_stream"] != nil else { continue }
            XCTAssertEqual(Self.decode(ProviderFixtures.sseText(fixture["gemini_stream"])), fixture["openai_stream_events"]?.arrayValue, name)
            checked += 1
        }
        XCTAssertEqual(checked, 5)
    }

    /// The same stream cut at every few bytes decodes the same.
    func testStreamsSplitAnywhere() throws {
        let text = ProviderFixtures.sseText(try Self.fixture("thinking_tools")["gemini_stream"])
        let whole = Self.decode(text)
        for cut in stride(from: 1, to: text.utf8.count, by: 7) {
            XCTAssertEqual(Self.decode(text, splitAt: cut), whole, "split at \(cut)")
        }
    }

    // MARK: - Requests Gemini cannot take

    func testToolResultForAnUnknownCallNamesIt() throws {
        let request: JSONValue = ["model": "gemini-x", "messages": [
            ["role": "user", "content": "Hi"],
            ["role": "tool", "tool_call_id": "call_nowhere", "content": "42"],
        ]]
        XCTAssertThrowsError(try GeminiRequest.body(for: ChatCompletionRequest(json: request))) { error in
            XCTAssertEqual((error as? APIError)?.status, 400)
            XCTAssertEqual((error as? APIError)?.param, "messages[1].tool_call_id")
        }
    }

    func testSchemasGeminiCannotSayAreRefusedByPlace() throws {
        let cases: [(JSONValue, String)] = [
            (["type": "object", "properties": ["next": ["$ref": "#"]], "$defs": [:]], "does not name a definition"),
            (["type": "object", "properties": ["node": ["$ref": "#/$defs/N"]],
              "$defs": ["N": ["type": "object", "properties": ["child": ["$ref": "#/$defs/N"]]]]], "refers to itself"),
            (["type": "object", "properties": ["any": ["description": "anything"]]], "properties.any"),
            (["type": "object", "properties": ["list": ["type": "array"]]], "needs 'items'"),
            (["type": "object", "properties": ["both": ["allOf": [["type": "string"], ["minLength": 1]]]]], "'allOf'"),
        ]
        for (schema, expected) in cases {
            XCTAssertThrowsError(try GeminiSchema.convert(schema, param: "tools[0].function.parameters")) { error in
                let apiError = error as? APIError
                XCTAssertEqual(apiError?.status, 400)
                XCTAssertEqual(apiError?.param, "tools[0].function.parameters")
                XCTAssertTrue(apiError?.message.contains(expected) == true, "\(apiError?.message ?? "") lacks \(expected)")
            }
        }
    }

    /// `$ref`s that fan out (each definition using the next twice) would inline into millions
    /// of schemas; the converter stops at its budget.
    func testInliningHasABudget() throws {
        var defs: JSONObject = ["D0": ["type": "string"]]
        for i in 1...30 {
            defs["D\(i)"] = ["type": "object", "properties": ["a": ["$ref": .string("#/$defs/D\(i - 1)")], "b": ["$ref": .string("#/$defs/D\(i - 1)")]]]
        }
        let schema: JSONValue = ["type": "object", "properties": ["root": ["$ref": "#/$defs/D30"]], "$defs": .object(defs)]
        XCTAssertThrowsError(try GeminiSchema.convert(schema, param: "p")) { error in
            XCTAssertTrue((error as? APIError)?.message.contains("more than") == true)
        }
    }

    func testImagesMustBeInline() throws {
        let request: JSONValue = ["model": "gemini-x", "messages": [["role": "user", "content": [
            ["type": "image_url", "image_url": ["url": "https://example.com/cat.png"]]]]]]
        XCTAssertThrowsError(try GeminiRequest.body(for: ChatCompletionRequest(json: request))) { error in
            XCTAssertEqual((error as? APIError)?.param, "messages[0].content[0].image_url.url")
        }
        let inline: JSONValue = ["model": "gemini-x", "messages": [["role": "user", "content": [
            ["type": "image_url", "image_url": ["url": "data:image/png;base64,iVBORw0KGgo="]]]]]]
        XCTAssertEqual(try GeminiRequest.body(for: ChatCompletionRequest(json: inline))["contents"]?.arrayValue?.first?["parts"]?.arrayValue?.first,
                       ["inlineData": ["mimeType": "image/png", "data": "iVBORw0KGgo="]])
    }

    // MARK: - Answers that break the format

    func testMalformedAnswersNameTheField() throws {
        let cases: [(JSONValue, String)] = [
            (["candidates": [["content": ["parts": [["functionCall": ["args": [:]]]]], "finishReason": "STOP"]]], "candidates[0].content.parts[0].functionCall.name"),
            (["candidates": [["content": ["parts": [["functionCall": ["name": "f", "args": "x"]]]], "finishReason": "STOP"]]], "'candidates[0].content.parts[0].functionCall.args' is not an object"),
            (["candidates": [["content": ["parts": []], "finishReason": "SLEEPY"]]], "unknown 'candidates[0].finishReason' 'SLEEPY'"),
            (["candidates": [], "usageMetadata": ["promptTokenCount": -3]], "'usageMetadata.promptTokenCount' is negative"),
            (["candidates": [["content": ["parts": [["text": "x"]]]]]], "ended before it finished"),
        ]
        for (body, expected) in cases {
            XCTAssertThrowsError(try GeminiResponseDecoder.events(whole: body, callIDPrefix: "c")) { error in
                let apiError = error as? APIError
                XCTAssertEqual(apiError?.status, 502)
                XCTAssertTrue(apiError?.message.contains(expected) == true, "\(apiError?.message ?? "") lacks \(expected)")
            }
        }
    }

    func testFinishReasons() throws {
        let expected: [(String, Int, FinishReason)] = [
            ("STOP", 0, .stop), ("STOP", 1, .toolCalls), ("MAX_TOKENS", 1, .length), ("SAFETY", 0, .contentFilter),
            ("RECITATION", 0, .contentFilter), ("PROHIBITED_CONTENT", 0, .contentFilter),
        ]
        for (reason, calls, finish) in expected {
            XCTAssertEqual(try GeminiResponseDecoder.finishReason(reason, param: "finishReason", calls: calls), finish, reason)
        }
        XCTAssertThrowsError(try GeminiResponseDecoder.finishReason("MALFORMED_FUNCTION_CALL", param: "finishReason", calls: 0)) { error in
            XCTAssertEqual((error as? UpstreamError)?.retryable, true)
        }
        // A prompt blocked before any answer finishes as filtered, with nothing said.
        XCTAssertEqual(try GeminiResponseDecoder.events(whole: ["promptFeedback": ["blockReason": "SAFETY"]], callIDPrefix: "c").map(ProviderFixtures.json),
                       [["finish": ["reason": "content_filter", "usage": ["prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0]]]])
    }
}
