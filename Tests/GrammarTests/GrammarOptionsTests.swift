import ChatAPI
import XCTest
@testable import Grammar

/// `GrammarOptions.generation` bounds number spellings the schema leaves open (a model that
/// starts a digit run may never stop); `.faithful` accepts every spelling JSON allows.
final class GrammarOptionsTests: XCTestCase {
    private func accepts(_ schemaText: String, _ text: String, _ options: GrammarOptions) throws -> Bool {
        let g = try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: options).compile(schema: schema(schemaText))
        return runBytes(g, Array(text.utf8))
    }

    func testIntegersHaveNoFractionWhenGenerating() throws {
        XCTAssertTrue(try accepts(#"{"type":"integer"}"#, "2.0", .faithful))
        XCTAssertFalse(try accepts(#"{"type":"integer"}"#, "2.0", .generation))
        XCTAssertTrue(try accepts(#"{"type":"integer"}"#, "-42", .generation))
        XCTAssertFalse(try accepts(#"{"type":"integer","minimum":0,"maximum":9}"#, "3.0", .generation))
    }

    func testDigitRunsAreBoundedWhenGenerating() throws {
        let sixteen = String(repeating: "1", count: 16), seventeen = String(repeating: "1", count: 17)
        XCTAssertTrue(try accepts(#"{"type":"integer"}"#, sixteen, .generation))
        XCTAssertFalse(try accepts(#"{"type":"integer"}"#, seventeen, .generation))
        XCTAssertTrue(try accepts(#"{"type":"integer"}"#, seventeen, .faithful))
        let fraction15 = "0." + String(repeating: "5", count: 15), fraction16 = fraction15 + "5"
        XCTAssertTrue(try accepts(#"{"type":"number"}"#, fraction15, .generation))
        XCTAssertFalse(try accepts(#"{"type":"number"}"#, fraction16, .generation))
        XCTAssertTrue(try accepts(#"{"type":"number"}"#, fraction16, .faithful))
        XCTAssertTrue(try accepts(#"{"type":"number"}"#, "1e300", .generation))
        XCTAssertFalse(try accepts(#"{"type":"number"}"#, "1e3000", .generation))
    }

    /// Schema bounds still rule: a maximum with more digits than the cap is reachable.
    func testSchemaBoundsAreKept() throws {
        XCTAssertTrue(try accepts(#"{"type":"integer","minimum":0,"maximum":100000000000000000000}"#, "12", .generation))
        XCTAssertTrue(try accepts(#"{"type":"number","minimum":0,"maximum":10}"#, "9.25", .generation))
    }
}
