import XCTest
@testable import ChatAPI

final class JSONParserTests: XCTestCase {
    func testKeepsKeyOrderAndNumberText() throws {
        let v = try JSONValue(parsing: #"{"b": 1.50, "a": [true, null, "x\u00e9\ud83d\ude00"], "c": 1e3}"#)
        XCTAssertEqual(Array(v.objectValue!.keys), ["b", "a", "c"])
        XCTAssertEqual(v.serialized(), #"{"b":1.50,"a":[true,null,"xé😀"],"c":1e3}"#)
        XCTAssertEqual(v["c"], .int(1000))  // numeric equality
    }

    func testRejectsMalformed() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "tru", "\"\u{01}\"", "[1] 2", "\"\\ud800\""] {
            XCTAssertThrowsError(try JSONValue(parsing: bad), bad)
        }
    }

    func testDepthIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONValue(parsing: deep))
    }

    func testPythonStyleFormatting() throws {
        let v = try JSONValue(parsing: #"{"a":[1,2],"b":"é"}"#)
        let f = JSONFormatting(itemSeparator: " ", keySeparator: ": ", asciiOnly: true)
        XCTAssertEqual(v.serialized(f), #"{"a": [1, 2], "b": "\u00e9"}"#)
        let indented = JSONFormatting(itemSeparator: " ", keySeparator: ": ", indent: 2)
        XCTAssertEqual(v.serialized(indented), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": \"é\"\n}")
    }

    /// Whole numbers are decided from the digits, as JSON Schema's `integer` is, not through a Double.
    func testIntegerLiteralsAreDecidedExactly() throws {
        for (text, whole) in [("3", true), ("-0", true), ("3.0", true), ("1.50e1", true), ("100e-2", true), ("78E915", true),
                              ("1E+2", true), ("0.000", true), ("3.5", false), ("1e-1", false), ("1.0000000000000001", false),
                              ("12e-1", false), ("1e-99999999999999999999", false)] {
            guard case .number(let number) = try JSONValue(parsing: text) else { return XCTFail(text) }
            XCTAssertEqual(number.isInteger, whole, text)
        }
    }
}
