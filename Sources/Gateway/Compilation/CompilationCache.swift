import JSONSchemaKit
import Synchronization

/// A bounded map from a compilation's input (serialized) to its outcome, success or failure.
///
/// Failures are kept like successes so that a client resending a schema that was refused, or
/// that ran out of budget, is answered at once instead of costing another full compilation.
/// Cancelled compilations decided nothing and are never stored (see `store`).
package final class CompilationCache<Value: Sendable>: Sendable {
    private struct State {
        var entries: [String: Result<Value, any Error>] = [:]
        /// Insertion order, for evicting the oldest entry first.
        var order: [String] = []
    }
    private let state = Mutex(State())
    let capacity: Int

    package init(capacity: Int) { self.capacity = capacity }

    /// The outcome stored for `key`, if any.
    package func outcome(_ key: String) -> Result<Value, any Error>? {
        state.withLock { $0.entries[key] }
    }

    /// Stores `outcome` under `key`, evicting the oldest entry beyond `capacity`. A cancellation
    /// is not an outcome of the input and is not stored.
    package func store(_ key: String, _ outcome: Result<Value, any Error>) {
        if case .failure(let error) = outcome, Self.isCancellation(error) { return }
        state.withLock { s in
            if s.entries.updateValue(outcome, forKey: key) == nil { s.order.append(key) }
            while s.order.count > capacity {
                s.entries.removeValue(forKey: s.order.removeFirst())
            }
        }
    }

    /// The stored outcome for `key`, or `compute()`'s, stored for next time.
    package func value(_ key: String, compute: () throws -> Value) throws -> Value {
        if let known = outcome(key) { return try known.get() }
        let outcome = Result { try compute() }
        store(key, outcome)
        return try outcome.get()
    }

    private static func isCancellation(_ error: any Error) -> Bool {
        if error is CancellationError { return true }
        if let budget = error as? WorkBudgetExceeded, budget.reason == .cancelled { return true }
        return false
    }
}
