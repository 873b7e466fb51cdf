import ArgumentParser
import Logging
import MCP
import Server

/// `switchboard mcp`: the models `serve` would serve, as MCP tools over stdio, for a desktop
/// agent or IDE to launch. Standard output is the protocol's; logs go to standard error.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve chat completions as MCP tools (chat_completions, list_models) over stdio.")

    @OptionGroup var models: ModelOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (to standard error).")
    var logLevel = "warning"

    func run() async throws {
        bootstrapStandardErrorLogging(level: logLevel, fallback: .warning)
        let logger = Logger(label: "switchboard")
        let (router, http) = try models.makeRouter(logger: logger)
        let server = await SwitchboardMCP.makeServer(router: router)
        try await server.start(transport: StdioTransport(logger: logger))
        // Ends when the client closes standard input.
        await server.waitUntilCompleted()
        await server.stop()
        await router.shutdown()
        try await http.shutdown()
    }
}
