import XCTest
@testable import ChatAPI

final class StreamAssemblyTests: XCTestCase {
    let identity = CompletionIdentity(id: "chatcmpl-1", created: 1_700_000_000, model: "m")
    let events: [ChatEvent] = [
        .textDelta("Let me check."),
        .toolCallStarted(index: 0, id: "call_a", name: "get_weather"),
        .toolCallArgumentsDelta(index: 0, fragment: #"{"city":"#),
        .toolCallArgumentsDelta(index: 0, fragment: #""Paris"}"#),
        .toolCallStarted(index: 1, id: "call_b", name: "get_time"),
        .toolCallArgumentsDelta(index: 1, fragment: "{}"),
        .finished(reason: .toolCalls, usage: TokenUsage(promptTokens: 10, completionTokens: 5)),
    ]

    func testChunksFollowStreamingConventions() throws {
        var encoder = ChunkEncoder(identity: identity, includeUsage: true)
        let chunks = events.flatMap { encoder.chunks(for: $0) }
        // role first, then content, then tool-call deltas, finish, usage.
        XCTAssertEqual(chunks.first?["choices"]?.arrayValue?.first?["delta"]?["role"], "assistant")
        let deltas = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["tool_calls"]?.arrayValue?.first }
        XCTAssertEqual(deltas.count, 5)
        XCTAssertEqual(deltas[0].serialized(), #"{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}"#)
        XCTAssertEqual(deltas[1].serialized(), #"{"index":0,"function":{"arguments":"{\"city\":"}}"#)
        XCTAssertNil(deltas[1]["id"], "later deltas must not repeat the id")
        XCTAssertEqual(deltas[3]["index"], 1)
        let finishes = chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
        XCTAssertEqual(finishes, ["tool_calls"])
        XCTAssertEqual(chunks.last?["choices"], .array([]))
        XCTAssertEqual(chunks.last?["usage"]?["total_tokens"], 15)
        XCTAssertTrue(chunks.dropLast().allSatisfy { $0["usage"] == .null })
        XCTAssertTrue(chunks.allSatisfy { $0["id"] == "chatcmpl-1" && $0["object"] == "chat.completion.chunk" })
    }

    func testNoUsageFieldUnlessRequested() {
        var encoder = ChunkEncoder(identity: identity, includeUsage: false)
        let chunks = events.flatMap { encoder.chunks(for: $0) }
        XCTAssertTrue(chunks.allSatisfy { $0["usage"] == nil })
        XCTAssertTrue(chunks.allSatisfy { $0["choices"]?.arrayValue?.count == 1 })
    }

    func testAssemblerBuildsTheSameMessage() throws {
        var assembler = CompletionAssembler()
        events.forEach { assembler.add($0) }
        let completion = try XCTUnwrap(assembler.completion(identity: identity))
        let json = completion.json
        let message = json["choices"]?.arrayValue?.first?["message"]
        XCTAssertEqual(message?["content"], "Let me check.")
        XCTAssertEqual(message?["refusal"], .null)
        XCTAssertEqual(message?["tool_calls"]?.arrayValue?.map { $0["function"]?["arguments"] }, [#"{"city":"Paris"}"#, "{}"])
        XCTAssertEqual(json["choices"]?.arrayValue?.first?["finish_reason"], "tool_calls")
        XCTAssertEqual(json["choices"]?.arrayValue?.first?["logprobs"], .null)
    }

    func testLegacyFunctionCallDialect() throws {
        var assembler = CompletionAssembler()
        [ChatEvent.toolCallStarted(index: 0, id: "call_a", name: "f"), .toolCallArgumentsDelta(index: 0, fragment: "{}"),
         .finished(reason: .toolCalls, usage: TokenUsage(promptTokens: 1, completionTokens: 1))].forEach { assembler.add($0) }
        let json = try XCTUnwrap(assembler.completion(identity: identity, legacyFunctionCall: true)).json
        XCTAssertEqual(json["choices"]?.arrayValue?.first?["message"]?["function_call"]?["name"], "f")
        XCTAssertEqual(json["choices"]?.arrayValue?.first?["finish_reason"], "function_call")
    }

    func testSSEFraming() {
        XCTAssertEqual(SSE.event(["a": 1]), "data: {\"a\":1}\n\n")
        XCTAssertEqual(SSE.done, "data: [DONE]\n\n")
    }
}
