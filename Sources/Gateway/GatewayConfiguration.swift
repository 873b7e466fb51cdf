import Foundation
import Yams

/// The routes of a `switchboard serve --config FILE` (YAML or JSON), as read from the file.
///
/// ```yaml
/// routes:
///   - model: smollm2                 # a local GGUF
///     local: default                 # or a path
///   - model: "grok-*"                # a wildcard: ids pass through to the upstream
///     provider: openai               # any OpenAI-compatible API
///     base_url: https://api.x.ai/v1
///     api_key_env: XAI_API_KEY
///     capabilities: { named_tool_choice: false }
///     fallbacks: [smollm2]
///   - model: "claude-*"
///     provider: anthropic            # Anthropic's Messages API
///     base_url: https://api.anthropic.com
///     api_key_env: ANTHROPIC_API_KEY
///     max_tokens: 4096               # sent when a request gives none (Anthropic requires it)
///   - model: "gemini-*"
///     provider: gemini               # Google's Gemini API (generateContent)
///     base_url: https://generativelanguage.googleapis.com
///     api_key_env: GEMINI_API_KEY
/// mcp_servers:                       # MCP servers whose tools requests may name
///   weather:
///     command: [python3, weather_server.py]   # stdio; or `url:` for streamable HTTP
///     auto_approve: [get_weather]    # run by the server-side loop without asking the caller
/// ```
///
/// Wiring a route to a backend is the CLI's job (it knows every backend kind); this type only
/// reads and checks the file, naming the entry at fault.
public struct GatewayConfiguration: Decodable, Sendable, Equatable {
    public var routes: [RouteEntry]
    /// MCP servers by the name requests use (`tools[i].server_label`).
    public var mcpServers: [String: MCPServerEntry]?

    public init(routes: [RouteEntry], mcpServers: [String: MCPServerEntry]? = nil) {
        self.routes = routes
        self.mcpServers = mcpServers
    }

    enum CodingKeys: String, CodingKey {
        case routes, mcpServers = "mcp_servers"
    }

    /// An MCP server Switchboard calls tools on: a command it starts (stdio) or a URL.
    public struct MCPServerEntry: Decodable, Sendable, Equatable {
        /// The program and its arguments, speaking MCP over stdin/stdout.
        public var command: [String]?
        /// The server's streamable-HTTP endpoint.
        public var url: String?
        /// The environment variable holding a bearer token for `url`.
        public var apiKeyEnv: String?
        /// The tools requests may be offered (default: all).
        public var tools: [String]?
        /// The tools whose calls run without the caller's approval (`*`: all). Default: none.
        public var autoApprove: [String]?
        /// Seconds one tool call may take (default 60).
        public var timeout: Double?

        public init(command: [String]? = nil, url: String? = nil, autoApprove: [String]? = nil) {
            self.command = command
            self.url = url
            self.autoApprove = autoApprove
        }

        enum CodingKeys: String, CodingKey {
            case command, url, tools, timeout
            case apiKeyEnv = "api_key_env", autoApprove = "auto_approve"
        }
    }

    public struct RouteEntry: Decodable, Sendable, Equatable {
        /// The id clients send, or a pattern with `*` wildcards.
        public var model: String
        /// A local GGUF: `default` for the embedded model, or a path.
        public var local: String?
        /// The upstream's API family: `openai` (any OpenAI-compatible API, the default),
        /// `anthropic` (the Messages API) or `gemini` (Google's Gemini API).
        public var provider: String?
        /// The upstream's base URL: up to `/chat/completions` for `openai`, up to
        /// `/v1/messages` for `anthropic`, up to `/v1beta` for `gemini`; `upstreams` lists several.
        public var baseURL: String?
        /// Further base URLs serving the same model: a pool, balanced by least in-flight.
        public var upstreams: [String]?
        /// The environment variable that holds the upstream's API key.
        public var apiKeyEnv: String?
        /// The upstream's name for the model, when it differs from `model`.
        public var upstreamModel: String?
        public var aliases: [String]?
        public var fallbacks: [String]?
        /// Seconds the whole request may take.
        public var timeout: Double?
        /// Retries after a failed attempt (connect error, 429, 5xx).
        public var retries: Int?
        public var capabilities: Capabilities?
        /// Local routes: context size in tokens, of each sequence.
        public var contextSize: Int?
        /// Local routes: sequences generated at once (continuous batching).
        public var parallel: Int?
        /// Local routes: a Jinja chat template file used instead of the GGUF's own.
        public var chatTemplateFile: String?
        /// Anthropic routes: `max_tokens` for requests that give none.
        public var maxTokens: Int?

        /// The API families a hosted route may name in `provider`.
        public static let providers = ["openai", "anthropic", "gemini"]

        /// A hosted route over `upstreams` (what `--route` flags make).
        public init(model: String, upstreams: [String], apiKeyEnv: String?, provider: String? = nil) {
            self.model = model
            self.upstreams = upstreams
            self.apiKeyEnv = apiKeyEnv
            self.provider = provider
        }

        /// A local GGUF route (what `--model`/`--alias` make).
        public init(model: String, local: String) {
            self.model = model
            self.local = local
        }

        enum CodingKeys: String, CodingKey {
            case model, local, provider, upstreams, aliases, fallbacks, timeout, retries, capabilities
            case baseURL = "base_url", apiKeyEnv = "api_key_env", upstreamModel = "upstream_model", contextSize = "context_size"
            case maxTokens = "max_tokens", parallel, chatTemplateFile = "chat_template_file"
        }

        /// Every base URL of this route.
        public var baseURLs: [String] { (baseURL.map { [$0] } ?? []) + (upstreams ?? []) }
    }

    /// What an upstream honours; absent settings keep `BackendCapabilities`' defaults.
    public struct Capabilities: Decodable, Sendable, Equatable {
        public var namedToolChoice: Bool?
        public var requiredToolChoice: Bool?
        public var parallelToolCalls: Bool?
        public var strict: Bool?
        public var streamUsage: Bool?

        enum CodingKeys: String, CodingKey {
            case namedToolChoice = "named_tool_choice", requiredToolChoice = "required_tool_choice"
            case parallelToolCalls = "parallel_tool_calls", strict, streamUsage = "stream_usage"
        }

        /// These settings over a provider's own defaults.
        public func resolved(over defaults: BackendCapabilities) -> BackendCapabilities {
            var c = defaults
            if let namedToolChoice { c.namedToolChoice = namedToolChoice }
            if let requiredToolChoice { c.requiredToolChoice = requiredToolChoice }
            if let parallelToolCalls { c.parallelToolCalls = parallelToolCalls }
            if let strict { c.strict = strict }
            if let streamUsage { c.streamUsage = streamUsage }
            return c
        }
    }

    /// Reads and checks a configuration in YAML (or JSON, which is YAML too).
    public static func parse(_ text: String) throws -> GatewayConfiguration {
        let configuration: GatewayConfiguration
        do {
            configuration = try YAMLDecoder().decode(GatewayConfiguration.self, from: text)
        } catch {
            throw Invalid(description: "\(error)")
        }
        try configuration.validate()
        return configuration
    }

    /// Reads and checks the configuration file at `path`.
    public static func load(path: String) throws -> GatewayConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Invalid(description: "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        do {
            return try parse(text)
        } catch let error as Invalid {
            throw Invalid(description: "the configuration file \(path) is not valid: \(error.description)")
        }
    }

    /// A problem in the file, naming the route entry.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Checks what decoding cannot: each route is local or hosted, hosted routes have a URL and
    /// a known provider, fallbacks name served models, and no id is served twice.
    public func validate() throws {
        guard !routes.isEmpty else { throw Invalid(description: "the configuration lists no routes") }
        var exact = Set<String>()
        for (i, route) in routes.enumerated() {
            let at = "routes[\(i)] (\(route.model))"
            if route.model.isEmpty { throw Invalid(description: "\(at): 'model' is empty") }
            if route.local != nil {
                if !route.baseURLs.isEmpty || route.provider != nil || route.maxTokens != nil {
                    throw Invalid(description: "\(at): a route is either 'local' or hosted ('base_url'), not both")
                }
                if route.model.contains("*") { throw Invalid(description: "\(at): a local route serves one exact id, not a pattern") }
                if let parallel = route.parallel, !(1...256).contains(parallel) { throw Invalid(description: "\(at): 'parallel' must be in 1...256") }
                if let size = route.contextSize, !(16...1_048_576).contains(size) { throw Invalid(description: "\(at): 'context_size' must be in 16...1048576") }
            } else {
                if route.parallel != nil || route.contextSize != nil || route.chatTemplateFile != nil {
                    throw Invalid(description: "\(at): 'parallel', 'context_size' and 'chat_template_file' are settings of local routes")
                }
                guard !route.baseURLs.isEmpty else { throw Invalid(description: "\(at): needs 'local' or 'base_url'") }
                guard RouteEntry.providers.contains(route.provider ?? "openai") else {
                    throw Invalid(description: "\(at): unknown provider '\(route.provider!)'; supported: 'openai' (any OpenAI-compatible API), 'anthropic' (the Messages API), 'gemini' (Google's Gemini API)")
                }
                if route.maxTokens != nil, route.provider != "anthropic" {
                    throw Invalid(description: "\(at): 'max_tokens' is a setting of 'anthropic' routes")
                }
                if let maxTokens = route.maxTokens, maxTokens < 1 {
                    throw Invalid(description: "\(at): 'max_tokens' must be at least 1")
                }
                for url in route.baseURLs {
                    guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                        throw Invalid(description: "\(at): '\(url)' is not an http(s) URL")
                    }
                }
            }
            if let timeout = route.timeout, !(timeout > 0 && timeout <= 86_400) {
                throw Invalid(description: "\(at): 'timeout' must be seconds in (0, 86400]")
            }
            if let retries = route.retries, !(0...10).contains(retries) {
                throw Invalid(description: "\(at): 'retries' must be between 0 and 10")
            }
            for id in [route.model] + (route.aliases ?? []) where !id.contains("*") {
                guard exact.insert(id).inserted else { throw Invalid(description: "\(at): '\(id)' is served by an earlier route too") }
            }
        }
        try validateMCPServers()
        for (i, route) in routes.enumerated() {
            for fallback in route.fallbacks ?? [] where !routes.contains(where: {
                ModelPattern($0.model).matches(fallback) || ($0.aliases ?? []).contains(fallback)
            }) {
                throw Invalid(description: "routes[\(i)] (\(route.model)): fallback '\(fallback)' is not served by any route")
            }
        }
    }

    /// Checks `mcp_servers`: names requests can use, one endpoint each, sane timeouts.
    public func validateMCPServers() throws {
        for (name, server) in mcpServers ?? [:] {
            let at = "mcp_servers.\(name)"
            guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }) else {
                throw Invalid(description: "\(at): a server name is letters, digits, '_' and '-'")
            }
            switch (server.command, server.url) {
            case (let command?, nil):
                if command.isEmpty || command[0].isEmpty { throw Invalid(description: "\(at): 'command' is empty") }
                if server.apiKeyEnv != nil { throw Invalid(description: "\(at): 'api_key_env' is a setting of 'url' servers") }
            case (nil, let url?):
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                    throw Invalid(description: "\(at): '\(url)' is not an http(s) URL")
                }
            default:
                throw Invalid(description: "\(at): needs either 'command' (stdio) or 'url' (streamable HTTP)")
            }
            if let timeout = server.timeout, !(timeout > 0 && timeout <= 86_400) {
                throw Invalid(description: "\(at): 'timeout' must be seconds in (0, 86400]")
            }
        }
    }
}
