import ChatAPI
import Gateway
import JSONSchemaKit
import Synchronization

/// The server-side loop for a request that names MCP tools: ask the model; when it calls only
/// MCP tools that may run without approval, run those calls, append the assistant turn and the
/// results, and ask again; stop when it answers, calls anything else (a client's function, or a
/// tool that needs approval), or has used `maxRounds`. The caller then sees one completion:
/// every round's text, the last round's calls (if any, for the caller to run or approve), the
/// usage of all rounds, and the calls that were run in `MCPCallLog`.
///
/// Calls the caller approved (`mcp_approvals`, answering the calls of the conversation's last
/// assistant turn) run first. `tool_choice` `required` or a named function holds for the first
/// round only; later rounds use `auto`, so the model can answer with what the tools returned.
public struct ServerSideToolLoop: Sendable {
    let router: ModelRouter
    let toolbox: MCPToolbox

    public init(router: ModelRouter, toolbox: MCPToolbox) {
        self.router = router
        self.toolbox = toolbox
    }

    /// Starts the loop: the first round is open (its errors are thrown here, before any
    /// response is committed); later rounds run as the returned events are read.
    public func start(_ request: ChatCompletionRequest, use: MCPToolUse) async throws -> (completion: GatewayCompletion, calls: MCPCallLog) {
        let log = MCPCallLog()
        var request = request
        // Approved calls may change things: run them only for a request that can go on (a
        // model that is served, schemas that compile).
        _ = try router.route(for: request.model)
        request.messages += try await approvedResults(request, use: use, log: log)
        let first = try await router.startCompletion(request)
        let (events, continuation) = AsyncThrowingStream.makeStream(of: ChatEvent.self)
        let task = Task { [self] in
            do {
                try await run(first: first.events, request: request, use: use, log: log, into: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return (GatewayCompletion(events: events, report: first.report), log)
    }

    private func run(first: AsyncThrowingStream<ChatEvent, Error>, request: ChatCompletionRequest, use: MCPToolUse, log: MCPCallLog,
                     into output: AsyncThrowingStream<ChatEvent, Error>.Continuation) async throws {
        var request = request
        var events = first
        var usage = TokenUsage(promptTokens: 0, completionTokens: 0)
        for round in 1...use.maxRounds {
            // Text goes out as it comes; calls wait for the round's end, when it is known
            // whether they run here or go to the caller.
            var calls = CompletionAssembler()
            var held: [ChatEvent] = []
            var finish: FinishReason = .stop
            for try await event in events {
                switch event {
                case .textDelta, .reasoningDelta, .reasoningSignature:
                    output.yield(event)
                    calls.add(event)
                case .toolCallStarted, .toolCallArgumentsDelta:
                    held.append(event)
                    calls.add(event)
                case .finished(let reason, let roundUsage):
                    finish = reason
                    usage.promptTokens += roundUsage.promptTokens
                    usage.completionTokens += roundUsage.completionTokens
                    usage.cachedPromptTokens += roundUsage.cachedPromptTokens
                }
            }
            try Task.checkCancellation()
            let bound = calls.toolCalls.map { use.bindings[$0.name] }
            let runHere = finish == .toolCalls && !calls.toolCalls.isEmpty && round < use.maxRounds
                && bound.allSatisfy { $0?.runsWithoutApproval == true }
            guard runHere else {
                for event in held { output.yield(event) }
                output.yield(.finished(reason: finish, usage: usage))
                return
            }
            let results = await run(zip(calls.toolCalls, bound.map { $0! }).map { ($0, $1) }, log: log)
            request.messages.append(ChatMessage(role: .assistant, content: calls.text.isEmpty ? nil : .text(calls.text),
                                                toolCalls: calls.toolCalls,
                                                reasoningContent: calls.reasoning.isEmpty ? nil : calls.reasoning,
                                                reasoningSignature: calls.reasoningSignature))
            request.messages += results
            request.toolChoice = request.toolChoice.afterFirstRound
            events = try await router.startCompletion(request).events
        }
    }

    /// Runs `calls` concurrently; their results, in call order, as `tool` messages.
    private func run(_ calls: [(ToolCall, MCPToolBinding)], log: MCPCallLog) async -> [ChatMessage] {
        await withTaskGroup(of: (Int, MCPToolOutput).self) { group in
            for (i, (call, binding)) in calls.enumerated() {
                group.addTask {
                    guard case .object(let arguments)? = try? JSONValue(parsing: call.arguments.isEmpty ? "{}" : call.arguments) else {
                        return (i, MCPToolOutput(text: "The arguments are not a JSON object.", isError: true))
                    }
                    return (i, await toolbox.call(binding, arguments: arguments))
                }
            }
            var outputs = [MCPToolOutput?](repeating: nil, count: calls.count)
            for await (i, output) in group { outputs[i] = output }
            return zip(calls, outputs).map { pair, output in
                let ((call, binding), result) = (pair, output!)
                log.record(MCPCallRecord(call: call, binding: binding, output: result))
                return Self.toolMessage(result, callID: call.id)
            }
        }
    }

    /// The results of the calls the caller has decided on: the approved ones run, the denied
    /// ones answered with the refusal. Only calls of the last assistant turn that have no
    /// result yet can be decided on. The caller sends those calls back, so their arguments are
    /// checked against the tool's schema again before anything runs.
    private func approvedResults(_ request: ChatCompletionRequest, use: MCPToolUse, log: MCPCallLog) async throws -> [ChatMessage] {
        guard !use.approvals.isEmpty else { return [] }
        let messages = request.messages
        let lastAssistant = messages.lastIndex { $0.role == .assistant && !$0.toolCalls.isEmpty }
        let answered = Set(messages[(lastAssistant ?? messages.endIndex)...].compactMap(\.toolCallID))
        let open = lastAssistant.map { messages[$0].toolCalls.filter { !answered.contains($0.id) } } ?? []
        for id in use.approvals.keys.sorted() where !open.contains(where: { $0.id == id }) {
            throw APIError.invalidRequest(
                "Invalid 'mcp_approvals': '\(id)' is not an unanswered tool call of the last assistant message.",
                param: "mcp_approvals")
        }
        var approved: [(ToolCall, MCPToolBinding)] = []
        var denied: [String: ChatMessage] = [:]
        for call in open {
            guard let approval = use.approvals[call.id] else { continue }
            guard let binding = use.bindings[call.name] else {
                throw APIError.invalidRequest(
                    "Invalid 'mcp_approvals': the call '\(call.id)' is to '\(call.name)', which is not an MCP tool of this request.",
                    param: "mcp_approvals")
            }
            if approval.approve {
                let arguments = try? JSONValue(parsing: call.arguments.isEmpty ? "{}" : call.arguments)
                let schema = try await schemas(request).functions[call.name]
                guard let arguments, arguments.objectValue != nil, schema?.isValid(arguments) ?? true else {
                    throw APIError.invalidRequest(
                        "Invalid 'mcp_approvals': the arguments of the approved call '\(call.id)' do not satisfy the schema of '\(call.name)'.",
                        param: "mcp_approvals")
                }
                approved.append((call, binding))
            } else {
                let refusal = MCPToolOutput(text: "The caller did not approve this call" + (approval.reason.map { ": \($0)" } ?? "."),
                                            isError: true)
                log.record(MCPCallRecord(call: call, binding: binding, output: refusal))
                denied[call.id] = Self.toolMessage(refusal, callID: call.id)
            }
        }
        let ran = await run(approved, log: log)
        // In the order of the calls, as the model made them.
        var byID = denied
        for message in ran { if let id = message.toolCallID { byID[id] = message } }
        return open.compactMap { byID[$0.id] }
    }

    /// The request's compiled schemas (cached by the router: compiled once per distinct schema).
    private func schemas(_ request: ChatCompletionRequest) async throws -> RequestSchemas {
        try await router.schemaValidators.compile(request)
    }

    private static func toolMessage(_ output: MCPToolOutput, callID: String) -> ChatMessage {
        var message = ChatMessage.tool(output.text, callID: callID)
        message.isError = output.isError
        return message
    }
}

/// One call the loop ran (or the caller refused), as the `mcp_calls` extension field reports it.
public struct MCPCallRecord: Sendable, Equatable {
    public let call: ToolCall
    public let binding: MCPToolBinding
    public let output: MCPToolOutput

    public var json: JSONValue {
        ["id": .string(call.id), "server_label": .string(binding.server), "name": .string(binding.tool),
         "arguments": .string(call.arguments), "output": .string(output.text), "is_error": .bool(output.isError)]
    }
}

/// The calls a loop has run so far; read by the response writer as the loop goes.
public final class MCPCallLog: Sendable {
    private let state = Mutex<(all: [MCPCallRecord], unread: Int)>(([], 0))

    public init() {}

    func record(_ record: MCPCallRecord) {
        state.withLock {
            $0.all.append(record)
            $0.unread += 1
        }
    }

    /// Every call so far.
    public var all: [MCPCallRecord] { state.withLock { $0.all } }

    /// The calls recorded since the last `takeUnread()`.
    public func takeUnread() -> [MCPCallRecord] {
        state.withLock { state in
            let unread = Array(state.all.suffix(state.unread))
            state.unread = 0
            return unread
        }
    }
}
