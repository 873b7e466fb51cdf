import Foundation

/// One MCP server Switchboard may call tools on, as configured by the operator (the config
/// file's `mcp_servers`, or `--mcp-server`). Requests refer to it by `name`; they can never
/// name a command or a URL themselves.
public struct MCPServerSettings: Sendable {
    /// How to reach the server.
    public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
        /// A process Switchboard starts, speaking MCP over its stdin and stdout.
        case stdio(command: [String])
        /// MCP's streamable-HTTP transport at this URL; `bearerToken` goes in `Authorization`.
        case http(url: URL, bearerToken: String?)

        /// For logs: the command or the URL, never the token.
        public var description: String {
            switch self {
            case .stdio(let command): "stdio: " + command.joined(separator: " ")
            case .http(let url, _): "http: \(url)"
            }
        }
    }

    /// The label requests use (`tools[i].server_label`).
    public let name: String
    public let endpoint: Endpoint
    /// The server's tools a request may be offered; nil offers all of them.
    public let offeredTools: Set<String>?
    /// Tools whose calls Switchboard runs without asking the caller first ("*": all). The calls
    /// of any other tool go back to the caller, who approves them (`mcp_approvals`) or answers
    /// them itself.
    public let autoApproved: Set<String>
    /// How long one tool call may take.
    public let callTimeout: Duration

    public init(name: String, endpoint: Endpoint, offeredTools: Set<String>? = nil, autoApproved: Set<String> = [],
                callTimeout: Duration = .seconds(60)) {
        self.name = name
        self.endpoint = endpoint
        self.offeredTools = offeredTools
        self.autoApproved = autoApproved
        self.callTimeout = callTimeout
    }

    /// Whether `tool` is one a request may be offered.
    public func offers(_ tool: String) -> Bool { offeredTools?.contains(tool) ?? true }

    /// Whether calls of `tool` run without the caller's approval.
    public func runsWithoutApproval(_ tool: String) -> Bool {
        autoApproved.contains("*") || autoApproved.contains(tool)
    }
}
