import ChatAPI
import ChatTemplates
import Grammar
import XCTest
@testable import LocalBackend

/// Every format that writes JSON arguments gets its call grammar from its `syntax` alone. That
/// grammar must admit the calls a correct model writes (one, and two where the family calls in
/// parallel), the format's parser must read them back, and a mistyped argument is refused.
final class JSONArgumentCallGrammarTests: XCTestCase {
    static let jsonFormats = ToolCallFormat.allCases.filter { $0.syntax.argumentsEncoding == .json }

    static let tools = [
        FunctionDefinition(name: "get_weather", parameters: [
            "type": "object",
            "properties": ["city": ["type": "string"], "unit": ["type": "string", "enum": ["celsius", "fahrenheit"]]],
            "required": ["city"],
        ]),
        FunctionDefinition(name: "add", parameters: [
            "type": "object", "properties": ["a": ["type": "number"], "b": ["type": "number"]], "required": ["a", "b"],
        ]),
    ]

    static let calls: [(name: String, arguments: JSONObject)] = [
        ("get_weather", ["city": "Zürich \"old town\" <b>", "unit": "celsius"]),
        ("add", ["a": 2, "b": 3.5]),
    ]

    /// Calls assembled from the syntax the way the grammar spells them (compact JSON).
    private func written(_ format: ToolCallFormat, _ calls: [(name: String, arguments: JSONObject)]) -> String {
        let s = format.syntax
        let body = calls.enumerated().map { index, call in
            s.textBeforeArguments(name: call.name, index: index) + JSONValue.object(call.arguments).serialized()
                + s.textAfterArguments()
        }.joined(separator: s.separator)
        return s.sectionPrefix + body + s.sectionSuffix
    }

    func testNewerJSONFormatsAreConstrained() {
        for format in [ToolCallFormat.minimaxM1, .nemotronV2, .apertus, .solarOpen] {
            XCTAssertTrue(Self.jsonFormats.contains(format), "\(format)")
        }
    }

    func testTheFormatsOwnCallsAreAdmittedAndParseBack() throws {
        for format in Self.jsonFormats {
            let g = try CallGrammarCheck.grammar(format, Self.tools)
            let count = format.syntax.supportsParallelCalls ? 2 : 1
            let expected = Array(Self.calls.prefix(count))
            let text = written(format, expected)
            XCTAssertTrue(CallGrammarCheck.admits(g, text), "\(format): \(text)")
            let parsed = CallGrammarCheck.parse(format, text, tools: Self.tools)
            XCTAssertEqual(parsed.map(\.name), expected.map(\.name), "\(format): \(text)")
            XCTAssertEqual(try parsed.map { try JSONValue(parsing: $0.arguments) }, expected.map { .object($0.arguments) },
                           "\(format): \(text)")
        }
    }

    func testAMistypedOrUndeclaredCallIsRefused() throws {
        for format in Self.jsonFormats {
            let g = try CallGrammarCheck.grammar(format, Self.tools)
            XCTAssertFalse(CallGrammarCheck.admits(g, written(format, [("add", ["a": "two", "b": 3])])), "\(format): mistyped")
            XCTAssertFalse(CallGrammarCheck.admits(g, written(format, [("add", ["a": 2])])), "\(format): required missing")
            XCTAssertFalse(CallGrammarCheck.admits(g, written(format, [("delete_all", [:])])), "\(format): undeclared tool")
        }
    }
}
