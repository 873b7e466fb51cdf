import ChatAPI
import XCTest
@testable import Grammar

/// `patternProperties`, `not` and the additional-properties policy.
final class ObjectKeywordTests: XCTestCase {
    func faithful(_ s: JSONValue) throws -> CompiledGrammar {
        try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: GrammarOptions(additionalProperties: .asSchema)).compile(schema: s)
    }

    func testPatternPropertiesKeysAndValues() throws {
        let g = try compile(schema(#"""
        {"type":"object","patternProperties":{"^x-":{"type":"integer"},"^s_":{"type":"string"}},
         "additionalProperties":false}
        """#))
        XCTAssertTrue(run(g, #"{}"#))
        XCTAssertTrue(run(g, #"{"x-a":1,"s_b":"t","x-c":2}"#))
        XCTAssertFalse(run(g, #"{"x-a":"no"}"#))
        XCTAssertFalse(run(g, #"{"s_b":3}"#))
        XCTAssertFalse(run(g, #"{"other":1}"#))
    }

    /// In an allOf, one side's `additionalProperties: false` does not forbid the other side's
    /// names that its own `patternProperties` admit (MaskBench JsonSchemaStore hayson).
    func testAllOfAdditionalPropertiesSparesPatternNames() throws {
        let g = try compile(schema(#"""
        {"allOf":[{"type":"object","properties":{"_kind":{}},"patternProperties":{"^[a-z]":{"type":"string"}},"additionalProperties":false}],
         "properties":{"ver":{"enum":["3.0"]},"Ver":{}},"required":["ver"]}
        """#))
        XCTAssertTrue(run(g, #"{"ver":"3.0","_kind":1}"#))  // merged order: the allOf owner first
        XCTAssertFalse(run(g, #"{"ver":"3.0","Ver":2,"_kind":1}"#))
    }

    /// A key matching several patterns takes all their schemas (MaskBench Github_hard o82144:
    /// `".*"` next to `"github"`; such keys used to be refused).
    func testOverlappingPatternPropertiesTakeAllTheirSchemas() throws {
        let g = try compile(schema(#"{"type":"object","patternProperties":{".*":{"type":"integer"},"^a":{"minimum":5}}}"#))
        XCTAssertTrue(run(g, #"{"ab":7,"b":3}"#))
        XCTAssertTrue(run(g, #"{"b":3,"a":5}"#))
        XCTAssertFalse(run(g, #"{"ab":3}"#))
        XCTAssertFalse(run(g, #"{"ab":"s"}"#))
        XCTAssertFalse(run(g, #"{"b":"s"}"#))
    }

    func testPatternPropertiesApplyToDeclaredNames() throws {
        // "x-n" is declared as a string but also matches ^x- (integers): nothing satisfies both.
        let g = try compile(schema(#"""
        {"type":"object","properties":{"x-n":{"type":["string","integer"]},"a":{"type":"string"}},
         "patternProperties":{"^x-":{"type":"integer"}}}
        """#))
        XCTAssertTrue(run(g, #"{"x-n":3,"a":"q"}"#))
        XCTAssertFalse(run(g, #"{"x-n":"s"}"#))
        // Undeclared keys matching the pattern come after the declared ones.
        XCTAssertTrue(run(g, #"{"a":"q","x-z":4}"#))
        XCTAssertFalse(run(g, #"{"a":"q","x-z":"s"}"#))
    }

    func testAdditionalPropertiesPolicy() throws {
        let s = schema(#"{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"#)
        // Generation policy: only declared properties.
        let gen = try compile(s)
        XCTAssertTrue(run(gen, #"{"a":1}"#))
        XCTAssertFalse(run(gen, #"{"a":1,"b":true}"#))
        // Faithful: any undeclared key with any value, but not a second "a".
        let f = try faithful(s)
        XCTAssertTrue(run(f, #"{"a":1}"#))
        XCTAssertTrue(run(f, #"{"a":1,"b":true,"c":{"d":[]}}"#))
        XCTAssertFalse(run(f, #"{"a":1,"a":2}"#))
        XCTAssertFalse(run(f, #"{"b":true}"#))
        // additionalProperties false and schemas are honoured in both modes.
        let closed = try faithful(schema(#"{"type":"object","properties":{"a":{}},"additionalProperties":false}"#))
        XCTAssertFalse(run(closed, #"{"a":1,"b":2}"#))
        let typed = try faithful(schema(#"{"type":"object","properties":{"a":{}},"additionalProperties":{"type":"string"}}"#))
        XCTAssertTrue(run(typed, #"{"a":1,"b":"s"}"#))
        XCTAssertFalse(run(typed, #"{"a":1,"b":2}"#))
        // maxProperties counts the extra properties too.
        let bounded = try faithful(schema(#"{"type":"object","properties":{"a":{}},"maxProperties":2}"#))
        XCTAssertTrue(run(bounded, #"{"a":1,"b":2}"#))
        XCTAssertFalse(run(bounded, #"{"a":1,"b":2,"c":3}"#))
    }

    func testNotRequired() throws {
        let g = try compile(schema(#"""
        {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},
         "not":{"required":["a","b"]}}
        """#))
        XCTAssertTrue(run(g, #"{"a":1}"#))
        XCTAssertTrue(run(g, #"{"b":1}"#))
        XCTAssertTrue(run(g, #"{}"#))
        XCTAssertFalse(run(g, #"{"a":1,"b":2}"#))
        let any = try compile(schema(#"""
        {"type":"object","properties":{"a":{},"b":{}},
         "not":{"anyOf":[{"required":["a"]},{"required":["b"]}]}}
        """#))
        XCTAssertTrue(run(any, #"{}"#))
        XCTAssertFalse(run(any, #"{"a":1}"#))
        XCTAssertFalse(run(any, #"{"b":1}"#))
    }

    func testNotTypeEnumAndPattern() throws {
        let t = try compile(schema(#"{"not":{"type":["string","object","array"]}}"#))
        XCTAssertTrue(run(t, "12"))
        XCTAssertTrue(run(t, "null"))
        XCTAssertFalse(run(t, #""s""#))
        XCTAssertFalse(run(t, "[]"))
        let e = try compile(schema(#"{"type":"string","not":{"enum":["ab","abc"]}}"#))
        XCTAssertTrue(run(e, #""a""#))
        XCTAssertTrue(run(e, #""abcd""#))
        XCTAssertFalse(run(e, #""ab""#))
        XCTAssertFalse(run(e, #""abc""#))
        let filtered = try compile(schema(#"{"enum":[1,2,3],"not":{"const":2}}"#))
        XCTAssertTrue(run(filtered, "1"))
        XCTAssertFalse(run(filtered, "2"))
        let p = try compile(schema(#"{"type":"string","not":{"pattern":"^a"}}"#))
        XCTAssertTrue(run(p, #""ba""#))
        XCTAssertFalse(run(p, #""ab""#))
        // not of an object property's value.
        let v = try compile(schema(#"""
        {"type":"object","properties":{"k":{"type":"string"}},"required":["k"],
         "not":{"properties":{"k":{"const":"bad"}}}}
        """#))
        XCTAssertTrue(run(v, #"{"k":"ok"}"#))
        XCTAssertFalse(run(v, #"{"k":"bad"}"#))
    }
}

/// False rejects found on MaskBench (Github_easy o57232, o64858): undeclared keys that branch off
/// a declared name's prefix with an escape.
final class AdditionalKeyEscapeTests: XCTestCase {
    func testUndeclaredKeysWithEscapes() throws {
        let s = schema(#"{"type":"object","properties":{"field":{},"error":{}}}"#)
        let g = try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: GrammarOptions(additionalProperties: .asSchema)).compile(schema: s)
        XCTAssertTrue(run(g, #"{"field\": ":1}"#))
        XCTAssertTrue(run(g, #"{"error":null,"error\"x":2}"#))
        XCTAssertTrue(run(g, #"{"\n":1}"#))
        XCTAssertTrue(run(g, #"{"fiel":1,"fields":2}"#))
        // The declared names themselves cannot come back as additional keys.
        XCTAssertFalse(run(g, #"{"field":1,"field":2}"#))
    }
}

/// Additional keys are an automaton laid over the shared "rest of a string" one; its masks reuse
/// that automaton's token walks and recompute only tokens starting with a name's next byte, the
/// quote or the backslash. Checked token by token against the matcher on a real vocabulary,
/// where tokens cross the names' prefixes and the closing quote.
final class AdditionalKeyMaskTests: XCTestCase {
    func testAdditionalKeyMasksAreExactOnRealVocabulary() throws {
        guard let vocab = RealVocab.smol else { throw XCTSkip("SmolLM2 model not present") }
        let s = schema(#"{"type":"object","properties":{"name":{"type":"string"},"number":{},"né":{}},"required":["name"]}"#)
        let g = try GrammarCompiler(vocabulary: vocab, options: GrammarOptions(additionalProperties: .asSchema)).compile(schema: s)
        for text in [#"{"name":"a","names":1,"nam":2,"zz\"q":3,"née":4,"n\n":5}"#, #"{"name":"x","number\\":[1]}"#] {
            XCTAssertTrue(run(g, text), text)
            assertMaskExact(g, text)
        }
        XCTAssertFalse(run(g, #"{"name":"a","name":2}"#))
        XCTAssertFalse(run(g, #"{"name":"a","né":2,"né":3}"#))
    }
}

/// Keywords that assert nothing are ignored, as JSON Schema says; narrowings are enforced.
final class KeywordScopeTests: XCTestCase {
    func testUnknownKeywordsInAllOfAreIgnored() throws {
        let g = try compile(schema(#"""
        {"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"x-intellij-html-description":"<b>one</b>"},
                  {"required":["a"],"x-intellij-html-description":"two","info":{"v":1}}]}
        """#))
        XCTAssertTrue(run(g, #"{"a":1}"#))
        XCTAssertFalse(run(g, #"{}"#))
        XCTAssertFalse(run(g, #"{"a":"s"}"#))
    }

    func testDoubleNegation() throws {
        let g = try compile(schema(#"{"type":"string","not":{"not":{"enum":["x","y"]}}}"#))
        XCTAssertTrue(run(g, #""x""#))
        XCTAssertFalse(run(g, #""z""#))
    }

    func testUnevaluatedPropertiesWithoutApplicators() throws {
        let s = schema(#"{"type":"object","properties":{"a":{}},"unevaluatedProperties":false}"#)
        let f = try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: .faithful).compile(schema: s)
        XCTAssertTrue(run(f, #"{"a":1}"#))
        XCTAssertFalse(run(f, #"{"a":1,"b":2}"#))
        let typed = try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: .faithful).compile(
            schema: schema(#"{"type":"object","unevaluatedProperties":{"type":"integer"}}"#))
        XCTAssertTrue(run(typed, #"{"b":2}"#))
        XCTAssertFalse(run(typed, #"{"b":"s"}"#))
    }

    /// A `maxLength` above `maxStringLengthBound` is enforced as the bound: long strings take one
    /// automaton state per character.
    func testLargeMaxLengthIsNarrowedToTheBound() throws {
        var options = GrammarOptions()
        options.maxStringLengthBound = 5
        let g = try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: options).compile(
            schema: schema(#"{"type":"string","maxLength":100000}"#))
        XCTAssertTrue(run(g, #""abcde""#))
        XCTAssertFalse(run(g, #""abcdef""#))
        let unbounded = try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: options).compile(schema: schema(#"{"type":"string"}"#))
        XCTAssertTrue(run(unbounded, #""abcdefghij""#))
        XCTAssertThrowsError(try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: options).compile(
            schema: schema(#"{"type":"string","minLength":3000}"#)))
    }
}

/// The benchmark's canonical form must order objects the way the grammar emits them.
final class CanonicalJSONTests: XCTestCase {
    /// Values under `patternProperties` keys are ordered by the pattern's schema (MaskBench
    /// Github_hard o6084: docker-compose services were left in instance order and refused).
    /// Under `oneOf`, the branch the value is valid against decides the order (MaskBench
    /// Github_medium o71265: a "success" branch with loose data used to win a tie).
    func testTheValidBranchDecidesTheOrder() throws {
        let s = schema(##"""
        {"type":"object","required":["status"],"oneOf":[
          {"properties":{"status":{"type":"string","pattern":"^ok$"},"data":{}}},
          {"properties":{"status":{"type":"string","pattern":"^fail$"},"data":{"type":"array","items":{"$ref":"#/definitions/item"}}}}],
         "definitions":{"item":{"type":"object","properties":{"message":{},"code":{},"field":{}}}}}
        """##)
        let value = try JSONValue(parsing: #"{"status":"fail","data":[{"message":"m","field":"f","code":1}]}"#)
        let text = CanonicalJSON.serialize(value, schema: s)
        XCTAssertEqual(text, #"{"status":"fail","data":[{"message":"m","code":1,"field":"f"}]}"#)
        let g = try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: .faithful).compile(schema: s)
        XCTAssertTrue(run(g, text))
    }

    func testPatternPropertyValuesAreOrderedByTheirSchema() throws {
        let s = schema(#"""
        {"type":"object","properties":{"services":{"type":"object","additionalProperties":false,
          "patternProperties":{"^[a-z]+$":{"type":"object","properties":{"depends_on":{},"image":{},"ports":{}},"additionalProperties":false}}}}}
        """#)
        let value = try JSONValue(parsing: #"{"services":{"web":{"image":"nginx","ports":[80],"depends_on":["db"]}}}"#)
        let text = CanonicalJSON.serialize(value, schema: s)
        XCTAssertEqual(text, #"{"services":{"web":{"depends_on":["db"],"image":"nginx","ports":[80]}}}"#)
        let g = try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: .faithful).compile(schema: s)
        XCTAssertTrue(run(g, text))
    }
}
