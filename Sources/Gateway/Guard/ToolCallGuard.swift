import ChatAPI
import JSONSchemaKit

/// Checks every tool call on a backend's event stream before it leaves the server: it names a
/// function the request allows, the calls respect `tool_choice` and `parallel_tool_calls`, and
/// each finished call's arguments parse and satisfy the function's schema. An answer without
/// calls to a request with a JSON `response_format` must be that JSON: an object for
/// `json_object`, valid against the schema for `json_schema`.
///
/// Local generation guarantees all of this by construction, so a violation there is a bug on
/// our side (500). From a hosted upstream it is the upstream's fault: a 502
/// `upstream_invalid_tool_call`, which the router first tries to repair. Either way the client
/// never gets a call that breaks the contract. A call or answer cut short by `max_tokens`
/// (finish reason `length`) or by a content filter is incomplete by definition and is left to
/// that finish reason. (A streamed answer's text has gone out by the time it can be judged; it
/// then ends with the error instead of a finish.)
public struct ToolCallGuard: Sendable {
    private let plan: ToolCallPlan
    private let schemas: RequestSchemas
    private let allowed: Set<String>
    /// Whether a violation is our bug (500) rather than the upstream's (502).
    private let validByConstruction: Bool
    /// The call being streamed: its index, name and argument text so far.
    private var open: (index: Int, name: String, arguments: String)?
    private var callCount = 0
    /// The request's `response_format`, which an answer without calls must follow.
    private let answerFormat: ResponseFormat
    /// The answer's text so far, kept only when `answerFormat` is JSON.
    private var text = ""

    public init(plan: ToolCallPlan, schemas: RequestSchemas, answerFormat: ResponseFormat = .text, validByConstruction: Bool = true) {
        self.plan = plan
        self.schemas = schemas
        self.allowed = Set(plan.functions.map(\.name))
        self.answerFormat = answerFormat
        self.validByConstruction = validByConstruction
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
            if reason == .length || reason == .contentFilter { open = nil; return }
            try closeOpenCall()
            if plan.mode == .mandatory && callCount == 0 { throw violation("no tool call although tool_choice requires one") }
            if callCount == 0 { try checkAnswer() }
        case .textDelta(let fragment):
            if answerFormat != .text { text += fragment }
        case .reasoningDelta, .reasoningSignature:
            break
        }
    }

    /// Checks an answer without calls against the JSON `response_format` it was asked for.
    private func checkAnswer() throws {
        guard answerFormat != .text else { return }
        guard let value = try? JSONValue(parsing: text) else {
            throw violation("the answer is not the JSON that response_format asks for: \(text.prefix(200))", answer: true)
        }
        switch answerFormat {
        case .jsonObject where value.objectValue == nil:
            throw violation("the answer is not a JSON object, as response_format json_object asks", answer: true)
        case .jsonSchema:
            let errors = schemas.responseFormat?.validate(value) ?? []
            if !errors.isEmpty {
                throw violation("the answer fails the response_format schema: \(errors.prefix(3).map(\.description).joined(separator: "; "))",
                                answer: true)
            }
        default:
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

    private func violation(_ what: String, answer: Bool = false) -> APIError {
        let thing = answer ? "an answer that breaks response_format" : "an invalid tool call"
        if validByConstruction {
            return APIError(status: 500, message: "Switchboard produced \(thing) and did not finish it: \(what). This is a bug in the server; please report it.",
                            type: "server_error", code: answer ? "response_format_validation_failed" : "tool_call_validation_failed")
        }
        return APIError(status: 502, message: "The upstream model produced \(thing), which was not passed on as valid: \(what).",
                        type: "upstream_error", code: answer ? Self.upstreamAnswerViolationCode : Self.upstreamViolationCode)
    }

    /// The error code of a hosted upstream's call that breaks the contract.
    public static let upstreamViolationCode = "upstream_invalid_tool_call"
    /// The error code of a hosted upstream's answer that breaks `response_format`.
    public static let upstreamAnswerViolationCode = "upstream_invalid_response_format"
    /// The violations the router asks the upstream again about.
    public static let repairableCodes: Set<String> = [upstreamViolationCode, upstreamAnswerViolationCode]
}
