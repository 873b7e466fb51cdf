import ChatAPI

/// Model ids served by one pool of backends, with what to do when they fail.
public struct Route: Sendable {
    /// The ids this route serves: exact (`smollm2`) or a wildcard (`grok-*`).
    public var pattern: ModelPattern
    /// Further exact ids for the same route.
    public var aliases: [String]
    public var pool: UpstreamPool
    /// Model ids tried in order when this route's attempts are used up, before anything has
    /// reached the client.
    public var fallbacks: [String]
    public var retry: RetryPolicy
    /// Time the whole request may take, from routing to the last event; nil for no limit
    /// (a local model, bounded by its token limits).
    public var timeout: Duration?
    /// `owned_by` in the models list.
    public var ownedBy: String
    /// Lists the upstream's own model ids, for a wildcard route's entries in `/v1/models`.
    public var catalog: (any ModelCatalog)?

    public init(_ pattern: String, backends: [any ChatBackend], aliases: [String] = [], fallbacks: [String] = [],
                retry: RetryPolicy = RetryPolicy(), timeout: Duration? = nil, ownedBy: String = "switchboard",
                catalog: (any ModelCatalog)? = nil) {
        self.pattern = ModelPattern(pattern)
        self.aliases = aliases
        self.pool = UpstreamPool(backends)
        self.fallbacks = fallbacks
        self.retry = retry
        self.timeout = timeout
        self.ownedBy = ownedBy
        self.catalog = catalog
    }

    /// Whether this route serves `model`.
    public func serves(_ model: String) -> Bool { pattern.matches(model) || aliases.contains(model) }
}

/// Something that can list an upstream's model ids (its `GET /models`).
public protocol ModelCatalog: Sendable {
    func modelIDs() async throws -> [String]
}
