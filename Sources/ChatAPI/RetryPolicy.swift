/// How often, and how long apart, a failed request is tried again: by a gateway route against
/// its upstream, and by the client SDK against its server.
///
/// Only failures before any of the answer arrived are retried: connect errors, 429 and 5xx.
/// The wait doubles from `baseDelay` up to `maxDelay`, with full jitter so that many clients do
/// not retry in step; the server's `Retry-After` is a floor. (A gateway route also skips a wait
/// that would pass the request's deadline.)
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

    /// Whether an answer with this HTTP status is worth trying again.
    public static func isRetryable(status: Int) -> Bool { status == 429 || (500...599).contains(status) }

    /// `Retry-After` as a delay: seconds, capped at an hour. The HTTP-date form is rare from
    /// APIs and is ignored.
    public static func retryAfter(header value: String) -> Duration? {
        let trimmed = value.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        guard let seconds = Double(String(trimmed)), seconds.isFinite, seconds >= 0 else { return nil }
        return .milliseconds(Int64(min(seconds, 3600) * 1000))
    }

    /// The wait before retry number `retry` (1-based), given the server's `Retry-After`.
    public func delay(beforeRetry retry: Int, retryAfter: Duration?) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(retry - 1, 20)))
        let jittered = ceiling * Double.random(in: 0...1)
        return max(jittered, retryAfter ?? .zero)
    }
}
