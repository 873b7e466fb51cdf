import ChatAPI

/// What a request asks of MCP, read from its JSON before the ordinary decoding:
///
/// ```json
/// "tools": [{"type": "mcp", "server_label": "weather",
///            "allowed_tools": ["get_weather"], "require_approval": "never"}],
/// "mcp_approvals": [{"tool_call_id": "call_1", "approve": true}],
/// "mcp_max_rounds": 4
/// ```
///
/// An `mcp` entry names a configured server (never a URL or command: requests cannot make
/// Switchboard start or reach anything the operator did not configure). `MCPToolbox` replaces
/// it with the server's tools as ordinary function tools, so `tool_choice` can name them and
/// their `inputSchema` is enforced like any function's. Naming one opts the request into the
/// server-side loop (`ServerSideToolLoop`).
public struct MCPToolUse: Sendable {
    /// The function tools that stand for MCP tools, by function name.
    public internal(set) var bindings: [String: MCPToolBinding] = [:]
    /// The caller's decisions on calls that needed approval, by tool call id.
    public internal(set) var approvals: [String: Approval] = [:]
    /// Model rounds the loop may run before it hands pending calls back.
    public internal(set) var maxRounds = MCPToolUse.defaultMaxRounds

    public static let defaultMaxRounds = 8
    public static let maxRoundsLimit = 32

    /// The caller's answer to a call that needed approval.
    public struct Approval: Sendable, Equatable {
        public let approve: Bool
        public let reason: String?
    }

    /// The request's JSON with its MCP fields read and removed, ready for
    /// `ChatCompletionRequest(json:)`; nil when it has none (the usual case, which costs one
    /// scan of `tools`). `expand` lists one `mcp` entry's tools as function tools.
    static func extract(
        from json: JSONValue,
        expand: (_ entry: FieldReader, _ index: Int) async throws -> [(function: JSONValue, binding: MCPToolBinding)]
    ) async throws -> (json: JSONValue, use: MCPToolUse)? {
        guard case .object(var body) = json else { return nil }
        let rawTools = body["tools"]?.arrayValue ?? []
        let mentionsMCP = rawTools.contains { $0.objectValue?["type"] == .string("mcp") }
        guard mentionsMCP || body["mcp_approvals"] != nil || body["mcp_max_rounds"] != nil else { return nil }
        let request = try FieldReader(json, path: "")
        var use = MCPToolUse()
        var tools: [JSONValue] = []
        for (i, tool) in rawTools.enumerated() {
            guard tool.objectValue?["type"] == .string("mcp") else {
                tools.append(tool)
                continue
            }
            for (function, binding) in try await expand(try FieldReader(tool, path: "tools[\(i)]"), i) {
                guard use.bindings.updateValue(binding, forKey: binding.functionName) == nil else {
                    throw APIError.invalidRequest(
                        "Invalid 'tools[\(i)]': the MCP tool '\(binding.tool)' of '\(binding.server)' is offered twice, or clashes with another tool named '\(binding.functionName)'.",
                        param: "tools[\(i)]")
                }
                tools.append(function)
            }
        }
        if mentionsMCP { body["tools"] = .array(tools) }
        if let approvals = try request.array("mcp_approvals") {
            for (i, approval) in approvals.enumerated() {
                let r = try FieldReader(approval, path: "mcp_approvals[\(i)]")
                let id = try r.requiredString("tool_call_id")
                guard let approve = try r.bool("approve") else { throw APIError.missing(r.param("approve")) }
                use.approvals[id] = Approval(approve: approve, reason: try r.string("reason"))
            }
        }
        if let rounds = try request.int("mcp_max_rounds", atLeast: 1) {
            guard rounds <= maxRoundsLimit else {
                throw APIError.invalidRequest("Invalid 'mcp_max_rounds': at most \(maxRoundsLimit) rounds are allowed.",
                                              param: "mcp_max_rounds")
            }
            use.maxRounds = rounds
        }
        for field in ["mcp_approvals", "mcp_max_rounds"] { body[field] = nil }
        return (.object(body), use)
    }
}

/// A function tool that stands for one tool of one MCP server.
public struct MCPToolBinding: Sendable, Equatable {
    /// The name the model sees: the MCP tool's, with characters OpenAI does not allow in a
    /// function name replaced by `_`.
    public let functionName: String
    /// The configured server's name.
    public let server: String
    /// The tool's own name on that server.
    public let tool: String
    /// Switchboard runs its calls without asking the caller.
    public let runsWithoutApproval: Bool
}
