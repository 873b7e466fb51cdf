import ChatAPI
import JSONSchemaKit
import XCTest
@testable import Grammar

/// `oneOf` is enforced exactly: as `anyOf` where no two branches can match together, with
/// overlapping branches narrowed by exact negations, and refused by name otherwise.
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

    /// Overlapping branches are narrowed to "this one and not the others" where that negation
    /// is exact; the grammar then admits exactly the instances matching one branch.
    func testOverlappingBranchesAreNarrowedExactly() throws {
        try assertExact(#"{"oneOf":[{"type":"string"},{"type":"string","maxLength":3}]}"#,
                        [#""ab""#, #""abcd""#, "1"])
        try assertExact(#"{"oneOf":[{"type":"number"},{"type":"integer"}]}"#, ["1", "1.5", "-2", "2.0", #""a""#])
        try assertExact(#"{"oneOf":[{"type":"integer","maximum":1},{"type":"integer","minimum":1}]}"#, ["0", "1", "2"])
        try assertExact(#"{"oneOf":[{"enum":["a","b"]},{"enum":["b"]}]}"#, [#""a""#, #""b""#, #""c""#])
        try assertExact(#"{"oneOf":[{"type":"object","required":["a"]},{"type":"object","required":["b"]}]}"#,
                        [#"{"a":1}"#, #"{"b":1}"#, #"{"a":1,"b":2}"#, "{}"])
        // Discriminator present but optional in both branches: {} matches both.
        try assertExact(#"{"oneOf":[{"type":"object","properties":{"k":{"const":1}}},{"type":"object","properties":{"k":{"const":2}}}]}"#,
                        ["{}", #"{"k":1}"#, #"{"k":2}"#, #"{"k":3}"#])
        try assertExact(#"{"oneOf":[{"type":"string","pattern":"a"},{"type":"string","pattern":"b"}]}"#,
                        [#""a""#, #""b""#, #""ab""#, #""c""#])
        try assertExact(#"{"oneOf":[{},{"type":"null"}]}"#, ["null", "1", #""x""#])
        try assertExact(#"{"oneOf":[{"const":{"a":1,"b":2}},{"const":{"b":2,"a":1}}]}"#, [#"{"a":1,"b":2}"#, "{}"])
    }

    func testBranchesWhoseOverlapCannotBeNegatedAreRefusedByName() {
        assertRefused(#"{"oneOf":[{"type":"array","items":{"type":"string"}},{"type":"array","maxItems":1}]}"#)
    }

    /// Compiles `text` and checks that the grammar accepts each instance exactly when the
    /// validator does; a refusal must name `oneOf` or `not`, never widen.
    private func assertExact(_ text: String, _ instances: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let s = schema(text, file: file, line: line)
        let validator = try JSONSchema(json: s)
        let g: CompiledGrammar
        do { g = try compile(s) } catch {
            switch error as? GrammarError {
            case .unsupportedKeyword("oneOf", _)?, .unsupportedKeyword("not", _)?: return
            case .unsatisfiable?:
                for instance in instances {
                    XCTAssertFalse(validator.isValid(try JSONParser.parse(Array(instance.utf8))), "\(text) on \(instance)", file: file, line: line)
                }
                return
            default: return XCTFail("\(text): \(error)", file: file, line: line)
            }
        }
        for instance in instances {
            let expected = validator.isValid(try JSONParser.parse(Array(instance.utf8)))
            XCTAssertEqual(run(g, instance, file: file, line: line), expected, "\(text) on \(instance)", file: file, line: line)
        }
    }

    func testRefBranchesAreResolvedBeforeTheProof() throws {
        _ = try compile(schema(#"""
            {"$defs":{"s":{"type":"string"},"n":{"type":"number"}},"oneOf":[{"$ref":"#/$defs/s"},{"$ref":"#/$defs/n"}]}
            """#))
        try assertExact(##"{"$defs":{"s":{"type":"string"}},"oneOf":[{"$ref":"#/$defs/s"},{"$ref":"#/$defs/s"}]}"##, [#""a""#, "1"])
    }
}
