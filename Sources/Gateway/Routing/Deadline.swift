import ChatAPI

/// The error of a request that ran past its route's deadline: a 504, counted against the
/// upstream, and not retried (the time is gone).
func deadlineExceeded() -> UpstreamError {
    UpstreamError(APIError(status: 504, message: "The upstream did not answer within this route's deadline.",
                           type: "upstream_error", code: "upstream_timeout"), retryable: false)
}

/// Runs `operation` in a task of its own, which is cancelled once `deadline` passes; the
/// call then throws `deadlineExceeded()` (after the operation has ended).
func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant?,
                               _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    guard let deadline else { return try await operation() }
    let task = Task { try await operation() }
    let watch = DeadlineWatchdog.shared.schedule(deadline) { task.cancel() }
    let result = await withTaskCancellationHandler { await task.result } onCancel: { task.cancel() }
    guard DeadlineWatchdog.shared.cancel(watch) else { throw deadlineExceeded() }
    return try result.get()
}

/// An event stream's iterator that can be handed from the task that opened the stream to the
/// task that forwards it. Used by one task at a time.
final class EventIterator: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<ChatEvent, Error>.AsyncIterator

    init(_ events: AsyncThrowingStream<ChatEvent, Error>) { iterator = events.makeAsyncIterator() }

    func next() async throws -> ChatEvent? { try await iterator.next() }
}
