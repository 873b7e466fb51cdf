import ChatAPI
import XCTest
@testable import ChatTemplates

final class ToolCallFormatGenericPromptTests: XCTestCase {
    func testSectionListsToolsSchemasAndTheAnswerShape() {
        let text = GenericToolPrompt.systemPrompt(base: "You are helpful.", tools: testTools)
        XCTAssertTrue(text.hasPrefix("You are helpful.\n\n# Tools"))
        XCTAssertTrue(text.contains("- get_weather: Current weather for a city."))
        XCTAssertTrue(text.contains(weatherSchema.serialized()))
        XCTAssertTrue(text.contains("{\"name\": \"<tool name>\", \"arguments\":"))
        XCTAssertTrue(text.contains("{\"tool_calls\": ["))
        XCTAssertTrue(text.contains("plain text"))
        let single = GenericToolPrompt.section(tools: testTools, allowParallel: false, required: true)
        XCTAssertFalse(single.contains("tool_calls"))
        XCTAssertTrue(single.contains("You must call a tool"))
    }

    /// The shapes the prompt asks for are exactly what the generic parser reads.
    func testAnswerShapesParse() {
        let one = parseWhole(.generic, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}").0
        XCTAssertEqual(one.calls.map(\.name), ["get_weather"])
        let many = parseWhole(.generic, "{\"tool_calls\": [{\"name\": \"add\", \"arguments\": {\"a\": 1}}, {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}]}").0
        XCTAssertEqual(many.calls.map(\.name), ["add", "get_weather"])
        XCTAssertEqual(many.structure, ["start0", "end0", "start1", "end1"])
    }
}
