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
public struct OpenAICompatibleBackend: ChatBackend, ModelCatalog {
    public struct Configuration: Sendable {
        /// `https://api.x.ai/v1`: the path up to, not including, `/chat/completions`.
        public var baseURL: String
        /// Sent as `Authorization: Bearer …`; never logged, never sent anywhere else.
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

    public let configuration: Configuration
    private let http: UpstreamHTTPClient
    private let host: String

    public init(_ configuration: Configuration, http: UpstreamHTTPClient) {
        self.configuration = configuration
        self.http = http
        self.host = URL(string: configuration.baseURL)?.host ?? ""
    }

    public var capabilities: BackendCapabilities { configuration.capabilities }

    public var label: String { configuration.baseURL }

    public func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        var upstream = request
        if let model = configuration.upstreamModel { upstream.model = model }
        if upstream.stream { upstream.includeUsage = configuration.capabilities.streamUsage }
        var body = upstream.json
        Self.dropReasoningContent(&body)

        let response = try await send(path: "/chat/completions", method: .POST, body: body)
        guard upstream.stream else {
            let json = try await Self.readJSON(response, limit: configuration.maxResponseBytes)
            let events = try ChatCompletion(json: json).events
            return AsyncThrowingStream { continuation in
                for event in events { continuation.yield(event) }
                continuation.finish()
            }
        }
        return Self.events(fromSSE: response.body)
    }

    /// The upstream's model ids (`GET {baseURL}/models`).
    public func modelIDs() async throws -> [String] {
        let response = try await send(path: "/models", method: .GET, body: nil)
        let json = try await Self.readJSON(response, limit: 4 * 1024 * 1024)
        return json["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    /// Healthy when `GET {baseURL}/models` answers 2xx within 5 seconds.
    public func checkHealth() async -> Bool {
        guard let response = try? await send(path: "/models", method: .GET, body: nil, timeout: .seconds(5)) else { return false }
        _ = try? await response.body.collect(upTo: 4 * 1024 * 1024)
        return true
    }

    // MARK: - HTTP

    /// Sends one request; returns the response once its head says 2xx. Every failure is an
    /// `UpstreamError` saying whether another attempt may succeed.
    private func send(path: String, method: HTTPMethod, body: JSONValue?, timeout: Duration? = nil) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = method
        if let apiKey = configuration.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.serializedBytes()))
        }
        request.headers.add(name: "Accept", value: body?["stream"] == true ? "text/event-stream" : "application/json")
        let response: HTTPClientResponse
        do {
            response = try await http.client(for: host).execute(
                request, deadline: .now() + .nanoseconds((timeout ?? configuration.requestTimeout).nanoseconds))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw transportFailure(error)
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let status = Int(response.status.code)
            let bytes = try? await response.body.collect(upTo: 64 * 1024)
            let json = bytes.flatMap { try? JSONParser.parse($0.readableBytesView) }
            var error = APIError(upstreamStatus: status, body: json)
            error.message = redacted(error.message)
            throw UpstreamError(error, retryable: status == 429 || status >= 500,
                                retryAfter: response.headers.first(name: "retry-after").flatMap(Self.retryAfter))
        }
        return response
    }

    /// Connect failures and timeouts before an answer: worth another attempt.
    private func transportFailure(_ error: any Error) -> UpstreamError {
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
            return UpstreamError(APIError(status: 504, message: "The upstream at \(host) did not answer in time.",
                                          type: "upstream_error", code: "upstream_timeout"), retryable: true)
        }
        return UpstreamError(APIError(status: 502, message: "The upstream at \(host) could not be reached: \(redacted(String(describing: error))).",
                                      type: "upstream_error", code: "upstream_unreachable"), retryable: true)
    }

    /// `text` with the API key blanked out, in case an upstream echoes it in an error.
    private func redacted(_ text: String) -> String {
        guard let key = configuration.apiKey, key.count >= 4 else { return text }
        return text.replacingOccurrences(of: key, with: "[redacted]")
    }

    /// `Retry-After` as delay seconds (the HTTP-date form is rare from APIs and is ignored).
    static func retryAfter(_ value: String) -> Duration? {
        guard let seconds = Double(value.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0 else { return nil }
        return .milliseconds(Int64(min(seconds, 3600) * 1000))
    }

    private static func readJSON(_ response: HTTPClientResponse, limit: Int) async throws -> JSONValue {
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.badUpstream("The upstream's response is larger than \(limit / 1024 / 1024) MiB.")
        } catch {
            throw UpstreamError(.badUpstream("The upstream's response was cut off: \(error).", code: "upstream_stream_cut"),
                                retryable: true)
        }
        do {
            return try JSONParser.parse(bytes.readableBytesView)
        } catch {
            throw APIError.badUpstream("The upstream's response is not valid JSON (\(error)).")
        }
    }

    /// The events of an SSE response body, read as they arrive; dropping the stream cancels
    /// the upstream request.
    static func events(fromSSE body: HTTPClientResponse.Body) -> AsyncThrowingStream<ChatEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var sse = SSEDecoder()
                var decoder = ChunkDecoder()
                do {
                    reading: for try await buffer in body {
                        for data in try sse.feed(buffer.readableBytesView) {
                            if data == "[DONE]" { break reading }
                            let chunk: JSONValue
                            do {
                                chunk = try JSONParser.parse(data)
                            } catch {
                                throw APIError.badUpstream("The upstream sent a stream chunk that is not valid JSON (\(error)).")
                            }
                            for event in try decoder.events(for: chunk) { continuation.yield(event) }
                        }
                    }
                    continuation.yield(try decoder.finish())
                    continuation.finish()
                } catch let error as SSEDecoder.EventTooLarge {
                    continuation.finish(throwing: APIError.badUpstream("The upstream sent a stream event larger than \(error.limit) bytes."))
                } catch let error as APIError {
                    continuation.finish(throwing: error)
                } catch is CancellationError {
                    continuation.finish(throwing: CancellationError())
                } catch {
                    continuation.finish(throwing: UpstreamError(
                        .badUpstream("The upstream's stream was cut off: \(error).", code: "upstream_stream_cut"), retryable: true))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// `reasoning_content` of earlier turns is Switchboard's and DeepSeek's extension; OpenAI
    /// and others may reject it, so it stays here.
    private static func dropReasoningContent(_ body: inout JSONValue) {
        guard case .object(var o) = body, case .array(let messages)? = o["messages"] else { return }
        o["messages"] = .array(messages.map { message in
            guard case .object(var m) = message else { return message }
            m.removeValue(forKey: "reasoning_content")
            return .object(m)
        })
        body = .object(o)
    }
}
