import ChatAPI
import Foundation
import JSONSchemaKit
import XCTest
@testable import Gateway

/// Compilations of request data run beside the cooperative pool, end with their budget, and
/// stop when the waiting task is cancelled.
final class CompileExecutorTests: XCTestCase {
    /// Work that never finishes by itself: only its budget ends it.
    static let spinUntilStopped: @Sendable (WorkBudget) throws -> Int = { budget in
        while true { try budget.spend() }
    }

    /// A task waiting on an endless compilation.
    static func startSpinning(on executor: CompileExecutor) -> Task<Int, Error> {
        Task.detached { try await executor.run(spinUntilStopped) }
    }

    func testCostlyCompilationsLeaveTheCooperativePoolFree() async throws {
        let executor = CompileExecutor(timeLimit: .seconds(3), maxConcurrent: 8)
        let hostile = (0..<4).map { _ in Self.startSpinning(on: executor) }
        try await Task.sleep(for: .milliseconds(100))
        // With the four spinning on the pool's two threads, nothing else would run for 3 s.
        let start = ContinuousClock.now
        let answers = await withTaskGroup(of: Int.self) { group in
            for i in 0..<50 { group.addTask { i } }
            return await group.reduce(0, +)
        }
        let waited = ContinuousClock.now - start
        XCTAssertEqual(answers, (0..<50).reduce(0, +))
        XCTAssertLessThan(waited, .seconds(1), "ordinary tasks waited \(waited) behind compilations")
        for task in hostile {
            do {
                _ = try await task.value
                XCTFail("an endless compilation returned")
            } catch let error as WorkBudgetExceeded {
                XCTAssertEqual(error.reason, .time)
            }
        }
    }

    func testCancellingTheWaiterStopsTheCompilation() async throws {
        let executor = CompileExecutor(timeLimit: .seconds(60))
        let task = Self.startSpinning(on: executor)
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("a cancelled compilation returned")
        } catch let error as WorkBudgetExceeded {
            XCTAssertEqual(error.reason, .cancelled)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
    }

    func testCompilationsBeyondTheLimitAreRefusedNotQueued() async throws {
        let executor = CompileExecutor(timeLimit: .seconds(2), maxConcurrent: 1)
        let first = Self.startSpinning(on: executor)
        try await Task.sleep(for: .milliseconds(100))
        do {
            _ = try await executor.run { _ in 1 }
            XCTFail("a second compilation was admitted beyond maxConcurrent")
        } catch let error as APIError {
            XCTAssertEqual(error.status, 429)
        }
        first.cancel()
        _ = try? await first.value
        let after = try await executor.run { _ in 7 }
        XCTAssertEqual(after, 7, "the slot is free again once the first compilation ended")
    }

    func testDeepRecursionFitsTheCompileThreadStack() async throws {
        // A recursion as deep as any budget allows must not overflow a compile thread's stack.
        let executor = CompileExecutor(timeLimit: .seconds(10))
        @Sendable func recurse(_ n: Int, _ budget: WorkBudget) throws -> Int {
            try budget.checkDepth(n, "test")
            var padding = (0, 0, 0, 0, 0, 0, 0, 0)
            padding.0 = n
            return n == 0 ? padding.0 : try recurse(n - 1, budget) + 1
        }
        let depth = try await executor.run { budget in try recurse(min(budget.maxDepth, 200), budget) }
        XCTAssertEqual(depth, 200)
    }
}
