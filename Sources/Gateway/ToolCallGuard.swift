import ChatAPI
import JSONSchemaKit

/// Checks every tool call on a backend's event stream before it leaves the server: it names a
/// function the request allows, the calls respect `tool_choice` and `parallel_tool_calls`, and
/// each finished call's arguments parse and satisfy the function's schema.
///
/// Local generation guarantees all of this by construction, so a violation here is a bug on our
/// side: the stream ends with a 500 naming the problem instead of handing the client a call
/// that breaks the contract. A call cut short by `max_tokens` (finish reason `length`) is
/// incomplete by definition and is left to that finish reason.
public struct ToolCallGuard: Sendable {
    private let plan: ToolCallPlan
    private let schemas: RequestSchemas
    private let allowed: Set<String>
    /// The call being streamed: its index, name and argument text so far.
    private var open: (index: Int, name: String, arguments: String)?
    private var callCount = 0

    public init(plan: ToolCallPlan, schemas: RequestSchemas) {
        self.plan = plan
        self.schemas = schemas
        self.allowed = Set(plan.functions.map(\.name))
    }

    /// Checks `event` in stream order; throws a 500 `APIError` at the first violation.
    public mutating func check(_ event: ChatEvent) throws {
        switch event {
        case .toolCallStarted(let index, _, let name):
            try closeOpenCall()
            guard plan.mode != .forbidden else { throw violation("a tool call was produced although tool_choice forbids calls") }
            guard allowed.contains(name) else { throw violation("a call of '\(name)', which this request does not allow") }
            guard index == callCount else { throw violation("call index \(index) where \(callCount) was next") }
            if let maxCalls = plan.maxCalls, callCount >= maxCalls {
                throw violation("more than \(maxCalls) tool call\(maxCalls == 1 ? "" : "s")")
            }
            callCount += 1
            open = (index, name, "")
        case .toolCallArgumentsDelta(let index, let fragment):
            guard open?.index == index else { throw violation("arguments for call \(index), which is not the open call") }
            open?.arguments += fragment
        case .finished(let reason, _):
            if reason == .length { open = nil; return }
            try closeOpenCall()
            if plan.mode == .mandatory && callCount == 0 { throw violation("no tool call although tool_choice requires one") }
        case .textDelta, .reasoningDelta:
            break
        }
    }

    /// Validates the arguments of the call that just ended.
    private mutating func closeOpenCall() throws {
        guard let call = open else { return }
        open = nil
        guard let value = try? JSONValue(parsing: call.arguments) else {
            throw violation("the arguments of '\(call.name)' are not valid JSON: \(call.arguments.prefix(200))")
        }
        if let schema = schemas.functions[call.name] {
            let errors = schema.validate(value)
            if !errors.isEmpty {
                throw violation("the arguments of '\(call.name)' fail its schema: \(errors.prefix(3).map(\.description).joined(separator: "; "))")
            }
        } else if value.objectValue == nil {
            throw violation("the arguments of '\(call.name)' are not a JSON object")
        }
    }

    private func violation(_ what: String) -> APIError {
        APIError(status: 500, message: "Switchboard produced an invalid tool call and did not send it: \(what). This is a bug in the server; please report it.",
                 type: "server_error", code: "tool_call_validation_failed")
    }

    /// `events` with every event checked; the stream ends with the violation's error instead of
    /// the offending event.
    public static func guarded(_ events: AsyncThrowingStream<ChatEvent, Error>, plan: ToolCallPlan,
                               schemas: RequestSchemas) -> AsyncThrowingStream<ChatEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var guardState = ToolCallGuard(plan: plan, schemas: schemas)
                do {
                    for try await event in events {
                        try guardState.check(event)
                        continuation.yield(event)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
