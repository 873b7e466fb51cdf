import ChatAPI
import XCTest
@testable import MCPClient

/// Reading a request's MCP fields: `mcp` tool entries expand in place into function tools, the
/// loop's own fields are checked and removed, and requests without MCP pass untouched.
final class MCPToolUseTests: XCTestCase {
    /// Expands every entry into the tools named in a fake catalogue.
    private func extract(_ text: String, catalogue: [String] = ["get_weather", "set_thermostat"]) async throws -> (json: JSONValue, use: MCPToolUse)? {
        try await MCPToolUse.extract(from: try JSONValue(parsing: text)) { entry, _ in
            let server = try entry.requiredString("server_label")
            return catalogue.map { tool in
                (["type": "function", "function": ["name": .string(tool), "parameters": ["type": "object"]]],
                 MCPToolBinding(functionName: MCPToolbox.functionName(tool), server: server, tool: tool,
                                runsWithoutApproval: tool == "get_weather"))
            }
        }
    }

    func testRequestsWithoutMCPAreUntouched() async throws {
        let result = try await extract(#"{"model": "m", "messages": [], "tools": [{"type": "function", "function": {"name": "f"}}]}"#)
        XCTAssertNil(result)
    }

    func testEntriesExpandInPlace() async throws {
        let result = try await extract(#"""
            {"model": "m", "messages": [], "mcp_max_rounds": 3, "mcp_approvals": [{"tool_call_id": "c1", "approve": false, "reason": "no"}],
             "tools": [{"type": "function", "function": {"name": "first"}}, {"type": "mcp", "server_label": "weather"},
                       {"type": "function", "function": {"name": "last"}}]}
            """#)
        let (json, use) = try XCTUnwrap(result)
        let names = json.objectValue?["tools"]?.arrayValue?.compactMap { $0.objectValue?["function"]?.objectValue?["name"]?.stringValue }
        XCTAssertEqual(names, ["first", "get_weather", "set_thermostat", "last"])
        XCTAssertNil(json.objectValue?["mcp_max_rounds"])
        XCTAssertNil(json.objectValue?["mcp_approvals"])
        XCTAssertEqual(use.maxRounds, 3)
        XCTAssertEqual(use.approvals["c1"], MCPToolUse.Approval(approve: false, reason: "no"))
        XCTAssertEqual(use.bindings["get_weather"]?.server, "weather")
        XCTAssertEqual(use.bindings["set_thermostat"]?.runsWithoutApproval, false)
        // What remains decodes as an ordinary request.
        XCTAssertNoThrow(try ChatCompletionRequest(json: json.withMessages))
    }

    func testMistakesAreNamed() async throws {
        for (text, param) in [
            (#"{"tools": [{"type": "mcp", "server_label": "a"}, {"type": "mcp", "server_label": "b"}]}"#, "tools[1]"),
            (#"{"tools": [{"type": "function", "function": {"name": "x"}}], "mcp_max_rounds": 33}"#, "mcp_max_rounds"),
            (#"{"mcp_max_rounds": 0}"#, "mcp_max_rounds"),
            (#"{"mcp_approvals": [{"tool_call_id": "c"}]}"#, "mcp_approvals[0].approve"),
            (#"{"mcp_approvals": [{"approve": true}]}"#, "mcp_approvals[0].tool_call_id"),
            (#"{"mcp_approvals": {"c": true}}"#, "mcp_approvals"),
        ] {
            do {
                _ = try await extract(text)
                XCTFail("accepted: \(text)")
            } catch let error as APIError {
                XCTAssertEqual(error.status, 400, text)
                XCTAssertEqual(error.param, param, text)
            }
        }
    }

    func testToolNamesBecomeFunctionNames() {
        XCTAssertEqual(MCPToolbox.functionName("get_weather"), "get_weather")
        XCTAssertEqual(MCPToolbox.functionName("docs.search/v2"), "docs_search_v2")
        XCTAssertEqual(MCPToolbox.functionName("météo"), "m_t_o")
        XCTAssertEqual(MCPToolbox.functionName(String(repeating: "a", count: 80)).count, 64)
        XCTAssertTrue(FunctionDefinition.isValidName(MCPToolbox.functionName("")))
    }

    func testForcedChoicesHoldForTheFirstRoundOnly() {
        XCTAssertEqual(ToolChoice.required.afterFirstRound, .auto)
        XCTAssertEqual(ToolChoice.function("f").afterFirstRound, .auto)
        XCTAssertEqual(ToolChoice.allowed(names: ["f"], required: true).afterFirstRound, .allowed(names: ["f"], required: false))
        XCTAssertEqual(ToolChoice.none.afterFirstRound, .none)
        XCTAssertEqual(ToolChoice.auto.afterFirstRound, .auto)
    }
}

private extension JSONValue {
    /// The request with one user message, so it decodes.
    var withMessages: JSONValue {
        guard case .object(var object) = self else { return self }
        object["messages"] = [["role": "user", "content": "hi"]]
        return .object(object)
    }
}
