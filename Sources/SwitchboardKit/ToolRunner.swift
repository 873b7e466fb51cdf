import ChatAPI

/// What answers chat completions for a `ToolRunner`: a `ChatClient`, or a scripted stand-in.
public protocol ChatCompleting: Sendable {
    func stream(_ request: ChatCompletionRequest) -> AsyncThrowingStream<ChatStreamChunk, Error>
}

extension ChatClient: ChatCompleting {}

/// The caller's decision on a call of a tool that `needsApproval`.
public enum Approval: Sendable, Equatable {
    /// Run it.
    case approve
    /// Do not run it; the model reads the reason as the call's result.
    case deny(reason: String)
    /// Do not run it; the model reads this output as if the tool had returned it.
    case substitute(output: String)
}

/// What a `ToolRunner` reports as it goes.
public enum ToolRunEvent: Sendable {
    /// Answer text as the model writes it.
    case textDelta(String)
    /// The model called a tool; it is about to run (or be approved).
    case callStarted(ToolCall)
    /// A call ended: its output, as the model will read it, and whether it failed (threw, was
    /// denied, named no known tool, or had arguments that did not decode).
    case callFinished(ToolCall, output: String, isError: Bool)
    /// A round (one model answer and the calls it made) is over.
    case roundFinished(round: Int)
    /// The run is over.
    case finished(ToolRunResult)
}

/// The outcome of a run.
public struct ToolRunResult: Sendable {
    /// Every message: the request's, then each assistant turn and tool result in order.
    public let messages: [ChatMessage]
    /// The model's last answer. Its `finishReason` is `toolCalls` when the rounds ran out with
    /// calls still asked for (those calls were not run).
    public let answer: ChatCompletion
    /// The usage of every round together.
    public let usage: TokenUsage
}

/// Runs the function-calling loop: send the request with the tools, run the calls that come
/// back, append their results as `tool` messages, ask again; until the model answers without
/// calls or `maxRounds` answers have been asked for.
///
/// - The calls of one turn run concurrently, except tools that say `runsAlone`, and all of
///   them one at a time when the request sets `parallel_tool_calls: false`. Results are
///   appended in call order, each with its `tool_call_id`.
/// - A tool that throws does not end the run: the model reads the error as the call's result.
/// - `approve` is asked before every call of a tool that `needsApproval`.
/// - `toolChoice` picks each round's `tool_choice`; by default the request's holds for the
///   first round, and a forced choice (`required`, a named function) becomes `auto` after it.
public struct ToolRunner: Sendable {
    public let client: any ChatCompleting
    public let tools: [any Tool]
    public var maxRounds: Int
    public var approve: @Sendable (ToolCall) async -> Approval
    public var toolChoice: @Sendable (_ round: Int, _ requested: ToolChoice) -> ToolChoice

    public init(client: any ChatCompleting, tools: [any Tool], maxRounds: Int = 8,
                approve: @escaping @Sendable (ToolCall) async -> Approval = { _ in .approve }) {
        self.client = client
        self.tools = tools
        self.maxRounds = maxRounds
        self.approve = approve
        self.toolChoice = { round, requested in round == 1 ? requested : requested.afterFirstRound }
    }

    /// Runs the loop to its end.
    public func run(_ request: ChatCompletionRequest) async throws -> ToolRunResult {
        for try await event in stream(request) {
            if case .finished(let result) = event { return result }
        }
        throw CancellationError()
    }

    /// Runs the loop, reporting each step. Stopping the iteration cancels the run.
    public func stream(_ request: ChatCompletionRequest) -> AsyncThrowingStream<ToolRunEvent, Error> {
        let (events, continuation) = AsyncThrowingStream.makeStream(of: ToolRunEvent.self)
        let task = Task { [self] in
            do {
                continuation.yield(.finished(try await loop(request, report: continuation)))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return events
    }

    private func loop(_ request: ChatCompletionRequest, report: AsyncThrowingStream<ToolRunEvent, Error>.Continuation) async throws -> ToolRunResult {
        var request = request
        // A request built without tools has `none`, the API's default then; the runner's tools
        // make `auto` the default instead.
        let requestedChoice = request.tools.isEmpty && request.toolChoice == .none ? ToolChoice.auto : request.toolChoice
        let declared = Set(request.tools.map(\.name))
        request.tools += tools.filter { !declared.contains($0.name) }.map(\.definition)
        var usage = TokenUsage(promptTokens: 0, completionTokens: 0)
        for round in 1...max(1, maxRounds) {
            request.toolChoice = toolChoice(round, requestedChoice)
            var aggregator = StreamAggregator()
            for try await chunk in client.stream(request) {
                aggregator.add(chunk)
                let text = chunk.text
                if !text.isEmpty { report.yield(.textDelta(text)) }
            }
            try Task.checkCancellation()
            guard let answer = aggregator.completion else {
                throw APIError.badUpstream("The answer stream ended without saying why the model stopped.", code: "upstream_stream_cut")
            }
            usage.promptTokens += answer.usage.promptTokens
            usage.completionTokens += answer.usage.completionTokens
            usage.cachedPromptTokens += answer.usage.cachedPromptTokens
            request.messages.append(ChatMessage(role: .assistant, content: answer.content.map(MessageContent.text),
                                                toolCalls: answer.toolCalls, reasoningContent: answer.reasoningContent,
                                                reasoningSignature: answer.reasoningSignature))
            guard !answer.toolCalls.isEmpty, round < maxRounds else {
                report.yield(.roundFinished(round: round))
                return ToolRunResult(messages: request.messages, answer: answer, usage: usage)
            }
            request.messages += try await results(of: answer.toolCalls, parallel: request.parallelToolCalls, report: report)
            report.yield(.roundFinished(round: round))
        }
        preconditionFailure("the last round returns")
    }

    /// Runs `calls`; their results as `tool` messages, in call order.
    private func results(of calls: [ToolCall], parallel: Bool,
                         report: AsyncThrowingStream<ToolRunEvent, Error>.Continuation) async throws -> [ChatMessage] {
        var outputs = [String?](repeating: nil, count: calls.count)
        let together = calls.indices.filter { i in parallel && !(tool(named: calls[i].name)?.runsAlone ?? false) }
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in together {
                group.addTask { (i, await execute(calls[i], report: report)) }
            }
            for try await (i, output) in group { outputs[i] = output }
        }
        for i in calls.indices where outputs[i] == nil {
            outputs[i] = await execute(calls[i], report: report)
        }
        try Task.checkCancellation()
        return zip(calls, outputs).map { call, output in .tool(output!, callID: call.id) }
    }

    /// One call, from start to result; never throws (the model reads failures).
    private func execute(_ call: ToolCall, report: AsyncThrowingStream<ToolRunEvent, Error>.Continuation) async -> String {
        report.yield(.callStarted(call))
        let (output, isError) = await outcome(of: call)
        report.yield(.callFinished(call, output: output, isError: isError))
        return output
    }

    private func outcome(of call: ToolCall) async -> (String, Bool) {
        guard let tool = tool(named: call.name) else {
            return ("Error: there is no tool named '\(call.name)'. Tools: \(tools.map(\.name).joined(separator: ", ")).", true)
        }
        if tool.needsApproval {
            switch await approve(call) {
            case .approve: break
            case .deny(let reason): return ("The call was not approved: \(reason)", true)
            case .substitute(let output): return (output, false)
            }
        }
        do {
            return (try await tool.run(arguments: call.arguments), false)
        } catch {
            return ("Error: \(error)", true)
        }
    }

    private func tool(named name: String) -> (any Tool)? { tools.first { $0.name == name } }
}
