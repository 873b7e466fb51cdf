import ChatAPI
import Foundation
import JSONSchemaKit
import Synchronization

/// Runs compilations of request data (JSON Schemas, grammars) on threads of their own, each
/// under a fresh `WorkBudget`, never on Swift's cooperative pool.
///
/// Why: how long a compilation takes is up to the client. On the cooperative pool (one thread
/// per core, two here) two costly schemas would stall every other request, `/health` included.
/// Here they only share the CPU; the budget's deadline ends them, and cancelling the awaiting
/// task (the client left, the server is stopping) cancels the budget.
public final class CompileExecutor: Sendable {
    /// Wall-clock allowance of one compilation.
    public let timeLimit: Duration
    /// Compilations allowed at once; beyond it a request is refused with a 429, not queued.
    public let maxConcurrent: Int
    private let running = Mutex(0)

    /// Stack of a compile thread: recursion depth is bounded by `WorkBudget.maxDepth`, and this
    /// leaves room for the deepest frames of every compiler at that depth.
    private static let stackSize = 64 << 20

    public init(timeLimit: Duration = WorkBudget.defaultTime, maxConcurrent: Int = 8) {
        self.timeLimit = timeLimit
        self.maxConcurrent = maxConcurrent
    }

    /// Runs `work` on a dedicated thread with a budget of `timeLimit`, and returns its result.
    /// Throws what `work` throws, `CancellationError` if the task was cancelled, or a 429
    /// `APIError` when `maxConcurrent` compilations are already running.
    public func run<T: Sendable>(_ work: @escaping @Sendable (WorkBudget) throws -> T) async throws -> T {
        let admitted = running.withLock { count in
            guard count < maxConcurrent else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw APIError(status: 429, message: "The server is busy compiling \(maxConcurrent) other schemas. Please retry shortly.",
                           type: "rate_limit_error", code: "server_busy")
        }
        let budget = WorkBudget(time: timeLimit)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                let thread = Thread {
                    let result = Result { try work(budget) }
                    self.running.withLock { $0 -= 1 }
                    continuation.resume(with: result)
                }
                thread.name = "switchboard-compile"
                thread.stackSize = Self.stackSize
                thread.start()
            }
        } onCancel: {
            budget.cancel()
        }
    }
}
