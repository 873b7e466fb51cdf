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
    func cancellingOnClose<T: Sendable>(_ channel: any Channel, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let signal = signals.withLock({ $0[ObjectIdentifier(channel)] }) else {
            // Unregistered (or already closed and removed): nothing can be watched.
            if !channel.isActive { throw CancellationError() }
            return try await work()
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                await signal.wait()
                return nil
            }
            while let result = try await group.next() {
                if let value = result {
                    group.cancelAll()  // stops the watcher
                    return value
                }
                group.cancelAll()  // the connection closed: stop the work
            }
            throw CancellationError()
        }
    }
}

/// Fires once; any number of waiters, each of which may also leave by being cancelled.
final class CloseSignal: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    func fire() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.fired = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when fired, or when the waiting task is cancelled.
    func wait() async {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { s -> Bool in
                    if s.fired || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
