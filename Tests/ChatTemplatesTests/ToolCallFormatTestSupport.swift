import ChatAPI
import XCTest
@testable import ChatTemplates

/// Renders an assistant turn (visible content + tool calls) as the model would emit it.
/// Defaults to `ToolCallFormat.render`; once the Jinja interpreter lands, a closure that renders
/// through the real template (and cuts the generation prompt off) can be plugged in here.
typealias AssistantRenderer = (_ format: ToolCallFormat, _ content: String?, _ calls: [ToolCallFormat.Call]) throws -> String

let builtInRenderer: AssistantRenderer = { format, content, calls in format.render(calls: calls, content: content) }

/// The folded result of a parser's events.
struct ParsedOutput: Equatable, CustomStringConvertible {
    var text = ""
    var reasoning = ""
    var calls: [ParsedCall] = []
    var malformed: [String] = []
    /// started / finished / malformed markers in order, e.g. "start0", "end0", "bad1".
    var structure: [String] = []

    struct ParsedCall: Equatable {
        var name: String
        var id: String?
        var argumentsText: String
        var finished: Bool
    }

    var description: String {
        "text=\(text.debugDescription) reasoning=\(reasoning.debugDescription) calls=\(calls) malformed=\(malformed) structure=\(structure)"
    }
}

func fold(_ events: [ParsedEvent]) -> ParsedOutput {
    var out = ParsedOutput()
    var byIndex: [Int: Int] = [:]
    for e in events {
        switch e {
        case .text(let t): out.text += t
        case .reasoning(let r): out.reasoning += r
        case .toolCallStarted(let index, let name, let id):
            byIndex[index] = out.calls.count
            out.calls.append(.init(name: name, id: id, argumentsText: "", finished: false))
            out.structure.append("start\(index)")
        case .argumentsDelta(let index, let fragment):
            if let i = byIndex[index] { out.calls[i].argumentsText += fragment } else { out.structure.append("orphan\(index)") }
        case .toolCallFinished(let index):
            if let i = byIndex[index] { out.calls[i].finished = true }
            out.structure.append("end\(index)")
        case .malformedToolCall(let index, _, let reason):
            out.malformed.append(reason)
            out.structure.append("bad\(index)")
        }
    }
    return out
}

/// Parses `text` in one feed.
func parseWhole(_ format: ToolCallFormat, _ text: String, tools: [FunctionDefinition] = testTools,
                startInReasoning: Bool = false) -> (ParsedOutput, [ParsedEvent]) {
    var parser = format.makeParser(tools: tools, startInReasoning: startInReasoning)
    let events = parser.parse(text)
    return (fold(events), events)
}

/// Parses `text` fed one UTF-8 byte at a time (multi-byte characters arrive split).
func parseBytewise(_ format: ToolCallFormat, _ text: String, tools: [FunctionDefinition] = testTools,
                   startInReasoning: Bool = false) -> (ParsedOutput, [ParsedEvent]) {
    var parser = format.makeParser(tools: tools, startInReasoning: startInReasoning)
    var events: [ParsedEvent] = []
    for b in text.utf8 { events += parser.feed(bytes: [b]) }
    events += parser.finish()
    return (fold(events), events)
}

/// Parses `text` fed one Character at a time through `feed(_ text:)`.
func parseCharacterwise(_ format: ToolCallFormat, _ text: String, tools: [FunctionDefinition] = testTools,
                        startInReasoning: Bool = false) -> (ParsedOutput, [ParsedEvent]) {
    var parser = format.makeParser(tools: tools, startInReasoning: startInReasoning)
    var events: [ParsedEvent] = []
    for ch in text { events += parser.feed(String(ch)) }
    events += parser.finish()
    return (fold(events), events)
}

/// Canonical text of a JSON object for order-insensitive comparison (Gemma sorts keys).
func canonical(_ object: JSONObject) -> String {
    JSONValue.object(object).serialized(JSONFormatting(sortKeys: true))
}

func canonical(argumentsText: String) -> String? {
    guard let value = try? JSONValue(parsing: argumentsText), let object = value.objectValue else { return nil }
    return canonical(object)
}

/// Whether `text` has no whitespace outside strings (the compact-JSON promise of the parser).
func isCompactJSON(_ text: String) -> Bool {
    guard let value = try? JSONValue(parsing: text) else { return false }
    return value.serialized() == text || !hasInsignificantSpace(text)
}

private func hasInsignificantSpace(_ text: String) -> Bool {
    var inString = false, escaped = false
    for ch in text.unicodeScalars {
        if inString {
            if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
        } else if ch == "\"" { inString = true } else if ch == " " || ch == "\n" || ch == "\t" || ch == "\r" { return true }
    }
    return false
}

// MARK: - Fixtures

let weatherSchema: JSONValue = [
    "type": "object",
    "properties": ["city": ["type": "string"], "unit": ["type": "string", "enum": ["celsius", "fahrenheit"]]],
    "required": ["city"],
]
let addSchema: JSONValue = [
    "type": "object", "properties": ["a": ["type": "number"], "b": ["type": "number"]],
]
let searchSchema: JSONValue = [
    "type": "object",
    "properties": [
        "query": ["type": "string"],
        "filters": ["type": "object"],
        "limit": ["type": ["integer", "null"]],
        "exact": ["type": "boolean"],
        "code": ["type": "string"],
    ],
]

let testTools: [FunctionDefinition] = [
    FunctionDefinition(name: "get_weather", description: "Current weather for a city.", parameters: weatherSchema),
    FunctionDefinition(name: "add", description: "Adds two numbers.", parameters: addSchema),
    FunctionDefinition(name: "search", parameters: searchSchema),
]

let weatherCall = ToolCallFormat.Call(name: "get_weather", arguments: ["city": "Zürich 東京", "unit": "celsius"])
let addCall = ToolCallFormat.Call(name: "add", arguments: ["a": 2, "b": 3.5])
let searchCall = ToolCallFormat.Call(name: "search", arguments: [
    "query": "say \"hi\" & <b>bold</b>\nsecond line",
    "filters": ["tags": ["x", "y"], "depth": 2],
    "limit": nil,
    "exact": true,
    "code": "42",
])
