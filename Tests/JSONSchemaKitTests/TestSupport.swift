import ChatAPI
import JSONSchemaKit
import XCTest

/// Parses JSON text written in a test (fails the test on a typo).
func json(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue {
    do { return try JSONValue(parsing: text) } catch {
        XCTFail("bad JSON in test: \(error)", file: file, line: line)
        return .null
    }
}

/// Compiles `schema`, failing the test if it does not compile.
func schema(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONSchema {
    do { return try JSONSchema(json: json(text, file: file, line: line)) } catch {
        XCTFail("schema did not compile: \(error)", file: file, line: line)
        return try! JSONSchema(json: .bool(true))
    }
}

/// Asserts each instance's verdict, and that `validate` agrees with `isValid`.
func expect(_ schemaText: String, valid: [String] = [], invalid: [String] = [],
            file: StaticString = #filePath, line: UInt = #line) {
    let compiled = schema(schemaText, file: file, line: line)
    for text in valid {
        let instance = json(text, file: file, line: line)
        XCTAssertTrue(compiled.isValid(instance), "expected valid: \(text) — \(compiled.validate(instance))", file: file, line: line)
        XCTAssertEqual(compiled.validate(instance), [], file: file, line: line)
    }
    for text in invalid {
        let instance = json(text, file: file, line: line)
        XCTAssertFalse(compiled.isValid(instance), "expected invalid: \(text)", file: file, line: line)
        XCTAssertFalse(compiled.validate(instance).isEmpty, "no error reported for \(text)", file: file, line: line)
    }
}

/// The SchemaError a malformed schema throws (nil, and a test failure, if it compiles).
func schemaError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> SchemaError? {
    do {
        _ = try JSONSchema(json: json(text, file: file, line: line))
        XCTFail("expected a SchemaError for \(text)", file: file, line: line)
        return nil
    } catch let error as SchemaError {
        return error
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return nil
    }
}
