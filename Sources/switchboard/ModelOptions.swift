import ArgumentParser
import Foundation
import Gateway
import Logging
import Providers

/// What a command serves: the local model, a routes file, `--route` upstreams, and the settings
/// of the engines behind them. `serve` and `mcp` share it, so both answer for the same models
/// through the same gateway.
struct ModelOptions: ParsableArguments {
    @Option(help: "Path of a GGUF model. Default: the embedded SmolLM2-135M-Instruct from scripts/bootstrap.")
    var model: String?

    @Option(help: "Model id clients send as `model`. Default: the GGUF file name without extension.")
    var alias: String?

    @Option(name: .customLong("ctx-size"), help: "Context size in tokens of each request (default: 4096, capped at the model's training context).")
    var contextSize: Int?

    @Option(name: .customLong("chat-template-file"),
            help: "A Jinja chat template for --model, used instead of the GGUF's own; it also decides how the model writes tool calls.")
    var chatTemplateFile: String?

    @Option(help: "Requests a local model generates at once, batched (default: 4 per core, at most 8, at most 32768 context tokens in all).")
    var parallel: Int?

    @Option(name: .customLong("queue-limit"), help: "Requests that may wait for a local model when all its sequences are busy; more get 429 with Retry-After.")
    var queueLimit = 64

    @Option(help: "CPU threads for generation (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("compile-timeout"),
            help: "Seconds one request's schema or grammar compilation may take; beyond it the request gets a 400 schema_too_complex.")
    var compileTimeout = 2.0

    @Option(name: .customLong("config"), help: "A YAML or JSON file of routes: local GGUFs and hosted upstreams (see README). Replaces the default local model.")
    var configFile: String?

    @Option(name: .customLong("route"),
            help: "PATTERN=URL: send model ids matching PATTERN (`*` wildcards) to that OpenAI-compatible base URL, model id unchanged (repeatable; the same PATTERN twice makes a pool). PATTERN=anthropic:URL routes to Anthropic's Messages API, PATTERN=gemini:URL to Google's Gemini API.")
    var routes: [String] = []

    @Option(name: .customLong("route-key-env"), help: "PATTERN=VAR: the environment variable holding that route's API key (repeatable).")
    var routeKeyEnvironment: [String] = []

    @Flag(name: .customLong("no-local"), help: "Serve no local model: a gateway in front of other servers.")
    var noLocal = false

    @Option(name: .customLong("upstream-timeout"),
            help: "Seconds a request to a hosted route may take in all, retries included, unless its route sets 'timeout'.")
    var upstreamTimeout = 600.0

    func validate() throws {
        if let parallel, !(1...256).contains(parallel) { throw ValidationError("--parallel must be in 1...256.") }
        guard (0...100_000).contains(queueLimit) else { throw ValidationError("--queue-limit must be in 0...100000.") }
        for (name, value) in [("compile-timeout", compileTimeout), ("upstream-timeout", upstreamTimeout)]
        where !(value.isFinite && value > 0 && value <= 86_400) {
            throw ValidationError("--\(name) must be a number of seconds in (0, 86400].")
        }
        _ = try parsedRoutes()
        guard !noLocal || !routes.isEmpty || configFile != nil else { throw ValidationError("--no-local needs at least one --route.") }
        if chatTemplateFile != nil, configFile != nil || noLocal {
            throw ValidationError("--chat-template-file applies to --model; a config file's local route sets 'chat_template_file'.")
        }
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

    /// The config file's `mcp_servers` (none without a config file).
    func configuredMCPServers() throws -> [String: GatewayConfiguration.MCPServerEntry] {
        guard let configFile else { return [:] }
        do {
            return try GatewayConfiguration.load(path: configFile).mcpServers ?? [:]
        } catch let error as GatewayConfiguration.Invalid {
            throw CLIError("\(error)")
        }
    }

    /// The gateway over every configured route, and the HTTP client its hosted routes share
    /// (the caller shuts it down after the last request). The config file's routes, else the
    /// local model; then the flags' routes. All are checked together (URLs, ids served twice,
    /// fallbacks) before anything loads.
    func makeRouter(logger: Logger) throws -> (router: ModelRouter, http: UpstreamHTTPClient) {
        let compileExecutor = CompileExecutor(timeLimit: .milliseconds(Int(compileTimeout * 1000)))
        let http = UpstreamHTTPClient()
        let wiring = RouteWiring(http: http, compileExecutor: compileExecutor, environment: ProcessInfo.processInfo.environment,
                                 contextSize: contextSize, threads: threads, parallel: parallel, queueLimit: queueLimit,
                                 upstreamTimeout: upstreamTimeout)
        var configuration = GatewayConfiguration(routes: [])
        do {
            if let configFile {
                configuration = try GatewayConfiguration.load(path: configFile)
            } else if !noLocal {
                let modelPath = try model ?? BootstrapCache.requireDefaultModel()
                let modelID = alias ?? URL(fileURLWithPath: modelPath).deletingPathExtension().lastPathComponent
                var route = GatewayConfiguration.RouteEntry(model: modelID, local: modelPath)
                route.chatTemplateFile = chatTemplateFile
                configuration.routes.append(route)
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
        return (ModelRouter(routes: served, compileExecutor: compileExecutor), http)
    }
}
