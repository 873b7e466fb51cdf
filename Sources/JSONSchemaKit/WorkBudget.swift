import Synchronization

/// The work one compilation of untrusted input (a schema, a regex, a grammar) may do: a number
/// of steps, a wall-clock deadline, and a cancel switch another thread can flip (the client left,
/// the server is shutting down).
///
/// Compilers call `spend(_:)` in every loop and recursion whose size the input decides; it
/// throws `WorkBudgetExceeded` once any limit is passed. One budget covers one request's whole
/// compilation, so the validator and the grammar compiler draw from the same pool.
///
/// Not for concurrent `spend`: one compilation runs on one thread. `cancel()` may come from any.
public final class WorkBudget: @unchecked Sendable {
    /// Default wall-clock allowance for compiling one request's schemas and grammar.
    public static let defaultTime: Duration = .seconds(2)
    /// Default step allowance: far above any real schema (MaskBench's largest compile takes a few
    /// million), far below what an exponential blow-up reaches.
    public static let defaultSteps = 200_000_000

    /// Largest nesting any recursive parser or compiler may reach on input under this budget.
    public let maxDepth: Int
    private let maxSteps: Int
    private let deadline: ContinuousClock.Instant?
    private let cancelled = Atomic<Bool>(false)
    // Only the compiling thread touches these.
    private var steps = 0
    private var nextClockCheck = 0

    /// - Parameters:
    ///   - time: wall-clock allowance from now; nil for none (tests, benchmarks).
    ///   - maxSteps: allowance in units of work.
    ///   - maxDepth: deepest recursion allowed.
    public init(time: Duration? = WorkBudget.defaultTime, maxSteps: Int = WorkBudget.defaultSteps, maxDepth: Int = 256) {
        self.deadline = time.map { ContinuousClock.now.advanced(by: $0) }
        self.maxSteps = maxSteps
        self.maxDepth = maxDepth
    }

    /// A budget with no deadline and the default step and depth limits, for offline tools.
    public static func offline() -> WorkBudget { WorkBudget(time: nil) }

    /// Stops the compilation at its next `spend`.
    public func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Counts `units` of work; throws once the budget is spent, the deadline passed, or the work
    /// was cancelled. Reads the clock only every few thousand units.
    @inline(__always)
    public func spend(_ units: Int = 1) throws(WorkBudgetExceeded) {
        steps &+= units
        if steps >= nextClockCheck { try check() }
    }

    /// Throws when `depth` is beyond `maxDepth`; `what` names the nesting (e.g. "regex groups").
    @inline(__always)
    public func checkDepth(_ depth: Int, _ what: @autoclosure () -> String) throws(WorkBudgetExceeded) {
        if depth > maxDepth { throw WorkBudgetExceeded(reason: .depth, detail: "\(what()) nested deeper than \(maxDepth)") }
    }

    private func check() throws(WorkBudgetExceeded) {
        nextClockCheck = steps &+ 4096
        if cancelled.load(ordering: .relaxed) { throw WorkBudgetExceeded(reason: .cancelled, detail: "cancelled") }
        if steps > maxSteps { throw WorkBudgetExceeded(reason: .steps, detail: "more than \(maxSteps) steps") }
        if let deadline, ContinuousClock.now > deadline {
            throw WorkBudgetExceeded(reason: .time, detail: "over the time budget")
        }
    }
}

/// A compilation stopped by its `WorkBudget`.
public struct WorkBudgetExceeded: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable { case steps, time, depth, cancelled }
    public let reason: Reason
    /// What ran out, in words.
    public let detail: String

    public init(reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "schema too complex: \(detail)" }
}
