import Foundation
import XCTest

/// Malformed input over HTTP: every case is a 400 (404/401 where OpenAI uses those) with
/// OpenAI's error object naming the field, and the server keeps serving afterwards.
final class ErrorIntegrationTests: XCTestCase {
    private let user: [String: Any] = ["role": "user", "content": "hi"]

    /// Checks status and the `{"error": {message, type, param, code}}` shape; returns the error object.
    @discardableResult
    private func expectError(_ r: RawHTTPConnection.Response, status: Int = 400, param: String?,
                             file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(r.status, status, r.text, file: file, line: line)
        XCTAssertTrue(r.headers["content-type"]?.hasPrefix("application/json") ?? false, file: file, line: line)
        let json = try XCTUnwrap(try r.json() as? [String: Any], file: file, line: line)
        let error = try XCTUnwrap(json["error"] as? [String: Any], r.text, file: file, line: line)
        for key in ["message", "type", "param", "code"] { XCTAssertTrue(error.keys.contains(key), "missing \(key)", file: file, line: line) }
        XCTAssertFalse((error["message"] as? String ?? "").isEmpty, file: file, line: line)
        if let param { XCTAssertEqual(error["param"] as? String, param, r.text, file: file, line: line) }
        return error
    }

    private func post(_ body: [String: Any], stream: Bool = false) throws -> RawHTTPConnection.Response {
        var b = body
        if b["model"] == nil { b["model"] = ServerProcess.defaultModelID }
        if stream { b["stream"] = true }
        return try server().request("POST", "/v1/chat/completions", json: b)
    }

    func testInvalidJSON() throws {
        let r = try server().raw("POST", "/v1/chat/completions", body: Data("{\"model\": ".utf8), headers: ["Content-Type": "application/json"])
        try expectError(r, param: nil)
    }

    func testWrongContentType() throws {
        let body = try JSONSerialization.data(withJSONObject: ["model": ServerProcess.defaultModelID, "messages": [user]])
        try expectError(try server().raw("POST", "/v1/chat/completions", body: body, headers: ["Content-Type": "text/plain"]), param: "Content-Type")
    }

    /// A body over the limit (4 MiB by default) is a 400 that arrives while the client is still
    /// free to read it: the server drains the rest instead of leaving the client blocked sending.
    /// Repeated, because a server that answers before draining fails only some of the time.
    func testOversizedBodyIsRejectedPromptly() throws {
        let content = String(repeating: "hello ", count: 12 * 1024 * 1024 / 6)
        let body = try JSONSerialization.data(withJSONObject: [
            "model": ServerProcess.defaultModelID, "messages": [["role": "user", "content": content]]])
        for _ in 0..<4 {
            let started = Date()
            let r = try server().raw("POST", "/v1/chat/completions", body: body, headers: ["Content-Type": "application/json"])
            let error = try expectError(r, param: nil)
            XCTAssertEqual(error["code"] as? String, "request_too_large")
            XCTAssertLessThan(Date().timeIntervalSince(started), 30, "the 400 took too long")
        }
        XCTAssertEqual(try server().request("GET", "/health").status, 200)
    }

    func testMessagesProblems() throws {
        try expectError(try post([:]), param: "messages")
        try expectError(try post(["messages": []]), param: "messages")
        try expectError(try post(["messages": [["role": "wizard", "content": "hi"]]]), param: "messages[0].role")
        try expectError(try post(["messages": [["role": "user"]]]), param: "messages[0].content")
        try expectError(try post(["messages": [["role": "user", "content": 5]]]), param: "messages[0].content")
        try expectError(try post(["messages": [user, ["role": "tool", "content": "42"]]]), param: "messages[1].tool_call_id")
        try expectError(try post(["messages": [user, ["role": "tool", "content": "42", "tool_call_id": "call_unknown"]]]),
                        param: "messages[1].tool_call_id")
        try expectError(try post(["messages": [["role": "user", "content": [["type": "image_url", "image_url": ["url": "http://x/y.png"]]]]]]),
                        param: "messages[0].content[0]")
    }

    func testModelProblems() throws {
        try expectError(try server().request("POST", "/v1/chat/completions", json: ["messages": [user]]), param: "model")
        try expectError(try post(["model": "gpt-nonexistent", "messages": [user]]), status: 404, param: "model")
    }

    func testToolProblems() throws {
        let weather: [String: Any] = ["type": "function", "function": ["name": "get_weather", "parameters": ["type": "object"]]]
        try expectError(try post(["messages": [user], "tools": [weather],
                                  "tool_choice": ["type": "function", "function": ["name": "get_time"]]]), param: "tool_choice")
        try expectError(try post(["messages": [user], "tools": [["type": "function", "function": ["name": "f", "parameters": "nope"]]]]),
                        param: "tools[0].function.parameters")
        try expectError(try post(["messages": [user], "tools": [["type": "function", "function": ["name": "bad name!"]]]]),
                        param: "tools[0].function.name")
        try expectError(try post(["messages": [user], "tools": [weather, weather]]), param: "tools[1].function.name")
        try expectError(try post(["messages": [user], "tool_choice": "sometimes"]), param: "tool_choice")
        let badSchema: [String: Any] = ["type": "object", "properties": ["x": ["type": "not-a-type"]], "required": "x"]
        let e = try expectError(try post(["messages": [user], "tools": [["type": "function", "function": ["name": "f", "parameters": badSchema]]]]),
                                param: "tools[0].function.parameters")
        XCTAssertTrue((e["message"] as? String ?? "").contains("not-a-type"), "names the problem: \(e)")
        try expectError(try post(["messages": [user], "response_format": ["type": "json_schema", "json_schema": ["name": "o", "schema": ["type": 5]]]]),
                        param: "response_format.json_schema.schema")
    }

    func testNumbersOutOfRange() throws {
        try expectError(try post(["messages": [user], "max_tokens": -1]), param: "max_tokens")
        try expectError(try post(["messages": [user], "max_completion_tokens": 0]), param: "max_completion_tokens")
        try expectError(try post(["messages": [user], "temperature": 3]), param: "temperature")
        try expectError(try post(["messages": [user], "top_p": -0.5]), param: "top_p")
        try expectError(try post(["messages": [user], "presence_penalty": 2.5]), param: "presence_penalty")
        try expectError(try post(["messages": [user], "n": 2]), param: "n")
        try expectError(try post(["messages": [user], "temperature": "hot"]), param: "temperature")
        try expectError(try post(["messages": [user], "stop": ["a", "b", "c", "d", "e"]]), param: "stop")
        try expectError(try post(["messages": [user], "logprobs": true]), param: "logprobs")
    }

    func testHugeBody() throws {
        let big = String(repeating: "a", count: 8 * 1024 * 1024)
        try expectError(try post(["messages": [["role": "user", "content": big]]]), param: nil)
    }

    func testBadStreamingRequestIsPlainJSONError() throws {
        let r = try post(["messages": [user], "tool_choice": ["type": "function", "function": ["name": "nope"]],
                          "tools": [["type": "function", "function": ["name": "f"]]]], stream: true)
        try expectError(r, param: "tool_choice")
        try expectError(try post(["messages": [], "stream_options": ["include_usage": true]], stream: true), param: "messages")
    }

    func testUnknownRouteAndMethod() throws {
        try expectError(try server().request("GET", "/v1/nothing-here"), status: 404, param: nil)
    }

    func testServerStillServesAfterAbuse() throws {
        for _ in 0..<3 { _ = try server().raw("POST", "/v1/chat/completions", body: Data("\u{0}\u{1}garbage".utf8), headers: [:]) }
        let (status, _) = try server().chat(["messages": [user], "max_tokens": 3])
        XCTAssertEqual(status, 200)
    }
}

/// `--api-key`: 401 in OpenAI's shape without the right bearer token; health stays open.
final class AuthIntegrationTests: XCTestCase {
    func testBearerAuth() throws {
        let s = try server(ServerProcess.withAPIKey)
        let body: [String: Any] = ["model": ServerProcess.defaultModelID, "messages": [["role": "user", "content": "hi"]], "max_tokens": 3]
        for headers in [[:], ["Authorization": "Bearer wrong"], ["Authorization": "sk-test-123"]] {
            let r = try s.request("POST", "/v1/chat/completions", json: body, headers: headers)
            XCTAssertEqual(r.status, 401, "\(headers)")
            let error = (try r.json() as? [String: Any])?["error"] as? [String: Any]
            XCTAssertEqual(error?["type"] as? String, "authentication_error")
        }
        XCTAssertEqual(try s.request("GET", "/v1/models").status, 401)
        XCTAssertEqual(try s.request("GET", "/health").status, 200)
        XCTAssertEqual(try s.request("POST", "/v1/chat/completions", json: body, headers: ["Authorization": "Bearer sk-test-123"]).status, 200)
        XCTAssertEqual(try s.request("GET", "/v1/models", headers: ["Authorization": "Bearer sk-test-123"]).status, 200)
    }
}
