import XCTest
@testable import ChatAPI

final class ToolCallPlanTests: XCTestCase {
    private func plan(_ extra: String) throws -> ToolCallPlan {
        let text = #"{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]"# + extra + "}"
        return ToolCallPlan(request: try ChatCompletionRequest(json: try JSONValue(parsing: text)))
    }

    func testEveryToolChoiceForm() throws {
        XCTAssertEqual(try plan("").mode, .optional)
        XCTAssertEqual(try plan("").maxCalls, nil)
        XCTAssertEqual(try plan(#","tool_choice":"none""#).mode, .forbidden)
        XCTAssertEqual(try plan(#","tool_choice":"none""#).functions, [])
        XCTAssertEqual(try plan(#","tool_choice":"required""#).mode, .mandatory)
        let named = try plan(#","tool_choice":{"type":"function","function":{"name":"b"}}"#)
        XCTAssertEqual(named.mode, .mandatory)
        XCTAssertEqual(named.functions.map(\.name), ["b"])
        XCTAssertEqual(named.maxCalls, 1)
        let allowed = try plan(#","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"a"}}]}}"#)
        XCTAssertEqual(allowed.mode, .mandatory)
        XCTAssertEqual(allowed.functions.map(\.name), ["a"])
    }

    func testParallelFalseMeansOneCall() throws {
        XCTAssertEqual(try plan(#","parallel_tool_calls":false"#).maxCalls, 1)
        XCTAssertEqual(try plan(#","tool_choice":"required","parallel_tool_calls":false"#).maxCalls, 1)
        XCTAssertEqual(try plan(#","tool_choice":"required","parallel_tool_calls":true"#).maxCalls, nil)
    }

    func testNoToolsMeansForbidden() throws {
        let r = try ChatCompletionRequest(json: try JSONValue(parsing: #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#))
        XCTAssertEqual(ToolCallPlan(request: r).mode, .forbidden)
    }
}
