import AsyncHTTPClient
import ChatAPI
import Foundation
import Gateway
import NIOCore
import NIOHTTP1

/// Reads one upstream family's streamed events (the `data:` of each SSE event, parsed) as
/// `ChatEvent`s. One per stream: it keeps the state that spans chunks (call indexes, usage).
public protocol UpstreamStreamDecoder: Sendable {
    /// The events one parsed `data:` payload carries (often none).
    mutating func events(for data: JSONValue) throws -> [ChatEvent]
    /// The `.finished` event, once the upstream has ended its stream; throws when the stream
    /// ended before it said how it finished.
    func finish() throws -> ChatEvent
}

extension ChunkDecoder: UpstreamStreamDecoder {}

/// One request/response exchange with an upstream, shared by every adapter: failures mapped to
/// `UpstreamError`s that say whether another attempt may succeed, bodies read within limits,
/// and SSE streams turned into events.
extension UpstreamHTTPClient {
    /// Sends one request; returns the response once its head says 2xx.
    ///
    /// - Parameters:
    ///   - secret: the API key, blanked out of any error text in case an upstream echoes it.
    func send(url: String, method: HTTPMethod, headers: [(String, String)], body: JSONValue?,
              timeout: Duration, secret: String?) async throws -> HTTPClientResponse {
        let host = URL(string: url)?.host ?? url
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.serializedBytes()))
        }
        let response: HTTPClientResponse
        do {
            response = try await client(for: host).execute(request, deadline: .now() + .nanoseconds(timeout.nanoseconds))
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw UpstreamError(APIError(status: 504, message: "The upstream at \(host) did not answer in time.",
                                         type: "upstream_error", code: "upstream_timeout"), retryable: true)
        } catch {
            throw UpstreamError(APIError(status: 502, message: "The upstream at \(host) could not be reached: \(Self.redacted(String(describing: error), secret)).",
                                         type: "upstream_error", code: "upstream_unreachable"), retryable: true)
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let status = Int(response.status.code)
            let bytes = try? await response.body.collect(upTo: 64 * 1024)
            let json = bytes.flatMap { try? JSONParser.parse($0.readableBytesView) }
            var error = APIError(upstreamStatus: status, body: json)
            error.message = Self.redacted(error.message, secret)
            // 529 is Anthropic's "overloaded"; every 5xx and 429 may pass on another attempt.
            throw UpstreamError(error, retryable: RetryPolicy.isRetryable(status: status),
                                retryAfter: response.headers.first(name: "retry-after").flatMap(RetryPolicy.retryAfter(header:)))
        }
        return response
    }

    /// Sends one request to `upstream`: `path` after its base URL, its timeout unless `timeout`
    /// says otherwise, its key blanked out of errors; `auth` are the provider's key headers.
    func send(to upstream: UpstreamConfiguration, path: String, method: HTTPMethod, auth: [(String, String)], body: JSONValue?,
              stream: Bool = false, timeout: Duration? = nil) async throws -> HTTPClientResponse {
        try await send(url: upstream.baseURL + path, method: method,
                       headers: [("Accept", stream ? "text/event-stream" : "application/json")] + auth, body: body,
                       timeout: timeout ?? upstream.requestTimeout, secret: upstream.apiKey)
    }

    /// `text` with `secret` blanked out.
    static func redacted(_ text: String, _ secret: String?) -> String {
        guard let secret, secret.count >= 4 else { return text }
        return text.replacingOccurrences(of: secret, with: "[redacted]")
    }

    /// A whole (non-streaming) response body, parsed.
    static func readJSON(_ response: HTTPClientResponse, limit: Int) async throws -> JSONValue {
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

    /// The events of an SSE response body, read as they arrive and translated by `decoder`;
    /// dropping the stream cancels the upstream request. A `data: [DONE]` ends the stream.
    static func events<Decoder: UpstreamStreamDecoder>(fromSSE body: HTTPClientResponse.Body, decoder: Decoder) -> AsyncThrowingStream<ChatEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var sse = SSEDecoder()
                var decoder = decoder
                do {
                    reading: for try await buffer in body {
                        for data in try sse.feed(buffer.readableBytesView) {
                            if data == "[DONE]" { break reading }
                            let payload: JSONValue
                            do {
                                payload = try JSONParser.parse(data)
                            } catch {
                                throw APIError.badUpstream("The upstream sent a stream event that is not valid JSON (\(error)).")
                            }
                            for event in try decoder.events(for: payload) { continuation.yield(event) }
                        }
                    }
                    continuation.yield(try decoder.finish())
                    continuation.finish()
                } catch let error as SSEDecoder.EventTooLarge {
                    continuation.finish(throwing: APIError.badUpstream("The upstream sent a stream event larger than \(error.limit) bytes."))
                } catch let error as APIError {
                    continuation.finish(throwing: error)
                } catch let error as UpstreamError {
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

    /// An answer's events: the whole body read by `whole`, or the SSE stream by `decoder`.
    static func events<Decoder: UpstreamStreamDecoder>(
        of response: HTTPClientResponse, streamed: Bool, limit: Int, whole: (JSONValue) throws -> [ChatEvent], decoder: Decoder
    ) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        guard streamed else { return stream(of: try whole(try await readJSON(response, limit: limit))) }
        return events(fromSSE: response.body, decoder: decoder)
    }

    /// The model ids of a models list (`data[].id`, the shape OpenAI's and Anthropic's share).
    static func modelIDs(from response: HTTPClientResponse) async throws -> [String] {
        let json = try await readJSON(response, limit: 4 * 1024 * 1024)
        return json["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    /// Whether a health probe was answered 2xx (its body is read to free the connection).
    static func answered(_ probe: () async throws -> HTTPClientResponse) async -> Bool {
        guard let response = try? await probe() else { return false }
        _ = try? await response.body.collect(upTo: 4 * 1024 * 1024)
        return true
    }

    /// A finished answer as a stream, as `ChatBackend.startCompletion` returns it.
    static func stream(of events: [ChatEvent]) -> AsyncThrowingStream<ChatEvent, Error> {
        AsyncThrowingStream { continuation in
            for event in events { continuation.yield(event) }
            continuation.finish()
        }
    }
}
