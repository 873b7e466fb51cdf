import ChatAPI
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import MCP

/// MCP's streamable-HTTP transport at `/mcp`: one MCP session (a server and its transport) per
/// `Mcp-Session-Id`, created by an `initialize` request and ended by `DELETE` or by staying idle.
/// Sessions are bounded: past `maxSessions` the least recently used one is closed, so clients
/// that never say goodbye cannot pile sessions up. The routes sit behind the same request gate
/// as the rest of the API (key, Host and Origin policy), so the transport's own origin check is
/// off.
actor MCPHTTPSessions {
    static let maxSessions = 64
    static let idleTimeout: Duration = .seconds(600)

    private struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
        var lastUsed: ContinuousClock.Instant
    }

    private let router: ModelRouter
    private var sessions: [String: Session] = [:]

    init(router: ModelRouter) {
        self.router = router
    }

    /// Answers one HTTP request to `/mcp`.
    func handle(_ request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        let now = ContinuousClock.now
        if let id = request.header(HTTPHeaderName.sessionID) {
            guard var session = sessions[id] else {
                return .error(statusCode: 404, .invalidRequest("Not Found: no session \(id) (it ended or expired)."))
            }
            session.lastUsed = now
            sessions[id] = session
            let response = await session.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE", response.statusCode == 200 { await close(id) }
            return response
        }
        guard request.method.uppercased() == "POST", Self.isInitialize(request.body) else {
            return .error(statusCode: 400, .invalidRequest("Bad Request: missing \(HTTPHeaderName.sessionID) header (start with initialize)."))
        }
        await evict(now: now)
        let id = UUID().uuidString
        let transport = StatefulHTTPServerTransport(
            sessionIDGenerator: FixedSessionID(id: id),
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(), ProtocolVersionValidator(), SessionValidator(),
            ]))
        let server = await SwitchboardMCP.makeServer(router: router)
        do {
            try await server.start(transport: transport)
        } catch {
            return .error(statusCode: 500, .internalError("The MCP session could not start: \(error)"))
        }
        sessions[id] = Session(server: server, transport: transport, lastUsed: now)
        let response = await transport.handleRequest(request)
        if case .error = response { await close(id) }
        return response
    }

    /// Closes idle sessions, and the least recently used ones beyond the bound.
    private func evict(now: ContinuousClock.Instant) async {
        for (id, session) in sessions where now - session.lastUsed > Self.idleTimeout { await close(id) }
        while sessions.count >= Self.maxSessions, let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            await close(oldest)
        }
    }

    private func close(_ id: String) async {
        guard let session = sessions.removeValue(forKey: id) else { return }
        await session.server.stop()
    }

    /// Whether a POST body is (or, in a batch, holds) an `initialize` request.
    static func isInitialize(_ body: Data?) -> Bool {
        guard let body, let json = try? JSONParser.parse(Array(body)) else { return false }
        let messages = json.arrayValue ?? [json]
        return messages.contains { $0["method"] == "initialize" }
    }

    private struct FixedSessionID: SessionIDGenerator {
        let id: String
        func generateSessionID() -> String { id }
    }
}

extension MCPHTTPSessions {
    /// A Hummingbird request as the SDK's; a body over `limit` bytes is a 400, as for chat
    /// completions.
    static func sdkRequest(_ request: Request, limit: Int) async throws -> MCP.HTTPRequest {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let body = try await ChatCompletionsHandler.collectBody(request.body, limit: limit)
        return MCP.HTTPRequest(method: request.method.rawValue, headers: headers,
                               body: body.readableBytes > 0 ? Data(buffer: body) : nil, path: request.uri.path)
    }

    /// The SDK's response as Hummingbird's, streaming SSE bodies as they come.
    static func response(_ response: MCP.HTTPResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPTypes.HTTPField.Name(name) { headers[name] = value }
        }
        let status = HTTPTypes.HTTPResponse.Status(code: response.statusCode)
        if case .stream(let stream, _) = response {
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                for try await data in stream { try await writer.write(ByteBuffer(bytes: data)) }
                try await writer.finish(nil)
            })
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: response.bodyData ?? Data())))
    }
}
