import Synchronization

/// Calls actions at their deadlines, for every request in the process at once.
///
/// A timer task per request (a task group racing `Task.sleep`) cost more CPU than the rest of the
/// routing; here a request's deadline is an entry in a table, and one sleeping task, alive while
/// any entry is pending, wakes at the earliest of them. Routes share a timeout, so later requests
/// have later deadlines and scheduling rarely has to wake the sleeper early.
final class DeadlineWatchdog: Sendable {
    static let shared = DeadlineWatchdog()

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let action: @Sendable () -> Void
    }

    private struct State {
        var nextID = 0
        var pending: [Int: Entry] = [:]
        /// When the sleeping task wakes; nil when none sleeps.
        var wake: ContinuousClock.Instant?
        /// Tells the current sleeper from one that was replaced by an earlier wake-up.
        var generation = 0
        var sleeper: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Calls `action` once `deadline` passes, unless `cancel` comes first. Returns the entry's id.
    func schedule(_ deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> Int {
        state.withLock { s in
            s.nextID += 1
            s.pending[s.nextID] = Entry(deadline: deadline, action: action)
            if s.wake.map({ deadline < $0 }) ?? true {
                s.sleeper?.cancel()
                arm(&s, until: deadline)
            }
            return s.nextID
        }
    }

    /// Drops the entry. Returns false when its action has already been called (or is being called).
    @discardableResult
    func cancel(_ id: Int) -> Bool {
        state.withLock { $0.pending.removeValue(forKey: id) != nil }
    }

    private func arm(_ s: inout State, until wake: ContinuousClock.Instant) {
        s.generation += 1
        let generation = s.generation
        s.wake = wake
        s.sleeper = Task.detached { [self] in
            // Cancelled only when replaced, and then the replacement does the work.
            guard (try? await Task.sleep(until: wake, clock: .continuous)) != nil else { return }
            fireExpired(generation)
        }
    }

    /// Calls the actions whose deadline passed, then sleeps until the next one (if any).
    private func fireExpired(_ generation: Int) {
        let now = ContinuousClock.now
        let due = state.withLock { s -> [@Sendable () -> Void] in
            guard s.generation == generation else { return [] }
            var due: [@Sendable () -> Void] = []
            var next: ContinuousClock.Instant?
            for (id, entry) in s.pending {
                if entry.deadline <= now {
                    due.append(entry.action)
                    s.pending.removeValue(forKey: id)
                } else if next.map({ entry.deadline < $0 }) ?? true {
                    next = entry.deadline
                }
            }
            if let next {
                arm(&s, until: next)
            } else {
                s.wake = nil
                s.sleeper = nil
            }
            return due
        }
        for action in due { action() }
    }
}
