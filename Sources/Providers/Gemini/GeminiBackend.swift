import AsyncHTTPClient
import ChatAPI
import Foundation
import Gateway
import NIOHTTP1

/// Google's Gemini API (`POST {baseURL}/v1beta/models/{model}:generateContent`, or
/// `:streamGenerateContent?alt=sse`) behind the OpenAI-shaped gateway.
///
/// The request is translated by `GeminiRequest` (schemas by `GeminiSchema`), answers by
/// `GeminiResponseDecoder`, whole or streamed; transport, retries' error classes and key
/// redaction are the shared `UpstreamHTTPClient` exchange. Google's error bodies
/// (`{"error":{"code","message","status"}}`) keep their status; 429 and 5xx are retryable.
public struct GeminiBackend: UpstreamBackend {
    /// What Gemini honours: every `tool_choice` form, but neither `parallel_tool_calls` nor
    /// `strict`, which the guard enforces instead.
    public static var defaultCapabilities: BackendCapabilities {
        var capabilities = BackendCapabilities()
        capabilities.parallelToolCalls = false
        capabilities.strict = false
        return capabilities
    }

    public let configuration: UpstreamConfiguration
    private let http: UpstreamHTTPClient

    /// `configuration.baseURL` is the URL up to, not including, `/v1beta`
    /// (`https://generativelanguage.googleapis.com`); its capabilities are usually
    /// `defaultCapabilities` with a route's own settings over them.
    public init(_ configuration: UpstreamConfiguration, http: UpstreamHTTPClient) {
        self.configuration = configuration
        self.http = http
    }

    public func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        let body = try GeminiRequest.body(for: request)
        var model = configuration.upstreamModel ?? request.model
        if model.hasPrefix("models/") { model.removeFirst("models/".count) }
        let escaped = model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", "?", "#"])) ?? model
        let method = request.stream ? "streamGenerateContent?alt=sse" : "generateContent"
        let response = try await http.send(to: configuration, path: "/v1beta/models/\(escaped):\(method)", method: .POST,
                                           auth: auth, body: body, stream: request.stream)
        let prefix = "call_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased() + "_"
        return try await UpstreamHTTPClient.events(of: response, streamed: request.stream, limit: configuration.maxResponseBytes,
                                                   whole: { try GeminiResponseDecoder.events(whole: $0, callIDPrefix: prefix) },
                                                   decoder: GeminiResponseDecoder(callIDPrefix: prefix))
    }

    /// The upstream's model ids (`GET {baseURL}/v1beta/models`, `models[].name` without its
    /// `models/` prefix).
    public func modelIDs() async throws -> [String] {
        let response = try await http.send(to: configuration, path: "/v1beta/models?pageSize=1000", method: .GET, auth: auth, body: nil)
        let json = try await UpstreamHTTPClient.readJSON(response, limit: 4 * 1024 * 1024)
        return json["models"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.map {
            $0.hasPrefix("models/") ? String($0.dropFirst("models/".count)) : $0
        } ?? []
    }

    /// Healthy when `GET {baseURL}/v1beta/models` answers 2xx within 5 seconds.
    public func checkHealth() async -> Bool {
        await UpstreamHTTPClient.answered {
            try await http.send(to: configuration, path: "/v1beta/models?pageSize=1", method: .GET, auth: auth, body: nil, timeout: .seconds(5))
        }
    }

    /// The key as Google's APIs take it.
    private var auth: [(String, String)] { configuration.apiKey.map { [("x-goog-api-key", $0)] } ?? [] }
}
