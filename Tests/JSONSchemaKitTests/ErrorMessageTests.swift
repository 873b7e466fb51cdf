import ChatAPI
import JSONSchemaKit
import XCTest

final class ErrorMessageTests: XCTestCase {
    func testEnumErrorNamesPathAndKeyword() {
        let s = schema(#"{"type":"object","properties":{"unit":{"enum":["celsius","fahrenheit"]}}}"#)
        let errors = s.validate(json(#"{"unit":"kelvin"}"#))
        XCTAssertEqual(errors.map(\.description), [#"/unit: "kelvin" is not one of ["celsius","fahrenheit"] (enum)"#])
        XCTAssertEqual(errors.first?.schemaPath, "/properties/unit/enum")
    }

    func testErrorsAreCollectedWithPaths() {
        let s = schema(#"{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer","minimum":0}},"required":["n"]}}},"required":["items","name"],"additionalProperties":false}"#)
        let errors = s.validate(json(#"{"items":[{"n":-1},{},{"n":"x"}],"extra":1}"#))
        let described = Set(errors.map(\.description))
        XCTAssertEqual(described, [
            #"/: missing required property "name" (required)"#,
            "/items/0/n: -1 is less than the minimum 0 (minimum)",
            #"/items/1: missing required property "n" (required)"#,
            #"/items/2/n: expected integer, got string "x" (type)"#,
            #"/: additional property "extra" is not allowed (additionalProperties)"#,
        ])
    }

    func testPointerEscapingInInstancePath() {
        let s = schema(#"{"additionalProperties":{"type":"string"}}"#)
        XCTAssertEqual(s.validate(json(#"{"a/b~c":1}"#)).first?.instancePath, "/a~1b~0c")
    }

    func testCombinatorMessages() {
        let s = schema(#"{"oneOf":[{"type":"number"},{"type":"integer"}]}"#)
        XCTAssertEqual(s.validate(1).first?.keyword, "oneOf")
        XCTAssertTrue(s.validate(1).first?.message.contains("more than one") ?? false)
        XCTAssertEqual(schema(#"{"not":{}}"#).validate(1).first?.keyword, "not")
        XCTAssertEqual(schema("false").validate(1).first?.keyword, "false")
    }

    func testConformanceKitMalformedToolSchema() {
        // The server rejects this tool `parameters` schema with a 400 naming the problem.
        let error = schemaError(#"{"type":"object","properties":{"x":{"type":"not-a-type"}},"required":"x"}"#)
        XCTAssertEqual(error?.keyword, "type")
        XCTAssertEqual(error?.schemaPath, "/properties/x")
        XCTAssertEqual(error?.description, #"/properties/x: "not-a-type" is not a JSON Schema type (expected one of null, boolean, object, array, number, string, integer) (type)"#)
        XCTAssertThrowsError(try JSONSchema.check(json(#"{"type":"object","properties":{"x":{"type":"not-a-type"}},"required":"x"}"#)))
    }

    func testMalformedKeywords() {
        XCTAssertEqual(schemaError(#"{"required":"x"}"#)?.keyword, "required")
        XCTAssertEqual(schemaError(#"{"required":[1]}"#)?.keyword, "required")
        XCTAssertEqual(schemaError(#"{"type":["string",3]}"#)?.keyword, "type")
        XCTAssertEqual(schemaError(#"{"minLength":-1}"#)?.keyword, "minLength")
        XCTAssertEqual(schemaError(#"{"maxItems":1.5}"#)?.keyword, "maxItems")
        XCTAssertEqual(schemaError(#"{"multipleOf":0}"#)?.keyword, "multipleOf")
        XCTAssertEqual(schemaError(#"{"minimum":"1"}"#)?.keyword, "minimum")
        XCTAssertEqual(schemaError(#"{"enum":1}"#)?.keyword, "enum")
        XCTAssertEqual(schemaError(#"{"properties":{"a":1}}"#)?.schemaPath, "/properties/a")
        XCTAssertEqual(schemaError(#"{"allOf":{}}"#)?.keyword, "allOf")
        let regex = schemaError(#"{"properties":{"a":{"pattern":"(unclosed"}}}"#)
        XCTAssertEqual(regex?.keyword, "pattern")
        XCTAssertEqual(regex?.schemaPath, "/properties/a")
        XCTAssertEqual(schemaError(#"{"patternProperties":{"[z-a]":true}}"#)?.keyword, "patternProperties")
        XCTAssertNoThrow(try JSONSchema(json: json(#"{"maxItems":2.0}"#)))
    }
}
