import ChatAPI
import XCTest
@testable import Grammar

/// `oneOf` is enforced (compiled as `anyOf`) only where no two branches can match together,
/// and refused by name otherwise.
final class OneOfTests: XCTestCase {
    private func assertRefused(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try compile(schema(text)), file: file, line: line) { error in
            guard case .unsupportedKeyword("oneOf", _)? = error as? GrammarError else { return XCTFail("\(error)", file: file, line: line) }
        }
    }

    func testBranchesOfDifferentTypesAreEnforced() throws {
        let g = try compile(schema(#"{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}"#))
        XCTAssertTrue(run(g, #""a""#))
        XCTAssertTrue(run(g, "3"))
        XCTAssertTrue(run(g, "null"))
        XCTAssertFalse(run(g, "true"))
    }

    func testConstDiscriminatorsAreEnforced() throws {
        let g = try compile(schema(#"""
            {"oneOf":[
              {"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"number"}},"required":["kind","r"]},
              {"type":"object","properties":{"kind":{"enum":["square","rect"]},"side":{"type":"number"}},"required":["kind"]}
            ]}
            """#))
        XCTAssertTrue(run(g, #"{"kind":"circle","r":1}"#))
        XCTAssertTrue(run(g, #"{"kind":"square","side":2}"#))
        XCTAssertFalse(run(g, #"{"kind":"triangle"}"#))
    }

    func testDisjointRequiredKeysUnderClosedObjectsAreEnforced() throws {
        _ = try compile(schema(#"""
            {"oneOf":[
              {"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false},
              {"type":"object","properties":{"b":{"type":"string"}},"required":["b"],"additionalProperties":false}
            ]}
            """#))
    }

    func testDisjointEnumsAndRangesAreEnforced() throws {
        _ = try compile(schema(#"{"oneOf":[{"enum":["a","b"]},{"enum":["c",1]}]}"#))
        _ = try compile(schema(#"{"oneOf":[{"type":"integer","maximum":0},{"type":"integer","minimum":1}]}"#))
        _ = try compile(schema(#"{"oneOf":[{"type":"string","pattern":"^a"},{"type":"string","pattern":"^b"}]}"#))
        _ = try compile(schema(#"{"oneOf":[{"const":1},{"type":"string"}]}"#))
    }

    func testSiblingKeywordsCountTowardsDisjointness() throws {
        // The shared sibling `type: object` rules out the overlap on non-objects.
        _ = try compile(schema(#"""
            {"type":"object","required":["t"],
             "oneOf":[{"properties":{"t":{"const":1}}},{"properties":{"t":{"const":2}}}]}
            """#))
    }

    func testOverlappingBranchesAreRefusedByName() {
        assertRefused(#"{"oneOf":[{"type":"string"},{"type":"string","maxLength":3}]}"#)
        assertRefused(#"{"oneOf":[{"type":"number"},{"type":"integer"}]}"#)
        assertRefused(#"{"oneOf":[{"type":"integer","maximum":1},{"type":"integer","minimum":1}]}"#)
        assertRefused(#"{"oneOf":[{"enum":["a","b"]},{"enum":["b"]}]}"#)
        assertRefused(#"{"oneOf":[{"type":"object","required":["a"]},{"type":"object","required":["b"]}]}"#)
        // Discriminator present but optional in both branches: {} matches both.
        assertRefused(#"{"oneOf":[{"type":"object","properties":{"k":{"const":1}}},{"type":"object","properties":{"k":{"const":2}}}]}"#)
        assertRefused(#"{"oneOf":[{"type":"string","pattern":"a"},{"type":"string","pattern":"b"}]}"#)
        assertRefused(#"{"oneOf":[{},{"type":"null"}]}"#)
    }

    func testObjectsAsEqualValuesWhateverTheirKeyOrder() {
        assertRefused(#"{"oneOf":[{"const":{"a":1,"b":2}},{"const":{"b":2,"a":1}}]}"#)
    }

    func testRefBranchesAreResolvedBeforeTheProof() throws {
        _ = try compile(schema(#"""
            {"$defs":{"s":{"type":"string"},"n":{"type":"number"}},"oneOf":[{"$ref":"#/$defs/s"},{"$ref":"#/$defs/n"}]}
            """#))
        assertRefused(##"{"$defs":{"s":{"type":"string"}},"oneOf":[{"$ref":"#/$defs/s"},{"$ref":"#/$defs/s"}]}"##)
    }
}
