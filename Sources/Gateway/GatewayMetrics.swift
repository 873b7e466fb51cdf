import ChatAPI
import CoreMetrics

/// What the gateway counts, through swift-metrics (exported by the server at `/metrics`).
///
/// Series are labelled by route (its configured pattern) and upstream (its base URL), never by
/// the model id a client sent: those are unbounded under a wildcard route, and a hostile client
/// could otherwise grow the series without limit.
public struct GatewayMetrics: Sendable {
    private let factory: any MetricsFactory

    /// Metrics made by `factory`; by default the process-wide one (`MetricsSystem.bootstrap`).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// One answered request: its status and the time to the response head (for a stream, to
    /// its first event).
    public func request(route: String, status: Int, duration: Duration) {
        Counter(label: "switchboard_requests_total", dimensions: [("route", route), ("status", String(status))],
                factory: factory).increment()
        Timer(label: "switchboard_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// The tokens of one finished completion.
    public func tokens(route: String, _ usage: TokenUsage) {
        Counter(label: "switchboard_tokens_total", dimensions: [("route", route), ("kind", "prompt")], factory: factory)
            .increment(by: usage.promptTokens)
        Counter(label: "switchboard_tokens_total", dimensions: [("route", route), ("kind", "completion")], factory: factory)
            .increment(by: usage.completionTokens)
    }

    /// One attempt on a backend: `ok`, or the failure's HTTP status.
    func attempt(route: String, upstream: String, outcome: String) {
        Counter(label: "switchboard_upstream_attempts_total",
                dimensions: [("route", route), ("upstream", upstream), ("outcome", outcome)], factory: factory).increment()
    }

    func retry(route: String) {
        Counter(label: "switchboard_upstream_retries_total", dimensions: [("route", route)], factory: factory).increment()
    }

    func fallback(route: String) {
        Counter(label: "switchboard_upstream_fallbacks_total", dimensions: [("route", route)], factory: factory).increment()
    }

    /// One re-ask of an upstream whose answer broke the tool-call rules.
    func repair(route: String) {
        Counter(label: "switchboard_guard_repairs_total", dimensions: [("route", route)], factory: factory).increment()
    }

    func guardAction(route: String, _ action: GuardReport.Action) {
        Counter(label: "switchboard_guard_actions_total", dimensions: [("route", route), ("action", action.kind)],
                factory: factory).increment()
    }
}
