import ChatAPI

/// The error of a request that ran past its route's deadline: a 504, counted against the
/// upstream, and not retried (the time is gone).
func deadlineExceeded() -> UpstreamError {
    UpstreamError(APIError(status: 504, message: "The upstream did not answer within this route's deadline.",
                           type: "upstream_error", code: "upstream_timeout"), retryable: false)
}

/// Runs `operation`, or throws `deadlineExceeded()` (cancelling it) once `deadline` passes.
func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant?,
                               _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    guard let deadline else { return try await operation() }
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(until: deadline)
            throw deadlineExceeded()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// `events` ending with `deadlineExceeded()` once `deadline` passes; the source is then
/// dropped, which cancels its work (the upstream request).
func deadlined(_ events: AsyncThrowingStream<ChatEvent, Error>, _ deadline: ContinuousClock.Instant) -> AsyncThrowingStream<ChatEvent, Error> {
    AsyncThrowingStream { continuation in
        let pump = Task {
            do {
                for try await event in events { continuation.yield(event) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let timer = Task {
            try await Task.sleep(until: deadline)
            continuation.finish(throwing: deadlineExceeded())
            pump.cancel()
        }
        continuation.onTermination = { _ in
            pump.cancel()
            timer.cancel()
        }
    }
}

/// An event stream's iterator that can be handed from the task that opened the stream to the
/// task that forwards it. Used by one task at a time.
final class EventIterator: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<ChatEvent, Error>.AsyncIterator

    init(_ events: AsyncThrowingStream<ChatEvent, Error>) { iterator = events.makeAsyncIterator() }

    func next() async throws -> ChatEvent? { try await iterator.next() }
}
