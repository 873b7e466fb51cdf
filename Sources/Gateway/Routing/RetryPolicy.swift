/// How often, and how long apart, a route retries a failed upstream attempt.
///
/// Only failures before anything reached the client are retried: connect errors, 429 and 5xx
/// (`UpstreamError.retryable`). The wait doubles from `baseDelay` up to `maxDelay`, with full
/// jitter so that many gateway replicas do not retry in step; an upstream's `Retry-After` is a
/// floor. A wait that would pass the request's deadline is not taken.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts after the first.
    public var maxRetries: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxRetries: Int = 2, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(5)) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before retry number `retry` (1-based), given the upstream's `Retry-After`.
    func delay(beforeRetry retry: Int, retryAfter: Duration?) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(retry - 1, 20)))
        let jittered = ceiling * Double.random(in: 0...1)
        return max(jittered, retryAfter ?? .zero)
    }
}
