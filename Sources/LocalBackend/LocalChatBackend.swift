import Gateway
import ChatAPI
import ChatTemplates
import Grammar
import JSONSchemaKit
import LocalEngine
import Logging

/// Serves chat completions from a local GGUF model through `LocalEngine`: renders the prompt
/// (tools included), constrains the output with a grammar where the request demands a shape
/// (tool calls, `response_format`), and parses tool calls back out of the generated text.
public struct LocalChatBackend: ChatBackend {
    public let engine: LocalEngine
    public let modelID: String
    /// How this model writes tool calls: its template's own format when our grammar can write
    /// it, otherwise `.generic` (tools described in the system prompt, calls as JSON).
    public let toolCallFormat: ToolCallFormat
    let grammars: GrammarCache
    /// Where output grammars are compiled: off the cooperative pool, under a budget.
    let compileExecutor: CompileExecutor
    let logger = Logger(label: "switchboard.local")

    public init(engine: LocalEngine, modelID: String, compileExecutor: CompileExecutor) {
        self.engine = engine
        self.modelID = modelID
        self.compileExecutor = compileExecutor
        let model = engine.model
        var format = ToolCallFormat.detect(
            template: model.chatTemplate ?? "",
            metadata: ["general.architecture": model.metadata("general.architecture") ?? "",
                       "general.name": model.metadata("general.name") ?? ""])
        if !(engine.promptRenderer is JinjaPromptRenderer) { format = .generic }
        self.toolCallFormat = format
        self.grammars = GrammarCache(model: model)
    }

    public var label: String { "local" }

    public func shutdown() async { await engine.shutdown() }

    /// Tool calls come out of a grammar that admits only valid ones.
    public var capabilities: BackendCapabilities {
        var capabilities = BackendCapabilities()
        capabilities.validByConstruction = true
        capabilities.toolCallFormat = toolCallFormat.rawValue
        return capabilities
    }

    public func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        let (generation, parsing) = try await prepare(request)
        let events = engine.generate(generation)
        // Re-emit through the tool-call parser, with engine errors translated to API errors;
        // cancelling the consumer of this stream cancels the task, which drops the engine's
        // stream and stops generation.
        return AsyncThrowingStream { continuation in
            let task = Task {
                var output = parsing
                do {
                    for try await event in events {
                        for out in output.events(for: event) { continuation.yield(out) }
                    }
                    continuation.finish()
                } catch let error as LocalEngineError {
                    continuation.finish(throwing: Self.apiError(for: error))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The client-facing form of an engine failure.
    static func apiError(for error: LocalEngineError) -> APIError {
        switch error {
        case .promptTooLong(let tokens, let limit):
            return .invalidRequest(
                "This model's maximum context length is \(limit) tokens. However, your messages resulted in \(tokens) tokens, leaving no room for the completion. Please reduce the length of the messages.",
                param: "messages", code: "context_length_exceeded")
        case .invalidRequest(let message):
            return .invalidRequest("Invalid request: \(message).")
        case .templateFailed(let message):
            return .invalidRequest("The model's chat template could not render these messages: \(message)", param: "messages", code: "template_error")
        case .queueFull(let limit):
            return APIError(status: 429, message: "The server is busy: \(limit) requests are already waiting. Please retry shortly.",
                            type: "rate_limit_error", code: "server_busy", retryAfterSeconds: 1)
        case .shutDown:
            return APIError(status: 503, message: "The server is shutting down.", type: "server_error", code: "unavailable")
        default:
            return .server("The local engine failed: \(error).")
        }
    }

    /// The engine request `request` becomes: rendered prompt, sampling, and the grammar
    /// processor when the output is constrained. For benchmarks and tests that drive the
    /// engine directly; `startCompletion` is the way to serve a request.
    public func generationRequest(for request: ChatCompletionRequest) async throws -> GenerationRequest {
        try await prepare(request).0
    }

    /// Maps an API request onto the engine's request (prompt, sampling, output grammar) and the
    /// output parser for its text, rejecting what a text model cannot do.
    func prepare(_ request: ChatCompletionRequest) async throws -> (GenerationRequest, ToolCallOutput) {
        // The completion shares the context with the prompt; more than the whole context can
        // never be produced, so asking for it is an error up front, as with OpenAI.
        if let maxTokens = request.maxCompletionTokens, maxTokens > engine.contextSize {
            let param = request.maxCompletionTokensParam
            throw APIError.invalidRequest(
                "\(param) is too large: \(maxTokens). This model supports at most \(engine.contextSize) completion tokens, whereas you provided \(maxTokens).",
                param: param, code: "invalid_value")
        }
        for (i, m) in request.messages.enumerated() {
            guard case .parts(let parts)? = m.content else { continue }
            for (j, part) in parts.enumerated() {
                switch part {
                case .text, .refusal: continue
                default:
                    throw APIError.invalidRequest(
                        "Model '\(modelID)' accepts text only; '\(part.typeName)' content is not supported.",
                        param: "messages[\(i)].content[\(j)]", code: "unsupported_value")
                }
            }
        }
        let plan = ToolCallPlan(request: request)
        var prompt: String
        do {
            prompt = try LocalPromptBuilder(format: toolCallFormat, renderer: engine.promptRenderer,
                                        escaping: engine.model.requestTextEscaping).render(request, plan: plan)
        } catch let error as LocalEngineError {
            throw Self.apiError(for: error)
        }
        var opensReasoning = toolCallFormat.promptOpensReasoning(prompt)
        if opensReasoning, request.reasoningEffort == "none", let close = toolCallFormat.syntax.reasoningClose {
            // The template opened a reasoning block regardless: close it empty, as Qwen3's
            // template does itself when thinking is off.
            prompt += close + "\n\n"
            opensReasoning = false
        }
        var g = GenerationRequest(messages: [])
        g.renderedPrompt = prompt
        g.maxTokens = request.maxCompletionTokens
        g.stop = request.stop
        g.sampling.temperature = request.temperature ?? 1.0
        g.sampling.topP = request.topP ?? 1.0
        if g.sampling.topP == 0 {
            // A nucleus of zero mass keeps only the most likely token: greedy decoding.
            g.sampling.temperature = 0
            g.sampling.topP = 1
        }
        g.sampling.seed = request.seed.map { UInt64(bitPattern: Int64($0)) }
        g.sampling.presencePenalty = request.presencePenalty ?? 0
        g.sampling.frequencyPenalty = request.frequencyPenalty ?? 0

        let output: OutputGrammar?
        do {
            output = try OutputGrammar.make(plan: plan, responseFormat: request.responseFormat, format: toolCallFormat)
        } catch let failure as OutputGrammar.UnenforceableParameters {
            let source = RequestSchemas.sources(of: request).first {
                if case .function(let name, _, _) = $0.source { return name == failure.function }
                return false
            }?.source
            throw APIError.invalidRequest(
                "Invalid schema for function '\(failure.function)': \(failure.problem). Model '\(modelID)' writes tool calls in its own \(toolCallFormat.rawValue) format, which cannot spell this schema.",
                param: source?.param ?? "tools", code: "unsupported_schema")
        }
        if var output {
            if opensReasoning, let close = toolCallFormat.syntax.reasoningClose {
                output = output.afterReasoning(closedBy: close)
            }
            let grammar = try await compile(output, request: request, plan: plan)
            let syntax = toolCallFormat.syntax
            let reasoning = syntax.reasoningOpen.flatMap { open in
                syntax.reasoningClose.map { GrammarLogitsProcessor.ReasoningBlock(open: open, close: $0, startsInside: opensReasoning) }
            }
            g.logitsProcessor = GrammarLogitsProcessor(
                grammar: grammar, activation: output.triggers.map { .afterTrigger($0, reasoning: reasoning) } ?? .immediately)
        }
        let parser = plan.mode == .forbidden ? nil
            : toolCallFormat.makeParser(tools: plan.functions, startInReasoning: opensReasoning,
                                        acceptingBareJSON: plan.mode == .optional)
        return (g, ToolCallOutput(parser: parser, functions: plan.functions, logger: logger))
    }

    /// Compiles the output grammar off the cooperative pool, under the executor's budget. A
    /// schema the grammar cannot enforce is a 400 naming the field and the keyword (never a
    /// silent fallback to unconstrained output); one too costly to compile is a 400
    /// `schema_too_complex` naming the field.
    private func compile(_ output: OutputGrammar, request: ChatCompletionRequest, plan: ToolCallPlan) async throws -> CompiledGrammar {
        let grammars = self.grammars
        if !grammars.isCompilerReady {
            // The one-time vocabulary walk is the server's cost, not this request's: it runs on
            // a compile thread before the request's budget starts, or it would eat that budget.
            try await compileExecutor.run { _ in grammars.prepareCompiler() }
        }
        let sources = RequestSchemas.sources(of: request).filter { entry in
            if case .function(let name, _, _) = entry.source { return plan.functions.contains { $0.name == name } }
            return true
        }
        let outcome: Result<CompiledGrammar, CompileFailure> = try await compileExecutor.run { budget in
            do {
                return .success(try grammars.grammar(for: output, budget: budget))
            } catch let error as GrammarError {
                // Name the schema at fault by compiling each alone (each outcome is cached too).
                for entry in sources {
                    do {
                        if let problem = try grammars.schemaError(entry.schema, budget: budget) {
                            return .failure(.unenforceable(entry.source, problem))
                        }
                    } catch let exceeded as WorkBudgetExceeded {
                        return .failure(.overBudget(entry.source, exceeded))
                    }
                }
                return .failure(.combined(error))
            } catch let exceeded as WorkBudgetExceeded {
                // The combined grammar ran out; blame the largest schema, the likeliest culprit.
                let culprit = sources.max { $0.schema.serialized().utf8.count < $1.schema.serialized().utf8.count }
                return .failure(.overBudget(culprit?.source, exceeded))
            }
        }
        switch outcome {
        case .success(let grammar):
            return grammar
        case .failure(.unenforceable(let source, let problem)):
            throw APIError.invalidRequest(
                "Invalid schema for \(source.owner): \(problem). Local models enforce it while generating, so every keyword must be enforceable.",
                param: source.param, code: "unsupported_schema")
        case .failure(.overBudget(let source?, let exceeded)):
            throw source.error(for: exceeded)
        case .failure(.overBudget(nil, let exceeded)):
            if exceeded.reason == .cancelled { throw CancellationError() }
            throw APIError.invalidRequest("The requested output is too complex to compile within this server's limits (\(exceeded.detail)).",
                                          param: "tools", code: "schema_too_complex")
        case .failure(.combined(let error)):
            throw APIError.invalidRequest("The requested output cannot be enforced on model '\(modelID)': \(error).",
                                          param: "tools", code: "unsupported_schema")
        }
    }

    /// Why an output grammar could not be compiled, with the schema at fault where known.
    private enum CompileFailure: Error {
        case unenforceable(SchemaSource, GrammarError)
        case overBudget(SchemaSource?, WorkBudgetExceeded)
        case combined(GrammarError)
    }
}
