import ChatAPI
import XCTest
@testable import ChatTemplates

/// The generic format (templates without tool support, such as the default SmolLM2): the shapes
/// small models actually answer with, what must stay text, and the constrained-decoding triggers.
final class ToolCallFormatGenericTests: XCTestCase {

    func assertCalls(_ text: String, _ expected: [(String, JSONValue)], file: StaticString = #filePath, line: UInt = #line) {
        let (whole, _) = parseWhole(.generic, text)
        let report = "\(text.debugDescription) → \(whole)"
        XCTAssertEqual(whole.calls.map(\.name), expected.map(\.0), report, file: file, line: line)
        XCTAssertEqual(whole.calls.map { try? JSONValue(parsing: $0.argumentsText) }, expected.map(\.1), report, file: file, line: line)
        XCTAssertEqual(whole.structure, expected.indices.flatMap { ["start\($0)", "end\($0)"] }, report, file: file, line: line)
        XCTAssertEqual(whole.text.trimmingCharacters(in: .whitespacesAndNewlines), "", report, file: file, line: line)
        XCTAssertEqual(parseBytewise(.generic, text).0, whole, "byte-wise: \(report)", file: file, line: line)
        XCTAssertEqual(parseCharacterwise(.generic, text).0, whole, "character-wise: \(report)", file: file, line: line)
    }

    func testShapesSmallModelsWrite() {
        let paris: [(String, JSONValue)] = [("get_weather", ["city": "Paris"])]
        assertCalls("{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}", paris)
        assertCalls("{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}", paris)
        assertCalls("{ \"name\" : \"get_weather\" , \"arguments\" : { \"city\" : \"Paris\" } }", paris)
        assertCalls("{\n  \"name\": \"get_weather\",\n  \"arguments\": {\n    \"city\": \"Paris\"\n  }\n}", paris)
        assertCalls("```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n```", paris)
        assertCalls("```\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n```", paris)
        assertCalls("  \n\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n\n  ", paris)
        assertCalls("\n```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n```\n", paris)
        assertCalls("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", paris)
        // Arguments double-encoded as a JSON string (OpenAI's wire spelling leaking into the answer).
        assertCalls("{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}", paris)
        assertCalls("{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, "
                    + "{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}]}",
                    paris + [("add", ["a": 1, "b": 2])])
        assertCalls("```json\n{\"tool_calls\": [{\"name\": \"add\", \"arguments\": {}}]}\n```", [("add", [:])])
    }

    func testTextBeforeACallStaysText() {
        let text = "Sure, checking.\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}"
        let (whole, _) = parseWhole(.generic, text)
        XCTAssertEqual(whole.text, "Sure, checking.")
        XCTAssertEqual(whole.calls.map(\.name), ["get_weather"])
        XCTAssertEqual(parseBytewise(.generic, text).0, whole)
    }

    func testJSONNamingNoListedFunctionStaysText() {
        for text in ["{\"name\": \"Paris\", \"population\": 2102650}",
                     "{\"name\": \"delete_everything\", \"arguments\": {}}",
                     "{\"tool_calls\": [{\"name\": \"delete_everything\", \"arguments\": {}}]}",
                     "```json\n{\"name\": \"unknown\", \"arguments\": {\"x\": 1}}\n```",
                     "```json\n[1, 2, 3]\n```",
                     "Here: {\"city\": \"Paris\"} and {\"a\": 1}.",
                     "{\"arguments\": {\"city\": \"Paris\"}}"] {
            let (whole, _) = parseWhole(.generic, text)
            XCTAssertEqual(whole.text, text, "\(whole)")
            XCTAssertEqual(whole.calls, [], text)
            XCTAssertEqual(whole.structure, [], text)
            XCTAssertEqual(parseBytewise(.generic, text).0, whole, text)
        }
    }

    /// Once a listed function's name is read the call is announced; output that stops there
    /// is a malformed call, not text.
    func testACallCutOffAfterItsNameIsMalformed() {
        let (whole, _) = parseWhole(.generic, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par")
        XCTAssertEqual(whole.structure, ["start0", "bad0"], "\(whole)")
        XCTAssertEqual(whole.text, "")
    }

    /// The decoder starts constraining when a trigger appears, then requires the rest of a
    /// call. So every trigger must be a prefix of each spelling the prompt teaches (with the
    /// space after the colon), of the compact spelling, and of what `render` writes; and
    /// plain-JSON answers that are not calls must not contain a trigger.
    func testTriggersArePrefixesOfTheTaughtShapes() {
        let triggers = ToolCallFormat.generic.syntax.triggers
        let prompt = GenericToolPrompt.section(tools: testTools)
        let taught = ["{\"name\": \"<tool name>\"", "{\"tool_calls\": [{\"name\": \"<tool name>\""]
        for shape in taught { XCTAssertTrue(prompt.contains(shape), shape) }
        let spellings = taught + ["{\"name\":\"get_weather\"", "```json\n{\"name\": \"add\"",
                                  ToolCallFormat.generic.render(calls: [weatherCall]),
                                  ToolCallFormat.generic.render(calls: [weatherCall, addCall])]
        for spelling in spellings {
            XCTAssertTrue(triggers.contains { spelling.hasPrefix($0) }, "no trigger starts \(spelling.debugDescription)")
        }
        for answer in ["{\"city\": \"Paris\"}", "The name is {name}.", "{\"names\": []}"] {
            XCTAssertFalse(triggers.contains { answer.contains($0) }, answer)
        }
    }
}
