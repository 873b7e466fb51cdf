import ChatAPI
import Foundation
import JSONSchemaKit
import XCTest

/// Function calling over HTTP on the real default model (SmolLM2-135M, whose template has no
/// tool support, so the generic format and the grammar do all the work).
final class ToolCallingIntegrationTests: XCTestCase {
    private let system: [String: Any] = ["role": "system", "content": "You are a helpful assistant."]
    private let weatherQuestion: [String: Any] = ["role": "user", "content": "What is the weather in Paris right now, in celsius? Use the tools."]
    private let twoCities: [String: Any] = ["role": "user", "content": "Get the current weather in Paris and in Tokyo, in celsius. Call get_weather once per city."]

    private func ask(_ body: [String: Any], stream: Bool) throws -> AssistantAnswer {
        var b = body
        if b["temperature"] == nil { b["temperature"] = 0 }
        if b["max_tokens"] == nil { b["max_tokens"] = 200 }
        if stream {
            b["stream_options"] = ["include_usage": true]
            let r = try server().stream(b)
            XCTAssertEqual(r.status, 200, r.events.joined(separator: "\n"))
            return try AssistantAnswer(stream: r.events)
        }
        let r = try server().chat(b)
        XCTAssertEqual(r.status, 200, "\(r.json)")
        return try AssistantAnswer(response: r.json)
    }

    /// Every tool_choice × parallel_tool_calls × stream combination means what the spec says.
    func testToolChoiceMatrix() throws {
        let choices: [(String, Any)] = [
            ("none", "none"), ("auto", "auto"), ("required", "required"),
            ("named", ["type": "function", "function": ["name": "get_time"]]),
        ]
        var cutShort = 0
        for (label, choice) in choices {
            for parallel in [true, false] {
                for stream in [false, true] {
                    let context = "tool_choice \(label), parallel \(parallel), stream \(stream)"
                    let question = parallel ? twoCities : weatherQuestion
                    let answer = try ask(["messages": [system, question], "tools": TestTools.both,
                                          "tool_choice": choice, "parallel_tool_calls": parallel], stream: stream)
                    try answer.checkCalls(tools: TestTools.both)
                    if answer.finishReason == "length", label == "required" || label == "named" {
                        // A tiny model can loop inside a string argument until max_tokens; the
                        // spec'd outcome is `length` and no half call (checked above), but it
                        // must stay the exception. (Long text answers under none/auto are
                        // ordinary and checked below.)
                        cutShort += 1
                        continue
                    }
                    switch label {
                    case "none":
                        XCTAssertTrue(answer.toolCalls.isEmpty, context)
                        XCTAssertFalse((answer.content ?? "").isEmpty, context)
                        XCTAssertNotEqual(answer.finishReason, "tool_calls", context)
                    case "required":
                        XCTAssertFalse(answer.toolCalls.isEmpty, context)
                        XCTAssertNil(answer.content.flatMap { $0.isEmpty ? nil : $0 }, "free text before a required call: \(context)")
                    case "named":
                        XCTAssertEqual(answer.toolCalls.map(\.name), ["get_time"], context)
                    default:
                        if answer.toolCalls.isEmpty { XCTAssertFalse((answer.content ?? "").isEmpty, context) }
                    }
                    if !parallel { XCTAssertLessThanOrEqual(answer.toolCalls.count, 1, context) }
                    // No format marker ever reaches the visible text.
                    XCTAssertFalse((answer.content ?? "").contains("\"arguments\""), "call text leaked: \(context): \(answer.content ?? "")")
                }
            }
        }
        XCTAssertLessThanOrEqual(cutShort, 3, "too many of the 8 mandatory calls cut short by max_tokens")
    }

    /// A model that cannot call tools in auto mode still returns either text or valid calls;
    /// required with room for two calls may produce two, each with its own id.
    func testRequiredCallsHaveDistinctIDs() throws {
        let answer = try ask(["messages": [system, twoCities], "tools": TestTools.both, "tool_choice": "required"], stream: false)
        XCTAssertGreaterThanOrEqual(answer.toolCalls.count, 1)
        XCTAssertEqual(Set(answer.toolCalls.map(\.id)).count, answer.toolCalls.count)
    }

    /// Assistant tool_calls and tool results go back into the prompt; the model answers or calls again.
    func testMultiTurnWithToolResults() throws {
        let assistant: [String: Any] = [
            "role": "assistant", "content": NSNull(),
            "tool_calls": [
                ["id": "call_paris_001", "type": "function", "function": ["name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"]],
                ["id": "call_tokyo_002", "type": "function", "function": ["name": "get_weather", "arguments": "{\"city\": \"Tokyo\", \"unit\": \"celsius\"}"]],
            ],
        ]
        for stream in [false, true] {
            let answer = try ask(["messages": [
                system, twoCities, assistant,
                ["role": "tool", "tool_call_id": "call_paris_001", "content": "{\"temperature\": 18, \"condition\": \"sunny\"}"],
                ["role": "tool", "tool_call_id": "call_tokyo_002", "content": [["type": "text", "text": "{\"temperature\": 25}"]]],
            ], "tools": TestTools.both], stream: stream)
            try answer.checkCalls(tools: TestTools.both)
            XCTAssertTrue(!(answer.content ?? "").isEmpty || !answer.toolCalls.isEmpty)
        }
    }

    func testResponseFormatJSONObject() throws {
        for stream in [false, true] {
            let answer = try ask(["messages": [["role": "user", "content": "Return a JSON object describing Paris."]],
                                  "response_format": ["type": "json_object"]], stream: stream)
            let value = try JSONValue(parsing: try XCTUnwrap(answer.content))
            XCTAssertNotNil(value.objectValue, "not an object: \(answer.content ?? "")")
            XCTAssertEqual(answer.finishReason, "stop")
        }
    }

    func testResponseFormatJSONSchema() throws {
        let schema: [String: Any] = [
            "type": "object",
            "properties": ["city": ["type": "string"], "country": ["type": "string"], "population": ["type": "integer"],
                           "tags": ["type": "array", "items": ["type": "string", "enum": ["capital", "port", "old"]], "maxItems": 3]],
            "required": ["city", "country", "population"],
            "additionalProperties": false,
        ]
        let validator = try JSONSchema(json: try JSONValue(parsing: String(decoding: try JSONSerialization.data(withJSONObject: schema), as: UTF8.self)))
        for (stream, strict) in [(false, true), (true, false)] {
            let answer = try ask(["messages": [system, ["role": "user", "content": "Describe Paris: city, country and population."]],
                                  "response_format": ["type": "json_schema", "json_schema": ["name": "city_info", "strict": strict, "schema": schema]]],
                                 stream: stream)
            let value = try JSONValue(parsing: try XCTUnwrap(answer.content))
            XCTAssertEqual(validator.validate(value), [], answer.content ?? "")
        }
    }

    /// A keyword the grammar cannot enforce is a 400 that names the field and the keyword.
    func testUnenforceableSchemaIsRejected() throws {
        let tool: [String: Any] = ["type": "function", "function": [
            "name": "pick", "parameters": ["type": "object", "properties": ["x": ["type": "integer", "not": ["maximum": 5]]]],
        ] as [String: Any]]
        let r = try server().chat(["messages": [weatherQuestion], "tools": [TestTools.weather, tool], "tool_choice": "auto"])
        XCTAssertEqual(r.status, 400)
        let error = try XCTUnwrap(r.json["error"] as? [String: Any])
        XCTAssertEqual(error["param"] as? String, "tools[1].function.parameters")
        XCTAssertTrue((error["message"] as? String ?? "").contains("'not'"), "\(error)")

        let format = try server().chat(["messages": [weatherQuestion], "response_format": [
            "type": "json_schema", "json_schema": ["name": "x", "schema": ["type": "array", "uniqueItems": true]]]])
        XCTAssertEqual(format.status, 400)
        XCTAssertTrue(((format.json["error"] as? [String: Any])?["message"] as? String ?? "").contains("'uniqueItems'"), "\(format.json)")
        XCTAssertEqual((format.json["error"] as? [String: Any])?["param"] as? String, "response_format.json_schema.schema")
    }

    /// max_tokens running out mid-call ends with `length`, and the half call is not returned.
    func testLengthMidCall() throws {
        let answer = try ask(["messages": [system, weatherQuestion], "tools": TestTools.both, "tool_choice": "required",
                              "max_tokens": 6], stream: false)
        XCTAssertEqual(answer.finishReason, "length")
        XCTAssertTrue(answer.toolCalls.isEmpty, "a half call was returned: \(answer.toolCalls)")
        let streamed = try ask(["messages": [system, weatherQuestion], "tools": TestTools.both, "tool_choice": "required",
                                "max_tokens": 6], stream: true)
        XCTAssertEqual(streamed.finishReason, "length")
    }

    /// The deprecated `functions` / `function_call` dialect answers with `function_call`.
    func testLegacyFunctionCall() throws {
        let functions = TestTools.both.map { $0["function"]! }
        let r = try server().chat(["messages": [system, weatherQuestion], "functions": functions,
                                   "function_call": ["name": "get_weather"], "temperature": 0])
        XCTAssertEqual(r.status, 200, "\(r.json)")
        let choice = try XCTUnwrap((r.json["choices"] as? [[String: Any]])?.first)
        let message = try XCTUnwrap(choice["message"] as? [String: Any])
        let call = try XCTUnwrap(message["function_call"] as? [String: Any], "\(message)")
        XCTAssertEqual(call["name"] as? String, "get_weather")
        XCTAssertNotNil(try JSONValue(parsing: try XCTUnwrap(call["arguments"] as? String)).objectValue)
        XCTAssertEqual(choice["finish_reason"] as? String, "function_call")
    }
}
