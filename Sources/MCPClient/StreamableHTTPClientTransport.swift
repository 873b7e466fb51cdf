import AsyncHTTPClient
import ChatAPI
import Foundation
import Logging
import MCP
import NIOCore
import NIOHTTP1

/// The client side of MCP's streamable-HTTP transport, over AsyncHTTPClient.
///
/// Each message is one POST. The server answers a request with a JSON body or with an SSE
/// stream that carries the response (and maybe notifications first); either way every message
/// goes into `receive()`. The session id the server assigns at `initialize` goes back on every
/// later request. (The SDK's own HTTP client transport reads SSE answers whole on Linux and
/// cannot split them into messages, hence this one.)
actor StreamableHTTPClientTransport: Transport {
    nonisolated let logger: Logger
    private let url: URL
    private let bearerToken: String?
    private let requestTimeout: Duration
    private let http: HTTPClient
    private var sessionID: String?
    private let messages: AsyncThrowingStream<Data, Swift.Error>
    private let continuation: AsyncThrowingStream<Data, Swift.Error>.Continuation
    /// Bounds one answer, JSON or SSE: an MCP server is trusted with tools, not with our memory.
    static let maxResponseBytes = 16 * 1024 * 1024

    /// `requestTimeout`: how long one POST may take, its answer included (past the caller's
    /// own limit, so the connection is not held long after the caller gave up).
    init(url: URL, bearerToken: String?, requestTimeout: Duration, http: HTTPClient = .shared, logger: Logger) {
        self.url = url
        self.bearerToken = bearerToken
        self.requestTimeout = requestTimeout
        self.http = http
        self.logger = logger
        (messages, continuation) = AsyncThrowingStream.makeStream()
    }

    func connect() async throws {}

    /// Ends the session on the server too (best effort), and the message stream.
    func disconnect() async {
        if let sessionID {
            var request = HTTPClientRequest(url: url.absoluteString)
            request.method = .DELETE
            request.headers.add(name: "Mcp-Session-Id", value: sessionID)
            addAuthorization(&request)
            _ = try? await http.execute(request, timeout: .seconds(5))
        }
        continuation.finish()
    }

    func send(_ data: Data) async throws {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        if let sessionID { request.headers.add(name: "Mcp-Session-Id", value: sessionID) }
        addAuthorization(&request)
        request.body = .bytes(ByteBuffer(bytes: data))
        let (seconds, attoseconds) = requestTimeout.components
        let response = try await http.execute(request, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        if let assigned = response.headers.first(name: "Mcp-Session-Id") { sessionID = assigned }
        guard (200..<300).contains(response.status.code) else {
            // The details go to the log only: the error reaches clients, and the URL may carry
            // a credential.
            let body = try? await response.body.collect(upTo: 4 * 1024)
            logger.warning("MCP server refused a message", metadata: [
                "url": "\(url)", "status": "\(response.status.code)", "body": "\(body.map { String(buffer: $0) } ?? "")"])
            throw MCPError.internalError("The MCP server answered HTTP \(response.status.code).")
        }
        // 202: a notification or response of ours was accepted; nothing comes back.
        guard response.status.code != 202 else { return }
        let type = response.headers.first(name: "Content-Type")?.lowercased() ?? ""
        if type.hasPrefix("text/event-stream") {
            var decoder = SSEDecoder(maxEventBytes: Self.maxResponseBytes)
            for try await part in response.body {
                for event in try decoder.feed(part.readableBytesView) where !event.isEmpty {
                    continuation.yield(Data(event.utf8))
                }
            }
        } else {
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            if body.readableBytes > 0 { continuation.yield(Data(body.readableBytesView)) }
        }
    }

    nonisolated func receive() -> AsyncThrowingStream<Data, Swift.Error> { messages }

    private func addAuthorization(_ request: inout HTTPClientRequest) {
        if let bearerToken { request.headers.add(name: "Authorization", value: "Bearer \(bearerToken)") }
    }
}
