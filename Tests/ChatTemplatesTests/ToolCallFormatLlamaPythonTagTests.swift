import ChatAPI
import Foundation
import XCTest
@testable import ChatTemplates

/// Llama 3.x: built-in tool calls and code after `<|python_tag|>`, and the bare JSON object.
final class ToolCallFormatLlamaPythonTagTests: XCTestCase {
    static let builtinTools: [FunctionDefinition] = testTools + [
        FunctionDefinition(name: "brave_search", parameters: ["type": "object", "properties": ["query": ["type": "string"]]]),
        FunctionDefinition(name: "wolfram_alpha", parameters: ["type": "object", "properties": ["query": ["type": "string"]]]),
        FunctionDefinition(name: "python", parameters: ["type": "object", "properties": ["code": ["type": "string"]]]),
    ]

    func assertParses(_ text: String, name: String, arguments: JSONValue, tools: [FunctionDefinition] = builtinTools,
                      file: StaticString = #filePath, line: UInt = #line) {
        let (whole, _) = parseWhole(.llama3, text, tools: tools)
        XCTAssertEqual(whole.calls.map(\.name), [name], "\(text.debugDescription) → \(whole)", file: file, line: line)
        XCTAssertEqual(whole.calls.first.flatMap { try? JSONValue(parsing: $0.argumentsText) }, arguments,
                       "\(text.debugDescription) → \(whole)", file: file, line: line)
        XCTAssertEqual(whole.structure, ["start0", "end0"], "\(whole)", file: file, line: line)
        XCTAssertEqual(whole.text, "", "\(whole)", file: file, line: line)
        XCTAssertTrue(whole.calls.allSatisfy { isCompactJSON($0.argumentsText) }, "\(whole)", file: file, line: line)
        XCTAssertEqual(parseBytewise(.llama3, text, tools: tools).0, whole, "byte-wise", file: file, line: line)
        XCTAssertEqual(parseCharacterwise(.llama3, text, tools: tools).0, whole, "character-wise", file: file, line: line)
    }

    func testBuiltinToolCalls() {
        assertParses("<|python_tag|>brave_search.call(query=\"weather in Zürich today\")<|eom_id|>",
                     name: "brave_search", arguments: ["query": "weather in Zürich today"])
        assertParses("<|python_tag|>wolfram_alpha.call(query=\"solve x^2 = 4 (real)\")",
                     name: "wolfram_alpha", arguments: ["query": "solve x^2 = 4 (real)"])
        // Several keyword arguments, single quotes, escapes and a non-string literal.
        assertParses("<|python_tag|>search.call(query='say \\'hi\\', \"there\"', limit=3, exact=True)<|eom_id|>",
                     name: "search", arguments: ["query": "say 'hi', \"there\"", "limit": 3, "exact": true])
    }

    func testCodeAfterThePythonTagIsAPythonCall() {
        let code = "import math\nprint(math.sqrt(2) < 1.5, \"<done>\")"
        assertParses("<|python_tag|>" + code + "<|eom_id|>", name: "python", arguments: ["code": .string(code)])
        assertParses("<|python_tag|>" + code, name: "python", arguments: ["code": .string(code)])
        // Meta's name for the tool, when that is what the request declares.
        let interpreter = testTools + [FunctionDefinition(name: "code_interpreter")]
        assertParses("<|python_tag|>x = 1", name: "code_interpreter", arguments: ["code": "x = 1"], tools: interpreter)
    }

    func testJSONAfterThePythonTagAndBareJSONStillParse() {
        assertParses("<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}<|eom_id|>",
                     name: "get_weather", arguments: ["city": "Paris"])
        assertParses("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
                     name: "get_weather", arguments: ["city": "Paris"])
        assertParses("{\"type\": \"function\", \"name\": \"add\", \"parameters\": {\"a\": 1, \"b\": 2}}",
                     name: "add", arguments: ["a": 1, "b": 2])
        assertParses("\n {\"name\":\"add\",\"arguments\":{\"a\":1}} \n", name: "add", arguments: ["a": 1])
        // A bare object naming no listed tool is text.
        let text = "{\"name\": \"Ada\", \"parameters\": {}}"
        XCTAssertEqual(parseWhole(.llama3, text).0.text, text)
    }

    func testMalformedBuiltinCallIsReported() {
        let (out, _) = parseWhole(.llama3, "<|python_tag|>brave_search.call(\"positional\")", tools: Self.builtinTools)
        XCTAssertEqual(out.structure, ["start0", "bad0"], "\(out)")
        let (open, _) = parseWhole(.llama3, "<|python_tag|>brave_search.call(query=\"never closed", tools: Self.builtinTools)
        XCTAssertEqual(open.structure, ["start0", "bad0"], "\(open)")
        // After the tag, JSON naming an unlisted tool is still a call (the caller validates the
        // name), as a built-in call is; JSON that is no call is malformed, never text.
        let (unlisted, _) = parseWhole(.llama3, "<|python_tag|>{\"name\": \"nope\", \"parameters\": {}}", tools: Self.builtinTools)
        XCTAssertEqual(unlisted.calls.map(\.name), ["nope"], "\(unlisted)")
        XCTAssertEqual(unlisted.text, "")
        let (notACall, _) = parseWhole(.llama3, "<|python_tag|>{\"answer\": 42}", tools: Self.builtinTools)
        XCTAssertEqual(notACall.malformed.count, 1, "\(notACall)")
        XCTAssertFalse(notACall.text.contains("python_tag"), "\(notACall)")
        XCTAssertEqual(parseWhole(.llama3, "<|python_tag|>", tools: Self.builtinTools).0, ParsedOutput())
    }

    /// The Llama 3.1 template renders built-in tool calls (`builtin_tools`) this way; the
    /// generated part parses back to the same call.
    func testBuiltinCallRenderedByTheLlama31TemplateRoundTrips() throws {
        let url = ToolCallFormatDetectionTests.templatesDirectory.appendingPathComponent("meta-llama-Llama-3.1-8B-Instruct.jinja")
        let template = try ChatTemplate(source: String(contentsOf: url, encoding: .utf8))
        let user: JSONValue = ["role": "user", "content": "Search the weather in Zürich."]
        let call: JSONValue = ["role": "assistant", "content": "", "tool_calls": [
            ["id": "c1", "type": "function", "function": ["name": "brave_search", "arguments": ["query": "weather Zürich"]]],
        ]]
        let extra: [String: JSONValue] = ["builtin_tools": ["brave_search", "wolfram_alpha"]]
        let prompt = try template.render(ChatTemplateContext(messages: [user], tools: ToolCallTemplateRoundTripTests.toolsJSON,
                                                             addGenerationPrompt: true, extra: extra))
        let full = try template.render(ChatTemplateContext(messages: [user, call], tools: ToolCallTemplateRoundTripTests.toolsJSON,
                                                           addGenerationPrompt: false, extra: extra))
        XCTAssertTrue(full.hasPrefix(prompt))
        let generated = String(full.dropFirst(prompt.count))
        XCTAssertEqual(generated, "<|python_tag|>brave_search.call(query=\"weather Zürich\")<|eom_id|>")
        assertParses(generated, name: "brave_search", arguments: ["query": "weather Zürich"])
    }

    /// Every prefix of a tagged output parses the same whole and byte-wise, and a finished
    /// call always carries one valid JSON object.
    func testEveryTruncationOfTaggedOutputIsConsistent() {
        for text in ["<|python_tag|>brave_search.call(query=\"a (b), 'c'\", count=2)<|eom_id|>",
                     "<|python_tag|>print(\"<|eo\" + 'm')\n<|eom_id|>",
                     "<|python_tag|>{\"name\": \"add\", \"parameters\": {\"a\": 1}}<|eom_id|>"] {
            let characters = Array(text)
            for cut in 0...characters.count {
                let prefix = String(characters[..<cut])
                let (whole, _) = parseWhole(.llama3, prefix, tools: Self.builtinTools)
                XCTAssertEqual(parseBytewise(.llama3, prefix, tools: Self.builtinTools).0, whole, "cut \(prefix.debugDescription)")
                XCTAssertFalse(whole.text.contains("<|python_tag|>"), "tag leaked: \(prefix.debugDescription) → \(whole)")
                for call in whole.calls where call.finished {
                    XCTAssertNotNil(canonical(argumentsText: call.argumentsText), "\(prefix.debugDescription) → \(whole)")
                }
            }
        }
    }
}
