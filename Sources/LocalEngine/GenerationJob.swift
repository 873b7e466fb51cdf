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

    init(request: GenerationRequest, promptTokens: [Int32],
         continuation: AsyncThrowingStream<ChatEvent, Error>.Continuation) {
        self.request = request
        self.promptTokens = promptTokens
        self.continuation = continuation
    }

    var isCancelled: Bool { lock.withLock { cancelled } }
    func cancel() { lock.withLock { cancelled = true } }
}
