import ChatAPI
import Foundation
import XCTest

/// Function calling through a template that knows tools: Qwen2.5-Coder-0.5B (Hermes
/// `<tool_call>` format, 151k vocabulary), fetched by scripts/fetch-qwen (run by `make test`).
final class QwenToolCallingTests: XCTestCase {
    static let modelPath = (ProcessInfo.processInfo.environment["SWITCHBOARD_CACHE"]
        ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/switchboard") + "/models/qwen2.5-coder-0.5b-instruct.gguf"
    static let modelID = "qwen2.5-coder-0.5b-instruct"
    static let qwen: Result<ServerProcess, Error> = Result {
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw TestError("\(modelPath) is missing: run scripts/fetch-qwen (make test does).")
        }
        return try ServerProcess(arguments: ["--model", modelPath])
    }

    private func ask(_ body: [String: Any], stream: Bool) throws -> AssistantAnswer {
        var b = body
        b["model"] = Self.modelID
        b["temperature"] = 0
        b["max_tokens"] = 200
        let s = try server(Self.qwen)
        if stream {
            let r = try s.stream(b)
            XCTAssertEqual(r.status, 200, r.events.joined(separator: "\n"))
            return try AssistantAnswer(stream: r.events)
        }
        let r = try s.chat(b)
        XCTAssertEqual(r.status, 200, "\(r.json)")
        return try AssistantAnswer(response: r.json)
    }

    private let twoCities: [String: Any] = ["role": "user", "content": "Get the current weather in Paris and in Tokyo, in celsius. Call get_weather once per city."]

    func testRequiredParallelCallsStream() throws {
        for stream in [true, false] {
            let answer = try ask(["messages": [twoCities], "tools": TestTools.both, "tool_choice": "required"], stream: stream)
            XCTAssertFalse(answer.toolCalls.isEmpty)
            try answer.checkCalls(tools: TestTools.both)
            XCTAssertFalse((answer.content ?? "").contains("<tool_call>"), answer.content ?? "")
        }
    }

    func testAutoCallsWithTheTemplateFormat() throws {
        // Qwen calls on its own in auto mode; the trigger then constrains the rest.
        let answer = try ask(["messages": [twoCities], "tools": TestTools.both], stream: true)
        XCTAssertFalse(answer.toolCalls.isEmpty, "content: \(answer.content ?? "")")
        try answer.checkCalls(tools: TestTools.both)
        XCTAssertFalse((answer.content ?? "").contains("<tool_call>"), answer.content ?? "")
    }

    func testNamedAndSingleCall() throws {
        let answer = try ask(["messages": [twoCities], "tools": TestTools.both, "parallel_tool_calls": false,
                              "tool_choice": ["type": "function", "function": ["name": "get_time"]]], stream: false)
        XCTAssertEqual(answer.toolCalls.map(\.name), ["get_time"])
        try answer.checkCalls(tools: TestTools.both)
    }

    func testMultiTurnThroughTheTemplate() throws {
        let assistant: [String: Any] = ["role": "assistant", "content": NSNull(), "tool_calls": [
            ["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"celsius\"}"]]]]
        let answer = try ask(["messages": [["role": "user", "content": "Weather in Paris, celsius?"], assistant,
                                           ["role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 18}"]],
                              "tools": TestTools.both], stream: false)
        try answer.checkCalls(tools: TestTools.both)
        if answer.toolCalls.isEmpty { XCTAssertTrue((answer.content ?? "").contains("18"), answer.content ?? "") }
    }
}
