import Foundation
import JSONSchemaKit
import SwitchboardKit
import XCTest

/// A weather query.
@JSONSchema
struct WeatherQuery: Decodable, Equatable {
    /// City name, e.g. Paris.
    let city: String
    /// Days ahead.
    @SchemaBounds(minimum: 1, maximum: 7)
    let days: Int
    let unit: TemperatureUnit?
    let stops: [Stop]
    let counts: [String: UInt]
    let note: String?
    let ratio: Double
    let urgent: Bool
    var computed: Int { 1 }
    static let ignored = 3
}

/// How temperatures are given.
@JSONSchema
enum TemperatureUnit: String, Decodable, Equatable {
    case celsius
    case fahrenheit = "F"
}

@JSONSchema
struct Stop: Decodable, Equatable {
    @SchemaBounds(minLength: 1, maxLength: 20)
    let name: String
    let minutes: UInt8
}

/// Declares its conformance itself; `let` constants with a value are not decoded, so not in the schema.
@JSONSchema
struct Labelled: ToolArguments {
    let label: String
    let kind = "fixed"
}

/// `@JSONSchema`'s schemas: what they say, checked against JSONSchemaKit on valid and invalid
/// instances, and ready for OpenAI's strict mode.
final class JSONSchemaMacroTests: XCTestCase {
    func testTheDerivedSchema() {
        let expected: JSONValue = [
            "type": "object",
            "properties": [
                "city": ["type": "string", "description": "City name, e.g. Paris."],
                "days": ["type": "integer", "minimum": 1, "maximum": 7, "description": "Days ahead."],
                "unit": ["anyOf": [["type": "string", "enum": ["celsius", "F"], "description": "How temperatures are given."],
                                   ["type": "null"]]],
                "stops": ["type": "array", "items": [
                    "type": "object",
                    "properties": ["name": ["type": "string", "minLength": 1, "maxLength": 20],
                                   "minutes": ["type": "integer", "minimum": 0]],
                    "required": ["name", "minutes"], "additionalProperties": false]],
                "counts": ["type": "object", "additionalProperties": ["type": "integer", "minimum": 0]],
                "note": ["type": ["string", "null"]],
                "ratio": ["type": "number"],
                "urgent": ["type": "boolean"],
            ],
            "required": ["city", "days", "unit", "stops", "counts", "note", "ratio", "urgent"],
            "additionalProperties": false,
            "description": "A weather query.",
        ]
        XCTAssertEqual(WeatherQuery.jsonSchema, expected)
    }

    func testValidAndInvalidInstances() throws {
        let schema = try JSONSchema(json: WeatherQuery.jsonSchema)
        let valid: JSONValue = ["city": "Paris", "days": 3, "unit": "F", "stops": [["name": "Lyon", "minutes": 20]],
                                "counts": ["a": 1], "note": nil, "ratio": 0.5, "urgent": false]
        XCTAssertEqual(schema.validate(valid), [])
        let decoded = try JSONDecoder().decode(WeatherQuery.self, from: Data(valid.serialized().utf8))
        XCTAssertEqual(decoded.unit, .fahrenheit)
        XCTAssertEqual(decoded.stops, [Stop(name: "Lyon", minutes: 20)])
        for (change, why) in [
            (["days": 8], "above maximum"), (["days": 0], "below minimum"), (["days": 2.5], "not an integer"),
            (["unit": "kelvin"], "not in the enum"), (["note": 5], "neither string nor null"),
            (["stops": [["name": "", "minutes": 1]]], "name too short"), (["stops": [["name": "A", "minutes": -1]]], "negative unsigned"),
            (["counts": ["a": "x"]], "dictionary value of the wrong type"), (["extra": true], "a property not declared"),
        ] as [(JSONObject, String)] {
            guard case .object(var instance) = valid else { return }
            for (key, value) in change { instance[key] = value }
            XCTAssertFalse(schema.isValid(.object(instance)), why)
        }
        guard case .object(var missing) = valid else { return }
        missing["note"] = nil
        XCTAssertFalse(schema.isValid(.object(missing)), "an optional property is still required (strict mode)")
    }

    func testStrictReady() {
        // Every object requires all its properties and allows no others, recursively.
        func check(_ schema: JSONValue, _ path: String) {
            if schema["type"] == "object", let properties = schema["properties"]?.objectValue {
                XCTAssertEqual(schema["additionalProperties"], false, path)
                XCTAssertEqual(Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []), Set(properties.keys), path)
                for (key, value) in properties { check(value, "\(path).\(key)") }
            }
            if let items = schema["items"] { check(items, path + "[]") }
            for branch in schema["anyOf"]?.arrayValue ?? [] { check(branch, path) }
        }
        check(WeatherQuery.jsonSchema, "WeatherQuery")
    }

    func testADeclaredConformanceAndConstants() {
        XCTAssertEqual(Labelled.jsonSchema, ["type": "object", "properties": ["label": ["type": "string"]], "required": ["label"],
                                             "additionalProperties": false,
                                             "description": "Declares its conformance itself; `let` constants with a value are not decoded, so not in the schema."])
    }

    func testATypedToolDeclaresTheDerivedSchema() {
        struct Forecast: Tool {
            let name = "forecast"
            let description = "The forecast."
            func call(_ arguments: WeatherQuery) async throws -> String { arguments.city }
        }
        XCTAssertEqual(Forecast().definition.parameters, WeatherQuery.jsonSchema)
    }
}
