import Foundation
import Gateway
import LocalBackend
import LocalEngine
import Providers

/// Turns configured routes (the `--config` file, `--route` flags) into the gateway's routes,
/// each with its backends: local GGUF engines, or hosted upstreams (OpenAI-compatible,
/// Anthropic or Gemini) over the one shared HTTP client.
struct RouteWiring {
    let http: UpstreamHTTPClient
    let compileExecutor: CompileExecutor
    let environment: [String: String]
    /// Settings for local engines that the command line gives (`--ctx-size`, `--threads`,
    /// `--parallel`, `--queue-limit`).
    let contextSize: Int?
    let threads: Int?
    let parallel: Int?
    let queueLimit: Int
    /// Seconds a hosted request may take in all (`--upstream-timeout`) where the route sets none.
    let upstreamTimeout: Double

    func route(_ entry: GatewayConfiguration.RouteEntry) throws -> Route {
        var route: Route
        if let local = entry.local {
            route = Route(entry.model, backends: [try localBackend(id: entry.model, path: local, contextSize: entry.contextSize,
                                                                   parallel: entry.parallel, chatTemplateFile: entry.chatTemplateFile)])
        } else {
            let key = entry.apiKeyEnv.flatMap { environment[$0] }
            if let variable = entry.apiKeyEnv, key == nil {
                throw CLIError("Route \(entry.model): the environment variable \(variable) (its API key) is not set.")
            }
            let provider = entry.provider ?? "openai"
            let backends = try entry.baseURLs.map { url throws -> any ChatBackend & ModelCatalog in
                switch provider {
                case "anthropic":
                    let defaults = AnthropicBackend.defaultCapabilities
                    return AnthropicBackend(upstream(url, entry, key: key, defaults: defaults),
                                            defaultMaxTokens: entry.maxTokens, http: http)
                case "gemini":
                    return GeminiBackend(upstream(url, entry, key: key, defaults: GeminiBackend.defaultCapabilities), http: http)
                case "openai":
                    return OpenAICompatibleBackend(upstream(url, entry, key: key, defaults: BackendCapabilities()), http: http)
                default:
                    throw CLIError("Route \(entry.model): unknown provider '\(provider)'.")
                }
            }
            route = Route(entry.model, backends: backends, timeout: .milliseconds(Int((entry.timeout ?? upstreamTimeout) * 1000)),
                          ownedBy: URL(string: entry.baseURLs[0])?.host ?? "upstream", catalog: backends[0])
        }
        route.aliases = entry.aliases ?? []
        route.fallbacks = entry.fallbacks ?? []
        if let retries = entry.retries { route.retry.maxRetries = retries }
        return route
    }

    /// One upstream of a hosted route: the route's settings over the provider's default capabilities.
    private func upstream(_ url: String, _ entry: GatewayConfiguration.RouteEntry, key: String?,
                          defaults: BackendCapabilities) -> UpstreamConfiguration {
        UpstreamConfiguration(baseURL: url, apiKey: key, upstreamModel: entry.upstreamModel,
                              capabilities: entry.capabilities?.resolved(over: defaults) ?? defaults)
    }

    /// A local GGUF engine: `default` is the embedded model from scripts/bootstrap.
    func localBackend(id: String, path: String, contextSize routeContext: Int? = nil, parallel routeParallel: Int? = nil,
                      chatTemplateFile: String? = nil) throws -> LocalChatBackend {
        let modelPath = path == "default" ? try BootstrapCache.requireDefaultModel() : path
        guard FileManager.default.fileExists(atPath: modelPath) else { throw CLIError("No model file at \(modelPath).") }
        var configuration = LocalEngineConfiguration(modelPath: modelPath)
        if let chatTemplateFile {
            do {
                configuration.chatTemplate = try String(contentsOfFile: chatTemplateFile, encoding: .utf8)
            } catch {
                throw CLIError("Route \(id): cannot read the chat template file \(chatTemplateFile): \(error.localizedDescription)")
            }
        }
        if let size = routeContext ?? contextSize { configuration.contextSize = size }
        if let threads { configuration.threads = threads }
        configuration.parallel = routeParallel ?? parallel
        configuration.maxQueuedRequests = queueLimit
        return LocalChatBackend(engine: try LocalEngine(configuration: configuration), modelID: id, compileExecutor: compileExecutor)
    }
}
