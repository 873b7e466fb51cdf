import AsyncHTTPClient
import ChatAPI
import Gateway
import NIOHTTP1

/// Anthropic's Messages API (`POST {baseURL}/v1/messages`) behind the OpenAI-shaped gateway.
///
/// The request is translated by `AnthropicRequest`, answers by `AnthropicResponse` (whole) and
/// `AnthropicStreamDecoder` (SSE); transport, retries' error classes and key redaction are the
/// shared `UpstreamHTTPClient` exchange. Error bodies (`{"type":"error","error":{…}}`) keep
/// their status; 429, 5xx and Anthropic's 529 `overloaded_error` are retryable.
public struct AnthropicBackend: ChatBackend, ModelCatalog {
    public struct Configuration: Sendable {
        /// `https://api.anthropic.com`: the URL up to, not including, `/v1/messages`.
        public var baseURL: String
        /// Sent as `x-api-key`; never logged, never sent anywhere else.
        public var apiKey: String?
        /// The upstream's name for the model; nil sends the id the client asked for.
        public var upstreamModel: String?
        /// `max_tokens` when the client gives none: Anthropic requires it on every request.
        public var defaultMaxTokens: Int
        public var capabilities: BackendCapabilities
        /// Longest a single upstream request may take, from connecting to the last byte.
        public var requestTimeout: Duration
        /// Largest non-streaming response body accepted.
        public var maxResponseBytes: Int

        public init(baseURL: String, apiKey: String? = nil, upstreamModel: String? = nil, defaultMaxTokens: Int = 4096,
                    capabilities: BackendCapabilities = AnthropicBackend.defaultCapabilities,
                    requestTimeout: Duration = .seconds(600), maxResponseBytes: Int = 32 * 1024 * 1024) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.apiKey = apiKey
            self.upstreamModel = upstreamModel
            self.defaultMaxTokens = defaultMaxTokens
            self.capabilities = capabilities
            self.requestTimeout = requestTimeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// What the Messages API honours: every `tool_choice` form and `disable_parallel_tool_use`,
    /// but no `strict` tools or `response_format`, which the guard enforces instead.
    public static var defaultCapabilities: BackendCapabilities {
        var capabilities = BackendCapabilities()
        capabilities.strict = false
        return capabilities
    }

    /// The API version this adapter speaks (`anthropic-version`).
    public static let apiVersion = "2023-06-01"

    public let configuration: Configuration
    private let http: UpstreamHTTPClient

    public init(_ configuration: Configuration, http: UpstreamHTTPClient) {
        self.configuration = configuration
        self.http = http
    }

    public var capabilities: BackendCapabilities { configuration.capabilities }

    public var label: String { configuration.baseURL }

    public func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        var upstream = request
        if let model = configuration.upstreamModel { upstream.model = model }
        let body = try AnthropicRequest.body(for: upstream, defaultMaxTokens: configuration.defaultMaxTokens)
        let answerTool = AnthropicRequest.answerTool(for: upstream)?.name
        let response = try await send(path: "/v1/messages", method: .POST, body: body, stream: upstream.stream)
        return try await UpstreamHTTPClient.events(of: response, streamed: upstream.stream, limit: configuration.maxResponseBytes,
                                                   whole: { try AnthropicResponse.events($0, answerTool: answerTool) },
                                                   decoder: AnthropicStreamDecoder(answerTool: answerTool))
    }

    /// The upstream's model ids (`GET {baseURL}/v1/models`, Anthropic's `data[].id`).
    public func modelIDs() async throws -> [String] {
        // The list is paged (20 by default); one page of the maximum holds every model.
        try await UpstreamHTTPClient.modelIDs(from: send(path: "/v1/models?limit=1000", method: .GET, body: nil))
    }

    /// Healthy when `GET {baseURL}/v1/models` answers 2xx within 5 seconds.
    public func checkHealth() async -> Bool {
        await UpstreamHTTPClient.answered { try await send(path: "/v1/models", method: .GET, body: nil, timeout: .seconds(5)) }
    }

    private func send(path: String, method: HTTPMethod, body: JSONValue?, stream: Bool = false,
                      timeout: Duration? = nil) async throws -> HTTPClientResponse {
        var headers = [("Accept", stream ? "text/event-stream" : "application/json"), ("anthropic-version", Self.apiVersion)]
        if let apiKey = configuration.apiKey { headers.append(("x-api-key", apiKey)) }
        return try await http.send(url: configuration.baseURL + path, method: method, headers: headers, body: body,
                                   timeout: timeout ?? configuration.requestTimeout, secret: configuration.apiKey)
    }
}
