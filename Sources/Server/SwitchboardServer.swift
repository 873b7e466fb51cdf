import ChatAPI
import Gateway
import Hummingbird
import Logging

/// Builds the Hummingbird application that serves the OpenAI-compatible API.
public enum SwitchboardServer {
    /// The router with every route and middleware; exposed so tests can drive it in-process.
    public static func makeRouter(models: ModelRouter, configuration: ServerConfiguration) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: OpenAIErrorMiddleware())
        if let key = configuration.apiKey {
            router.add(middleware: BearerAuthMiddleware(apiKey: key))
        }
        router.get("/health") { _, _ in Response.json(["status": "ok"]) }
        router.get("/v1/models") { _, _ in Response.json(models.modelList.json) }
        router.get("/v1/models/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let entry = models.modelList.models.first(where: { $0.id == id }) else {
                throw APIError.notFound("The model '\(id)' does not exist.", param: "model", code: "model_not_found")
            }
            return Response.json(entry.json)
        }
        let chat = ChatCompletionsHandler(router: models, configuration: configuration)
        router.post("/v1/chat/completions") { request, context in try await chat.handle(request, context: context) }
        return router
    }

    /// The application, listening on `configuration.host:port`.
    public static func makeApplication(models: ModelRouter, configuration: ServerConfiguration, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: makeRouter(models: models, configuration: configuration),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "switchboard"),
            logger: logger)
    }
}
