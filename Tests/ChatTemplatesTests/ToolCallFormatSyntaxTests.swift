import ChatAPI
import XCTest
@testable import ChatTemplates

/// `ToolCallSyntax` must describe exactly what the parser accepts: text assembled the way a
/// grammar builder would (literals + compact JSON arguments) parses back to the same calls.
final class ToolCallFormatSyntaxTests: XCTestCase {
    func testSyntaxAssembledOutputParsesBack() throws {
        let calls = [addCall, weatherCall]
        for format in ToolCallFormat.allCases {
            let s = format.syntax
            let count = s.supportsParallelCalls ? 2 : 1
            let body = calls.prefix(count).enumerated().map { i, call in
                s.textBeforeArguments(name: call.name, index: i) + encode(call.arguments, s.argumentsEncoding)
                    + s.textAfterArguments()
            }.joined(separator: s.separator)
            let text = s.sectionPrefix + body + s.sectionSuffix
            let (out, _) = parseWhole(format, text)
            XCTAssertEqual(out.calls.map(\.name), calls.prefix(count).map(\.name), "\(format): \(text)")
            XCTAssertEqual(out.calls.map { canonical(argumentsText: $0.argumentsText) },
                           calls.prefix(count).map { canonical($0.arguments) }, "\(format): \(text)")
            XCTAssertEqual(out.text, "", "\(format): \(text)")
            // Auto mode: the output starts with a trigger.
            XCTAssertTrue(s.triggers.contains { text.hasPrefix($0) || (format == .functionaryV32) },
                          "\(format): \(text) starts with no trigger")
        }
    }

    func testGrammarSegmentsForInsideJSONNames() {
        let s = ToolCallFormat.commandR7B.syntax
        XCTAssertEqual(s.textBeforeArguments(name: "add", index: 3),
                       "{\"tool_call_id\": \"3\", \"tool_name\": \"add\", \"parameters\": ")
        XCTAssertEqual(s.textAfterArguments(), "}")
        XCTAssertEqual(ToolCallFormat.kimiK2.syntax.textBeforeArguments(name: "add", index: 1),
                       "<|tool_call_begin|>functions.add:1<|tool_call_argument_begin|>")
    }

    private func encode(_ arguments: JSONObject, _ encoding: ToolCallSyntax.ArgumentsEncoding) -> String {
        switch encoding {
        case .json:
            return JSONValue.object(arguments).serialized()
        case .xmlParameters(let keyOpen, let keyClose, let valueOpen, let valueClose, let end):
            return arguments.map { key, value in
                keyOpen + key + keyClose + valueOpen + (value.stringValue ?? value.serialized()) + valueClose
            }.joined() + end
        case .gemma:
            return gemmaArguments(arguments)
        }
    }
}
