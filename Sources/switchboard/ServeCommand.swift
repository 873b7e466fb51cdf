import ArgumentParser
import Foundation
import Gateway
import LocalBackend
import Hummingbird
import LocalEngine
import Logging
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

    @Option(help: "Path of a GGUF model. Default: the embedded SmolLM2-135M-Instruct from scripts/bootstrap.")
    var model: String?

    @Option(help: "Model id clients send as `model`. Default: the GGUF file name without extension.")
    var alias: String?

    @Option(help: "Address to listen on. On a loopback address, requests must name a loopback Host (or an --allowed-host).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(name: .customLong("api-key"), help: "Require `Authorization: Bearer KEY` on every route but /health. Also read from SWITCHBOARD_API_KEY.")
    var apiKey: String?

    @Option(name: .customLong("ctx-size"), help: "Context size in tokens (default: 4096, capped at the model's training context).")
    var contextSize: Int?

    @Option(help: "CPU threads for generation (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("max-body-mb"), help: "Largest accepted request body, in MiB.")
    var maxBodyMB = 4

    @Option(name: .customLong("compile-timeout"),
            help: "Seconds one request's schema or grammar compilation may take; beyond it the request gets a 400 schema_too_complex.")
    var compileTimeout = 2.0

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

    @Option(name: .customLong("config"), help: "A YAML or JSON file of routes: local GGUFs and hosted upstreams (see README). Replaces the default local model.")
    var configFile: String?

    @Option(name: .customLong("route"),
            help: "PATTERN=URL: send model ids matching PATTERN (`*` wildcards) to that OpenAI-compatible base URL, model id unchanged (repeatable; the same PATTERN twice makes a pool). PATTERN=anthropic:URL routes to Anthropic's Messages API, PATTERN=gemini:URL to Google's Gemini API.")
    var routes: [String] = []

    @Option(name: .customLong("route-key-env"), help: "PATTERN=VAR: the environment variable holding that route's API key (repeatable).")
    var routeKeyEnvironment: [String] = []

    @Flag(name: .customLong("no-local"), help: "Serve no local model: a gateway in front of other servers.")
    var noLocal = false

    @Option(name: .customLong("upstream-timeout"), help: "Seconds a request to a hosted route may take in all, retries included.")
    var upstreamTimeout = 600.0

    func validate() throws {
        for (name, value) in [("header-timeout", headerTimeout), ("body-timeout", bodyTimeout), ("idle-timeout", idleTimeout),
                              ("compile-timeout", compileTimeout)]
        where !(value.isFinite && value > 0 && value <= 86_400) {
            throw ValidationError("--\(name) must be a number of seconds in (0, 86400].")
        }
        guard shutdownGrace.isFinite, shutdownGrace >= 0, shutdownGrace <= Self.shutdownDeadline - 2 else {
            throw ValidationError("--shutdown-grace must be between 0 and \(Int(Self.shutdownDeadline) - 2) seconds.")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1.") }
        _ = try parsedRoutes()
        guard !noLocal || !routes.isEmpty || configFile != nil else { throw ValidationError("--no-local needs at least one --route.") }
    }

    /// `--route` and `--route-key-env` as (pattern, base URLs, key variable, provider), in
    /// first-seen order. A URL may name its provider first (`anthropic:https://…`, `gemini:https://…`).
    func parsedRoutes() throws -> [(pattern: String, urls: [String], keyVariable: String?, provider: String?)] {
        func split(_ option: String, _ value: String) throws -> (String, String) {
            guard let eq = value.firstIndex(of: "="), eq != value.startIndex, value.index(after: eq) != value.endIndex else {
                throw ValidationError("--\(option) takes PATTERN=VALUE, got '\(value)'.")
            }
            return (String(value[..<eq]), String(value[value.index(after: eq)...]))
        }
        var order: [String] = []
        var urls: [String: [String]] = [:]
        var providers: [String: String?] = [:]
        for value in routes {
            var (pattern, url) = try split("route", value)
            var provider: String?
            if let colon = url.firstIndex(of: ":"), GatewayConfiguration.RouteEntry.providers.contains(String(url[..<colon])) {
                provider = String(url[..<colon])
                url = String(url[url.index(after: colon)...])
            }
            if urls[pattern] == nil {
                order.append(pattern)
                providers[pattern] = provider
            } else if providers[pattern] != provider {
                throw ValidationError("--route \(pattern): every URL of one pattern must name the same provider.")
            }
            urls[pattern, default: []].append(url)
        }
        var keys: [String: String] = [:]
        for value in routeKeyEnvironment {
            let (pattern, variable) = try split("route-key-env", value)
            guard urls[pattern] != nil else { throw ValidationError("--route-key-env \(pattern): no --route has that pattern.") }
            keys[pattern] = variable
        }
        return order.map { ($0, urls[$0]!, keys[$0], providers[$0]!) }
    }

    /// After SIGTERM the process is gone within this many seconds, whatever is running.
    static let shutdownDeadline = 10.0

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "switchboard")
        let metricsRegistry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metricsRegistry))
        let compileExecutor = CompileExecutor(timeLimit: .milliseconds(Int(compileTimeout * 1000)))
        let http = UpstreamHTTPClient()
        let wiring = RouteWiring(http: http, compileExecutor: compileExecutor, environment: ProcessInfo.processInfo.environment,
                                 contextSize: contextSize, threads: threads)
        // The config file's routes, else the local model; then the flags' routes. All are
        // checked together (URLs, ids served twice, fallbacks) before anything loads.
        var configuration = GatewayConfiguration(routes: [])
        do {
            if let configFile {
                configuration = try GatewayConfiguration.load(path: configFile)
            } else if !noLocal {
                let modelPath = try model ?? BootstrapCache.requireDefaultModel()
                let modelID = alias ?? URL(fileURLWithPath: modelPath).deletingPathExtension().lastPathComponent
                configuration.routes.append(.init(model: modelID, local: modelPath))
            }
            configuration.routes += try parsedRoutes().map {
                .init(model: $0.pattern, upstreams: $0.urls, apiKeyEnv: $0.keyVariable, provider: $0.provider)
            }
            try configuration.validate()
        } catch let error as GatewayConfiguration.Invalid {
            throw CLIError("\(error)")
        }
        var served: [Route] = []
        for entry in configuration.routes {
            served.append(try wiring.route(entry))
            logger.info("route", metadata: ["model": "\(entry.model)", "to": "\(entry.local.map { "local \($0)" } ?? entry.baseURLs.joined(separator: ", "))"])
        }
        let models = ModelRouter(routes: served, compileExecutor: compileExecutor)

        var serverConfiguration = ServerConfiguration()
        serverConfiguration.host = host
        serverConfiguration.port = port
        serverConfiguration.apiKey = apiKey ?? ProcessInfo.processInfo.environment["SWITCHBOARD_API_KEY"]
        serverConfiguration.maxBodyBytes = maxBodyMB * 1024 * 1024
        serverConfiguration.systemFingerprint = "switchboard-local"
        serverConfiguration.headerTimeout = .seconds(headerTimeout)
        serverConfiguration.bodyTimeout = .seconds(bodyTimeout)
        serverConfiguration.idleTimeout = .seconds(idleTimeout)
        serverConfiguration.maxConnections = maxConnections
        serverConfiguration.corsOrigins = corsOrigins
        serverConfiguration.allowedHosts = allowedHosts

        logger.info("listening", metadata: ["address": "\(host):\(port)"])
        let app = SwitchboardServer.makeApplication(models: models, configuration: serverConfiguration, metrics: metricsRegistry,
                                                    logger: logger)
        try await runUntilShutdown([
            .init(service: app),
            // Ends at once when no route has a pool; that is not a failure.
            .init(service: HealthChecks(router: models), successTerminationBehavior: .ignore),
        ], logger: logger)
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
