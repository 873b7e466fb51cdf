import ChatAPI
import JSONSchemaKit
import XCTest
@testable import Gateway

/// Request schemas become validators under a budget, off the pool; bad or costly ones are 400s
/// naming the field, and every outcome is remembered.
final class SchemaValidatorsTests: XCTestCase {
    func request(tools: [JSONValue], responseSchema: JSONValue? = nil) throws -> ChatCompletionRequest {
        var body: JSONObject = [
            "model": "m", "messages": [["role": "user", "content": "hi"]],
            "tools": .array(tools.enumerated().map { i, p in
                ["type": "function", "function": ["name": .string("f\(i)"), "parameters": p]]
            }),
        ]
        if let responseSchema {
            body["response_format"] = ["type": "json_schema", "json_schema": ["name": "answer", "schema": responseSchema]]
        }
        return try ChatCompletionRequest(json: .object(body))
    }

    /// `a0 = allOf [a1, a1]`, …: a few hundred bytes whose validation walks 2^depth paths.
    static func doublingChain(depth: Int) -> JSONValue {
        var defs: JSONObject = [:]
        for i in 0..<depth {
            let next: JSONValue = ["$ref": .string("#/$defs/a\(i + 1)")]
            defs["a\(i)"] = ["allOf": [next, next]]
        }
        defs["a\(depth)"] = ["type": "string"]
        return ["$defs": .object(defs), "$ref": "#/$defs/a0"]
    }

    func testValidSchemasCompile() async throws {
        let validators = SchemaValidators(executor: CompileExecutor())
        let schema: JSONValue = ["type": "object", "properties": ["x": ["type": "integer"]]]
        let compiled = try await validators.compile(try request(tools: [schema], responseSchema: ["type": "string"]))
        XCTAssertEqual(compiled.functions["f0"]?.isValid(["x": 1]), true)
        XCTAssertEqual(compiled.functions["f0"]?.isValid(["x": "no"]), false)
        XCTAssertEqual(compiled.responseFormat?.isValid("yes"), true)
    }

    func testMalformedSchemaNamesItsField() async throws {
        let validators = SchemaValidators(executor: CompileExecutor())
        do {
            _ = try await validators.compile(try request(tools: [["type": "object"], ["type": "no-such-type"]]))
            XCTFail("accepted")
        } catch let error as APIError {
            XCTAssertEqual(error.status, 400)
            XCTAssertEqual(error.code, "invalid_schema")
            XCTAssertEqual(error.param, "tools[1].function.parameters")
        }
    }

    func testExponentialSchemaIsTooComplexAndRefusedAgainAtOnce() async throws {
        let validators = SchemaValidators(executor: CompileExecutor())
        let hostile = Self.doublingChain(depth: 60)
        XCTAssertLessThan(hostile.serialized().utf8.count, 4_000)
        for _ in 0..<2 {
            let start = ContinuousClock.now
            do {
                _ = try await validators.compile(try request(tools: [["type": "object"]], responseSchema: hostile))
                XCTFail("accepted")
            } catch let error as APIError {
                XCTAssertEqual(error.status, 400)
                XCTAssertEqual(error.code, "schema_too_complex")
                XCTAssertEqual(error.param, "response_format.json_schema.schema")
            }
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        }
        // Shallow reuse is fine: the bound is on paths, not on sharing.
        _ = try await validators.compile(try request(tools: [Self.doublingChain(depth: 8)]))
    }
}
