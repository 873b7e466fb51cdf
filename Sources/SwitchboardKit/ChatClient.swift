import AsyncHTTPClient
import Foundation
import ChatAPI
import NIOCore
import NIOHTTP1

/// A client of any OpenAI-compatible chat completions endpoint: Switchboard, OpenAI, xAI,
/// inference.net, vLLM, llama-server, Ollama.
///
/// ```swift
/// let client = ChatClient(baseURL: "http://127.0.0.1:8080/v1")
/// var request = ChatCompletionRequest(model: "SmolLM2-135M-Instruct.Q4_1", messages: [.user("Hi!")])
/// let answer = try await client.complete(request)
/// for try await chunk in client.stream(request) { print(chunk.text, terminator: "") }
/// ```
///
/// A server's error is thrown as an `APIError` (status, type, code, param). Connect failures,
/// 429 and 5xx are tried again per `retry`, waiting at least the server's `Retry-After`, but only
/// before any of the answer has arrived. Cancelling the calling task cancels the request.
public struct ChatClient: Sendable {
    /// Everything before `/chat/completions`, e.g. `https://api.x.ai/v1`.
    public let baseURL: String
    private let apiKey: String?
    public var retry: RetryPolicy
    /// How long one attempt may take, a stream included.
    public var timeout: Duration
    /// The largest non-streaming answer read.
    public var maxResponseBytes = 64 * 1024 * 1024
    private let http: HTTPClient

    /// - Parameters:
    ///   - baseURL: the API root; the default is `make serve`'s local server.
    ///   - apiKey: sent as `Authorization: Bearer`.
    ///   - http: the AsyncHTTPClient to send with (its pooled connections are reused); by
    ///     default one shared by every `ChatClient` of the process.
    public init(baseURL: String = "http://127.0.0.1:8080/v1", apiKey: String? = nil, retry: RetryPolicy = RetryPolicy(),
                timeout: Duration = .seconds(600), http: HTTPClient = ChatClient.sharedHTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.retry = retry
        self.timeout = timeout
        self.http = http
    }

    /// The HTTP client `ChatClient`s use unless given one: a refused connection fails at once
    /// (retries are `RetryPolicy`'s to decide; AsyncHTTPClient's own would keep trying until its
    /// connect timeout), and a connection takes at most 10 seconds to open. It lives as long as
    /// the process.
    public static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .enabled(limit: .ratio(50))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// One whole completion (`stream` in `request` is ignored).
    public func complete(_ request: ChatCompletionRequest) async throws -> ChatCompletion {
        var request = request
        request.stream = false
        let response = try await send(request)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxResponseBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.badUpstream("The server's answer is larger than \(maxResponseBytes / 1024 / 1024) MiB.")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(body.readableBytesView)
        } catch {
            throw APIError.badUpstream("The server's answer is not JSON: \(error).")
        }
        return try APIError.decodingUpstream("response") { try ChatCompletion(json: json) }
    }

    /// The ids of the models the server lists (`GET /models`), in its order.
    public func models() async throws -> [String] {
        var request = HTTPClientRequest(url: baseURL + "/models")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: maxResponseBytes)
        let json = try? JSONParser.parse(body.readableBytesView)
        guard (200..<300).contains(Int(response.status.code)) else { throw APIError(upstreamStatus: Int(response.status.code), body: json) }
        guard let data = json?["data"]?.arrayValue else { throw APIError.badUpstream("The server's model list has no 'data' array.") }
        return data.compactMap { $0["id"]?.stringValue }
    }

    /// The completion as it is generated (`stream` in `request` is set). The last chunk carries
    /// the `.finished` event; usage is asked for (`stream_options.include_usage`). Stopping the
    /// iteration, or cancelling its task, ends the request.
    public func stream(_ request: ChatCompletionRequest) -> AsyncThrowingStream<ChatStreamChunk, Error> {
        var request = request
        request.stream = true
        request.includeUsage = true
        let (chunks, continuation) = AsyncThrowingStream.makeStream(of: ChatStreamChunk.self)
        let task = Task { [self] in
            do {
                try await read(try await send(request), into: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return chunks
    }

    /// Reads the SSE body into chunks until `[DONE]` or the end of the body.
    private func read(_ response: HTTPClientResponse, into continuation: AsyncThrowingStream<ChatStreamChunk, Error>.Continuation) async throws {
        var reader = ChatStreamReader()
        for try await part in response.body {
            for chunk in try reader.feed(part.readableBytesView) { continuation.yield(chunk) }
            if reader.isDone { break }
        }
        try Task.checkCancellation()
        continuation.yield(try reader.finish())
    }

    /// POSTs `request`, trying again after connect failures, 429 and 5xx; the response returned
    /// has a 2xx status and its body unread.
    private func send(_ request: ChatCompletionRequest) async throws -> HTTPClientResponse {
        var http = HTTPClientRequest(url: baseURL + "/chat/completions")
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Accept", value: request.stream ? "text/event-stream" : "application/json")
        if let apiKey { http.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        http.body = .bytes(ByteBuffer(bytes: request.json.serializedBytes()))
        var retries = 0
        while true {
            switch try await attempt(http) {
            case .answered(let response):
                return response
            case .failed(let failure, let retryAfter):
                retries += 1
                guard retries <= retry.maxRetries else { throw failure }
                try await Task.sleep(for: retry.delay(beforeRetry: retries, retryAfter: retryAfter))
            }
        }
    }

    private enum Attempt {
        case answered(HTTPClientResponse)
        /// Worth trying again.
        case failed(Error, retryAfter: Duration?)
    }

    /// One try: a 2xx response, a failure worth retrying, or a thrown final failure.
    private func attempt(_ request: HTTPClientRequest) async throws -> Attempt {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .nanoseconds(timeout.components.seconds * 1_000_000_000
                                                                            + timeout.components.attoseconds / 1_000_000_000))
        } catch let error as HTTPClientError where error == .connectTimeout || error == .remoteConnectionClosed {
            return .failed(error, retryAfter: nil)
        } catch let error as HTTPClientError {
            // A timeout among them: the request may still be running on the server.
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Connection refused and the like, from NIO: nothing reached the server.
            return .failed(error, retryAfter: nil)
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) { return .answered(response) }
        let body = try? await response.body.collect(upTo: 1024 * 1024)
        let error = APIError(upstreamStatus: status, body: body.flatMap { try? JSONParser.parse($0.readableBytesView) })
        guard RetryPolicy.isRetryable(status: status) else { throw error }
        return .failed(error, retryAfter: response.headers.first(name: "retry-after").flatMap(RetryPolicy.retryAfter(header:)))
    }
}

extension ChatClient {
    /// Asks for an answer shaped as `T` (`response_format: json_schema`, strict, with
    /// `T.jsonSchema`) and decodes it. Throws `StructuredAnswerError` when the answer is not
    /// JSON that decodes as `T` (a server that enforces schemas, as Switchboard does, never
    /// gives one).
    public func respond<T: Decodable & JSONSchemaConvertible>(to request: ChatCompletionRequest, as type: T.Type) async throws -> T {
        var request = request
        let name = String(String(describing: T.self).unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }.prefix(64))
        request.responseFormat = .jsonSchema(name: name.isEmpty ? "answer" : name, description: nil, schema: T.jsonSchema, strict: true)
        let completion = try await complete(request)
        let text = completion.content ?? ""
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw StructuredAnswerError(text: text, reason: "\(error)")
        }
    }
}

/// A structured answer that did not decode as the type asked for.
public struct StructuredAnswerError: Error, Sendable, CustomStringConvertible {
    /// The answer as the server gave it.
    public let text: String
    public let reason: String
    public var description: String { "The answer does not decode as asked: \(reason). Answer: \(text.prefix(200))" }
}
