import ChatAPI
import Logging
import MCP

/// The MCP servers this Switchboard is configured to call, by name: their tools offered to
/// models as function tools, and their calls run.
public final class MCPToolbox: Sendable {
    private let connections: [String: MCPServerConnection]

    public init(servers: [MCPServerSettings], logger: Logger) {
        connections = Dictionary(uniqueKeysWithValues: servers.map { ($0.name, MCPServerConnection(settings: $0, logger: logger)) })
    }

    /// The request's JSON with its `mcp` tool entries replaced by function tools and its MCP
    /// fields removed, and what it asked of MCP; nil when it asks nothing of MCP.
    /// Throws a 400 naming the field for an unknown server, tool or approval setting, and a 502
    /// when a server cannot list its tools.
    public func prepare(_ json: JSONValue) async throws -> (json: JSONValue, use: MCPToolUse)? {
        try await MCPToolUse.extract(from: json) { entry, _ in try await self.functionTools(for: entry) }
    }

    /// Runs one call of a bound tool. Failures to reach the server come back as an error output
    /// for the model to read, as a tool's own errors do.
    public func call(_ binding: MCPToolBinding, arguments: JSONObject) async -> MCPToolOutput {
        guard let connection = connections[binding.server] else {
            return MCPToolOutput(text: "The MCP server '\(binding.server)' is not configured.", isError: true)
        }
        do {
            return try await connection.call(binding.tool, arguments: arguments)
        } catch is CancellationError {
            return MCPToolOutput(text: "The call was cancelled.", isError: true)
        } catch {
            return MCPToolOutput(text: "The MCP server '\(binding.server)' failed: \(error)", isError: true)
        }
    }

    /// Ends every session and stops every server process.
    public func close() async {
        for connection in connections.values { await connection.close() }
    }

    /// One `{"type": "mcp", …}` entry as function tools.
    private func functionTools(for entry: FieldReader) async throws -> [(function: JSONValue, binding: MCPToolBinding)] {
        if entry.has("server_url") {
            throw APIError.invalidRequest(
                "Invalid '\(entry.param("server_url"))': this server calls only the MCP servers it is configured with; name one in 'server_label'.",
                param: entry.param("server_url"), code: "unsupported_parameter")
        }
        let label = try entry.requiredString("server_label")
        guard let connection = connections[label] else {
            let configured = connections.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw APIError.invalidRequest(
                "Invalid '\(entry.param("server_label"))': no MCP server named '\(label)' is configured here. Configured: \(configured.isEmpty ? "none" : configured).",
                param: entry.param("server_label"))
        }
        let settings = connection.settings
        let wanted = try entry.array("allowed_tools")?.enumerated().map { j, name -> String in
            guard case .string(let s) = name else { throw APIError.wrongType("\(entry.param("allowed_tools"))[\(j)]", expected: "a string", got: name) }
            return s
        }
        let requireApproval = try entry.string("require_approval")
        guard requireApproval == nil || requireApproval == "never" || requireApproval == "always" else {
            throw APIError.invalidRequest(
                "Invalid value for '\(entry.param("require_approval"))': '\(requireApproval!)'. Supported values are: 'never' and 'always'.",
                param: entry.param("require_approval"))
        }
        let listed: [MCP.Tool]
        do {
            listed = try await connection.tools().filter { settings.offers($0.name) }
        } catch {
            throw APIError(status: 502, message: "The MCP server '\(label)' could not list its tools: \(error)",
                           type: "server_error", param: entry.param("server_label"), code: "mcp_server_unavailable")
        }
        for (j, name) in (wanted ?? []).enumerated() where !listed.contains(where: { $0.name == name }) {
            throw APIError.invalidRequest(
                "Invalid '\(entry.param("allowed_tools"))[\(j)]': the MCP server '\(label)' offers no tool '\(name)'. Offered: \(listed.map { "'\($0.name)'" }.joined(separator: ", ")).",
                param: "\(entry.param("allowed_tools"))[\(j)]")
        }
        let chosen = wanted.map { names in listed.filter { names.contains($0.name) } } ?? listed
        return try chosen.map { tool in
            let autoRun = settings.runsWithoutApproval(tool.name)
            if requireApproval == "never" && !autoRun {
                throw APIError.invalidRequest(
                    "Invalid value for '\(entry.param("require_approval"))': the configuration of '\(label)' requires the caller's approval for '\(tool.name)'.",
                    param: entry.param("require_approval"))
            }
            let binding = MCPToolBinding(functionName: Self.functionName(tool.name), server: label, tool: tool.name,
                                         runsWithoutApproval: autoRun && requireApproval != "always")
            var function: JSONObject = ["name": .string(binding.functionName), "parameters": JSONValue(tool.inputSchema)]
            if let description = tool.description { function["description"] = .string(description) }
            return (["type": "function", "function": .object(function)], binding)
        }
    }

    /// An MCP tool name as an OpenAI function name (`^[a-zA-Z0-9_-]{1,64}$`).
    static func functionName(_ toolName: String) -> String {
        let mapped = String(String.UnicodeScalarView(toolName.unicodeScalars.prefix(64).map { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-")
                ? scalar : "_"
        }))
        return mapped.isEmpty ? "_" : mapped
    }
}
