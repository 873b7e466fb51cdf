import ChatAPI
import JSONSchemaKit
import XCTest

final class ReferenceTests: XCTestCase {
    func testDefsAndDefinitions() {
        expect(##"{"$defs":{"pos":{"type":"integer","minimum":1}},"properties":{"n":{"$ref":"#/$defs/pos"}}}"##,
               valid: [#"{"n":1}"#], invalid: [#"{"n":0}"#])
        expect(##"{"definitions":{"s":{"type":"string"}},"items":{"$ref":"#/definitions/s"}}"##, valid: [##"["a"]"##], invalid: ["[1]"])
    }

    func testRecursiveRefTerminates() {
        let tree = ##"{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#"}}},"required":["value"]}"##
        expect(tree, valid: [#"{"value":1,"children":[{"value":2,"children":[{"value":3}]}]}"#],
               invalid: [#"{"value":1,"children":[{"value":2,"children":[{}]}]}"#])
        let list = ##"{"$defs":{"node":{"type":["object","null"],"properties":{"next":{"$ref":"#/$defs/node"}}}},"$ref":"#/$defs/node"}"##
        expect(list, valid: [#"{"next":{"next":null}}"#], invalid: [#"{"next":{"next":1}}"#])
    }

    func testRefCycleWithoutDescentIsRefusedInsteadOfLooping() throws {
        // A schema that applies itself to the same value can never finish validating one.
        let cycle = try JSONValue(parsing: ##"{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}"##)
        XCTAssertThrowsError(try JSONSchema(json: cycle)) { error in
            XCTAssertTrue("\(error)".contains("cycle"), "\(error)")
        }
    }

    func testPointerEscapes() {
        let s = ##"{"$defs":{"a/b":{"type":"string"},"c~d":{"type":"integer"},"e f":{"type":"boolean"},"%25":{"type":"null"}},"properties":{"x":{"$ref":"#/$defs/a~1b"},"y":{"$ref":"#/$defs/c~0d"},"z":{"$ref":"#/$defs/e%20f"},"w":{"$ref":"#/$defs/%2525"}}}"##
        expect(s, valid: [#"{"x":"s","y":1,"z":true,"w":null}"#], invalid: [#"{"x":1}"#, #"{"y":"s"}"#, #"{"z":1}"#, #"{"w":1}"#])
    }

    func testRefIntoArraysAndProperties() {
        expect(##"{"properties":{"a":{"type":"string"},"b":{"$ref":"#/properties/a"}},"anyOf":[{"minProperties":1},{"$ref":"#/anyOf/0"}]}"##,
               valid: [#"{"b":"x"}"#], invalid: [#"{"b":1}"#])
    }

    func testIdAndAnchors() {
        let s = ##"{"$id":"https://example.com/root.json","$defs":{"a":{"$anchor":"thing","type":"string"},"b":{"$id":"other.json","$defs":{"c":{"type":"integer"}},"$ref":"#/$defs/c"}},"properties":{"p":{"$ref":"#thing"},"q":{"$ref":"other.json"},"r":{"$ref":"https://example.com/other.json#/$defs/c"}}}"##
        expect(s, valid: [#"{"p":"s","q":1,"r":2}"#], invalid: [#"{"p":1}"#, #"{"q":"s"}"#, #"{"r":"s"}"#])
        // Draft-07 plain-name fragment in $id.
        expect(##"{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"x":{"$id":"#named","type":"null"}},"$ref":"#named"}"##,
               valid: ["null"], invalid: ["1"])
    }

    func testSiblingsOfRef() {
        // 2020-12: siblings apply. Draft-07: `$ref` replaces them.
        expect(##"{"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":2}"##, valid: [##""ab""##], invalid: [##""abc""##])
        expect(##"{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"s":{"type":"string"}},"$ref":"#/definitions/s","maxLength":2}"##,
               valid: [#""abc""#])
    }

    func testRemoteAndBrokenRefsAreSchemaErrors() {
        let remote = schemaError(#"{"properties":{"a":{"$ref":"https://example.com/schema.json"}}}"#)
        XCTAssertEqual(remote?.keyword, "$ref")
        XCTAssertEqual(remote?.schemaPath, "/properties/a")
        XCTAssertTrue(remote?.message.contains("remote $ref not supported") ?? false)
        let missing = schemaError(##"{"$ref":"#/$defs/nope"}"##)
        XCTAssertTrue(missing?.message.contains("unresolvable") ?? false, "\(String(describing: missing))")
        XCTAssertNotNil(schemaError(##"{"$ref":"#nope"}"##))
    }
}
