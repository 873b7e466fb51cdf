import AsyncHTTPClient
import ChatAPI
import Foundation
import Gateway
import NIOCore
import NIOHTTP1

/// An OpenAI-compatible upstream (`POST {baseURL}/chat/completions`): OpenAI itself, xAI,
/// inference.net, AIMLAPI, OpenRouter, vLLM, llama-server, Ollama, another Switchboard.
///
/// One adapter for all of them: what they do differently is a `BackendCapabilities` setting
/// (the guard rewrites around it), and the chunk decoder reads every streaming style seen
/// (whole calls in one chunk, repeated index 0, missing ids).
public struct OpenAICompatibleBackend: UpstreamBackend {
    public let configuration: UpstreamConfiguration
    private let http: UpstreamHTTPClient

    public init(_ configuration: UpstreamConfiguration, http: UpstreamHTTPClient) {
        self.configuration = configuration
        self.http = http
    }

    public func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        var upstream = request
        if let model = configuration.upstreamModel { upstream.model = model }
        if upstream.stream { upstream.includeUsage = configuration.capabilities.streamUsage }
        var body = upstream.json
        Self.dropReasoningContent(&body)

        let response = try await http.send(to: configuration, path: "/chat/completions", method: .POST,
                                           auth: auth, body: body, stream: upstream.stream)
        return try await UpstreamHTTPClient.events(of: response, streamed: upstream.stream, limit: configuration.maxResponseBytes,
                                                   whole: { try ChatCompletion(json: $0).events }, decoder: ChunkDecoder())
    }

    /// The upstream's model ids (`GET {baseURL}/models`).
    public func modelIDs() async throws -> [String] {
        try await UpstreamHTTPClient.modelIDs(from: http.send(to: configuration, path: "/models", method: .GET, auth: auth, body: nil))
    }

    /// Healthy when `GET {baseURL}/models` answers 2xx within 5 seconds.
    public func checkHealth() async -> Bool {
        await UpstreamHTTPClient.answered {
            try await http.send(to: configuration, path: "/models", method: .GET, auth: auth, body: nil, timeout: .seconds(5))
        }
    }

    /// The key as OpenAI-compatible APIs take it.
    private var auth: [(String, String)] { configuration.apiKey.map { [("Authorization", "Bearer \($0)")] } ?? [] }

    /// `reasoning_content` of earlier turns is Switchboard's and DeepSeek's extension (and
    /// `reasoning_signature`, `is_error` are Switchboard's); OpenAI and others may reject them,
    /// so they stay here.
    private static func dropReasoningContent(_ body: inout JSONValue) {
        guard case .object(var o) = body, case .array(let messages)? = o["messages"] else { return }
        o["messages"] = .array(messages.map { message in
            guard case .object(var m) = message else { return message }
            m.removeValue(forKey: "reasoning_content")
            m.removeValue(forKey: "reasoning_signature")
            m.removeValue(forKey: "is_error")
            return .object(m)
        })
        body = .object(o)
    }
}
