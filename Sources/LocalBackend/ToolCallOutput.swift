import Gateway
import ChatAPI
import ChatTemplates
import Logging

/// Turns the engine's text into the client's events: text, reasoning, and tool calls parsed
/// incrementally in the model's format, each call with a fresh `call_…` id and consecutive
/// indexes. Decides the finish reason: `tool_calls` when calls were made, `length` when the
/// limit cut the output (even mid-call).
struct ToolCallOutput: Sendable {
    private var parser: ToolCallStreamParser?
    /// Parser index → client index and id, for calls that started.
    private var started: [Int: (index: Int, id: String)] = [:]
    private var finishedCalls = 0
    private let declared: Set<String>
    private let logger: Logger

    /// `parser` nil: the output is plain text (no tools offered, or `tool_choice: "none"`).
    init(parser: ToolCallStreamParser?, functions: [FunctionDefinition], logger: Logger) {
        self.parser = parser
        self.declared = Set(functions.map(\.name))
        self.logger = logger
    }

    /// The client events for one engine event.
    mutating func events(for event: ChatEvent) -> [ChatEvent] {
        switch event {
        case .textDelta(let text):
            guard var p = parser else { return [event] }
            let parsed = p.feed(text)
            parser = p
            return parsed.flatMap { translate($0) }
        case .finished(var reason, let usage):
            var out: [ChatEvent] = []
            if var p = parser {
                let parsed = p.finish()
                parser = p
                out = parsed.flatMap { translate($0) }
            }
            if reason == .stop && finishedCalls > 0 { reason = .toolCalls }
            out.append(.finished(reason: reason, usage: usage))
            return out
        default:
            return [event]
        }
    }

    private mutating func translate(_ event: ParsedEvent) -> [ChatEvent] {
        switch event {
        case .text(let t): return t.isEmpty ? [] : [.textDelta(t)]
        case .reasoning(let r): return r.isEmpty ? [] : [.reasoningDelta(r)]
        case .toolCallStarted(_, let name, _) where !declared.contains(name):
            // A format may name a built-in the request never offered (Llama's `python` after
            // `<|python_tag|>`); the client could not run it, so it is not passed on.
            logger.warning("model called an undeclared function; dropped", metadata: ["function": "\(name)"])
            return []
        case .toolCallStarted(let index, let name, _):
            // Ids are ours even where the format writes one: the model's may repeat across turns.
            let call = (index: started.count, id: ToolCall.newID())
            started[index] = call
            return [.toolCallStarted(index: call.index, id: call.id, name: name)]
        case .argumentsDelta(let index, let fragment):
            guard let call = started[index] else { return [] }
            return [.toolCallArgumentsDelta(index: call.index, fragment: fragment)]
        case .toolCallFinished(let index):
            guard started[index] != nil else { return [] }
            finishedCalls += 1
            return []
        case .malformedToolCall(let index, let text, let reason):
            // Only reachable where generation was not constrained; a call already announced to
            // the client cannot be taken back, so it is logged and left incomplete.
            logger.warning("model wrote a malformed tool call", metadata: ["reason": "\(reason)", "text": "\(text.prefix(200))"])
            if started[index] == nil { return [.textDelta(text)] }
            return []
        }
    }
}
