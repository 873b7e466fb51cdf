import ChatAPI
import ChatTemplates
import Grammar
import XCTest
@testable import LocalBackend

/// Builds a format's call grammar over a vocabulary of single bytes and feeds it text, and
/// parses text back with the format's parser: what the grammar tests of every format share.
enum CallGrammarCheck {
    /// Every byte is a token (0 is end of generation): masks then speak about bytes.
    static let byteVocabulary: GrammarVocabulary = {
        GrammarVocabulary(tokenBytes: [Array("<eos>".utf8)] + (0..<256).map { [UInt8($0)] },
                          specialIDs: [0], endOfGenerationIDs: [0])
    }()

    /// The grammar of a forced call; `reasoningClose` when the prompt left a reasoning block open.
    static func grammar(_ format: ToolCallFormat, _ functions: [FunctionDefinition],
                        reasoningClose: String? = nil) throws -> CompiledGrammar {
        let plan = ToolCallPlan(mode: .mandatory, functions: functions, maxCalls: nil)
        let made = try OutputGrammar.make(plan: plan, responseFormat: .text, format: format)
        var output = try XCTUnwrap(made)
        if let reasoningClose { output = output.afterReasoning(closedBy: reasoningClose) }
        return try GrammarCompiler(vocabulary: byteVocabulary, options: .generation).compile(output.spec)
    }

    static func admits(_ grammar: CompiledGrammar, _ text: String) -> Bool {
        var matcher = grammar.makeMatcher()
        for byte in text.utf8 where !matcher.accept(token: Int(byte) + 1) { return false }
        return matcher.isComplete
    }

    /// The calls `text` parses to, fed one byte at a time.
    static func parse(_ format: ToolCallFormat, _ text: String, tools: [FunctionDefinition]) -> [(name: String, arguments: String)] {
        var parser = format.makeParser(tools: tools)
        var events: [ParsedEvent] = []
        for byte in text.utf8 { events += parser.feed(bytes: [byte]) }
        events += parser.finish()
        var calls: [(name: String, arguments: String)] = []
        var finished = 0
        for event in events {
            switch event {
            case .toolCallStarted(_, let name, _): calls.append((name, ""))
            case .argumentsDelta(let index, let fragment): calls[index].arguments += fragment
            case .toolCallFinished: finished += 1
            case .malformedToolCall(_, _, let reason): XCTFail("malformed call: \(reason) in \(text)")
            case .text, .reasoning: break
            }
        }
        XCTAssertEqual(finished, calls.count, text)
        return calls
    }

    /// `value` with every object's keys sorted, for comparing arguments whatever their order.
    static func keysSorted(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            var sorted = JSONObject()
            for key in object.keys.sorted() { sorted[key] = keysSorted(object[key]!) }
            return .object(sorted)
        case .array(let items): return .array(items.map(keysSorted))
        default: return value
        }
    }

    /// A value as the Python keyword-argument grammar writes it: `True`/`False`/`None`, else JSON.
    static func pythonKeywordValue(_ value: JSONValue) -> String {
        switch value {
        case .bool(let flag): return flag ? "True" : "False"
        case .null: return "None"
        default: return value.serialized()
        }
    }
}
