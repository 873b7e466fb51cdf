import ChatAPI
import JSONSchemaKit
import XCTest

final class KeywordTests: XCTestCase {
    func testBooleanAndEmptySchemas() {
        expect("true", valid: ["1", "null", #"{"a":[]}"#])
        expect("false", invalid: ["1", "null", "{}"])
        expect("{}", valid: ["1", #""x""#])
    }

    func testTypeSingleAndList() {
        expect(#"{"type":"integer"}"#, valid: ["1", "1.0", "-5", "1e2", "12345678901234567890"], invalid: ["1.5", #""1""#, "true", "null"])
        expect(#"{"type":"number"}"#, valid: ["1", "1.5", "-1e-7"], invalid: [#""1""#])
        expect(#"{"type":["string","null"]}"#, valid: [#""a""#, "null"], invalid: ["0", "[]"])
        expect(#"{"type":"boolean"}"#, valid: ["true", "false"], invalid: ["0", #""true""#])
        expect(#"{"type":"array"}"#, valid: ["[]"], invalid: ["{}"])
        expect(#"{"type":"object"}"#, valid: ["{}"], invalid: ["[]"])
    }

    func testDraft04IntegerMeansIntegerLiteral() {
        expect(#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"integer"}"#, valid: ["12"], invalid: ["12.0", "1e2"])
    }

    func testEnumAndConst() {
        expect(#"{"enum":["celsius","fahrenheit",1,null,{"a":[1]}]}"#,
               valid: [#""celsius""#, "1.0", "null", #"{"a":[1.0]}"#], invalid: [#""kelvin""#, "true", #"{"a":[2]}"#])
        expect(#"{"const":{"a":1,"b":2}}"#, valid: [#"{"b":2,"a":1}"#], invalid: [#"{"a":1}"#])
        expect(#"{"const":false}"#, valid: ["false"], invalid: ["0", "null"])
    }

    func testNumericBounds() {
        expect(#"{"minimum":1,"maximum":10}"#, valid: ["1", "10", "5.5", #""not a number""#], invalid: ["0.999", "10.0001", "1e2"])
        expect(#"{"exclusiveMinimum":1,"exclusiveMaximum":10}"#, valid: ["1.0001", "9"], invalid: ["1", "10"])
        // Draft-04 boolean form modifies minimum/maximum.
        expect(#"{"minimum":1,"exclusiveMinimum":true,"maximum":3,"exclusiveMaximum":true}"#, valid: ["2"], invalid: ["1", "3"])
        expect(#"{"minimum":1,"exclusiveMinimum":false}"#, valid: ["1"], invalid: ["0"])
    }

    func testBigIntegersCompareExactly() {
        // 2^53 + 1 and 2^53 are the same Double; the literals still order correctly.
        expect(#"{"maximum":9007199254740992}"#, valid: ["9007199254740992"], invalid: ["9007199254740993"])
        expect(#"{"minimum":100000000000000000000000000001}"#, valid: ["100000000000000000000000000001"], invalid: ["100000000000000000000000000000"])
        expect(#"{"maximum":1e400}"#, valid: ["1e399"], invalid: ["1e401"])
        expect(#"{"const":100000000000000000000000000001}"#, invalid: ["100000000000000000000000000000"])
    }

    func testNumbersWithExponents() {
        expect(#"{"type":"integer","minimum":1e2}"#, valid: ["100", "1.5e2", "1E3"], invalid: ["99", "1.05e1"])
        expect(#"{"multipleOf":1e-3}"#, valid: ["0.125", "5e-3"], invalid: ["0.0001", "1e-4"])
    }

    func testMultipleOfDecimals() {
        expect(#"{"multipleOf":0.01}"#, valid: ["0.07", "19.99", "1", "0", "-4.35", "1e2"], invalid: ["0.001", "19.995"])
        expect(#"{"multipleOf":0.1}"#, valid: ["0.3", "1.1"], invalid: ["0.35"])
        expect(#"{"multipleOf":3}"#, valid: ["9", "-3", "0", "9.0"], invalid: ["10", "4.5"])
        expect(#"{"multipleOf":2.5}"#, valid: ["7.5", "10"], invalid: ["7"])
        expect(#"{"type":"integer","multipleOf":0.123456789}"#, invalid: ["1e308"])
    }

    func testStringLengthCountsCodePoints() {
        expect(#"{"minLength":2,"maxLength":3}"#, valid: [#""ab""#, #""abc""#, #""💩💩""#, #""é\u00e9""#, "12"], invalid: [#""a""#, #""abcd""#, #""💩""#])
        // A flag emoji is one grapheme but two code points.
        expect(#"{"maxLength":1}"#, invalid: [#""🇫🇷""#])
    }

    func testPattern() {
        expect(#"{"pattern":"^[a-z]+$"}"#, valid: [#""abc""#, "12"], invalid: [#""abC""#, #""""#])
        expect(#"{"pattern":"b"}"#, valid: [#""abc""#], invalid: [#""xyz""#])  // unanchored search
    }

    func testFormatIsAsserted() {
        expect(#"{"format":"date"}"#, valid: [#""2024-02-29""#, "42"], invalid: [#""2023-02-29""#, #""2024/01/01""#])
        expect(#"{"format":"no-such-format"}"#, valid: [#""anything""#])
    }

    func testProperties() {
        let s = #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a"],"additionalProperties":false}"#
        expect(s, valid: [#"{"a":"x"}"#, #"{"a":"x","b":2}"#], invalid: ["{}", #"{"a":1}"#, #"{"a":"x","c":1}"#, #"{"a":"x","b":"2"}"#])
        expect(#"{"additionalProperties":{"type":"number"}}"#, valid: [#"{"x":1}"#], invalid: [#"{"x":"1"}"#])
    }

    func testPatternPropertiesAndPropertyNames() {
        expect(#"{"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false}"#,
               valid: [#"{"x-a":"s"}"#, "{}"], invalid: [#"{"x-a":1}"#, #"{"y":"s"}"#])
        expect(#"{"propertyNames":{"maxLength":3,"pattern":"^[a-z]+$"}}"#, valid: [#"{"abc":1}"#], invalid: [#"{"abcd":1}"#, #"{"A":1}"#])
    }

    func testPropertyCounts() {
        expect(#"{"minProperties":1,"maxProperties":2}"#, valid: [#"{"a":1}"#, #"{"a":1,"b":2}"#], invalid: ["{}", #"{"a":1,"b":2,"c":3}"#])
    }

    func testDependencies() {
        expect(#"{"dependentRequired":{"card":["billing"]}}"#, valid: ["{}", #"{"card":1,"billing":2}"#, #"{"billing":2}"#], invalid: [#"{"card":1}"#])
        expect(#"{"dependentSchemas":{"card":{"required":["billing"]}}}"#, valid: [#"{"billing":2}"#], invalid: [#"{"card":1}"#])
        // Draft-07 `dependencies` with both forms.
        expect(#"{"dependencies":{"a":["b"],"c":{"properties":{"d":{"type":"string"}}}}}"#,
               valid: [#"{"a":1,"b":1}"#, #"{"c":1,"d":"x"}"#], invalid: [#"{"a":1}"#, #"{"c":1,"d":2}"#])
    }

    func testItemsAndPrefixItems() {
        expect(#"{"items":{"type":"integer"}}"#, valid: ["[]", "[1,2]"], invalid: [#"[1,"2"]"#])
        expect(#"{"prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}"#,
               valid: [#"["a",1]"#, #"["a"]"#], invalid: [#"["a",1,2]"#, #"[1]"#])
        // Draft-07 array form: items + additionalItems.
        expect(#"{"$schema":"http://json-schema.org/draft-07/schema#","items":[{"type":"string"}],"additionalItems":{"type":"boolean"}}"#,
               valid: [#"["a",true,false]"#], invalid: [#"["a",1]"#, "[1]"])
    }

    func testArrayCountsAndUniqueness() {
        expect(#"{"minItems":1,"maxItems":2}"#, valid: ["[1]", "[1,2]"], invalid: ["[]", "[1,2,3]"])
        expect(#"{"uniqueItems":true}"#, valid: ["[1,2]", #"[{"a":1},{"a":2}]"#, "[1,true]", "[0,false]"],
               invalid: ["[1,1.0]", #"[{"a":1,"b":2},{"b":2,"a":1}]"#, "[[1],[1]]"])
        let many = "[" + (0..<100).map(String.init).joined(separator: ",") + ",50]"
        expect(#"{"uniqueItems":true}"#, invalid: [many])
    }

    func testContains() {
        expect(#"{"contains":{"type":"string"}}"#, valid: [#"[1,"a"]"#], invalid: ["[1,2]", "[]"])
        expect(#"{"contains":{"type":"string"},"minContains":2,"maxContains":3}"#,
               valid: [#"["a","b"]"#, #"["a","b","c",1]"#], invalid: [#"["a"]"#, #"["a","b","c","d"]"#])
        expect(#"{"contains":{"type":"string"},"minContains":0}"#, valid: ["[]", "[1]"])
    }

    func testCombinators() {
        expect(#"{"anyOf":[{"type":"string"},{"minimum":5}]}"#, valid: [#""a""#, "7"], invalid: ["1"])
        expect(#"{"oneOf":[{"type":"integer"},{"minimum":5}]}"#, valid: ["1", "5.5"], invalid: ["7", "2.5"])
        expect(#"{"allOf":[{"type":"integer"},{"minimum":5}]}"#, valid: ["7"], invalid: ["4", "7.5"])
        expect(#"{"not":{"type":"string"}}"#, valid: ["1"], invalid: [#""a""#])
    }

    func testIfThenElse() {
        let s = #"{"if":{"properties":{"kind":{"const":"a"}}},"then":{"required":["x"]},"else":{"required":["y"]}}"#
        expect(s, valid: [#"{"kind":"a","x":1}"#, #"{"kind":"b","y":1}"#], invalid: [#"{"kind":"a","y":1}"#, #"{"kind":"b","x":1}"#])
        // Before draft-07, if/then/else are unknown keywords.
        expect(#"{"$schema":"http://json-schema.org/draft-06/schema#","if":true,"then":false}"#, valid: ["1"])
    }

    func testUnevaluatedProperties() {
        let s = #"{"properties":{"a":true},"allOf":[{"properties":{"b":true}}],"anyOf":[{"properties":{"c":{"type":"string"}}},{"required":["z"]}],"unevaluatedProperties":false}"#
        expect(s, valid: [#"{"a":1,"b":2}"#, #"{"a":1,"c":"s"}"#], invalid: [#"{"a":1,"d":2}"#, #"{"c":1,"z":1}"#])
    }

    func testUnevaluatedItems() {
        expect(#"{"prefixItems":[true],"allOf":[{"prefixItems":[true,true]}],"unevaluatedItems":false}"#,
               valid: ["[1,2]"], invalid: ["[1,2,3]"])
        expect(#"{"contains":{"type":"string"},"unevaluatedItems":{"type":"integer"}}"#, valid: [#"["a",1]"#], invalid: [#"["a",true]"#])
    }

    func testUnknownKeywordsAreAnnotationsButListed() throws {
        let s = try JSONSchema(json: json(#"{"type":"object","x-vendor":1,"properties":{"a":{"title":"A","description":"d","type":"string"}}}"#))
        XCTAssertTrue(s.isValid(json(#"{"a":"x"}"#)))
        XCTAssertEqual(s.unknownKeywords, ["x-vendor", "title", "description"])
        XCTAssertTrue(s.usedKeywords.isSuperset(of: ["type", "properties"]))
    }
}
