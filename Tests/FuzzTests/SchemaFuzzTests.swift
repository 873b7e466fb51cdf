import ChatAPI
import Grammar
import JSONSchemaKit
import XCTest

/// Both schema compilers: `JSONSchema(json:budget:)` with validation, and
/// `GrammarCompiler.compile(schema:budget:)` with matching, seeded from MaskBench and from
/// random schemas.
final class SchemaFuzzTests: XCTestCase {
    static let keywords = ["type", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems", "maxItems",
                           "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "enum",
                           "const", "pattern", "format", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref", "$defs",
                           "definitions", "$id", "$schema", "$anchor", "$dynamicRef", "$dynamicAnchor", "patternProperties",
                           "propertyNames", "uniqueItems", "contains", "minContains", "maxContains", "dependentRequired",
                           "dependentSchemas", "unevaluatedProperties", "unevaluatedItems", "additionalItems", "minProperties",
                           "maxProperties", "nullable", "default", "description"]

    static let interestingValues: [JSONValue] = [
        true, false, .null, 0, -1, 1e308, -1e308, 0.1, 9_223_372_036_854_775_807, "", "string", "object", "array", "integer",
        ["type": "string"], ["$ref": "#"], ["$ref": "#/$defs/d0"], ["$ref": "#/definitions/missing"], ["not": [:]],
        ["allOf": [["$ref": "#"], ["$ref": "#"]]], ["pattern": "^(a+)+$"], ["format": "date"], ["enum": []], [:], [],
        ["items": ["$ref": "#"]], ["properties": ["a": ["$ref": "#"]], "required": ["a"]],
    ]

    /// Nesting the random phase builds: up to the JSON parser's own limit, past the compilers'
    /// depth limit (256), so that refusing deep schemas is exercised.
    static let maxNesting = 600

    /// `count` definitions, each an array of the next: shallow as a document, as deep as it is
    /// long once references are followed.
    static func referenceChain(_ count: Int) -> [UInt8] {
        var definitions: JSONObject = [:]
        for i in 0..<count { definitions["d\(i)"] = ["items": ["$ref": .string("#/$defs/d\(i + 1)")]] }
        definitions["d\(count)"] = ["type": "string"]
        return FuzzData.bytes(["$ref": "#/$defs/d0", "$defs": .object(definitions)])
    }

    /// Compiling returns or throws a typed error within its budget, for both compilers;
    /// validation and matching return; and where both compile, the grammar accepts the canonical
    /// serialization of an instance exactly when the validator does.
    func testSchemaCompilers() throws {
        let records = FuzzData.maskBench(perSplit: 12)
        var instancesBySchema: [String: [JSONValue]] = [:]
        var instancePool: [JSONValue] = ["", 0, .null, [:], []]
        for record in records {
            guard let schema = record["schema"] else { continue }
            let instances = (record["tests"]?.arrayValue ?? []).compactMap { $0["data"] }
            instancesBySchema[schema.serialized()] = instances
            instancePool += instances.prefix(3)
        }
        let pool = instancePool
        let byschema = instancesBySchema
        let valueMutator = JSONValueMutator(keys: Self.keywords, interestingValues: Self.interestingValues)
        var target = FuzzTarget(
            name: "schema",
            seeds: records.compactMap { $0["schema"] }.map(FuzzData.bytes),
            knownFailures: [],
            // JSONSchemaKit's compiler followed each reference one call deeper, unbounded.
            regressions: [("reference-chain-2000", Self.referenceChain(2_000)),
                          // The grammar's program builder took one sweep over all states per byte of the name.
                          ("long-property-name-30000", FuzzData.bytes(["type": "object", "additionalProperties": false,
                                                                       "properties": .object([String(repeating: ",", count: 30_000): [:]])]))],
            mutator: ByteMutator(dictionary: Self.keywords.map { Array("\"\($0)\"".utf8) } + JSONFuzzTests.jsonTokens,
                                 nestings: [(Array("{\"not\":".utf8), Array("}".utf8)), (Array("{\"items\":".utf8), Array("}".utf8)),
                                            (Array("{\"allOf\":[".utf8), Array("]}".utf8))],
                                 maxNesting: Self.maxNesting, maxSize: 256 << 10),
            hangLimit: .seconds(60),
            check: { input in
                guard let schema = try? JSONParser.parse(input) else { return }
                let text = schema.serialized()
                // The record's own instances when the schema is a seed; otherwise a few from the pool,
                // chosen by the input's hash so that a replay runs the same ones.
                var instances = byschema[text] ?? []
                var hash: UInt64 = 0xCBF2_9CE4_8422_2325
                for byte in input { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
                for i in 0..<6 { instances.append(pool[Int((hash >> UInt64(i * 8)) % UInt64(pool.count))]) }

                let validator = try CompileChecks.validator(schema)
                let grammar = try CompileChecks.grammar(schema)
                guard let validator else { return }
                for instance in instances {
                    let valid = validator.isValid(instance)
                    if valid != validator.validate(instance).isEmpty {
                        throw PropertyViolation("isValid and validate disagree on \(instance.serialized())")
                    }
                    guard let grammar else { continue }
                    let (serialized, undeclared) = CanonicalJSON.serializeReportingPolicy(instance, schema: schema)
                    if undeclared { continue }
                    let accepted = CompileChecks.grammarAccepts(grammar, serialized)
                    if valid != accepted {
                        throw PropertyViolation("the validator \(valid ? "accepts" : "rejects") \(serialized.prefix(300)) but the grammar "
                                                + "\(accepted ? "accepts" : "rejects") it; schema \(text.prefix(1000))")
                    }
                }
            })
        target.structuredMutation = { base, other, rng in
            let value = (try? JSONParser.parse(base)) ?? .object([:])
            let donor = (try? JSONParser.parse(other)) ?? .null
            return FuzzData.bytes(valueMutator.mutate(value, donor: donor, rng: &rng))
        }
        target.generator = { rng in FuzzData.bytes(RandomSchema.document(&rng)) }
        try FuzzHarness(target).run()
    }
}
