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

    /// The decoder feeds the output from the trigger on to the call grammar, which starts with
    /// `sectionPrefix + textBeforeArguments`; a trigger that is no prefix of that text makes it
    /// reject and drop the constraint. Alternative spellings the parser also reads, which the
    /// grammar cannot take, are listed with the reason.
    static let triggersOutsideTheGrammar: [String: String] = [
        "<｜tool▁call▁begin｜>": "DeepSeek: a call without the section marker; parsed, not constrained",
        "functools[": "Firefunction: the section without its leading space; parsed, not constrained",
        "<|channel|>commentary to=functions.": "gpt-oss: recipient after the channel; parsed, not constrained",
    ]

    func testTriggersArePrefixesOfTheCallGrammar() {
        for format in ToolCallFormat.allCases {
            let s = format.syntax
            let call = s.sectionPrefix + s.textBeforeArguments(name: "get_weather", index: 0)
            // The generic grammar also takes the fenced and the `tool_calls` forms.
            let accepted = format == .generic ? [call, "```json\n" + call, "{\"tool_calls\": [" + call] : [call]
            XCTAssertFalse(s.triggers.isEmpty, "\(format)")
            for trigger in s.triggers where Self.triggersOutsideTheGrammar[trigger] == nil {
                XCTAssertTrue(accepted.contains { $0.hasPrefix(trigger) }, "\(format): trigger \(trigger.debugDescription) starts no call")
            }
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
                keyOpen + key + ToolCallSyntax.keyClose(keyClose, beforeString: value.stringValue != nil) + valueOpen
                    + (value.stringValue ?? value.serialized()) + valueClose
            }.joined() + end
        case .gemma:
            return gemmaArguments(arguments)
        case .pythonKeywords:
            return arguments.map { key, value in key + "=" + value.serialized() }.joined(separator: ", ")
        }
    }
}
