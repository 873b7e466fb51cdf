import ChatAPI
import XCTest
@testable import ChatTemplates

/// Streaming behaviour: held-back markers, incremental fragments, malformed output, reasoning.
final class ToolCallFormatStreamingTests: XCTestCase {
    func testPartialMarkerIsHeldBackThenReleased() {
        var p = ToolCallFormat.hermes.makeParser(tools: testTools)
        // The space is held too: whitespace right before a call is dropped as layout.
        XCTAssertEqual(p.feed("Hello <tool_"), [.text("Hello")])
        XCTAssertEqual(p.feed("ca"), [])
        XCTAssertEqual(p.feed("X and more"), [.text(" <tool_caX and more")])
        XCTAssertEqual(p.finish(), [])
    }

    func testArgumentsStreamAsTheyArrive() {
        var p = ToolCallFormat.hermes.makeParser(tools: testTools)
        XCTAssertEqual(p.feed("Sure.\n<tool_call>\n{\"name\": \"ad"), [.text("Sure.")])
        XCTAssertEqual(p.feed("d\", \"arguments\": {\"a\": 1"),
                       [.toolCallStarted(index: 0, name: "add", id: nil), .argumentsDelta(index: 0, fragment: "{\"a\":1")])
        XCTAssertEqual(p.feed(", \"b\": \"x y\"}"), [.argumentsDelta(index: 0, fragment: ",\"b\":\"x y\"}")])
        XCTAssertEqual(p.feed("}\n</tool_call>"), [.toolCallFinished(index: 0)])
        XCTAssertEqual(p.finish(), [])
    }

    /// LFM2's Python keyword arguments stream too: a quoted value as it is written, any other
    /// value when it ends; commas, brackets and escapes inside values do not end them early.
    func testPythonKeywordArgumentsStreamAsTheyArrive() throws {
        var p = ToolCallFormat.lfm2.makeParser(tools: testTools)
        XCTAssertEqual(p.feed("<|tool_call_start|>[search(query='it\\'s, (ok)"),
                       [.toolCallStarted(index: 0, name: "search", id: nil), .argumentsDelta(index: 0, fragment: "{\"query\":\"it's, (ok)")])
        XCTAssertEqual(p.feed(" \\u00e9\\n', filters={\"tags\": [\")\", 1]}"),
                       [.argumentsDelta(index: 0, fragment: " \\u00e9\\n\",\"filters\":")])
        XCTAssertEqual(p.feed(", exact=True, limit=None)]<|tool_call_end|>"),
                       [.argumentsDelta(index: 0, fragment: "{\"tags\":[\")\",1]},\"exact\":true,\"limit\":null}"),
                        .toolCallFinished(index: 0)])
        XCTAssertEqual(p.finish(), [])
    }

    /// A call's Python argument list is bounded, quoted values included.
    func testPythonKeywordArgumentsAreBounded() {
        var p = ToolCallFormat.lfm2.makeParser(tools: testTools)
        var events = p.feed("<|tool_call_start|>[search(query='")
        for _ in 0..<80 { events += p.feed(String(repeating: "x", count: 1_000)) }
        XCTAssertTrue(events.contains { if case .malformedToolCall = $0 { return true } else { return false } },
                      "an 80 KB argument list was not refused")
    }

    func testNoTextDeltaEverContainsATriggerWhileStreaming() throws {
        for format in ToolCallFormat.allCases {
            let text = format.render(calls: [weatherCall, addCall], content: "Checking now.")
            let (_, events) = parseBytewise(format, text)
            for case .text(let delta) in events {
                for trigger in format.syntax.triggers where trigger.count > 1 {
                    XCTAssertFalse(delta.contains(trigger.trimmingCharacters(in: .whitespaces)),
                                   "\(format) leaked \(trigger) in \(delta.debugDescription)")
                }
            }
        }
    }

    func testSplitMultibyteCharactersAreNeverBrokenAcrossEvents() {
        let text = "Grüße 東京 🎉<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"東京🎉\"}}</tool_call>"
        let (streamed, events) = parseBytewise(.hermes, text)
        for case .text(let t) in events { XCTAssertFalse(t.contains("\u{FFFD}"), t) }
        XCTAssertEqual(streamed.text, "Grüße 東京 🎉")
        XCTAssertEqual(streamed.calls.first?.argumentsText, "{\"city\":\"東京🎉\"}")
    }

    func testEventsMapToChatEvents() {
        var p = ToolCallFormat.kimiK2.makeParser(tools: testTools)
        let events = p.parse("Hi<|tool_calls_section_begin|><|tool_call_begin|>functions.add:0<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>")
        XCTAssertEqual(events.compactMap { $0.chatEvent(callID: { "call_\($0)" }) }, [
            .textDelta("Hi"),
            .toolCallStarted(index: 0, id: "functions.add:0", name: "add"),
            .toolCallArgumentsDelta(index: 0, fragment: "{}"),
        ])
        XCTAssertEqual(ParsedEvent.toolCallStarted(index: 2, name: "add", id: nil).chatEvent(callID: { "call_\($0)" }),
                       .toolCallStarted(index: 2, id: "call_2", name: "add"))
    }

    // MARK: - Malformed output

    func testBadJSONAfterTheCallStartedIsReportedAndTextResumes() {
        let text = "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": }}\n</tool_call>"
        let (whole, events) = parseWhole(.hermes, text)
        XCTAssertEqual(whole.structure, ["start0", "bad0"])
        XCTAssertEqual(whole.malformed.count, 1)
        guard case .malformedToolCall(0, let raw, _)? = events.first(where: {
            if case .malformedToolCall = $0 { return true } else { return false }
        }) else { return XCTFail("\(events)") }
        XCTAssertEqual(raw, "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": ")
        XCTAssertEqual(whole.text, "}}\n</tool_call>")  // the rest is plain text again
        XCTAssertEqual(parseBytewise(.hermes, text).0, whole)
        // A later well-formed call gets the next index.
        let (again, _) = parseWhole(.hermes, text + "<tool_call>{\"name\": \"add\", \"arguments\": {}}</tool_call>")
        XCTAssertEqual(again.structure, ["start0", "bad0", "start1", "end1"])
    }

    func testMarkerFollowedByNonsenseIsJustText() {
        for (format, text) in [(ToolCallFormat.hermes, "a <tool_call>oops</tool_call> b"),
                               (.mistral, "[TOOL_CALLS] is a token"),
                               (.deepseekV31, "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>bad name<｜tool▁sep｜>{}")] {
            let (whole, _) = parseWhole(format, text)
            XCTAssertEqual(whole.text, text, "\(format)")
            XCTAssertTrue(whole.calls.isEmpty, "\(format)")
            XCTAssertEqual(parseBytewise(format, text).0, whole, "\(format)")
        }
    }

    func testTruncatedCallIsMalformedButMissingClosingMarkerIsAccepted() {
        let truncated = parseWhole(.hermes, "<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1").0
        XCTAssertEqual(truncated.structure, ["start0", "bad0"])
        let unclosed = parseWhole(.hermes, "<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1}}\n").0
        XCTAssertEqual(unclosed.structure, ["start0", "end0"])
        let unclosedXML = parseWhole(.qwen3Coder, "<tool_call>\n<function=add>\n<parameter=a>\n1\n</parameter>\n</function>").0
        XCTAssertEqual(unclosedXML.structure, ["start0", "end0"])
        XCTAssertEqual(unclosedXML.calls.first?.argumentsText, "{\"a\":1}")
    }

    func testArgumentsGivenAsAJSONStringAreAccepted() {
        let text = "<tool_call>{\"name\": \"add\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>"
        let out = parseWhole(.hermes, text).0
        XCTAssertEqual(out.calls.first?.argumentsText, "{\"a\":1}")
        XCTAssertEqual(parseBytewise(.hermes, text).0, out)
    }

    func testRawNewlinesInsideStringsAreEscaped() {
        let text = "<tool_call>{\"name\": \"search\", \"arguments\": {\"query\": \"line1\nline2\"}}</tool_call>"
        XCTAssertEqual(parseWhole(.hermes, text).0.calls.first?.argumentsText, "{\"query\":\"line1\\nline2\"}")
    }

    // MARK: - Bare-JSON formats

    func testGenericParsesBareAndFencedObjectsNamingKnownTools() {
        let bare = parseWhole(.generic, "{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}").0
        XCTAssertEqual(bare.calls.map(\.name), ["add"])
        XCTAssertEqual(bare.text, "")
        let fenced = parseWhole(.generic, "Here you go:\n```json\n{\"name\": \"add\", \"arguments\": {\"a\": 1}}\n```\n").0
        XCTAssertEqual(fenced.calls.map(\.argumentsText), ["{\"a\":1}"])
        XCTAssertEqual(fenced.text.trimmingCharacters(in: .whitespacesAndNewlines), "Here you go:")
        let parameters = parseWhole(.generic, "{\"name\": \"add\", \"parameters\": {\"a\": 1}}").0
        XCTAssertEqual(parameters.calls.map(\.argumentsText), ["{\"a\":1}"])
    }

    func testGenericKeepsUnknownOrNonCallJSONAsText() {
        for text in ["{\"name\": \"delete_everything\", \"arguments\": {}}",
                     "{\"city\": \"Paris\"}",
                     "```json\n{\"answer\": 42}\n```",
                     "Sets look like {1, 2}."] {
            let (whole, _) = parseWhole(.generic, text)
            XCTAssertEqual(whole.text, text)
            XCTAssertTrue(whole.calls.isEmpty, text)
            XCTAssertEqual(parseBytewise(.generic, text).0, whole, text)
        }
    }

    func testGenericUnknownToolWithoutToolsIsText() {
        let text = "{\"name\": \"add\", \"arguments\": {}}"
        XCTAssertEqual(parseWhole(.generic, text, tools: []).0.text, text)
    }

    func testLlama3PythonTagAndBareObject() {
        let tagged = parseWhole(.llama3, "<|python_tag|>{\"name\": \"add\", \"parameters\": {\"a\": 1}}<|eom_id|>").0
        XCTAssertEqual(tagged.calls.map(\.argumentsText), ["{\"a\":1}"])
        XCTAssertEqual(tagged.text, "")
        let bare = parseWhole(.llama3, "{\"type\": \"function\", \"name\": \"add\", \"parameters\": {}}").0
        XCTAssertEqual(bare.calls.map(\.name), ["add"])
    }

    // MARK: - Real-template spellings

    func testMistralSmallCallIdForm() {
        let text = "[TOOL_CALLS]get_weather[CALL_ID]abcdefghi[ARGS]{\"city\": \"Paris\"}"
        let out = parseWhole(.mistralArgs, text).0
        XCTAssertEqual(out.calls, [.init(name: "get_weather", id: "abcdefghi", argumentsText: "{\"city\":\"Paris\"}", finished: true)])
    }

    func testFunctionaryV32RecipientsAndText() {
        let text = "all\nLet me add those.>>>add\n{\"a\": 1, \"b\": 2}>>>get_weather\n{\"city\": \"Oslo\"}"
        let out = parseWhole(.functionaryV32, text).0
        XCTAssertEqual(out.text, "Let me add those.")
        XCTAssertEqual(out.calls.map(\.name), ["add", "get_weather"])
        XCTAssertEqual(parseBytewise(.functionaryV32, text).0, out)
    }

    func testGptOssChannelsAndBothHeaderOrders() {
        let text = "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>"
        let out = parseWhole(.gptOss, text).0
        XCTAssertEqual(out.reasoning, "Need the weather.")
        XCTAssertEqual(out.text, "")
        XCTAssertEqual(out.calls.map(\.argumentsText), ["{\"city\":\"Paris\"}"])
        let final = parseWhole(.gptOss, "<|channel|>analysis<|message|>Easy.<|end|><|start|>assistant<|channel|>final<|message|>Hi there<|return|>").0
        XCTAssertEqual(final.reasoning, "Easy.")
        XCTAssertEqual(final.text, "Hi there")
        XCTAssertEqual(parseBytewise(.gptOss, text).0, out)
    }

    func testDeepSeekR1TemplateSpelling() {
        let text = "Okay.</think>\n\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>add\n```json\n{\"a\": 1}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Rome\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
        var p = ToolCallFormat.deepseekR1.makeParser(tools: testTools, startInReasoning: true)
        let out = fold(p.parse(text))
        XCTAssertEqual(out.reasoning, "Okay.")
        XCTAssertEqual(out.calls.map(\.name), ["add", "get_weather"])
        XCTAssertEqual(out.text, "<｜end▁of▁sentence｜>")
    }

    func testSectionMarkersSeparatedByWhitespaceDoNotLeak() {
        for (format, text) in [
            (ToolCallFormat.deepseekV31, "Sure.\n<｜tool▁calls▁begin｜>\n<｜tool▁call▁begin｜>add<｜tool▁sep｜>{\"a\": 1}<｜tool▁call▁end｜>\n<｜tool▁calls▁end｜>"),
            (.kimiK2, "Sure. <|tool_calls_section_begin|> <|tool_call_begin|>functions.add:0<|tool_call_argument_begin|>{\"a\": 1}<|tool_call_end|> <|tool_calls_section_end|>"),
        ] {
            let (whole, _) = parseWhole(format, text)
            XCTAssertEqual(whole.text, "Sure.", "\(format)")
            XCTAssertEqual(whole.calls.map(\.argumentsText), ["{\"a\":1}"], "\(format)")
            XCTAssertEqual(parseBytewise(format, text).0, whole, "\(format)")
        }
    }

    func testGemmaTemplateNotation() {
        let text = "<|tool_call>call:search{exact:true,filters:{depth:2,tags:[<|\"|>x<|\"|>,<|\"|>y<|\"|>]},limit:None,query:<|\"|>a, b: {c}<|\"|>}<tool_call|>"
        let out = parseWhole(.gemma, text).0
        XCTAssertEqual(out.calls.first?.argumentsText,
                       "{\"exact\":true,\"filters\":{\"depth\":2,\"tags\":[\"x\",\"y\"]},\"limit\":null,\"query\":\"a, b: {c}\"}")
        XCTAssertEqual(parseBytewise(.gemma, text).0, out)
    }

    // MARK: - XML-style values

    func testXMLValuesFollowTheDeclaredSchemaTypes() {
        let text = "<tool_call>\n<function=search>\n<parameter=code>\n42\n</parameter>\n<parameter=exact>\nTrue\n</parameter>\n<parameter=limit>\n7\n</parameter>\n<parameter=query>\n  spaced  \n</parameter>\n</function>\n</tool_call>"
        let typed = parseWhole(.qwen3Coder, text).0
        XCTAssertEqual(typed.calls.first?.argumentsText, "{\"code\":\"42\",\"exact\":true,\"limit\":7,\"query\":\"  spaced  \"}")
        // Without schemas, values that read as JSON become JSON.
        let untyped = parseWhole(.qwen3Coder, text, tools: []).0
        XCTAssertEqual(untyped.calls.first?.argumentsText, "{\"code\":42,\"exact\":true,\"limit\":7,\"query\":\"  spaced  \"}")
    }

    func testGLMCompactSpellingWithoutNewlines() {
        let text = "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>unit</arg_key><arg_value>celsius</arg_value></tool_call>"
        let out = parseWhole(.glm45, text).0
        XCTAssertEqual(out.calls.first?.argumentsText, "{\"city\":\"Paris\",\"unit\":\"celsius\"}")
    }

    // MARK: - Reasoning

    func testThinkBlocksAreReasoningAndNeverCalls() {
        let text = "<think>\nMaybe <tool_call>{\"name\": \"add\", \"arguments\": {}}</tool_call>?\n</think>\n\nDone."
        let (whole, _) = parseWhole(.hermes, text)
        XCTAssertEqual(whole.reasoning, "Maybe <tool_call>{\"name\": \"add\", \"arguments\": {}}</tool_call>?")
        XCTAssertEqual(whole.text, "Done.")
        XCTAssertTrue(whole.calls.isEmpty)
        XCTAssertEqual(parseBytewise(.hermes, text).0, whole)
    }

    func testUnterminatedReasoningDropsTrailingWhitespace() {
        var p = ToolCallFormat.hermes.makeParser()
        XCTAssertEqual(p.feed("<think>\nstill thinking \n"), [.reasoning("still thinking")])
        XCTAssertEqual(p.finish(), [])
    }

    func testOutputStartingInsideReasoning() {
        for format in [ToolCallFormat.hermes, .glm45, .kimiK2, .deepseekR1, .qwen3Coder] {
            let text = "I should call add.\n</think>\n" + format.render(calls: [addCall])
            let (whole, _) = parseWhole(format, text, startInReasoning: true)
            XCTAssertEqual(whole.reasoning, "I should call add.", "\(format)")
            XCTAssertEqual(whole.calls.map(\.name), ["add"], "\(format)")
            XCTAssertEqual(parseBytewise(format, text, startInReasoning: true).0, whole, "\(format)")
        }
    }

    func testFamilyReasoningMarkers() {
        let cases: [(ToolCallFormat, String)] = [
            (.commandR7B, "<|START_THINKING|>plan it<|END_THINKING|><|START_RESPONSE|>answer<|END_RESPONSE|>"),
            (.mistralArgs, "[THINK]plan it[/THINK]answer"),
            (.gemma, "<|channel>thought\nplan it<channel|>answer"),
            (.kimiK2, "<think>plan it</think>answer"),
            (.granite, "<think>plan it</think><response>answer</response>"),
        ]
        for (format, text) in cases {
            let (whole, _) = parseWhole(format, text)
            XCTAssertEqual(whole.reasoning, "plan it", "\(format)")
            XCTAssertEqual(whole.text, "answer", "\(format)")
            XCTAssertEqual(parseBytewise(format, text).0, whole, "\(format)")
        }
    }
}
