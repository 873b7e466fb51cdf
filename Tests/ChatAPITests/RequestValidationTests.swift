import XCTest
@testable import ChatAPI

final class RequestValidationTests: XCTestCase {
    private func decode(_ text: String) throws -> ChatCompletionRequest {
        try ChatCompletionRequest(json: try JSONValue(parsing: text))
    }

    private func expectError(_ text: String, param: String?, code: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(text), file: file, line: line) { error in
            guard let e = error as? APIError else { return XCTFail("not an APIError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.status, 400, file: file, line: line)
            XCTAssertEqual(e.param, param, e.message, file: file, line: line)
            if let code { XCTAssertEqual(e.code, code, file: file, line: line) }
            XCTAssertFalse(e.message.isEmpty, file: file, line: line)
        }
    }

    func testFullRequestDecodes() throws {
        let r = try decode("""
        {"model":"m","messages":[
          {"role":"system","content":"s"},{"role":"developer","content":[{"type":"text","text":"d"}]},
          {"role":"user","content":"u","name":"ann"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\\"a\\":1}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"42"}]}],
         "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"integer"}}},"strict":true}}],
         "tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false,
         "response_format":{"type":"json_schema","json_schema":{"name":"out","schema":{"type":"object"},"strict":true}},
         "stream":true,"stream_options":{"include_usage":true},"stop":"x","max_tokens":7,"max_completion_tokens":9,
         "temperature":0.5,"top_p":0.9,"seed":-3,"presence_penalty":1,"frequency_penalty":-1,"n":1,"user":"u1",
         "reasoning_effort":"low","logit_bias":{},"logprobs":false}
        """)
        XCTAssertEqual(r.messages.count, 5)
        XCTAssertEqual(r.messages[3].toolCalls, [ToolCall(id: "call_1", name: "f", arguments: #"{"a":1}"#)])
        XCTAssertEqual(r.messages[4].content?.text, "42")
        XCTAssertEqual(r.tools.first?.strict, true)
        XCTAssertEqual(r.toolChoice, .function("f"))
        XCTAssertFalse(r.parallelToolCalls)
        XCTAssertEqual(r.stop, ["x"])
        XCTAssertEqual(r.maxCompletionTokens, 9, "max_completion_tokens wins over max_tokens")
        XCTAssertEqual(r.maxCompletionTokensParam, "max_completion_tokens")
        XCTAssertEqual(try decode(#"{"model":"m","messages":[{"role":"user","content":"u"}],"max_tokens":3}"#).maxCompletionTokensParam, "max_tokens")
        XCTAssertEqual(r.seed, -3)
        XCTAssertTrue(r.stream && r.includeUsage)
        if case .jsonSchema(let name, _, let schema, let strict) = r.responseFormat {
            XCTAssertEqual(name, "out"); XCTAssertEqual(schema, ["type": "object"]); XCTAssertTrue(strict)
        } else { XCTFail("response_format") }
    }

    func testDefaultsFollowOpenAI() throws {
        let plain = try decode(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(plain.toolChoice, .none)
        XCTAssertTrue(plain.parallelToolCalls)
        XCTAssertFalse(plain.stream)
        let withTools = try decode(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#)
        XCTAssertEqual(withTools.toolChoice, .auto, "auto is the default when tools are given")
    }

    func testLegacyFunctionsMapToTools() throws {
        let r = try decode(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"functions":[{"name":"f","parameters":{"type":"object"}}],"function_call":{"name":"f"}}"#)
        XCTAssertEqual(r.tools.map(\.name), ["f"])
        XCTAssertEqual(r.toolChoice, .function("f"))
        XCTAssertTrue(r.usesLegacyFunctions)
    }

    func testErrorsNameTheField() {
        let u = #"{"role":"user","content":"hi"}"#
        expectError(#"[1]"#, param: "body")
        expectError(#"{"messages":[\#(u)]}"#, param: "model", code: "missing_required_parameter")
        expectError(#"{"model":"m"}"#, param: "messages")
        expectError(#"{"model":"m","messages":[]}"#, param: "messages")
        expectError(#"{"model":"m","messages":"hi"}"#, param: "messages", code: "invalid_type")
        expectError(#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#, param: "messages[0].role")
        expectError(#"{"model":"m","messages":[{"content":"x"}]}"#, param: "messages[0].role")
        expectError(#"{"model":"m","messages":[{"role":"assistant"}]}"#, param: "messages[0].content")
        expectError(#"{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#, param: "messages[0].content[0].type")
        expectError(#"{"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]}"#, param: "messages[0].content[0].text")
        expectError(#"{"model":"m","messages":[\#(u),{"role":"tool","content":"r"}]}"#, param: "messages[1].tool_call_id")
        expectError(#"{"model":"m","messages":[\#(u),{"role":"tool","content":"r","tool_call_id":"nope"}]}"#, param: "messages[1].tool_call_id")
        expectError(#"{"model":"m","messages":[\#(u)],"tools":[{"type":"function","function":{"name":"f","parameters":[]}}]}"#, param: "tools[0].function.parameters")
        expectError(#"{"model":"m","messages":[\#(u)],"tools":[{"type":"function"}]}"#, param: "tools[0].function")
        expectError(#"{"model":"m","messages":[\#(u)],"tools":[{"type":"custom","custom":{"name":"c"}}]}"#, param: "tools[0].type")
        expectError(#"{"model":"m","messages":[\#(u)],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}"#, param: "tool_choice")
        expectError(#"{"model":"m","messages":[\#(u)],"tool_choice":"required"}"#, param: "tool_choice")
        expectError(#"{"model":"m","messages":[\#(u)],"max_tokens":-5}"#, param: "max_tokens", code: "integer_below_min_value")
        expectError(#"{"model":"m","messages":[\#(u)],"max_tokens":1.5}"#, param: "max_tokens")
        expectError(#"{"model":"m","messages":[\#(u)],"temperature":2.5}"#, param: "temperature")
        expectError(#"{"model":"m","messages":[\#(u)],"frequency_penalty":-3}"#, param: "frequency_penalty")
        expectError(#"{"model":"m","messages":[\#(u)],"n":3}"#, param: "n")
        expectError(#"{"model":"m","messages":[\#(u)],"n":0}"#, param: "n")
        expectError(#"{"model":"m","messages":[\#(u)],"stop":[1]}"#, param: "stop[0]")
        expectError(#"{"model":"m","messages":[\#(u)],"stop":""}"#, param: "stop")
        expectError(#"{"model":"m","messages":[\#(u)],"stream_options":{"include_usage":true}}"#, param: "stream_options")
        expectError(#"{"model":"m","messages":[\#(u)],"response_format":{"type":"xml"}}"#, param: "response_format.type")
        expectError(#"{"model":"m","messages":[\#(u)],"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}"#, param: "response_format.json_schema.name")
        expectError(#"{"model":"m","messages":[\#(u)],"logit_bias":{"5":10}}"#, param: "logit_bias")
        expectError(#"{"model":"m","messages":[\#(u)],"reasoning_effort":"extreme"}"#, param: "reasoning_effort")
    }

    func testErrorObjectShape() {
        let e = APIError.invalidRequest("bad", param: "x")
        XCTAssertEqual(e.json.serialized(), #"{"error":{"message":"bad","type":"invalid_request_error","param":"x","code":"invalid_value"}}"#)
        XCTAssertEqual(APIError.server("boom").json["error"]?["param"], .null)
    }

    /// OpenAI allows at most 128 tools (or functions); more is a 400 naming the array.
    func testToolCountLimit() throws {
        func body(_ field: String, _ count: Int) -> String {
            let items = (0..<count).map { field == "tools"
                ? #"{"type":"function","function":{"name":"f\#($0)"}}"#
                : #"{"name":"f\#($0)"}"# }
            return #"{"model":"m","messages":[{"role":"user","content":"u"}],"\#(field)":[\#(items.joined(separator: ","))]}"#
        }
        XCTAssertEqual(try decode(body("tools", 128)).tools.count, 128)
        expectError(body("tools", 129), param: "tools", code: "array_above_max_length")
        XCTAssertEqual(try decode(body("functions", 128)).tools.count, 128)
        expectError(body("functions", 129), param: "functions", code: "array_above_max_length")
    }
}
