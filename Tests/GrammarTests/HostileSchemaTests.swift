import ChatAPI
import Foundation
import JSONSchemaKit
import XCTest
@testable import Grammar

/// Schemas built to make compilation exponential: each must either compile (memoized merging
/// keeps it linear) or stop with a named error, well within its budget. The 5 s bound is a
/// guard against hangs (the budget is 2 s), not a speed test.
final class HostileSchemaTests: XCTestCase {
    /// Compiles `s` under a 2 s budget; returns the error, nil when it compiled.
    private func compileGuarded(_ s: JSONValue, file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let started = ContinuousClock.now
        var failure: Error?
        do { _ = try GrammarCompiler(vocabulary: SyntheticVocab.shared).compile(schema: s, budget: WorkBudget(time: .seconds(2))) }
        catch { failure = error }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "compilation did not stop in time", file: file, line: line)
        if let failure {
            XCTAssertTrue(failure is WorkBudgetExceeded || failure is GrammarError, "unexpected error \(failure)", file: file, line: line)
        }
        return failure
    }

    /// `$defs` a0…a(n-1), each built by `body(next)` from the reference to the next one.
    private func chain(_ n: Int, root: JSONValue = ["$ref": "#/$defs/a0"], last: JSONValue = ["type": "string"],
                       _ body: (JSONValue) -> JSONValue) -> JSONValue {
        var defs = JSONObject()
        for i in 0..<n {
            defs["a\(i)"] = i == n - 1 ? last : body(.object(["$ref": .string("#/$defs/a\(i + 1)")]))
        }
        return .object(["$defs": .object(defs), "allOf": .array([root])])
    }

    func testAllOfChainNamingTheNextSchemaTwiceCompilesInLinearTime() throws {
        let s = chain(41) { next in ["allOf": .array([next, next])] }
        XCTAssertNil(compileGuarded(s))
        let g = try compile(s)
        XCTAssertTrue(run(g, #""abc""#))
        XCTAssertFalse(run(g, "1"))
    }

    func testAllOfChainWithDifferentSiblingsCompiles() throws {
        // Each level adds its own keyword next to two references to the next: merged results
        // differ per level, so only memoized merging of each pair keeps it linear.
        let s = chain(40, last: ["type": "object"]) { next in
            ["allOf": .array([next, ["allOf": .array([next])], ["properties": ["p": ["type": "integer"]]]])]
        }
        XCTAssertNil(compileGuarded(s))
    }

    func testRefChainDuplicatedInPropertiesCompiles() {
        let s = chain(40) { next in ["type": "object", "properties": ["x": next, "y": next], "required": ["x"]] }
        XCTAssertNil(compileGuarded(s))
    }

    func testNotOverAnyOfChainStopsOrCompiles() {
        let s = chain(40, root: ["not": ["$ref": "#/$defs/a0"]], last: ["type": "string"]) { next in
            ["anyOf": .array([next, next])]
        }
        _ = compileGuarded(s)
    }

    func testNotOverAllOfAndAnyOfChainStopsOrCompiles() {
        let s = chain(40, root: ["not": ["$ref": "#/$defs/a0"]], last: ["required": ["k"]]) { next in
            ["anyOf": .array([["allOf": .array([next, next])], next])]
        }
        _ = compileGuarded(s)
    }

    func testAnyOfCrossProductsUnderAllOfStop() {
        // allOf of anyOfs multiplies branches at every level.
        let s = chain(30) { next in
            ["allOf": .array([["anyOf": .array([next, ["minLength": 1]])], ["anyOf": .array([next, ["maxLength": 9]])]])]
        }
        _ = compileGuarded(s)
    }

    func testDeepNestingIsRefusedByName() {
        var s: JSONValue = ["type": "string"]
        for _ in 0..<400 { s = ["type": "array", "items": s] }
        XCTAssertNotNil(compileGuarded(s))
        var n: JSONValue = ["type": "string"]
        for _ in 0..<400 { n = ["not": n] }
        _ = compileGuarded(n)
    }

    func testSelfIncludingAllOfIsRefused() {
        let s: JSONValue = ["$defs": ["a": ["allOf": [["$ref": "#/$defs/a"], ["type": "string"]]]], "$ref": "#/$defs/a", "minLength": 1]
        XCTAssertNotNil(compileGuarded(s))
    }

    func testRecursiveNegationThroughPropertiesIsRefused() {
        let s: JSONValue = ["$defs": ["t": ["type": "object", "properties": ["c": ["$ref": "#/$defs/t"]]]],
                            "not": ["$ref": "#/$defs/t"]]
        XCTAssertNotNil(compileGuarded(s))
    }

    func testStepBudgetStopsALargeEnum() {
        let s: JSONValue = ["enum": .array((0..<20_000).map { .string("v\($0)") })]
        XCTAssertThrowsError(try GrammarCompiler(vocabulary: SyntheticVocab.shared).compile(schema: s, budget: WorkBudget(maxSteps: 1_000))) { error in
            XCTAssertTrue(error is WorkBudgetExceeded, "\(error)")
        }
    }
}
