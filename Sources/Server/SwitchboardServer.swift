import ChatAPI
import Gateway
import Hummingbird
import HummingbirdCore
import Logging
import MCPClient
import Prometheus

/// Builds the Hummingbird application that serves the OpenAI-compatible API.
public enum SwitchboardServer {
    /// The `system_fingerprint` of completions this server generates.
    public static let systemFingerprint = "switchboard-local"

    /// The routes, behind the request gate (path canonicalization, Host/Origin policy, key).
    static func makeResponder(models: ModelRouter, toolbox: MCPToolbox, configuration: ServerConfiguration,
                              metrics: PrometheusCollectorRegistry?, closeSignals: ConnectionCloseSignals) -> some HTTPResponder<SwitchboardRequestContext> {
        let router = Router(context: SwitchboardRequestContext.self)
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: OpenAIErrorMiddleware())
        router.get("/health") { _, _ in Response.json(["status": "ok"]) }
        if let metrics {
            router.get("/metrics") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
        router.get("/v1/models") { _, _ in Response.json(await models.modelList().json) }
        router.get("/v1/models/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let entry = await models.modelEntry(id) else {
                throw APIError.notFound("The model '\(id)' does not exist.", param: "model", code: "model_not_found")
            }
            return Response.json(entry.json)
        }
        let chat = ChatCompletionsHandler(router: models, toolbox: toolbox, configuration: configuration, closeSignals: closeSignals)
        router.post("/v1/chat/completions") { request, context in try await chat.handle(request, context: context) }
        let mcp = MCPHTTPSessions(router: models)
        for method in [HTTPRequest.Method.post, .get, .delete] {
            router.on("/mcp", method: method) { request, _ in
                let sdkRequest = try await MCPHTTPSessions.sdkRequest(request, limit: configuration.maxBodyBytes)
                return MCPHTTPSessions.response(await mcp.handle(sdkRequest))
            }
        }
        return RequestGate(inner: router.buildResponder(), browser: BrowserPolicy(configuration: configuration),
                           auth: configuration.apiKey.map(BearerAuth.init))
    }

    /// The application, listening on `configuration.host:port`. Run it inside a `ServiceGroup`
    /// (or with `runService()`): SIGTERM then stops accepting connections and lets in-flight
    /// requests finish, and cancelling it ends them.
    /// `metrics`: the registry `GET /metrics` exports (Prometheus text format), if any.
    /// `toolbox`: the MCP servers whose tools requests may name (`{"type": "mcp"}` tools).
    public static func makeApplication(models: ModelRouter, toolbox: MCPToolbox = MCPToolbox(servers: [], logger: Logger(label: "mcp")),
                                       configuration: ServerConfiguration, metrics: PrometheusCollectorRegistry? = nil,
                                       logger: Logger) -> some ApplicationProtocol {
        let closeSignals = ConnectionCloseSignals()
        return Application(
            responder: makeResponder(models: models, toolbox: toolbox, configuration: configuration, metrics: metrics, closeSignals: closeSignals),
            server: HTTPServerBuilder { responder in
                GuardedHTTP1Channel(responder: responder, configuration: configuration, closeSignals: closeSignals)
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "switchboard"),
            logger: logger)
    }
}
