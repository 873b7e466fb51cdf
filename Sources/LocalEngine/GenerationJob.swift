import ChatAPI
import Foundation

/// A request accepted by the engine: its tokenized prompt, the stream to feed, and a
/// cancellation flag set when the consumer goes away.
final class GenerationJob: @unchecked Sendable {
    let request: GenerationRequest
    let promptTokens: [Int32]
    let continuation: AsyncThrowingStream<ChatEvent, Error>.Continuation
    private let lock = NSLock()
    private var cancelled = false
    private var cancellationError: Error?

    init(request: GenerationRequest, promptTokens: [Int32],
         continuation: AsyncThrowingStream<ChatEvent, Error>.Continuation) {
        self.request = request
        self.promptTokens = promptTokens
        self.continuation = continuation
    }

    var isCancelled: Bool { lock.withLock { cancelled } }

    /// Marks the job cancelled; with an error, the consumer is told why (engine shutdown),
    /// without one the consumer is assumed gone.
    func cancel(because error: Error? = nil) {
        lock.withLock {
            cancelled = true
            if cancellationError == nil { cancellationError = error }
        }
    }

    /// Ends a cancelled job's stream: quietly, or with the cancellation error.
    func finishCancelled() {
        if let error = lock.withLock({ cancellationError }) {
            continuation.finish(throwing: error)
        } else {
            continuation.finish()
        }
    }
}
