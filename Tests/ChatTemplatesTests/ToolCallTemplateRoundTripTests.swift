import ChatAPI
import Foundation
import XCTest
@testable import ChatTemplates

/// Round trips through the REAL templates: for every template in shared/data/chat-templates that
/// `ToolCallFormat.detect` maps to a tool-call format, render a conversation ending in an
/// assistant turn with tool calls, cut out what the model would have generated (the text after
/// the generation prompt, without the end-of-turn token), parse it with the detected format's
/// parser and compare the calls; then stream the same text one byte at a time and compare.
final class ToolCallTemplateRoundTripTests: XCTestCase {
    /// How a template wants the assistant tool-call message shaped (HF leaves this to the
    /// template, and templates disagree). Everything not listed uses `content: ""` and
    /// arguments as a JSON object.
    struct Shape {
        /// `content: null` instead of `""`.
        var nullContent = false
        /// `function.arguments` as a JSON string instead of an object.
        var stringArguments = false
        /// Extra template variables the template requires.
        var extra: [String: JSONValue] = [:]
        /// The template mutates lists (`.append`), which HF's sandbox forbids but llama.cpp allows.
        var allowsMutation = false
    }

    static let shapes: [String: (Shape, reason: String)] = [
        "deepseek-ai-DeepSeek-R1-Distill-Llama-8B": (Shape(nullContent: true, stringArguments: true),
            "renders calls only when content is None, and concatenates arguments as a string"),
        "meetkai-functionary-medium-v3.2": (Shape(stringArguments: true), "concatenates arguments as a string"),
        "fireworks-ai-llama-3-firefunction-v2": (Shape(extra: ["functions": "[]", "datetime": "2025-03-14"]),
            "reads the `functions` and `datetime` variables Fireworks passes"),
        "Kimi-K2-Instruct": (Shape(allowsMutation: true), "calls list.append, forbidden in HF's immutable sandbox"),
        "Kimi-K2-Thinking": (Shape(allowsMutation: true), "calls list.append, forbidden in HF's immutable sandbox"),
    ]

    /// Templates that render at most one call per assistant message (parallel calls are then
    /// covered by the format's own renderer in ToolCallFormatRoundTripTests).
    static let singleCallOnly: [String: String] = [
        "meta-llama-Llama-3.1-8B-Instruct": "raises \"This model only supports single tool-calls at once!\"",
        "meta-llama-Llama-3.2-3B-Instruct": "raises \"This model only supports single tool-calls at once!\"",
        "meta-llama-Llama-3.3-70B-Instruct": "raises \"This model only supports single tool-calls at once!\"",
        "openai-gpt-oss-120b": "renders only message.tool_calls[0] (one call per harmony message)",
        "GigaChat3.1-10B-A1.8B": "renders only message.tool_calls[0] (one function call per turn)",
    ]

    /// Templates that cannot render an assistant tool-call turn.
    static let noCallRendering: [String: String] = [
        "llama-cpp-deepseek-r1":
            "raises \"Object of type generator is not JSON serializable\" in jinja2 too (it pipes a generator to tojson); the same format is covered by the two DeepSeek R1 Distill templates",
        "LFM2-8B-A1B": "renders only the content of assistant messages; its format is covered by LFM2.5-8B-A1B",
        "LFM2.5-Instruct": "renders only the content of assistant messages; its format is covered by LFM2.5-8B-A1B",
        "ibm-granite-granite-3.3-2B-Instruct":
            "renders only the content of assistant messages; its <|tool_call|> format is covered by ToolCallFormatRoundTripTests",
    ]

    /// Tokens that end a generation; the model's text stops before them.
    static let endOfTurnTokens = [
        "<|im_end|>", "</s>", "<|eot_id|>", "<|eom_id|>", "<｜end▁of▁sentence｜>", "<|END_OF_TURN_TOKEN|>",
        "<|end_of_text|>", "<|tool_response>", "<turn|>", "<|observation|>", "<|user|>", "<|return|>",
        "<|endoftext|>", "<sep>", "<|role_end|>", "</assistant>", "<seed:eos>", "<|message_sep|>",
        "<end_of_sentence>", "[e~[", "<SPECIAL_12>", "<end_of_turn>", "<|end|>", "<｜hy_eos:opensource｜>", "<|assistant_end|>",
        "<|START_OF_TURN_TOKEN|>",
    ]

    static let fixtureCalls = [
        ToolCallFormat.Call(name: "get_weather", arguments: ["city": "Zürich 東京", "unit": "celsius"], id: "call00001"),
        ToolCallFormat.Call(name: "add", arguments: ["a": 2, "b": 3.5], id: "call00002"),
    ]

    func testOneCallRoundTripsThroughEveryTemplate() throws {
        try runAll(calls: Array(Self.fixtureCalls.prefix(1)))
    }

    func testTwoCallsRoundTripThroughEveryParallelTemplate() throws {
        try runAll(calls: Self.fixtureCalls)
    }

    /// Richer argument values (quotes, markup, newlines, nested objects, null, booleans) in one call.
    func testRichArgumentsRoundTripThroughEveryTemplate() throws {
        try runAll(calls: [ToolCallFormat.Call(name: "search", arguments: searchCall.arguments, id: "call00003")])
    }

    /// Visible text before the calls comes back as text.
    func testContentBeforeCallsRoundTripsThroughEveryTemplate() throws {
        try runAll(calls: Self.fixtureCalls, content: "Let me check both.")
    }

    /// Templates that render an assistant message's tool calls but not its content.
    static let dropsContentWithCalls: [String: String] = [
        "Cohere2MoE": "renders only <|START_ACTION|> for a message with tool_calls",
        "CohereForAI-c4ai-command-r7b-12-2024-tool_use": "renders only <|START_ACTION|> for a message with tool_calls",
        "Mistral-Small-3.2-24B-Instruct-2506": "renders only [TOOL_CALLS] for a message with tool_calls",
        "mistralai-Mistral-Nemo-Instruct-2407": "renders only [TOOL_CALLS] for a message with tool_calls",
        "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use": "renders only <tool_call> blocks for a message with tool_calls",
        "NousResearch-Hermes-3-Llama-3.1-8B-tool_use": "renders only <tool_call> blocks for a message with tool_calls",
        "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B": "renders only the tool-call section for a message with tool_calls",
        "MiniMax-M1": "renders only the <tool_calls> section for a message with tool_calls",
        "upstage-Solar-Open-100B": "renders only the <|tool_calls|> section for a message with tool_calls",
    ]

    /// Templates that render the content INSTEAD of the calls, or apart from them, when both are present.
    static let contentHidesCalls: [String: String] = [
        "deepseek-ai-DeepSeek-R1-Distill-Llama-8B": "renders tool calls only when content is None",
        "NVIDIA-Nemotron-Nano-v2": "renders the last turn's content and its calls as two assistant messages",
    ]

    /// The generic format through every template detected as generic (SmolLM2, the default
    /// model, among them): as the local gateway does, the tools are described in the system
    /// prompt and the calls are written as the assistant's content.
    func testGenericCallsRoundTripThroughEveryTemplateWithoutToolSupport() throws {
        let dir = ToolCallFormatDetectionTests.templatesDirectory
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".jinja") }.sorted()
        var checked = 0
        for fileName in files {
            let name = String(fileName.dropLast(".jinja".count))
            let source = try String(contentsOf: dir.appendingPathComponent(fileName), encoding: .utf8)
            guard ToolCallFormat.detect(template: source) == .generic, Self.genericExceptions[name] == nil else { continue }
            for (calls, content) in [(Array(Self.fixtureCalls.prefix(1)), ""), (Self.fixtureCalls, ""),
                                     (Self.fixtureCalls, "Let me check both.")] {
                try checkGeneric(template: name, source: source, calls: calls, content: content)
            }
            checked += 1
        }
        // At least the five templates with no tool support (SmolLM2, SmolLM3, Gemma 2, RWKV, Phi-3.5).
        XCTAssertGreaterThanOrEqual(checked, 5)
        print("generic round trips: \(checked) templates × 3 turns")
    }

    /// Generic-detected templates that cannot carry a generic call as assistant content.
    static let genericExceptions: [String: String] = [
        "Kimi-K3": "wraps assistant content in its own <|open|>response<|sep|> markup, which the generic format does not know",
        "MiniMax-M3": "prefixes assistant content with </mm:think>, a reasoning marker the generic format does not know",
        "muse-glimmer": "writes assistant content after a harmony-style ` to=user<|message|>` header of its own",
    ]

    /// Templates whose history renders an assistant turn inside the reasoning block the
    /// generation prompt opens, without closing it: the turn is parsed from outside reasoning.
    static let historyLeavesReasoningOpen: [String: String] = [
        "NVIDIA-Nemotron-Nano-v2": "renders past turns as \"<think>\\n\" + content with no </think>",
    ]

    func checkGeneric(template name: String, source: String, calls: [ToolCallFormat.Call], content: String,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        let template = try ChatTemplate(source: source)
        let userText = "What is the weather in Zürich, and what is 2 + 3.5?"
        let base: [JSONValue] = [
            ["role": "system", "content": .string(GenericToolPrompt.systemPrompt(base: "You are a helpful assistant.", tools: testTools))],
            ["role": "user", "content": .string(userText)],
        ]
        let turn = ToolCallFormat.generic.render(calls: calls, content: content.isEmpty ? nil : content)
        let assistant: JSONValue = ["role": "assistant", "content": .string(turn)]
        func render(_ messages: [JSONValue]) throws -> (String, String) {
            (try template.render(ChatTemplateContext(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")),
             try template.render(ChatTemplateContext(messages: messages + [assistant], addGenerationPrompt: false,
                                                     bosToken: "<s>", eosToken: "</s>")))
        }
        let prompt: String, full: String
        do {
            (prompt, full) = try render(base)
        } catch let error as TemplateError where error.kind == .raised && error.message.contains("ystem role") {
            // Gemma 2 has no system role: the instructions go first in the user message.
            let merged: JSONValue = ["role": "user", "content": .string(base[0]["content"]!.stringValue! + "\n\n" + userText)]
            (prompt, full) = try render([merged])
        }
        var (generated, startInReasoning) = Self.generatedText(prompt: prompt, full: full, userText: userText, format: .generic)
        if Self.historyLeavesReasoningOpen[name] != nil { startInReasoning = false }
        let (whole, _) = parseWhole(.generic, generated, tools: testTools, startInReasoning: startInReasoning)
        let report = "\(name) [generic] generated \(generated.debugDescription)\n→ \(whole)"
        XCTAssertEqual(whole.text.trimmingCharacters(in: .whitespacesAndNewlines), content, report, file: file, line: line)
        XCTAssertEqual(whole.calls.map(\.name), calls.map(\.name), report, file: file, line: line)
        XCTAssertEqual(whole.calls.map { canonical(argumentsText: $0.argumentsText) }, calls.map { canonical($0.arguments) },
                       report, file: file, line: line)
        XCTAssertEqual(whole.structure, calls.indices.flatMap { ["start\($0)", "end\($0)"] }, report, file: file, line: line)
        XCTAssertEqual(parseBytewise(.generic, generated, tools: testTools, startInReasoning: startInReasoning).0, whole,
                       "byte-wise differs: \(report)", file: file, line: line)
    }

    // MARK: - Driver

    func runAll(calls: [ToolCallFormat.Call], content: String = "",
                file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = ToolCallFormatDetectionTests.templatesDirectory
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".jinja") }.sorted()
        XCTAssertEqual(files.count, 72, "expected the 72 shared templates in \(dir.path)", file: file, line: line)
        var covered = Set<ToolCallFormat>(), checked = 0
        for fileName in files {
            let name = String(fileName.dropLast(".jinja".count))
            let source = try String(contentsOf: dir.appendingPathComponent(fileName), encoding: .utf8)
            let format = ToolCallFormat.detect(template: source)
            if format == .generic || Self.noCallRendering[name] != nil { continue }
            if calls.count > 1, Self.singleCallOnly[name] != nil { continue }
            if !content.isEmpty, Self.contentHidesCalls[name] != nil { continue }
            try check(template: name, source: source, format: format, calls: calls, content: content, file: file, line: line)
            covered.insert(format)
            checked += 1
        }
        var expected = Set(ToolCallFormat.allCases).subtracting([.generic, .granite])
        if calls.count > 1 { expected.subtract([.llama3, .gptOss, .gigachat31]) }
        if !content.isEmpty { expected.remove(.nemotronV2) }
        XCTAssertEqual(covered, expected, "formats exercised through a real template", file: file, line: line)
        print("template round trips (\(calls.count) call(s)\(content.isEmpty ? "" : " after text")): \(checked) templates, \(covered.count) formats")
    }

    func check(template name: String, source: String, format: ToolCallFormat, calls: [ToolCallFormat.Call],
               content: String, file: StaticString, line: UInt) throws {
        let shape = Self.shapes[name]?.0 ?? Shape()
        var options = ChatTemplateOptions()
        options.allowsMutation = shape.allowsMutation
        let template = try ChatTemplate(source: source, options: options)
        let userText = "What is the weather in Zürich, and what is 2 + 3.5?"
        let base: [JSONValue] = [
            ["role": "system", "content": "You are a helpful assistant."],
            ["role": "user", "content": .string(userText)],
        ]
        let assistant = Self.assistantMessage(calls, content: content, shape: shape)
        func context(_ messages: [JSONValue], _ generationPrompt: Bool) -> ChatTemplateContext {
            ChatTemplateContext(messages: messages, tools: Self.toolsJSON, addGenerationPrompt: generationPrompt,
                                bosToken: "<s>", eosToken: "</s>", extra: shape.extra)
        }
        let prompt: String, full: String
        do {
            prompt = try template.render(context(base, true))
            full = try template.render(context(base + [assistant], false))
        } catch {
            XCTFail("\(name): render failed: \(error)", file: file, line: line)
            return
        }
        let (generated, startInReasoning) = Self.generatedText(prompt: prompt, full: full, userText: userText, format: format)
        let where_ = "\(name) [\(format)] generated \(generated.debugDescription)"

        let (whole, _) = parseWhole(format, generated, tools: testTools, startInReasoning: startInReasoning)
        let report = "\(where_)\n→ \(whole)"
        let expectedText = Self.dropsContentWithCalls[name] == nil ? content : ""
        XCTAssertEqual(whole.text.trimmingCharacters(in: .whitespacesAndNewlines), expectedText, "text: \(report)",
                       file: file, line: line)
        XCTAssertEqual(whole.reasoning, "", report, file: file, line: line)
        XCTAssertEqual(whole.malformed, [], report, file: file, line: line)
        XCTAssertEqual(whole.calls.map(\.name), calls.map(\.name), report, file: file, line: line)
        XCTAssertEqual(whole.structure, calls.indices.flatMap { ["start\($0)", "end\($0)"] }, report,
                       file: file, line: line)
        for (parsed, expected) in zip(whole.calls, calls) {
            XCTAssertEqual(try? JSONValue(parsing: parsed.argumentsText).objectValue.map(canonical),
                           canonical(expected.arguments), report, file: file, line: line)
            XCTAssertTrue(isCompactJSON(parsed.argumentsText), "not compact: \(parsed.argumentsText) \(report)",
                          file: file, line: line)
        }
        if format == .mistralArgs, generated.contains("[CALL_ID]") {
            XCTAssertEqual(whole.calls.map(\.id), calls.map(\.id), "ids: \(report)", file: file, line: line)
        }
        let (bytewise, events) = parseBytewise(format, generated, tools: testTools, startInReasoning: startInReasoning)
        XCTAssertEqual(bytewise, whole, "byte-wise differs: \(report)", file: file, line: line)
        // No marker text in any streamed text event: only the content's own characters.
        let leaked = events.compactMap { event -> String? in
            guard case .text(let t) = event else { return nil }
            let visible = t.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !visible.isEmpty, !content.contains(visible) else { return nil }
            return t
        }
        XCTAssertEqual(leaked, [], "text events while streaming: \(report)", file: file, line: line)
    }

    // MARK: - Fixtures and cutting

    /// The test tools as the request's `tools`. Every tool gets a description (Functionary v3.1
    /// and gpt-oss read it unconditionally), every parameter a description, and no schema uses a `"null"` type: the Hermes
    /// templates' `json_to_python_type` macro recurses forever on it (in jinja2 too).
    static var toolsJSON: [JSONValue] {
        testTools.map { tool in
            var function: JSONObject = ["name": .string(tool.name)]
            function["description"] = .string(tool.description ?? "The \(tool.name) tool.")
            var parameters = tool.parameters ?? ["type": "object", "properties": [:]]
            if case .object(var root) = parameters, case .object(var properties)? = root["properties"] {
                for (key, property) in properties {
                    var p = property.objectValue ?? [:]
                    if p["type"]?.arrayValue != nil { p["type"] = p["type"]?.arrayValue?.first { $0 != "null" } }
                    // Command R+'s tool-use template reads every parameter's description, and an
                    // object parameter's `additionalProperties` schema (to spell `Dict[str, …]`).
                    if p["description"] == nil { p["description"] = .string("The \(key).") }
                    if p["type"] == "object", p["additionalProperties"] == nil { p["additionalProperties"] = ["type": "integer"] }
                    properties[key] = .object(p)
                }
                root["properties"] = .object(properties)
                parameters = .object(root)
            }
            function["parameters"] = parameters
            return ["type": "function", "function": .object(function)]
        }
    }

    static func assistantMessage(_ calls: [ToolCallFormat.Call], content: String, shape: Shape) -> JSONValue {
        let toolCalls: [JSONValue] = calls.map { call in
            let arguments: JSONValue = shape.stringArguments
                ? .string(JSONValue.object(call.arguments).serialized(JSONFormatting(itemSeparator: " ", keySeparator: ": ")))
                : .object(call.arguments)
            return ["id": .string(call.id ?? ""), "type": "function",
                    "function": ["name": .string(call.name), "arguments": arguments]]
        }
        return ["role": "assistant", "content": shape.nullContent && content.isEmpty ? .null : .string(content), "tool_calls": .array(toolCalls)]
    }

    /// The part of `full` (conversation + assistant turn) the model would have generated after
    /// `prompt` (conversation + generation prompt), and whether that generation starts inside a
    /// reasoning block.
    ///
    /// Usually the prompt's tail after the last user message is a prefix of the full text's. Some templates render a past assistant turn
    /// differently from the generation prompt (an empty thought channel, `<think>\n` that history
    /// drops): then the cut is where the two diverge, moved back to the end of the last control
    /// token or line, and the output starts inside reasoning only if the rendered turn closes it
    /// (a close the prompt already wrote, as in `<think></think>`, is dropped).
    static func generatedText(prompt: String, full: String, userText: String, format: ToolCallFormat) -> (String, Bool) {
        // Compare from the last user message on: some templates (Mistral Nemo) move the system
        // prompt into the last user message, so earlier text differs too.
        func after(_ s: String) -> [UInt8] {
            guard let r = s.range(of: userText, options: .backwards) else { return Array(s.utf8) }
            return Array(s[r.upperBound...].utf8)
        }
        let p = after(prompt), f = after(full)
        var cut = 0
        while cut < p.count, cut < f.count, p[cut] == f[cut] { cut += 1 }
        let diverged = cut < p.count
        if diverged {
            while cut > 0, f[cut - 1] != UInt8(ascii: ">"), f[cut - 1] != UInt8(ascii: "\n") { cut -= 1 }
        }
        var text = String(decoding: f[cut...], as: UTF8.self)
        if let end = endOfTurnTokens.compactMap({ text.range(of: $0)?.lowerBound }).min() {
            text = String(text[..<end])
        }
        // A template that writes more after the last message (Command R+'s closing system
        // instruction) diverges before the generation prompt's own last token: the prompt wrote
        // it, the model would not.
        if diverged, let open = prompt.range(of: "<", options: .backwards) {
            let lastToken = prompt[open.lowerBound...]
            if lastToken.hasSuffix(">"), text.hasPrefix(lastToken) { text.removeFirst(lastToken.count) }
        }
        let opens = format.promptOpensReasoning(prompt)
        guard diverged, let block = format.parsePlan.reasoning.first else { return (text, opens) }
        let close = String(decoding: block.close, as: UTF8.self)
        let closesFirst = text.drop(while: \.isWhitespace).hasPrefix(close)
        if closesFirst, !opens {
            // The generation prompt held an empty reasoning block (`<think></think>`) where the
            // history writes only its close: the model would not write that close again.
            let rest = text.drop(while: \.isWhitespace).dropFirst(close.count)
            return (String(rest), false)
        }
        return (text, opens && closesFirst)
    }
}
