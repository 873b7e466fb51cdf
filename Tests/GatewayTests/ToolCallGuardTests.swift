import ChatAPI
import JSONSchemaKit
import XCTest
@testable import Gateway

/// The guard lets exactly the calls the request allows through, each with schema-valid
/// arguments, and turns anything else into a 500 instead of passing it on.
final class ToolCallGuardTests: XCTestCase {
    static let weather: JSONValue = [
        "type": "object", "properties": ["city": ["type": "string"], "days": ["type": "integer", "minimum": 1]],
        "required": ["city"], "additionalProperties": false,
    ]

    func request(toolChoice: String = "\"auto\"", parallel: Bool = true) throws -> ChatCompletionRequest {
        let body = """
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": \(toolChoice),
         "parallel_tool_calls": \(parallel),
         "tools": [{"type": "function", "function": {"name": "weather", "parameters": \(Self.weather.serialized())}},
                   {"type": "function", "function": {"name": "clock"}}]}
        """
        return try ChatCompletionRequest(json: try JSONValue(parsing: body))
    }

    /// Runs `events` through a guard for `request`; returns the error it threw, if any.
    func violation(_ events: [ChatEvent], _ request: ChatCompletionRequest) -> APIError? {
        let schemas = RequestSchemas(functions: ["weather": try! JSONSchema(json: Self.weather)], responseFormat: nil)
        var guardState = ToolCallGuard(plan: ToolCallPlan(request: request), schemas: schemas)
        do {
            for event in events { try guardState.check(event) }
            return nil
        } catch {
            return error as? APIError
        }
    }

    let usage = TokenUsage(promptTokens: 1, completionTokens: 1)

    func call(_ index: Int, _ name: String, _ arguments: String) -> [ChatEvent] {
        [.toolCallStarted(index: index, id: "call_\(index)", name: name),
         .toolCallArgumentsDelta(index: index, fragment: String(arguments.prefix(3))),
         .toolCallArgumentsDelta(index: index, fragment: String(arguments.dropFirst(3)))]
    }

    func testValidCallsPass() throws {
        let events = call(0, "weather", #"{"city":"Paris","days":2}"#) + call(1, "clock", "{}")
            + [.finished(reason: .toolCalls, usage: usage)]
        XCTAssertNil(violation(events, try request()))
        XCTAssertNil(violation([.textDelta("hello"), .finished(reason: .stop, usage: usage)], try request()))
    }

    func testArgumentsFailingTheSchemaAreA500() throws {
        for bad in [#"{"city":"Paris","days":0}"#, #"{"days":2}"#, #"{"city":"Paris","extra":1}"#, #"{"city":"Par"#, "[]"] {
            let error = violation(call(0, "weather", bad) + [.finished(reason: .toolCalls, usage: usage)], try request())
            XCTAssertEqual(error?.status, 500, bad)
            XCTAssertEqual(error?.code, "tool_call_validation_failed", bad)
        }
        // The first call is checked when the second starts, before the second reaches anyone.
        let early = violation(call(0, "weather", #"{"days":2}"#) + [.toolCallStarted(index: 1, id: "c", name: "clock")], try request())
        XCTAssertEqual(early?.status, 500)
    }

    func testToolChoiceAndParallelCallsAreEnforced() throws {
        let finish: [ChatEvent] = [.finished(reason: .toolCalls, usage: usage)]
        let twoCalls = call(0, "clock", "{}") + call(1, "clock", "{}") + finish
        XCTAssertNotNil(violation(twoCalls, try request(parallel: false)), "parallel_tool_calls false allows one call")
        XCTAssertNotNil(violation(call(0, "clock", "{}") + finish, try request(toolChoice: "\"none\"")))
        XCTAssertNotNil(violation(call(0, "clock", "{}") + finish,
                                  try request(toolChoice: #"{"type":"function","function":{"name":"weather"}}"#)))
        XCTAssertNotNil(violation(call(0, "launch_missiles", "{}") + finish, try request()), "undeclared function")
        XCTAssertNotNil(violation([.textDelta("no"), .finished(reason: .stop, usage: usage)], try request(toolChoice: "\"required\"")))
        XCTAssertNotNil(violation(call(1, "clock", "{}") + finish, try request()), "indexes start at 0")
    }

    func testACallCutByTheTokenLimitIsLeftToFinishReasonLength() throws {
        let cut = call(0, "weather", #"{"city":"Pa"#) + [.finished(reason: .length, usage: usage)]
        XCTAssertNil(violation(cut, try request(toolChoice: "\"required\"")))
        // …but the calls finished before the cut are still checked.
        let earlier = call(0, "weather", #"{"days":2}"#) + call(1, "clock", "{") + [.finished(reason: .length, usage: usage)]
        XCTAssertNotNil(violation(earlier, try request()))
    }

    /// Without calls, a JSON `response_format` answer must be that JSON; a cut or filtered
    /// answer is left to its finish reason.
    func testAnswersFollowTheResponseFormat() throws {
        let plain = try ChatCompletionRequest(json: ["model": "m", "messages": [["role": "user", "content": "hi"]]])
        let schemas = RequestSchemas(functions: [:], responseFormat: try JSONSchema(json: Self.weather))
        func check(_ format: ResponseFormat, _ text: String, _ reason: FinishReason = .stop) -> String? {
            var guardState = ToolCallGuard(plan: ToolCallPlan(request: plain), schemas: schemas, answerFormat: format)
            do {
                for event: ChatEvent in [.textDelta(String(text.prefix(4))), .textDelta(String(text.dropFirst(4))),
                                         .finished(reason: reason, usage: usage)] { try guardState.check(event) }
                return nil
            } catch {
                return (error as? APIError)?.code
            }
        }
        let schema = ResponseFormat.jsonSchema(name: "w", description: nil, schema: Self.weather, strict: true)
        XCTAssertNil(check(schema, #" {"city":"Paris","days":2} "#))
        XCTAssertEqual(check(schema, #"{"city":"Paris","days":0}"#), "response_format_validation_failed")
        XCTAssertEqual(check(schema, "Sunny."), "response_format_validation_failed")
        XCTAssertNil(check(schema, #"{"city":"Par"#, .length))
        XCTAssertNil(check(.jsonObject, #"{"a":[1,2]}"#))
        XCTAssertEqual(check(.jsonObject, "[1,2]"), "response_format_validation_failed")
        XCTAssertNil(check(.text, "Sunny."))
    }
}
