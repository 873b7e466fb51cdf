import ChatAPI
import XCTest
@testable import Grammar

/// `enum`/`const` values are admitted only when they satisfy the keywords beside them.
final class EnumValueTests: XCTestCase {
    func testObjectValuesAreCheckedAgainstSiblingKeywords() throws {
        let g = try compile(schema(#"{"type":"object","properties":{"a":{"type":"integer"}},"enum":[{"a":1},{"a":"x"}]}"#))
        XCTAssertTrue(run(g, #"{"a":1}"#))
        XCTAssertFalse(run(g, #"{"a":"x"}"#))
    }

    func testStringAndNumberValuesAreCheckedAgainstSiblingKeywords() throws {
        let g = try compile(schema(#"{"enum":["ab","abcdef",3,30],"maxLength":3,"maximum":10}"#))
        XCTAssertTrue(run(g, #""ab""#))
        XCTAssertFalse(run(g, #""abcdef""#))
        XCTAssertTrue(run(g, "3"))
        XCTAssertFalse(run(g, "30"))
    }

    func testArrayValuesAreCheckedForUniqueness() throws {
        let g = try compile(schema(#"{"uniqueItems":true,"enum":[[1,2],[1,1]]}"#))
        XCTAssertTrue(run(g, "[1,2]"))
        XCTAssertFalse(run(g, "[1,1]"))
    }

    func testDraft4IntegersAreLiterals() throws {
        let g = try compile(schema(#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"integer"}"#))
        XCTAssertTrue(run(g, "12"))
        XCTAssertFalse(run(g, "12.0"))
        let later = try compile(schema(#"{"type":"integer"}"#))
        XCTAssertTrue(run(later, "12.0"))
    }
}
