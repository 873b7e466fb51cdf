import ChatAPI
import XCTest

/// The wire types both ways: a request written as JSON reads back equal; responses and chunks
/// in the styles real servers send read back as the same events; SSE framing splits anywhere.
final class WireRoundTripTests: XCTestCase {
    func testRequestRoundTrips() throws {
        let body = """
        {"model": "grok-4", "stream": true, "stream_options": {"include_usage": true},
         "messages": [
           {"role": "system", "content": "Be brief."},
           {"role": "user", "content": [{"type": "text", "text": "Weather?"}, {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}]},
           {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]},
           {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
         "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d", "strict": true,
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}}],
         "tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "parallel_tool_calls": false,
         "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}, "strict": true}},
         "stop": ["END"], "max_tokens": 50, "temperature": 0.5, "top_p": 0.9, "seed": 7,
         "presence_penalty": 0.1, "frequency_penalty": -0.2, "user": "u", "reasoning_effort": "low"}
        """
        let request = try ChatCompletionRequest(json: try JSONValue(parsing: body))
        let again = try ChatCompletionRequest(json: request.json)
        XCTAssertEqual(again, request)
        XCTAssertEqual(request.json["max_tokens"], 50, "the field the client used is the one sent on")
        XCTAssertNil(request.json["max_completion_tokens"])
    }

    /// Switchboard's extensions: reasoning comes back with its provider's signature, and a tool
    /// result may say the call failed; both read back, and are written out only when set.
    func testReasoningSignatureAndToolErrorRoundTrip() throws {
        let request = try ChatCompletionRequest(json: ["model": "m", "messages": [
            ["role": "user", "content": "hi"],
            ["role": "assistant", "reasoning_content": "r", "reasoning_signature": "sig", "tool_calls": [
                ["id": "call_1", "type": "function", "function": ["name": "f", "arguments": "{}"]]]],
            ["role": "tool", "tool_call_id": "call_1", "content": "boom", "is_error": true],
        ]])
        XCTAssertEqual(request.messages[1].reasoningSignature, "sig")
        XCTAssertTrue(request.messages[2].isError)
        XCTAssertEqual(try ChatCompletionRequest(json: request.json), request)
        XCTAssertNil(request.json["messages"]?.arrayValue?.first?["is_error"])

        var encoder = ChunkEncoder(identity: CompletionIdentity(id: "x", created: 1, model: "m"), includeUsage: false)
        let chunks = encoder.chunks(for: .reasoningSignature("sig"))
        XCTAssertEqual(chunks.last?["choices"]?.arrayValue?.first?["delta"]?["reasoning_signature"], "sig")
        var decoder = ChunkDecoder()
        XCTAssertEqual(try decoder.events(for: try XCTUnwrap(chunks.last)), [.reasoningSignature("sig")])

        var assembler = CompletionAssembler()
        for event: ChatEvent in [.reasoningDelta("r"), .reasoningSignature("sig"), .finished(reason: .stop, usage: TokenUsage(promptTokens: 1, completionTokens: 1))] {
            assembler.add(event)
        }
        let completion = try XCTUnwrap(assembler.completion(identity: CompletionIdentity(id: "x", created: 1, model: "m")))
        XCTAssertEqual(completion.json["choices"]?.arrayValue?.first?["message"]?["reasoning_signature"], "sig")
        XCTAssertEqual(try ChatCompletion(json: completion.json).events.prefix(2), [.reasoningDelta("r"), .reasoningSignature("sig")])
    }

    func testDefaultsAreLeftOut() throws {
        let request = try ChatCompletionRequest(json: ["model": "m", "messages": [["role": "user", "content": "hi"]]])
        XCTAssertEqual(request.json, ["model": "m", "messages": [["role": "user", "content": "hi"]]])
    }

    func testLegacyFunctionsAreWrittenAsOneCallTools() throws {
        let request = try ChatCompletionRequest(json: [
            "model": "m", "messages": [["role": "user", "content": "hi"]],
            "functions": [["name": "f", "parameters": ["type": "object"]]], "function_call": ["name": "f"],
        ])
        XCTAssertEqual(request.json["tool_choice"], ["type": "function", "function": ["name": "f"]])
        XCTAssertEqual(request.json["parallel_tool_calls"], false)
    }

    func testCompletionReadsBackAsEvents() throws {
        let body: JSONValue = [
            "id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [["index": 0, "finish_reason": "tool_calls", "message": [
                "role": "assistant", "content": .null, "reasoning": "thinking",
                // An id-less call with object arguments, as some servers write it.
                "tool_calls": [["type": "function", "function": ["name": "f", "arguments": ["a": 1]]]],
            ]]],
            "usage": ["prompt_tokens": 3, "completion_tokens": 2, "prompt_tokens_details": ["cached_tokens": 1]],
        ]
        let events = try ChatCompletion(json: body).events
        XCTAssertEqual(events.count, 4)
        XCTAssertEqual(events[0], .reasoningDelta("thinking"))
        guard case .toolCallStarted(0, let id, "f") = events[1] else { return XCTFail("\(events)") }
        XCTAssertTrue(id.hasPrefix("call_"))
        XCTAssertEqual(events[2], .toolCallArgumentsDelta(index: 0, fragment: #"{"a":1}"#))
        XCTAssertEqual(events[3], .finished(reason: .toolCalls, usage: TokenUsage(promptTokens: 3, completionTokens: 2, cachedPromptTokens: 1)))
    }

    func testMalformedCompletionIsA502NamingTheField() {
        XCTAssertThrowsError(try ChatCompletion(json: ["choices": [["message": ["tool_calls": [["function": ["arguments": "{}"]]]]]]])) {
            let error = $0 as? APIError
            XCTAssertEqual(error?.status, 502)
            XCTAssertTrue(error?.message.contains("choices[0].message.tool_calls[0].function.name") == true, "\(String(describing: error))")
        }
    }

    func testChunksInEveryStyle() throws {
        func chunk(_ delta: JSONValue, finish: JSONValue = .null) -> JSONValue {
            ["choices": [["index": 0, "delta": delta, "finish_reason": finish]]]
        }
        var decoder = ChunkDecoder()
        var events: [ChatEvent] = []
        for c in [
            chunk(["role": "assistant", "content": ""]),
            chunk(["content": "Hi"]),
            // OpenAI: id and name first, then fragments by index.
            chunk(["tool_calls": [["index": 0, "id": "a", "function": ["name": "f", "arguments": ""]]]]),
            chunk(["tool_calls": [["index": 0, "function": ["arguments": "{\"x\""]]]]),
            chunk(["tool_calls": [["index": 0, "function": ["arguments": ":1}"]]]]),
            // Whole call, index 0 again, new id: a second call.
            chunk(["tool_calls": [["index": 0, "id": "b", "function": ["name": "g", "arguments": "{}"]]]]),
            chunk([:], finish: "tool_calls"),
            ["choices": [], "usage": ["prompt_tokens": 5, "completion_tokens": 4]],
        ] {
            events += try decoder.events(for: c)
        }
        events.append(try decoder.finish())
        XCTAssertEqual(events, [
            .textDelta("Hi"),
            .toolCallStarted(index: 0, id: "a", name: "f"),
            .toolCallArgumentsDelta(index: 0, fragment: "{\"x\""), .toolCallArgumentsDelta(index: 0, fragment: ":1}"),
            .toolCallStarted(index: 1, id: "b", name: "g"), .toolCallArgumentsDelta(index: 1, fragment: "{}"),
            .finished(reason: .toolCalls, usage: TokenUsage(promptTokens: 5, completionTokens: 4)),
        ])
    }

    func testStreamWithoutFinishIsCut() throws {
        var decoder = ChunkDecoder()
        _ = try decoder.events(for: ["choices": [["delta": ["content": "Hi"]]]])
        XCTAssertThrowsError(try decoder.finish()) { XCTAssertEqual(($0 as? APIError)?.code, "upstream_stream_cut") }
    }

    func testErrorChunkKeepsTheUpstreamError() {
        var decoder = ChunkDecoder()
        XCTAssertThrowsError(try decoder.events(for: ["error": ["message": "overloaded", "type": "server_error", "code": "busy"]])) {
            let error = $0 as? APIError
            XCTAssertEqual(error?.message, "overloaded")
            XCTAssertEqual(error?.code, "busy")
        }
    }

    func testSSESplitAnywhere() throws {
        let stream = ": keep-alive\r\ndata: {\"a\":\"é\"}\r\n\r\nevent: x\ndata: line1\ndata:line2\n\ndata: [DONE]\n\n"
        let bytes = Array(stream.utf8)
        for split in 0...bytes.count {
            var decoder = SSEDecoder()
            let events = try decoder.feed(bytes[..<split]) + decoder.feed(bytes[split...])
            XCTAssertEqual(events, [#"{"a":"é"}"#, "line1\nline2", "[DONE]"], "split at \(split)")
        }
    }

    func testSSEEventSizeIsBounded() {
        var decoder = SSEDecoder(maxEventBytes: 16)
        XCTAssertThrowsError(try decoder.feed(Array(("data: " + String(repeating: "x", count: 32)).utf8)))
    }
}
