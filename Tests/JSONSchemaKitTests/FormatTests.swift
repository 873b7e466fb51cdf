import ChatAPI
import JSONSchemaKit
import XCTest

final class FormatTests: XCTestCase {
    private func format(_ name: String, valid: [String], invalid: [String], file: StaticString = #filePath, line: UInt = #line) {
        let s = schema(#"{"format":"\#(name)"}"#, file: file, line: line)
        for v in valid { XCTAssertTrue(s.isValid(.string(v)), "\(name): \(v) should be valid", file: file, line: line) }
        for v in invalid { XCTAssertFalse(s.isValid(.string(v)), "\(name): \(v) should be invalid", file: file, line: line) }
    }

    func testDateTime() {
        format("date-time", valid: ["2024-01-31T12:00:00Z", "2024-01-31t12:00:00.123+05:30", "1998-12-31T23:59:60Z", "2016-12-31T15:59:60-08:00"],
               invalid: ["2024-01-31 12:00:00Z", "2024-01-31T12:00:00", "2024-02-30T00:00:00Z", "2024-01-31T24:00:00Z", "2024-01-31T12:00:60Z", "not a date"])
        format("date", valid: ["2000-02-29", "2024-12-31"], invalid: ["1900-02-29", "2024-13-01", "2024-1-01", "20240101"])
        format("time", valid: ["08:30:06Z", "23:59:59.5+01:00"], invalid: ["08:30:06", "8:30:06Z", "08:30Z"])
        format("duration", valid: ["P1D", "PT1H30M", "P1Y2M3DT4H5M6S", "P2W", "P1M"], invalid: ["P", "PT", "1D", "P1H", "PT1D", "P1D2Y", "P1W2D"])
    }

    func testInternetFormats() {
        format("email", valid: ["a@example.com", "first.last+tag@sub.example.org"], invalid: ["plainaddress", "@example.com", "a@", "a..b@example.com", "a@-bad.com"])
        format("hostname", valid: ["example.com", "a-b.c", "localhost", "xn--bcher-kva.example"], invalid: ["-a.com", "a..b", String(repeating: "a", count: 64) + ".com", "under_score.com"])
        format("ipv4", valid: ["192.168.0.1", "0.0.0.0", "255.255.255.255"], invalid: ["256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "a.b.c.d"])
        format("ipv6", valid: ["::1", "::", "2001:db8::8a2e:370:7334", "1:2:3:4:5:6:7:8", "::ffff:192.168.1.1", "fe80::"],
               invalid: ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", ":1:2", "1:2:3:4:5:6:7", "::ffff:999.1.1.1", "fe80::1%eth0"])
        format("uuid", valid: ["123e4567-e89b-12d3-a456-426614174000"], invalid: ["123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g"])
    }

    func testURIs() {
        format("uri", valid: ["https://example.com/a?b=c#d", "urn:isbn:0451450523", "mailto:a@b.c", "http://[::1]:8080/"],
               invalid: ["/relative/path", "example.com", "http://exa mple.com", "https://example.com/%zz", "://"])
        format("uri-reference", valid: ["/relative/path", "../up", "#frag", "https://example.com", ""], invalid: ["://", "a b", "\\\\windows"])
        format("json-pointer", valid: ["", "/a/b~0~1"], invalid: ["a", "/a~2"])
        format("regex", valid: ["^[a-z]+$"], invalid: ["(unclosed"])
    }

    func testNonStringsPassFormats() {
        XCTAssertTrue(schema(#"{"format":"email"}"#).isValid(42))
    }
}
