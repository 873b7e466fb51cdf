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
public struct AnthropicBackend: UpstreamBackend {
    /// What the Messages API honours: every `tool_choice` form and `disable_parallel_tool_use`,
    /// but no `strict` tools or `response_format`, which the guard enforces instead.
    public static var defaultCapabilities: BackendCapabilities {
        var capabilities = BackendCapabilities()
        capabilities.strict = false
        return capabilities
    }

    /// The API version this adapter speaks (`anthropic-version`).
    public static let apiVersion = "2023-06-01"

    public let configuration: UpstreamConfiguration
    /// `max_tokens` when the client gives none: Anthropic requires it on every request.
    public let defaultMaxTokens: Int
    private let http: UpstreamHTTPClient

    /// `configuration.baseURL` is the URL up to, not including, `/v1/messages`; its capabilities
    /// are usually `defaultCapabilities` with a route's own settings over them.
    public init(_ configuration: UpstreamConfiguration, defaultMaxTokens: Int? = nil, http: UpstreamHTTPClient) {
        self.configuration = configuration
        self.defaultMaxTokens = defaultMaxTokens ?? 4096
        self.http = http
    }

    public func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        var upstream = request
        if let model = configuration.upstreamModel { upstream.model = model }
        let body = try AnthropicRequest.body(for: upstream, defaultMaxTokens: defaultMaxTokens)
        let answerTool = AnthropicRequest.answerTool(for: upstream)?.name
        let response = try await http.send(to: configuration, path: "/v1/messages", method: .POST,
                                           auth: auth, body: body, stream: upstream.stream)
        return try await UpstreamHTTPClient.events(of: response, streamed: upstream.stream, limit: configuration.maxResponseBytes,
                                                   whole: { try AnthropicResponse.events($0, answerTool: answerTool) },
                                                   decoder: AnthropicStreamDecoder(answerTool: answerTool))
    }

    /// The upstream's model ids (`GET {baseURL}/v1/models`, Anthropic's `data[].id`).
    public func modelIDs() async throws -> [String] {
        // The list is paged (20 by default); one page of the maximum holds every model.
        try await UpstreamHTTPClient.modelIDs(from: http.send(to: configuration, path: "/v1/models?limit=1000", method: .GET, auth: auth, body: nil))
    }

    /// Healthy when `GET {baseURL}/v1/models` answers 2xx within 5 seconds.
    public func checkHealth() async -> Bool {
        await UpstreamHTTPClient.answered {
            try await http.send(to: configuration, path: "/v1/models", method: .GET, auth: auth, body: nil, timeout: .seconds(5))
        }
    }

    /// The key and API version headers Anthropic requires.
    private var auth: [(String, String)] {
        [("anthropic-version", Self.apiVersion)] + (configuration.apiKey.map { [("x-api-key", $0)] } ?? [])
    }
}
