import ChatAPI

/// Anything that can answer a chat completion: a local model or a hosted upstream.
///
/// The contract every backend keeps, and the router and guard rely on:
/// - `startCompletion` throws for a request it cannot serve, before any event: an `APIError`,
///   or an `UpstreamError` when an upstream failed in a way worth retrying elsewhere.
/// - The returned stream carries a call's `.toolCallStarted` before any of its argument
///   fragments; call indexes are consecutive from 0.
/// - It ends with exactly one `.finished`, or with an error (`APIError` or `UpstreamError`).
/// - Cancelling the consuming task, or dropping the stream, stops the work (generation, or the
///   upstream request).
public protocol ChatBackend: Sendable {
    func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error>

    /// What this backend honours of the request, so the guard can rewrite what it would ignore.
    var capabilities: BackendCapabilities { get }

    /// Names this backend in metrics and logs (an upstream's base URL; never a key).
    var label: String { get }

    /// Whether the backend answers at all (a hosted upstream's `GET /models`), for the active
    /// health checks of pools.
    func checkHealth() async -> Bool

    /// Ends the backend's work for good before the process exits (the local engine stops its
    /// generation thread). Requests after it fail.
    func shutdown() async
}

extension ChatBackend {
    public var capabilities: BackendCapabilities { BackendCapabilities() }
    public var label: String { "backend" }
    public func checkHealth() async -> Bool { true }
    public func shutdown() async {}
}

/// What a backend honours. A hosted upstream's quirks are settings here, not code forks: the
/// guard rewrites the request around what is missing and checks the answer either way.
public struct BackendCapabilities: Sendable, Equatable {
    /// Tool calls are valid by construction (constrained local generation). A violation is
    /// then a bug of ours (500); for other backends it is the upstream's (502, repaired when
    /// possible).
    public var validByConstruction = false
    /// Honours `tool_choice` naming a function. Without it the guard sends only that function.
    public var namedToolChoice = true
    /// Honours `tool_choice: "required"`. Without it the guard sends `auto` and checks.
    public var requiredToolChoice = true
    /// Accepts `parallel_tool_calls`. Without it the field is not sent and the guard enforces it.
    public var parallelToolCalls = true
    /// Accepts `strict` on tools and `response_format`. Without it the field is not sent; the
    /// guard enforces the schemas either way.
    public var strict = true
    /// Accepts `stream_options.include_usage`, so streams report token usage.
    public var streamUsage = true
    /// How a local model writes tool calls in its output (its chat template's format, such as
    /// `hermes` or `qwen3Coder`; `generic` without tool support); nil for hosted upstreams.
    public var toolCallFormat: String? = nil

    public init() {}
}

/// An upstream failure the router may retry (on the same or another upstream) or fall back
/// from, as long as nothing has reached the client yet.
public struct UpstreamError: Error, Sendable, CustomStringConvertible {
    /// What the client gets if no retry or fallback succeeds.
    public var apiError: APIError
    /// Connect failures, 429 and 5xx: another attempt may succeed.
    public var retryable: Bool
    /// The upstream's `Retry-After`, if it sent one.
    public var retryAfter: Duration?

    public init(_ apiError: APIError, retryable: Bool, retryAfter: Duration? = nil) {
        self.apiError = apiError
        self.retryable = retryable
        self.retryAfter = retryAfter
    }

    public var description: String { apiError.description }
}
