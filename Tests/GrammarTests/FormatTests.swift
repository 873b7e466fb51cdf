import ChatAPI
import XCTest
@testable import Grammar
@testable import JSONSchemaKit

/// Every `format` the grammar enforces admits exactly what JSONSchemaKit's validator accepts
/// (apart from the narrowings listed in FormatPatterns), and every other asserted format is
/// refused by name.
final class FormatTests: XCTestCase {
    /// Asserts grammar and validator agree on each value (a JSON string built from it).
    private func assertAgrees(_ format: String, _ values: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let s: JSONValue = ["type": "string", "format": .string(format)]
        let g = try compile(s)
        let validator = try JSONSchema(json: s)
        for v in values {
            let expected = validator.isValid(.string(v))
            XCTAssertEqual(run(g, JSONValue.string(v).serialized(), file: file, line: line), expected,
                           "\(format) \(v): validator says \(expected)", file: file, line: line)
        }
    }

    func testTheGrammarKnowsEveryFormatTheValidatorAsserts() {
        XCTAssertEqual(FormatPatterns.asserted, Set(FormatKind.allCases.map(\.rawValue)))
    }

    func testDatesKnowMonthLengthsAndLeapYears() throws {
        let g = try compile(schema(#"{"type":"string","format":"date"}"#))
        for ok in ["2024-02-29", "2000-02-29", "2023-02-28", "2023-04-30", "2023-12-31", "0000-02-29"] {
            XCTAssertTrue(run(g, "\"\(ok)\""), ok)
        }
        for bad in ["2024-02-30", "2023-02-29", "1900-02-29", "2100-02-29", "2023-04-31", "2023-06-31", "2023-13-01", "2023-00-01", "2023-01-00", "2023-1-01"] {
            XCTAssertFalse(run(g, "\"\(bad)\""), bad)
        }
        try assertAgrees("date", ["2024-02-29", "2024-02-30", "2023-02-29", "1900-02-29", "2000-02-29", "1996-02-29", "2023-11-31", "2023-11-30", "2023-07-31"])
    }

    func testDateTimesAndTimes() throws {
        try assertAgrees("date-time", ["2024-02-29T23:59:60Z", "1990-12-31T15:59:59.123-08:00", "2024-01-01t00:00:00z",
                                       "2024-02-30T00:00:00Z", "2023-02-29T10:00:00Z", "2024-01-01T24:00:00Z",
                                       "2024-01-01T00:00:00", "2024-01-01T22:59:60Z", "2024-01-01 00:00:00Z"])
        try assertAgrees("time", ["23:59:60Z", "23:59:60+00:00", "00:00:00+23:59", "12:34:56.789Z", "24:00:00Z", "12:60:00Z",
                                  "12:00:61Z", "12:00:00", "12:00:00+24:00", "22:59:60Z", "12:00:00.Z"])
    }

    func testLeapSecondsWithAnOffsetAreANarrowing() throws {
        // Valid (23:59 UTC) but refused by the grammar, as FormatPatterns.time documents.
        let g = try compile(schema(#"{"type":"string","format":"time"}"#))
        XCTAssertTrue(try JSONSchema(json: schema(#"{"format":"time"}"#)).isValid("01:29:60+01:30"))
        XCTAssertFalse(run(g, #""01:29:60+01:30""#))
    }

    func testAddresses() throws {
        try assertAgrees("ipv4", ["0.0.0.0", "255.255.255.255", "192.168.1.1", "256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.04"])
        try assertAgrees("ipv6", ["::", "::1", "1:2:3:4:5:6:7:8", "1::", "fe80::1:2", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4",
                                  "1:2:3:4:5:6:7::", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "1:2:3:4:5:6:7:1.2.3.4",
                                  ":1:2", "::1.2.3.256", "1:2:3:4:5:6:7", "::1:2:3:4:5:6:7"])
        try assertAgrees("uuid", ["123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-42661417400", "123e4567e89b12d3a456426614174000"])
        try assertAgrees("hostname", ["example.com", "localhost", "a-b.c", "x.", String(repeating: "a", count: 63) + ".com",
                                      "a.b.c.d.example.co.uk", "-a.com", "a-.com", "a..b", String(repeating: "a", count: 64) + ".com",
                                      "a_b.com", "", "."])
        try assertAgrees("email", ["joe@example.com", "a.b+c@x.io", "\"a..b\"@x.com", "\"a@b\"@x.com", "x@[1.2.3.4]", "x@[IPv6:::1]",
                                   "joe", "@x.com", ".a@x.com", "a.@x.com", "a..b@x.com", "a@-x.com",
                                   String(repeating: "a", count: 64) + "@x.com", String(repeating: "a", count: 65) + "@x.com", "é@x.com"])
    }

    func testURIsAndReferences() throws {
        try assertAgrees("uri", ["http://example.com/path?q=1#frag", "mailto:joe@example.com", "urn:isbn:0451450523",
                                 "http://[::1]:80/", "file:///etc/x", "http://u@h:8/%20", "//example.com", "/path",
                                 "http://exa mple.com", "http://x/%zz", "1http://x", "http://x/#a#b", "http://x@y/%2",
                                 "http://x:y/", "http://[v1.x]/", "http://[1::2::3]/", "a:b?c?d#e?f"])
        try assertAgrees("uri-reference", ["/path", "//host/p", "a/b:c", "?q", "#f", "", "http://x/y", "a:b c", "%zz", "1a:b", "http://x/%"])
        try assertAgrees("iri", ["http://exé.com/é", "/rel", "http://x y"])
        try assertAgrees("iri-reference", ["é/x", "/p", "a b"])
    }

    func testOtherAssertedFormats() throws {
        try assertAgrees("duration", ["P1Y", "P1W", "PT1H", "P1Y2M3DT4H5M6S", "P1DT1S", "P", "PT", "P1YT", "P1H", "P1W1D", "P1M1Y", "1Y"])
        try assertAgrees("json-pointer", ["", "/a", "/a~0b~1", "/", "a", "/~2", "/~"])
        try assertAgrees("relative-json-pointer", ["0", "1#", "2/a", "10/b", "01", "-1", "/a", "#", "1#/a"])
        try assertAgrees("uri-template", ["http://x/{a}", "{a}{b}", "plain", "{a", "a}", "{{a}}"])
    }

    func testFormatsWithoutAnExactAutomatonAreRefusedByName() {
        for f in ["regex", "idn-email", "idn-hostname"] {
            XCTAssertThrowsError(try compile(.object(["type": "string", "format": .string(f)])), f) { error in
                guard case .unsupportedKeyword("format", _)? = error as? GrammarError else { return XCTFail("\(error)") }
            }
        }
    }

    func testFormatsTheValidatorIgnoresStayAnnotations() throws {
        let g = try compile(schema(#"{"type":"string","format":"int32"}"#))
        XCTAssertTrue(run(g, #""anything""#))
    }

    func testEnumValuesAreCheckedAgainstTheirFormat() throws {
        let g = try compile(schema(#"{"type":"string","format":"date","enum":["2024-02-29","2023-02-29"]}"#))
        XCTAssertTrue(run(g, #""2024-02-29""#))
        XCTAssertFalse(run(g, #""2023-02-29""#))
    }
}
