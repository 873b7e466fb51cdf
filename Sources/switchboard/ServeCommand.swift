import ArgumentParser
import Foundation
import Gateway
import LocalBackend
import Hummingbird
import LocalEngine
import Logging
import MCPClient
import Metrics
import Prometheus
import Server
import Providers
import ServiceLifecycle

/// `switchboard serve`: serve a local GGUF model, hosted upstreams, or both, over the
/// OpenAI-compatible HTTP API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a GGUF model on an OpenAI-compatible /v1/chat/completions endpoint.")

    @Option(help: "Address to listen on. On a loopback address, requests must name a loopback Host (or an --allowed-host).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(name: .customLong("api-key"), help: "Require `Authorization: Bearer KEY` on every route but /health. Also read from SWITCHBOARD_API_KEY.")
    var apiKey: String?

    @Option(name: .customLong("max-body-mb"), help: "Largest accepted request body, in MiB.")
    var maxBodyMB = 4

    @Option(name: .customLong("header-timeout"), help: "Seconds a client has to send a request's headers once it has started.")
    var headerTimeout = 10.0

    @Option(name: .customLong("body-timeout"), help: "Seconds a client has to send a request body once its headers are in.")
    var bodyTimeout = 60.0

    @Option(name: .customLong("idle-timeout"), help: "Seconds a keep-alive connection may wait for its next request.")
    var idleTimeout = 60.0

    @Option(name: .customLong("max-connections"), help: "Open connections allowed; more are answered 503 and closed.")
    var maxConnections = 256

    @Option(name: .customLong("cors-origin"), help: "A browser origin allowed to call the API (repeatable; `*` for any). CORS is off by default.")
    var corsOrigins: [String] = []

    @Option(name: .customLong("allowed-host"), help: "A Host header value accepted besides loopback names while listening on loopback (repeatable).")
    var allowedHosts: [String] = []

    @Option(name: .customLong("shutdown-grace"), help: "Seconds in-flight requests may run after SIGTERM before they are cancelled.")
    var shutdownGrace = 5.0

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @OptionGroup var models: ModelOptions

    @OptionGroup var mcpServers: MCPServerOptions

    func validate() throws {
        for (name, value) in [("header-timeout", headerTimeout), ("body-timeout", bodyTimeout), ("idle-timeout", idleTimeout)]
        where !(value.isFinite && value > 0 && value <= 86_400) {
            throw ValidationError("--\(name) must be a number of seconds in (0, 86400].")
        }
        guard shutdownGrace.isFinite, shutdownGrace >= 0, shutdownGrace <= Self.shutdownDeadline - 2 else {
            throw ValidationError("--shutdown-grace must be between 0 and \(Int(Self.shutdownDeadline) - 2) seconds.")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1.") }
    }

    /// After SIGTERM the process is gone within this many seconds, whatever is running.
    static let shutdownDeadline = 10.0

    func run() async throws {
        bootstrapStandardErrorLogging(level: logLevel, fallback: .info)
        let logger = Logger(label: "switchboard")
        let metricsRegistry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metricsRegistry))
        let (models, http) = try self.models.makeRouter(logger: logger)
        let mcpSettings = try mcpServers.settings(adding: try self.models.configuredMCPServers(),
                                                  environment: ProcessInfo.processInfo.environment)
        for server in mcpSettings { logger.info("mcp server", metadata: ["name": "\(server.name)", "endpoint": "\(server.endpoint)"]) }
        let toolbox = MCPToolbox(servers: mcpSettings, logger: logger)

        var serverConfiguration = ServerConfiguration()
        serverConfiguration.host = host
        serverConfiguration.port = port
        serverConfiguration.apiKey = apiKey ?? ProcessInfo.processInfo.environment["SWITCHBOARD_API_KEY"]
        serverConfiguration.maxBodyBytes = maxBodyMB * 1024 * 1024
        serverConfiguration.systemFingerprint = SwitchboardServer.systemFingerprint
        serverConfiguration.headerTimeout = .seconds(headerTimeout)
        serverConfiguration.bodyTimeout = .seconds(bodyTimeout)
        serverConfiguration.idleTimeout = .seconds(idleTimeout)
        serverConfiguration.maxConnections = maxConnections
        serverConfiguration.corsOrigins = corsOrigins
        serverConfiguration.allowedHosts = allowedHosts

        logger.info("listening", metadata: ["address": "\(host):\(port)"])
        let app = SwitchboardServer.makeApplication(models: models, toolbox: toolbox, configuration: serverConfiguration, metrics: metricsRegistry,
                                                    logger: logger)
        try await runUntilShutdown([
            .init(service: app),
            // Ends at once when no route has a pool; that is not a failure.
            .init(service: HealthChecks(router: models), successTerminationBehavior: .ignore),
        ], logger: logger)
        await models.shutdown()
        await toolbox.close()
        try await http.shutdown()
    }

    /// Runs the server until SIGTERM or SIGINT. Then: the listener closes at once, idle
    /// connections close, in-flight requests get `--shutdown-grace` seconds to finish and are
    /// then cancelled (a cancelled generation stops within a token). A watchdog makes sure the
    /// process is gone `shutdownDeadline` seconds after the signal even if some work ignored
    /// its cancellation.
    private func runUntilShutdown(_ services: [ServiceGroupConfiguration.ServiceConfiguration], logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: services + [.init(service: ShutdownWatchdog(deadline: Self.shutdownDeadline, logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int(shutdownGrace * 1000))
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch is CancellationError {
            // In-flight work was cancelled after the grace period: a normal shutdown.
        }
        logger.info("stopped")
    }
}

/// The active health checks of upstream pools, every 10 seconds, until shutdown.
struct HealthChecks: Service {
    let router: ModelRouter

    func run() async throws {
        await cancelWhenGracefulShutdown { await router.runHealthChecks(every: .seconds(10)) }
    }
}
