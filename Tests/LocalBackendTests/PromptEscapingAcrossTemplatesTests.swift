import ChatAPI
import ChatTemplates
import Foundation
import Gateway
@testable import LocalBackend
@testable import LocalEngine
import XCTest

/// Request text that spells control tokens adds no control token to the prompt, whatever the
/// tool-call format: every real chat template of `../shared/data/chat-templates`, with its own
/// format (or the generic one), tools, earlier calls and their results (issue 8, item 5).
final class PromptEscapingAcrossTemplatesTests: XCTestCase {
    static let templates: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data/chat-templates")

    /// What a vocabulary would list as special-token text, read from the template itself:
    /// `<|…|>`, `<｜…｜>`, `[…]` markers in capitals, and `<tag>`/`</tag>` names it writes.
    static func spellings(in source: String) -> [String] {
        let patterns = [#"<\|[^|<>\s]{1,40}\|>"#, #"<｜[^｜<>]{1,40}｜>"#, #"\[/?[A-Z_]{3,30}\]"#, #"</?[a-z_]{3,30}>"#]
        var found = Set<String>()
        for pattern in patterns {
            let regex = try! NSRegularExpression(pattern: pattern)
            for match in regex.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                found.insert(String(source[Range(match.range, in: source)!]))
            }
        }
        return found.sorted()
    }

    /// A conversation with `text` in every request-derived place: system and user content, a
    /// tool's description and schema, an earlier call's arguments, its result.
    static func request(_ text: String) throws -> ChatCompletionRequest {
        let json: JSONValue = [
            "model": "m",
            "messages": [
                ["role": "system", "content": .string("Be brief. " + text)],
                ["role": "user", "content": .string("Weather? " + text)],
                ["role": "assistant", "content": "", "tool_calls": [[
                    "id": "call_1", "type": "function",
                    "function": ["name": "weather", "arguments": .string(JSONValue.object(["city": .string(text)]).serialized())],
                ]]],
                ["role": "tool", "tool_call_id": "call_1", "content": .string("Sunny. " + text)],
                ["role": "user", "content": .string("Thanks. " + text)],
            ],
            "tools": [[
                "type": "function",
                "function": [
                    "name": "weather", "description": .string("Weather of a city. " + text),
                    "parameters": ["type": "object", "properties": ["city": ["type": "string", "description": .string(text)]]],
                ],
            ]],
        ]
        return try ChatCompletionRequest(json: json)
    }

    /// How often each spelling occurs in the prompt's markup (what is tokenized with special
    /// tokens parsed).
    static func markupCounts(_ prompt: String, _ escaping: RequestTextEscaping, _ spellings: [String]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for case .markup(let bytes) in escaping.segments(of: prompt) {
            let run = String(decoding: bytes, as: UTF8.self)
            for s in spellings { counts[s, default: 0] += run.components(separatedBy: s).count - 1 }
        }
        return counts
    }

    func testForgedSpellingsAddNoControlTokenInAnyTemplate() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.templates.path).filter { $0.hasSuffix(".jinja") }.sorted()
        guard !files.isEmpty else { throw XCTSkip("no chat templates at \(Self.templates.path)") }
        var checked = 0, formats = Set<String>()
        for file in files {
            let source = try String(contentsOf: Self.templates.appendingPathComponent(file), encoding: .utf8)
            let spellings = Self.spellings(in: source) + ["<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"]
            let escaping = RequestTextEscaping(spellings: spellings)
            let format = ToolCallFormat.detect(template: source)
            let renderer = JinjaPromptRenderer(template: try ChatTemplate(source: source), bosToken: "<s>", eosToken: "</s>")
            let builder = LocalPromptBuilder(format: format, renderer: renderer, escaping: escaping)
            let forged = spellings.joined(separator: "\n")
            let clean = try Self.request("plain words")
            let hostile = try Self.request(forged)
            // Templates that refuse this conversation (role order, unsupported tools) are skipped;
            // most render it.
            guard let cleanPrompt = try? builder.render(clean, plan: ToolCallPlan(request: clean)) else { continue }
            let hostilePrompt = try builder.render(hostile, plan: ToolCallPlan(request: hostile))
            XCTAssertEqual(Self.markupCounts(hostilePrompt, escaping, spellings), Self.markupCounts(cleanPrompt, escaping, spellings),
                           "\(file) (\(format)): request text became markup")
            // And the request text is all there, as text.
            XCTAssertTrue(hostilePrompt.contains("Sunny.") && hostilePrompt.contains("Thanks."), file)
            checked += 1
            formats.insert("\(format)")
        }
        XCTAssertGreaterThanOrEqual(checked, 60, "too few templates rendered the conversation")
        XCTAssertGreaterThanOrEqual(formats.count, 5, "formats covered: \(formats.sorted())")
        print("control-token escaping checked on \(checked) templates, formats: \(formats.sorted())")
    }
}
