import Foundation
import XCTest

/// Schemas built to crash or stall the server (issue 8): each gets a clean 400 naming the field,
/// and the server keeps answering everyone else while they are refused.
final class HostileSchemaTests: XCTestCase {
    /// A tool request whose `parameters` is `schema`.
    static func toolRequest(_ schema: Any, choice: Any = "required") -> [String: Any] {
        [
            "messages": [["role": "user", "content": "Call the tool."]],
            "tools": [["type": "function", "function": ["name": "f", "parameters": schema]]],
            "tool_choice": choice, "max_tokens": 30,
        ]
    }

    /// `a0 = allOf [a1, a1]`, … (3 KB): 2^depth paths for a naive merger or validator.
    static func allOfDoublingChain(depth: Int) -> [String: Any] {
        var defs: [String: Any] = [:]
        for i in 0..<depth {
            let next = ["$ref": "#/$defs/a\(i + 1)"]
            defs["a\(i)"] = ["allOf": [next, next]]
        }
        defs["a\(depth)"] = ["type": "object", "properties": ["x": ["type": "integer"]]]
        return ["type": "object", "$defs": defs, "$ref": "#/$defs/a0"]
    }

    /// `n0 = not anyOf [n1, n1]`, …: the same doubling through negation.
    static func notAnyOfChain(depth: Int) -> [String: Any] {
        var defs: [String: Any] = [:]
        for i in 0..<depth {
            let next = ["$ref": "#/$defs/n\(i + 1)"]
            defs["n\(i)"] = ["not": ["anyOf": [next, next]]]
        }
        defs["n\(depth)"] = ["type": "string"]
        return ["type": "object", "properties": ["v": ["$ref": "#/$defs/n0"]], "$defs": defs]
    }

    /// The server still answers: `/health` within 1 s, then an ordinary completion.
    func assertStillServing(_ s: ServerProcess, file: StaticString = #filePath, line: UInt = #line) throws {
        let start = Date()
        let health = try s.request("GET", "/health")
        XCTAssertEqual(health.status, 200, file: file, line: line)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0, "/health was slow", file: file, line: line)
        let (status, json) = try s.chat(["messages": [["role": "user", "content": "Hi"]], "max_tokens": 3])
        XCTAssertEqual(status, 200, "\(json)", file: file, line: line)
    }

    func error(_ json: [String: Any]) -> [String: Any] { json["error"] as? [String: Any] ?? [:] }

    func testDeeplyNestedRegexGroupsAreAnErrorNotACrash() throws {
        let s = try server()
        let depth = 300_000
        let pattern = String(repeating: "(", count: depth) + "a" + String(repeating: ")", count: depth)
        for schema: [String: Any] in [
            ["type": "object", "properties": ["p": ["type": "string", "pattern": pattern]]],
            ["type": "object", "patternProperties": [pattern: ["type": "string"]]],
        ] {
            let (status, json) = try s.chat(Self.toolRequest(schema))
            XCTAssertEqual(status, 400, "\(json)")
            XCTAssertEqual(error(json)["param"] as? String, "tools[0].function.parameters")
            try assertStillServing(s)
        }
        var body = Self.toolRequest(["type": "object"], choice: "none")
        body["tools"] = nil
        body["response_format"] = ["type": "json_schema", "json_schema": ["name": "r", "schema": ["type": "string", "pattern": pattern]]]
        let (status, json) = try s.chat(body)
        XCTAssertEqual(status, 400, "\(json)")
        XCTAssertEqual(error(json)["param"] as? String, "response_format.json_schema.schema")
        try assertStillServing(s)
    }

    func testExponentialCombinationsAreRefusedPromptly() throws {
        let s = try server()
        for schema in [Self.allOfDoublingChain(depth: 40), Self.notAnyOfChain(depth: 40)] {
            let size = try JSONSerialization.data(withJSONObject: schema).count
            XCTAssertLessThan(size, 4_000)
            let start = Date()
            let (status, json) = try s.chat(Self.toolRequest(schema))
            XCTAssertLessThan(Date().timeIntervalSince(start), 5, "the budget (2 s) must end it")
            XCTAssertEqual(status, 400, "\(json)")
            XCTAssertEqual(error(json)["code"] as? String, "schema_too_complex", "\(json)")
            XCTAssertEqual(error(json)["param"] as? String, "tools[0].function.parameters")
            try assertStillServing(s)
        }
    }
}
