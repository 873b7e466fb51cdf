import ChatAPI

/// Anything that can answer a chat completion: a local model or (later) a hosted provider.
///
/// `startCompletion` throws an `APIError` for a request this backend cannot serve (checked
/// before anything is sent to the client); the returned stream ends with one `.finished`.
/// Cancelling the consuming task (or dropping the stream) stops generation.
public protocol ChatBackend: Sendable {
    func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error>
}

/// A model the gateway serves, under the id clients send as `model`.
public struct ServedModel: Sendable {
    public var id: String
    public var ownedBy: String
    public var created: Int
    public var backend: any ChatBackend

    public init(id: String, ownedBy: String, created: Int, backend: any ChatBackend) {
        self.id = id
        self.ownedBy = ownedBy
        self.created = created
        self.backend = backend
    }
}

/// Routes requests to backends by model id, after checking the request's schemas, and guards
/// the tool calls that come back.
public struct ModelRouter: Sendable {
    public let models: [ServedModel]
    /// Compiles (and remembers) the validators of requests' schemas.
    public let schemaValidators: SchemaValidators

    public init(models: [ServedModel], schemaValidators: SchemaValidators) {
        self.models = models
        self.schemaValidators = schemaValidators
    }

    /// Starts `request` on its model's backend. Throws an `APIError` for an unknown model or an
    /// invalid or too costly schema, before anything is generated; every tool call on the
    /// returned stream has passed `ToolCallGuard`.
    public func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        let backend = try backend(for: request.model)
        let schemas = try await schemaValidators.compile(request)
        let events = try await backend.startCompletion(request)
        return ToolCallGuard.guarded(events, plan: ToolCallPlan(request: request), schemas: schemas)
    }

    /// The backend serving `model`, or a 404 in OpenAI's shape listing what is served.
    public func backend(for model: String) throws -> any ChatBackend {
        guard let served = models.first(where: { $0.id == model }) else {
            throw APIError.notFound(
                "The model '\(model)' does not exist. Models served here: \(models.map { "'\($0.id)'" }.joined(separator: ", ")).",
                param: "model", code: "model_not_found")
        }
        return served.backend
    }

    /// The `GET /v1/models` listing.
    public var modelList: ModelList {
        ModelList(models: models.map { ModelList.Entry(id: $0.id, created: $0.created, ownedBy: $0.ownedBy) })
    }
}
