import Synchronization

/// The backends serving one route, with least-in-flight choice and ejection of failing ones.
///
/// A fleet of llama-server, vLLM or Switchboard machines behind one model id: each request goes
/// to the backend with the fewest requests in flight among those not ejected. A backend whose
/// attempts fail `ejectAfter` times in a row (connect errors, 5xx, timeouts) sits out
/// `ejectionTime`, doubled for each further ejection up to `maxEjectionTime`; after that one
/// request tries it again, and a success brings it back. When every backend is ejected the one
/// due back first is used anyway: a route never refuses for health alone.
public final class UpstreamPool: Sendable {
    public let backends: [any ChatBackend]
    /// The backends' labels, for metrics.
    let labels: [String]
    public let ejectAfter: Int
    public let ejectionTime: Duration
    public let maxEjectionTime: Duration
    private let state: Mutex<[Health]>
    /// Where ties start: rotates so equally loaded backends take turns.
    private let rotation = Atomic<Int>(0)

    struct Health {
        var inFlight = 0
        var consecutiveFailures = 0
        var ejections = 0
        var ejectedUntil: ContinuousClock.Instant?
    }

    public init(_ backends: [any ChatBackend], ejectAfter: Int = 3, ejectionTime: Duration = .seconds(10),
                maxEjectionTime: Duration = .seconds(300)) {
        precondition(!backends.isEmpty, "a pool needs at least one backend")
        self.backends = backends
        self.labels = backends.map(\.label)
        self.ejectAfter = ejectAfter
        self.ejectionTime = ejectionTime
        self.maxEjectionTime = maxEjectionTime
        self.state = Mutex(Array(repeating: Health(), count: backends.count))
    }

    /// What this route's backends honour: the first backend's (a pool serves one model).
    public var capabilities: BackendCapabilities { backends[0].capabilities }

    /// Picks a backend and counts the request in flight on it; pair with `release`.
    func acquire() -> Int {
        let now = ContinuousClock.now
        let start = rotation.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        return state.withLock { health in
            let count = health.count
            let order = (0..<count).map { (start + $0) % count }
            let healthy = order.filter { health[$0].ejectedUntil.map { $0 <= now } ?? true }
            let candidates = healthy.isEmpty
                ? [order.min { (health[$0].ejectedUntil ?? now) < (health[$1].ejectedUntil ?? now) }!]
                : healthy
            let chosen = candidates.min { health[$0].inFlight < health[$1].inFlight }!
            health[chosen].inFlight += 1
            return chosen
        }
    }

    /// Ends a request on backend `index`; `failed` counts toward its ejection.
    func release(_ index: Int, failed: Bool) {
        state.withLock { health in
            health[index].inFlight -= 1
            guard failed else {
                health[index].consecutiveFailures = 0
                health[index].ejections = 0
                health[index].ejectedUntil = nil
                return
            }
            health[index].consecutiveFailures += 1
            if health[index].consecutiveFailures >= ejectAfter {
                let time = min(maxEjectionTime, ejectionTime * (1 << min(health[index].ejections, 20)))
                health[index].ejectedUntil = ContinuousClock.now + time
                health[index].ejections += 1
                health[index].consecutiveFailures = 0
            }
        }
    }

    /// Probes every backend: one that fails is ejected now (without waiting for requests to
    /// fail on it), one that answers is admitted again at once.
    func checkHealth() async {
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for (i, backend) in backends.enumerated() { group.addTask { (i, await backend.checkHealth()) } }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        let now = ContinuousClock.now
        state.withLock { health in
            for (i, healthy) in results {
                if healthy {
                    health[i].ejectedUntil = nil
                    health[i].ejections = 0
                } else if health[i].ejectedUntil.map({ $0 <= now }) ?? true {
                    health[i].ejectedUntil = now + min(maxEjectionTime, ejectionTime * (1 << min(health[i].ejections, 20)))
                    health[i].ejections += 1
                }
            }
        }
    }

    /// Requests in flight per backend, and whether each is ejected now.
    public var snapshot: [(inFlight: Int, ejected: Bool)] {
        let now = ContinuousClock.now
        return state.withLock { $0.map { ($0.inFlight, $0.ejectedUntil.map { $0 > now } ?? false) } }
    }
}
