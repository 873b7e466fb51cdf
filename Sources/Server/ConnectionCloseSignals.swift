import NIOCore
import Synchronization

/// Tells a request's handler when its connection closes, so generation for a client that is gone
/// stops at once (a full close, a reset, a failed write or shutdown all close the channel).
///
/// One entry per open connection, registered when the connection is set up and removed when it
/// closes. Requests wait on their connection's entry; a request that ends stops waiting, so a
/// long-lived keep-alive connection accumulates nothing.
final class ConnectionCloseSignals: Sendable {
    private let signals = Mutex<[ObjectIdentifier: CloseSignal]>([:])

    /// Starts watching `channel`; call once, when the connection is set up.
    func register(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let signal = CloseSignal()
        signals.withLock { $0[key] = signal }
        channel.closeFuture.whenComplete { _ in
            self.signals.withLock { _ = $0.removeValue(forKey: key) }
            signal.fire()
        }
    }

    /// Runs `work`; if `channel` closes first, cancels it and waits for it to end.
    ///
    /// The work runs in a task of its own that the close signal cancels directly: no watcher
    /// task waits beside it.
    func cancellingOnClose<T: Sendable>(_ channel: any Channel, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let signal = signals.withLock({ $0[ObjectIdentifier(channel)] }) else {
            // Unregistered (or already closed and removed): nothing can be watched.
            if !channel.isActive { throw CancellationError() }
            return try await work()
        }
        let task = Task { try await work() }
        guard let watch = signal.onFire({ task.cancel() }) else {
            task.cancel()
            _ = await task.result
            throw CancellationError()
        }
        let result = await withTaskCancellationHandler { await task.result } onCancel: { task.cancel() }
        // Gone: the connection closed, so the work was cancelled and its answer has no reader.
        guard signal.remove(watch) else { throw CancellationError() }
        return try result.get()
    }
}

/// Fires once, calling every action registered before; an action can be removed until then.
final class CloseSignal: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var actions: [Int: @Sendable () -> Void] = [:]
    }
    private let state = Mutex(State())

    func fire() {
        let actions = state.withLock { s -> [@Sendable () -> Void] in
            s.fired = true
            defer { s.actions = [:] }
            return Array(s.actions.values)
        }
        for action in actions { action() }
    }

    /// Registers `action` for when the signal fires; nil (and no registration) if it already has.
    func onFire(_ action: @escaping @Sendable () -> Void) -> Int? {
        state.withLock { s in
            guard !s.fired else { return nil }
            s.nextID += 1
            s.actions[s.nextID] = action
            return s.nextID
        }
    }

    /// Removes a registered action. Returns false when the signal fired first.
    func remove(_ id: Int) -> Bool {
        state.withLock { $0.actions.removeValue(forKey: id) != nil }
    }
}
