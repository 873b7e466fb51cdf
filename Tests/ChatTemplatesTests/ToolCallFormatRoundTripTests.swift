import ChatAPI
import XCTest
@testable import ChatTemplates

/// Render → parse round trips for every format, whole and streamed.
final class ToolCallFormatRoundTripTests: XCTestCase {
    /// Formats whose template renders at most one call per turn still parse several calls
    /// written back to back; every format is exercised with parallel calls.
    func testSingleCallRoundTripsInEveryFormat() throws {
        for format in ToolCallFormat.allCases {
            try assertRoundTrip(format, calls: [weatherCall])
        }
    }

    func testParallelCallsRoundTripInEveryFormat() throws {
        for format in ToolCallFormat.allCases {
            try assertRoundTrip(format, calls: [weatherCall, addCall, searchCall])
        }
    }

    func testTextBeforeCallsRoundTripsInEveryFormat() throws {
        for format in ToolCallFormat.allCases {
            try assertRoundTrip(format, calls: [addCall, weatherCall], content: "Let me check that for you.")
        }
    }

    func testEmptyArgumentsRoundTrip() throws {
        for format in ToolCallFormat.allCases {
            try assertRoundTrip(format, calls: [ToolCallFormat.Call(name: "add", arguments: [:])])
        }
    }

    func testPlainTextIsTextInEveryFormat() {
        for format in ToolCallFormat.allCases {
            let text = "The answer is 42 (see [1], a < b, {braces} and ```code```)."
            let (whole, _) = parseWhole(format, text)
            XCTAssertEqual(whole.text, text, "\(format)")
            XCTAssertTrue(whole.calls.isEmpty, "\(format)")
            let (streamed, _) = parseBytewise(format, text)
            XCTAssertEqual(streamed, whole, "\(format)")
        }
    }

    func testIdsAreReportedWhenTheFormatWritesThemFirst() {
        let calls = [ToolCallFormat.Call(name: "add", arguments: ["a": 1, "b": 2], id: "abcdefghi"),
                     ToolCallFormat.Call(name: "get_weather", arguments: ["city": "Oslo"], id: "jklmnopqr")]
        let mistralSmall = parseWhole(.mistralArgs, ToolCallFormat.mistralArgs.render(calls: calls)).0
        XCTAssertEqual(mistralSmall.calls.map(\.id), ["abcdefghi", "jklmnopqr"])
        let kimi = parseWhole(.kimiK2, ToolCallFormat.kimiK2.render(calls: calls)).0
        XCTAssertEqual(kimi.calls.map(\.id), ["functions.add:0", "functions.get_weather:1"])
        XCTAssertEqual(kimi.calls.map(\.name), ["add", "get_weather"])
        let cohere = parseWhole(.commandR7B, ToolCallFormat.commandR7B.render(calls: calls)).0
        XCTAssertEqual(cohere.calls.map(\.id), ["abcdefghi", "jklmnopqr"])
        // Mistral Nemo writes the id after the arguments: the caller assigns ids.
        let nemo = parseWhole(.mistral, ToolCallFormat.mistral.render(calls: calls)).0
        XCTAssertEqual(nemo.calls.map(\.id), [nil, nil])
        XCTAssertEqual(nemo.calls.map(\.name), ["add", "get_weather"])
    }

    func testWireToolCallsConvert() {
        let wire = ToolCall(id: "call_1", name: "add", arguments: "{\"a\": 1}")
        XCTAssertEqual(ToolCallFormat.Call(wire), ToolCallFormat.Call(name: "add", arguments: ["a": 1], id: "call_1"))
        XCTAssertNil(ToolCallFormat.Call(ToolCall(id: "x", name: "add", arguments: "[1]")))
    }

    // MARK: - Helper

    /// Renders `calls` with `renderer`, then checks that whole-text, byte-wise and
    /// character-wise parsing all recover the calls, the content, compact argument JSON,
    /// and identical folded events.
    func assertRoundTrip(_ format: ToolCallFormat, calls: [ToolCallFormat.Call], content: String? = nil,
                         renderer: AssistantRenderer = builtInRenderer,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let text = try renderer(format, content, calls)
        let (whole, _) = parseWhole(format, text)
        let context = "\(format): \(text.debugDescription)\n→ \(whole)"
        XCTAssertEqual(whole.text, content ?? "", context,
                       file: file, line: line)
        XCTAssertEqual(whole.reasoning, "", context, file: file, line: line)
        XCTAssertEqual(whole.malformed, [], context, file: file, line: line)
        XCTAssertEqual(whole.calls.map(\.name), calls.map(\.name), context, file: file, line: line)
        XCTAssertEqual(whole.structure, calls.indices.flatMap { ["start\($0)", "end\($0)"] }, context,
                       file: file, line: line)
        for (parsed, expected) in zip(whole.calls, calls) {
            XCTAssertTrue(isCompactJSON(parsed.argumentsText), "not compact: \(parsed.argumentsText) \(context)",
                          file: file, line: line)
            XCTAssertEqual(canonical(argumentsText: parsed.argumentsText), canonical(expected.arguments), context,
                           file: file, line: line)
            if format != .gemma {  // Gemma's template sorts keys; others keep the caller's order.
                XCTAssertEqual(try? JSONValue(parsing: parsed.argumentsText), .object(expected.arguments), context,
                               file: file, line: line)
            }
        }
        let (bytewise, _) = parseBytewise(format, text)
        XCTAssertEqual(bytewise, whole, "byte-wise differs for \(context)", file: file, line: line)
        let (charwise, _) = parseCharacterwise(format, text)
        XCTAssertEqual(charwise, whole, "character-wise differs for \(context)", file: file, line: line)
    }
}
