import JSONSchemaKit
import XCTest
@testable import Gateway

final class CompilationCacheTests: XCTestCase {
    struct Refused: Error {}

    func testFailuresAreRememberedLikeSuccesses() throws {
        let cache = CompilationCache<Int>(capacity: 4)
        var calls = 0
        for _ in 0..<3 {
            XCTAssertThrowsError(try cache.value("bad") { calls += 1; throw Refused() })
            XCTAssertEqual(try cache.value("good") { calls += 1; return 5 }, 5)
        }
        XCTAssertEqual(calls, 2, "each input is compiled once, refused or not")
    }

    func testCancelledCompilationsAreNotRemembered() throws {
        let cache = CompilationCache<Int>(capacity: 4)
        XCTAssertThrowsError(try cache.value("k") { throw WorkBudgetExceeded(reason: .cancelled, detail: "cancelled") })
        XCTAssertThrowsError(try cache.value("k") { throw CancellationError() })
        XCTAssertEqual(try cache.value("k") { 9 }, 9, "a cancellation decides nothing about the input")
        XCTAssertThrowsError(try cache.value("slow") { throw WorkBudgetExceeded(reason: .time, detail: "late") })
        XCTAssertThrowsError(try cache.value("slow") { 1 }, "running out of time is an outcome and is kept")
    }

    func testOldestEntriesGoFirstBeyondCapacity() throws {
        let cache = CompilationCache<Int>(capacity: 2)
        _ = try cache.value("a") { 1 }
        _ = try cache.value("b") { 2 }
        _ = try cache.value("c") { 3 }
        XCTAssertNil(cache.outcome("a"))
        XCTAssertEqual(try cache.outcome("b")?.get(), 2)
        XCTAssertEqual(try cache.outcome("c")?.get(), 3)
    }
}
