import Gateway

/// Where one hosted upstream is and how to talk to it: the settings every provider adapter
/// (OpenAI-compatible, Anthropic, …) is built from. Provider-specific settings sit beside it
/// on the adapter.
public struct UpstreamConfiguration: Sendable {
    /// The URL the adapter appends its paths to: `https://api.x.ai/v1` for an OpenAI-compatible
    /// upstream (before `/chat/completions`), `https://api.anthropic.com` for Anthropic.
    public var baseURL: String
    /// The key the provider's auth header carries; never logged, never sent anywhere else.
    public var apiKey: String?
    /// The upstream's name for the model; nil sends the id the client asked for.
    public var upstreamModel: String?
    public var capabilities: BackendCapabilities
    /// Longest a single upstream request may take, from connecting to the last byte.
    public var requestTimeout: Duration
    /// Largest non-streaming response body accepted.
    public var maxResponseBytes: Int

    public init(baseURL: String, apiKey: String? = nil, upstreamModel: String? = nil,
                capabilities: BackendCapabilities = BackendCapabilities(),
                requestTimeout: Duration = .seconds(600), maxResponseBytes: Int = 32 * 1024 * 1024) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.upstreamModel = upstreamModel
        self.capabilities = capabilities
        self.requestTimeout = requestTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// An adapter over one hosted upstream, whose capabilities and label are its configuration's.
public protocol UpstreamBackend: ChatBackend, ModelCatalog {
    var configuration: UpstreamConfiguration { get }
}

extension UpstreamBackend {
    public var capabilities: BackendCapabilities { configuration.capabilities }

    /// The base URL, which names the upstream in logs and metrics (never the key).
    public var label: String { configuration.baseURL }
}
