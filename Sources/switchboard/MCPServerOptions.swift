import ArgumentParser
import Foundation
import Gateway
import MCPClient

/// The MCP servers `serve` may call tools on: `--mcp-server` flags, and the config file's
/// `mcp_servers`, which `settings(adding:)` merges into one list of checked settings.
struct MCPServerOptions: ParsableArguments {
    @Option(name: .customLong("mcp-server"),
            help: "NAME=COMMAND (stdio, split at spaces) or NAME=URL (streamable HTTP): an MCP server whose tools requests may name as {\"type\": \"mcp\", \"server_label\": NAME} (repeatable).")
    var servers: [String] = []

    @Option(name: .customLong("mcp-auto-approve"),
            help: "NAME/TOOL, or NAME/* for all its tools: calls the server-side loop runs without asking the caller (repeatable). Calls of other tools go back to the caller to approve.")
    var autoApprove: [String] = []

    func validate() throws {
        _ = try flagEntries()
    }

    /// The flags' servers as config entries, by name.
    private func flagEntries() throws -> [String: GatewayConfiguration.MCPServerEntry] {
        var entries: [String: GatewayConfiguration.MCPServerEntry] = [:]
        for value in servers {
            guard let eq = value.firstIndex(of: "="), eq != value.startIndex else {
                throw ValidationError("--mcp-server takes NAME=COMMAND or NAME=URL, got '\(value)'.")
            }
            let name = String(value[..<eq]), target = String(value[value.index(after: eq)...])
            guard entries[name] == nil else { throw ValidationError("--mcp-server \(name) is given twice.") }
            entries[name] = target.hasPrefix("http://") || target.hasPrefix("https://")
                ? .init(url: target)
                : .init(command: target.split(separator: " ", omittingEmptySubsequences: true).map(String.init))
        }
        for value in autoApprove {
            guard let slash = value.firstIndex(of: "/"), slash != value.startIndex, value.index(after: slash) != value.endIndex else {
                throw ValidationError("--mcp-auto-approve takes NAME/TOOL or NAME/*, got '\(value)'.")
            }
            let name = String(value[..<slash]), tool = String(value[value.index(after: slash)...])
            guard entries[name] != nil else { throw ValidationError("--mcp-auto-approve \(value): no --mcp-server is named '\(name)'.") }
            entries[name]!.autoApprove = (entries[name]!.autoApprove ?? []) + [tool]
        }
        return entries
    }

    /// The flags' servers and `configured` (the config file's), checked together.
    func settings(adding configured: [String: GatewayConfiguration.MCPServerEntry],
                  environment: [String: String]) throws -> [MCPServerSettings] {
        var entries = configured
        for (name, entry) in try flagEntries() {
            guard entries.updateValue(entry, forKey: name) == nil else {
                throw CLIError("--mcp-server \(name): the configuration file names that server too.")
            }
        }
        do {
            try GatewayConfiguration(routes: [], mcpServers: entries).validateMCPServers()
        } catch let error as GatewayConfiguration.Invalid {
            throw CLIError("\(error)")
        }
        return try entries.sorted { $0.key < $1.key }.map { name, entry in
            let endpoint: MCPServerSettings.Endpoint
            if let command = entry.command {
                endpoint = .stdio(command: command)
            } else {
                var token: String?
                if let variable = entry.apiKeyEnv {
                    guard let value = environment[variable] else {
                        throw CLIError("mcp_servers.\(name): the environment variable \(variable) is not set.")
                    }
                    token = value
                }
                endpoint = .http(url: URL(string: entry.url!)!, bearerToken: token)
            }
            return MCPServerSettings(name: name, endpoint: endpoint, offeredTools: entry.tools.map(Set.init),
                                     autoApproved: Set(entry.autoApprove ?? []),
                                     callTimeout: .milliseconds(Int((entry.timeout ?? 60) * 1000)))
        }
    }
}
