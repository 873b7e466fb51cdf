import Foundation
import Gateway
import LocalBackend
import LocalEngine
import Providers

/// Turns configured routes (the `--config` file, `--route` flags) into the gateway's routes,
/// each with its backends: local GGUF engines, or hosted upstreams (OpenAI-compatible or
/// Anthropic) over the one shared HTTP client.
struct RouteWiring {
    let http: UpstreamHTTPClient
    let compileExecutor: CompileExecutor
    let environment: [String: String]
    /// Settings for local engines that the command line gives (`--ctx-size`, `--threads`).
    let contextSize: Int?
    let threads: Int?

    func route(_ entry: GatewayConfiguration.RouteEntry) throws -> Route {
        var route: Route
        if let local = entry.local {
            route = Route(entry.model, backends: [try localBackend(id: entry.model, path: local, contextSize: entry.contextSize)])
        } else {
            let key = entry.apiKeyEnv.flatMap { environment[$0] }
            if let variable = entry.apiKeyEnv, key == nil {
                throw CLIError("Route \(entry.model): the environment variable \(variable) (its API key) is not set.")
            }
            let backends: [any ChatBackend & ModelCatalog]
            if entry.provider == "anthropic" {
                backends = entry.baseURLs.map {
                    var configuration = AnthropicBackend.Configuration(
                        baseURL: $0, apiKey: key, upstreamModel: entry.upstreamModel,
                        capabilities: entry.capabilities?.resolved(over: AnthropicBackend.defaultCapabilities) ?? AnthropicBackend.defaultCapabilities)
                    if let maxTokens = entry.maxTokens { configuration.defaultMaxTokens = maxTokens }
                    return AnthropicBackend(configuration, http: http)
                }
            } else {
                backends = entry.baseURLs.map {
                    OpenAICompatibleBackend(.init(baseURL: $0, apiKey: key, upstreamModel: entry.upstreamModel,
                                                  capabilities: entry.capabilities?.resolved ?? BackendCapabilities()),
                                            http: http)
                }
            }
            route = Route(entry.model, backends: backends, timeout: .milliseconds(Int((entry.timeout ?? 600) * 1000)),
                          ownedBy: URL(string: entry.baseURLs[0])?.host ?? "upstream", catalog: backends[0])
        }
        route.aliases = entry.aliases ?? []
        route.fallbacks = entry.fallbacks ?? []
        if let retries = entry.retries { route.retry.maxRetries = retries }
        return route
    }

    /// A local GGUF engine: `default` is the embedded model from scripts/bootstrap.
    func localBackend(id: String, path: String, contextSize routeContext: Int? = nil) throws -> LocalChatBackend {
        let modelPath = path == "default" ? try BootstrapCache.requireDefaultModel() : path
        guard FileManager.default.fileExists(atPath: modelPath) else { throw CLIError("No model file at \(modelPath).") }
        var configuration = LocalEngineConfiguration(modelPath: modelPath)
        if let size = routeContext ?? contextSize { configuration.contextSize = size }
        if let threads { configuration.threads = threads }
        return LocalChatBackend(engine: try LocalEngine(configuration: configuration), modelID: id, compileExecutor: compileExecutor)
    }
}
