import ChatAPI
import XCTest
@testable import Grammar

final class SchemaGrammarTests: XCTestCase {
    func testObjectPropertiesInSchemaOrderWithOptionalOnes() throws {
        let g = try compile(schema(#"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},"required":["b"]}"#))
        XCTAssertTrue(run(g, #"{"b":"x"}"#))
        XCTAssertTrue(run(g, #"{"a":1,"b":"x","c":true}"#))
        XCTAssertTrue(run(g, #"{"a":-12,"b":""}"#))
        XCTAssertFalse(run(g, #"{"b":"x","a":1}"#))  // schema order
        XCTAssertFalse(run(g, #"{"a":1}"#))  // missing required
        XCTAssertFalse(run(g, #"{"b":"x","d":1}"#))  // extras never generated
        XCTAssertFalse(run(g, #"{ "b":"x"}"#))  // compact only
        assertMaskExact(g, #"{"a":12,"b":"abc","c":false}"#)
    }

    func testEmptyObjectsAndArrays() throws {
        let g = try compile(schema(#"{"type":"object","properties":{"o":{"type":"object"},"l":{"type":"array"}},"required":["o","l"]}"#))
        XCTAssertTrue(run(g, #"{"o":{},"l":[]}"#))
        XCTAssertTrue(run(g, #"{"o":{"x":[1,{"y":null}]},"l":[[],{},"s",1.5e3]}"#))
        XCTAssertFalse(run(g, #"{"o":[],"l":{}}"#))
        assertMaskExact(g, #"{"o":{"k":[]},"l":[true]}"#)
    }

    func testRecursionThroughRef() throws {
        let g = try compile(schema(#"""
        {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
         "kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"],"additionalProperties":false}}}
        """#))
        XCTAssertTrue(run(g, #"{"v":1}"#))
        XCTAssertTrue(run(g, #"{"v":1,"kids":[{"v":2,"kids":[{"v":3,"kids":[]}]},{"v":4}]}"#))
        XCTAssertFalse(run(g, #"{"v":1,"kids":[{"kids":[]}]}"#))
        assertMaskExact(g, #"{"v":1,"kids":[{"v":2}]}"#)
    }

    func testStringEscapesAndUnicode() throws {
        let g = try compile(schema(#"{"type":"string"}"#))
        XCTAssertTrue(run(g, #""plain""#))
        XCTAssertTrue(run(g, #""a\"b\\c\/d\n\t\u00e9\u00E9""#))
        XCTAssertTrue(run(g, #""\ud83d\ude00 😀 é""#))
        XCTAssertFalse(run(g, #""\ud83d""#))  // lone high surrogate
        XCTAssertFalse(run(g, #""\x""#))
        XCTAssertFalse(runBytes(g, [0x22, 0x0A, 0x22]))  // raw control character
        // UTF-8 split across tokens: é as two single-byte tokens.
        XCTAssertTrue(runBytes(g, [0x22, 0xC3, 0xA9, 0x22]))
        XCTAssertFalse(runBytes(g, [0x22, 0xC3, 0x22]))  // truncated sequence
        XCTAssertFalse(runBytes(g, [0x22, 0xED, 0xA0, 0x80, 0x22]))  // encoded surrogate
        XCTAssertFalse(runBytes(g, [0x22, 0xC0, 0xAF, 0x22]))  // overlong
        assertMaskExact(g, #""é\u00e9😀""#)
    }

    func testNumbersAndIntegerBounds() throws {
        let n = try compile(schema(#"{"type":"number"}"#))
        for ok in ["0", "-0", "12", "1.5", "-0.25", "1e10", "2.5E-3", "1.0e+2"] { XCTAssertTrue(run(n, ok), ok) }
        for bad in ["01", "1.", ".5", "+1", "1e", "--1", "1.5.2"] { XCTAssertFalse(run(n, bad), bad) }
        let i = try compile(schema(#"{"type":"integer","minimum":-5,"maximum":120}"#))
        for ok in ["-5", "0", "7", "99", "100", "120", "3.0"] { XCTAssertTrue(run(i, ok), ok) }
        for bad in ["-6", "121", "200", "1000", "1.5", "-10"] { XCTAssertFalse(run(i, bad), bad) }
        let e = try compile(schema(#"{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10}"#))
        XCTAssertFalse(run(e, "0")); XCTAssertTrue(run(e, "1")); XCTAssertTrue(run(e, "9")); XCTAssertFalse(run(e, "10"))
        let r = try compile(schema(#"{"type":"number","minimum":0,"maximum":1}"#))
        for ok in ["0", "0.5", "1", "1.0", "0.999"] { XCTAssertTrue(run(r, ok), ok) }
        for bad in ["-0.5", "1.5", "1.01", "2"] { XCTAssertFalse(run(r, bad), bad) }
        let x = try compile(schema(#"{"type":"number","exclusiveMinimum":0}"#))
        XCTAssertFalse(run(x, "0")); XCTAssertFalse(run(x, "0.0")); XCTAssertTrue(run(x, "0.01")); XCTAssertFalse(run(x, "-1"))
        assertMaskExact(i, "120")
    }

    /// Integer bounds are exact up to Int64, beyond what a Double holds (MaskBench Snowplow
    /// sp_160: maximum 9223372036854775807 must refuse 9223372036854776001).
    func testHugeIntegerBoundsAreExact() throws {
        let g = try compile(schema(#"{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807}"#))
        XCTAssertTrue(runBytes(g, Array("9223372036854775807".utf8)))
        XCTAssertTrue(runBytes(g, Array("-9223372036854775808".utf8)))
        XCTAssertFalse(runBytes(g, Array("9223372036854775808".utf8)))
        XCTAssertFalse(runBytes(g, Array("9223372036854776001".utf8)))
        XCTAssertFalse(runBytes(g, Array("12345678901234567890".utf8)))
        XCTAssertFalse(runBytes(g, Array("-9223372036854775809".utf8)))
        // Beyond Int (MaskBench Snowplow sp_160: maximum 9223372036854776000).
        let big = try compile(schema(#"{"type":["integer","null"],"minimum":-100000000000000000000,"exclusiveMaximum":9223372036854776000}"#))
        XCTAssertTrue(runBytes(big, Array("9223372036854775999".utf8)))
        XCTAssertTrue(runBytes(big, Array("-99999999999999999999".utf8)))
        XCTAssertTrue(runBytes(big, Array("-100000000000000000000".utf8)))
        XCTAssertFalse(runBytes(big, Array("9223372036854776000".utf8)))
        XCTAssertFalse(runBytes(big, Array("12345678901234567890".utf8)))
        XCTAssertFalse(runBytes(big, Array("-100000000000000000001".utf8)))
        // An exact bound next to a huge inward one written as a Double: an error, not a trap.
        XCTAssertThrowsError(try compile(schema(#"{"type":"integer","maximum":5,"minimum":1e300}"#)))
        XCTAssertThrowsError(try compile(schema(#"{"type":"integer","minimum":-5,"maximum":-1e300}"#)))
        let ex = try compile(schema(#"{"type":"integer","exclusiveMaximum":9007199254740993}"#))
        XCTAssertTrue(runBytes(ex, Array("9007199254740992".utf8)))
        XCTAssertFalse(runBytes(ex, Array("9007199254740993".utf8)))
    }

    /// Enum numbers compare by value (MaskBench Github_medium o61348: `enum: [2.0]` admits `2`).
    func testIntegralEnumNumbersMatchAnySpellingOfTheirValue() throws {
        let g = try compile(schema(#"{"enum":[2.0,-3,"x",1.5]}"#))
        for ok in ["2", "2.0", "-3", "-3.00", #""x""#, "1.5"] { XCTAssertTrue(runBytes(g, Array(ok.utf8)), ok) }
        for bad in ["3", "2.5", "-2", "20", "1.50001"] { XCTAssertFalse(runBytes(g, Array(bad.utf8)), bad) }
        let generating = try GrammarCompiler(vocabulary: SyntheticVocab.shared, options: .generation).compile(schema: schema(#"{"const":2.0}"#))
        XCTAssertTrue(runBytes(generating, Array("2".utf8)))
        XCTAssertFalse(runBytes(generating, Array("2.0".utf8)))
    }

    /// Before 2019-09, `$ref` replaces its siblings (MaskBench Github_medium o14421, draft-04:
    /// `{"type":"string","$ref":"#/datos"}` where datos is an object schema).
    func testRefSiblingsFollowTheDeclaredDialect() throws {
        let body = ##""properties":{"s":{"type":"string","$ref":"#/definitions/o"}},"definitions":{"o":{"type":"object"}}}"##
        let old = try compile(schema(#"{"$schema":"http://json-schema.org/draft-04/schema#","# + body))
        XCTAssertTrue(run(old, #"{"s":{}}"#))
        XCTAssertFalse(run(old, #"{"s":"x"}"#))
        let new = try compile(schema(#"{"#  + body))
        XCTAssertFalse(run(new, #"{"s":{}}"#))
        XCTAssertFalse(run(new, #"{"s":"x"}"#))
    }

    func testAnyOfObjectsWithOverlappingKeys() throws {
        let g = try compile(schema(#"""
        {"anyOf":[{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},"required":["kind","x"]},
                  {"type":"object","properties":{"kind":{"const":"b"},"x":{"type":"string"}},"required":["kind"]}]}
        """#))
        XCTAssertTrue(run(g, #"{"kind":"a","x":1}"#))
        XCTAssertTrue(run(g, #"{"kind":"b","x":"s"}"#))
        XCTAssertTrue(run(g, #"{"kind":"b"}"#))
        XCTAssertFalse(run(g, #"{"kind":"a","x":"s"}"#))
        XCTAssertFalse(run(g, #"{"kind":"a"}"#))
        assertMaskExact(g, #"{"kind":"b","x":"abc"}"#)
    }

    func testHugeEnum() throws {
        let values = (0..<3000).map { JSONValue.string("value_\($0)") }
        let g = try compile(.object(["enum": .array(values + [.number(JSONNumber(42)), .null])]))
        XCTAssertTrue(run(g, #""value_0""#))
        XCTAssertTrue(run(g, #""value_2999""#))
        XCTAssertTrue(run(g, "42"))
        XCTAssertTrue(run(g, "null"))
        XCTAssertFalse(run(g, #""value_3000""#))
        XCTAssertFalse(run(g, #""value_""#))
    }

    func testPatternsAndFormats() throws {
        let p = try compile(schema(#"{"type":"string","pattern":"^[a-z]+-\\d{2}$"}"#))
        XCTAssertTrue(run(p, #""abc-12""#))
        XCTAssertFalse(run(p, #""abc-1""#))
        XCTAssertFalse(run(p, #""Abc-12""#))
        let s = try compile(schema(#"{"type":"string","pattern":"ab"}"#))  // unanchored search
        XCTAssertTrue(run(s, #""xxabyy""#)); XCTAssertFalse(run(s, #""a b""#))
        let d = try compile(schema(#"{"type":"string","format":"date"}"#))
        XCTAssertTrue(run(d, #""2024-02-29""#)); XCTAssertFalse(run(d, #""2024-13-01""#))
        let u = try compile(schema(#"{"type":"string","format":"uuid"}"#))
        XCTAssertTrue(run(u, #""123e4567-e89b-12d3-a456-426614174000""#)); XCTAssertFalse(run(u, #""123""#))
        let l = try compile(schema(#"{"type":"string","minLength":2,"maxLength":3}"#))
        XCTAssertFalse(run(l, #""a""#)); XCTAssertTrue(run(l, #""é\n""#)); XCTAssertTrue(run(l, #""abc""#)); XCTAssertFalse(run(l, #""abcd""#))
        XCTAssertTrue(run(l, #""😀😀""#))  // code points, not bytes
    }

    func testArrays() throws {
        let g = try compile(schema(#"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":{"type":"boolean"},"minItems":1,"maxItems":4}"#))
        XCTAssertTrue(run(g, #"["a"]"#)); XCTAssertTrue(run(g, #"["a",1,true,false]"#))
        XCTAssertFalse(run(g, "[]")); XCTAssertFalse(run(g, #"["a",1,true,false,true]"#)); XCTAssertFalse(run(g, #"[1]"#))
        assertMaskExact(g, #"["ab",12,true]"#)
    }

    func testAllOfMerge() throws {
        let g = try compile(schema(#"""
        {"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},
                  {"properties":{"b":{"type":"integer","minimum":0}},"required":["b"]}]}
        """#))
        XCTAssertTrue(run(g, #"{"a":"x","b":3}"#))
        XCTAssertFalse(run(g, #"{"a":"x"}"#))
        XCTAssertFalse(run(g, #"{"a":"x","b":-3}"#))
    }

    func testUnsupportedKeywordsAreNamed() {
        let cases: [(String, String)] = [
            (#"{"not":{"minLength":3}}"#, "not"),
            (#"{"not":{"type":"integer"}}"#, "not"),
            (#"{"type":"array","uniqueItems":true}"#, "uniqueItems"),
            (#"{"if":{"type":"string"},"then":{"minLength":1}}"#, "if"),
            (#"{"type":"object","properties":{"a":{}},"propertyNames":{"maxLength":3}}"#, "propertyNames"),
            (#"{"type":"number","multipleOf":0.5}"#, "multipleOf"),
            (#"{"allOf":[{"properties":{"a":{}}}],"unevaluatedProperties":false}"#, "unevaluatedProperties"),
        ]
        for (text, keyword) in cases {
            XCTAssertThrowsError(try compile(schema(text)), keyword) { error in
                guard case .unsupportedKeyword(let k, _)? = error as? GrammarError else { return XCTFail("\(error)") }
                XCTAssertEqual(k, keyword)
            }
        }
        for (pattern, construct) in [("(a)\\1", "backreference"), ("a(?=b)", "lookahead"), ("\\bword", "word boundary")] {
            XCTAssertThrowsError(try compile(.object(["type": "string", "pattern": .string(pattern)]))) { error in
                guard case .unsupportedRegex(let c, _)? = error as? GrammarError else { return XCTFail("\(error)") }
                XCTAssertTrue(c.contains(construct), c)
            }
        }
        XCTAssertThrowsError(try compile(schema(##"{"$ref":"#/$defs/missing"}"##)))
    }

    func testForcedBytesAndRollback() throws {
        let g = try compile(schema(#"{"type":"object","properties":{"name":{"const":"get_weather"},"arguments":{"type":"object"}},"required":["name","arguments"]}"#))
        var m = g.makeMatcher()
        XCTAssertEqual(String(decoding: m.forcedBytes(), as: UTF8.self), #"{"name":"get_weather","arguments":{"#)
        XCTAssertTrue(m.accept(bytes: Array(#"{"name":"get_weather","arguments":{"#.utf8)))
        XCTAssertTrue(m.accept(bytes: Array("}".utf8)))
        XCTAssertEqual(String(decoding: m.forcedBytes(), as: UTF8.self), "}")
        XCTAssertTrue(m.accept(bytes: Array("}".utf8)))
        XCTAssertTrue(m.isComplete)
        XCTAssertTrue(m.accept(token: SyntheticVocab.eos))
        XCTAssertTrue(m.isTerminated)
        m.rollback(3)  // EOG, "}", "}"
        XCTAssertFalse(m.isComplete)
        XCTAssertEqual(m.tokenCount, 1)
        XCTAssertTrue(m.accept(bytes: Array(#""k":1}}"#.utf8)))
        XCTAssertTrue(m.isComplete)
    }

    func testToolCallGrammarSpec() throws {
        let args = schema(#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#)
        let call = GrammarSpec.sequence([
            .literal("<tool_call>\n"),
            .json(schema: .object(["type": "object", "properties": .object(["name": .object(["const": "get_weather"]), "arguments": args]), "required": .array(["name", "arguments"])])),
            .literal("\n</tool_call>"),
        ])
        let g = try GrammarCompiler(vocabulary: SyntheticVocab.shared).compile(.repeated(call, min: 1, max: nil, separator: "\n"))
        let one = "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}\n</tool_call>"
        XCTAssertTrue(run(g, one))
        XCTAssertTrue(run(g, one + "\n" + one))
        XCTAssertFalse(run(g, ""))
        XCTAssertFalse(run(g, "<tool_call>\n{\"name\":\"other\",\"arguments\":{}}\n</tool_call>"))
        assertMaskExact(g, one)
    }

    func testRealVocabularyMasks() throws {
        guard let vocab = RealVocab.smol else { throw XCTSkip("SmolLM2 model not present") }
        let g = try compile(schema(#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0},"tags":{"type":"array","items":{"enum":["a","b"]}}},"required":["name"]}"#), vocab)
        XCTAssertTrue(run(g, #"{"name":"Zoë \"Z\" 東京","age":42,"tags":["a","b"]}"#))
        XCTAssertFalse(run(g, #"{"name":"x","age":-1}"#))
        assertMaskExact(g, #"{"name":"ab c","age":7}"#)
    }

    /// Length-bounded strings reuse the unbounded string's token walks far from their bounds;
    /// near them (and below minLength) they are walked exactly. Checked token by token.
    func testLengthBoundedStringMasksOnRealVocabulary() throws {
        guard let vocab = RealVocab.smol else { throw XCTSkip("SmolLM2 model not present") }
        let g = try compile(schema(#"{"type":"array","items":{"type":"string","minLength":3,"maxLength":120}}"#), vocab)
        let long = String(repeating: "word ", count: 23) + "ab"  // 117 characters: the last 39 from the bound are walked exactly (longest token: 81 bytes)
        let text = #"["abc","héllo \"you\"",""# + long + #""]"#
        XCTAssertTrue(run(g, text))
        assertMaskExact(g, text)
        XCTAssertFalse(run(g, #"["ab"]"#))
        XCTAssertFalse(run(g, #"[""# + long + #"cdef"]"#))
    }
}
