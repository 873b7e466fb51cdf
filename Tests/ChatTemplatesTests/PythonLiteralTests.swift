import ChatAPI
import XCTest
@testable import ChatTemplates

/// Templates that write non-string arguments with `| string` (Seed-OSS) spell them as Python
/// literals; the parser reads them back as the JSON they stand for.
final class PythonLiteralTests: XCTestCase {
    func testLiteralsReadAsJSON() throws {
        XCTAssertEqual(PythonLiteral.parse("{'tags': ['x', \"y\"], 'depth': 2, 'on': True, 'off': False, 'n': None}"),
                       ["tags": ["x", "y"], "depth": 2, "on": true, "off": false, "n": .null])
        XCTAssertEqual(PythonLiteral.parse("(1, -2.5e3, 'it\\'s\\n')"), [1, -2500, "it's\n"])
        XCTAssertEqual(PythonLiteral.parse(" [ ] "), [])
    }

    func testAnythingElseIsNil() {
        for text in ["{'a': 1", "{1: 2}", "['a' 'b']", "inf", "os.system('x')", "{'a': 1}}", "'open"] {
            XCTAssertNil(PythonLiteral.parse(text), text)
        }
        XCTAssertNil(PythonLiteral.parse(String(repeating: "[", count: 100_000)), "nesting is bounded")
    }

    func testSeedOSSValuesComeBackTyped() {
        var parser = ToolCallFormat.seedOSS.makeParser(tools: testTools)
        let text = "<seed:tool_call>\n<function=search>\n<parameter=query>a < b</parameter>\n"
            + "<parameter=filters>{'tags': ['x'], 'depth': 2}</parameter>\n<parameter=exact>True</parameter>\n"
            + "<parameter=limit>None</parameter>\n</function>\n</seed:tool_call>"
        let events = parser.parse(text)
        let arguments = events.compactMap { event -> String? in
            if case .argumentsDelta(_, let fragment) = event { return fragment }
            return nil
        }.joined()
        XCTAssertEqual(try JSONValue(parsing: arguments),
                       ["query": "a < b", "filters": ["tags": ["x"], "depth": 2], "exact": true, "limit": .null])
    }
}
