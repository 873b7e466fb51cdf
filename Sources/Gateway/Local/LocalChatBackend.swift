import ChatAPI
import ChatTemplates
import Grammar
import LocalEngine
import Logging

/// Serves chat completions from a local GGUF model through `LocalEngine`.
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
    let logger = Logger(label: "switchboard.local")

    public init(engine: LocalEngine, modelID: String) {
        self.engine = engine
        self.modelID = modelID
        let model = engine.model
        var format = ToolCallFormat.detect(
            template: model.chatTemplate ?? "",
            metadata: ["general.architecture": model.metadata("general.architecture") ?? "",
                       "general.name": model.metadata("general.name") ?? ""])
        if !OutputGrammar.canConstrain(format) || !(engine.promptRenderer is JinjaPromptRenderer) { format = .generic }
        self.toolCallFormat = format
        self.grammars = GrammarCache(model: model)
    }

    public func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        let (generation, parsing) = try prepare(request)
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
                            type: "rate_limit_error", code: "server_busy")
        case .shutDown:
            return APIError(status: 503, message: "The server is shutting down.", type: "server_error", code: "unavailable")
        default:
            return .server("The local engine failed: \(error).")
        }
    }

    /// The engine request `request` becomes: rendered prompt, sampling, and the grammar
    /// processor when the output is constrained. For benchmarks and tests that drive the
    /// engine directly; `startCompletion` is the way to serve a request.
    public func generationRequest(for request: ChatCompletionRequest) throws -> GenerationRequest {
        try prepare(request).0
    }

    /// Maps an API request onto the engine's request (prompt, sampling, output grammar) and the
    /// output parser for its text, rejecting what a text model cannot do.
    func prepare(_ request: ChatCompletionRequest) throws -> (GenerationRequest, ToolCallOutput) {
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
        let prompt: String
        do {
            prompt = try LocalPromptBuilder(format: toolCallFormat, renderer: engine.promptRenderer,
                                        escaping: engine.model.requestTextEscaping).render(request, plan: plan)
        } catch let error as LocalEngineError {
            throw Self.apiError(for: error)
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

        if let output = OutputGrammar.make(plan: plan, responseFormat: request.responseFormat, format: toolCallFormat) {
            let grammar = try compile(output, request: request, plan: plan)
            g.logitsProcessor = GrammarLogitsProcessor(
                grammar: grammar, activation: output.triggers.map { .afterTrigger($0) } ?? .immediately)
        }
        let parser = plan.mode == .forbidden ? nil
            : toolCallFormat.makeParser(tools: plan.functions, startInReasoning: toolCallFormat.promptOpensReasoning(prompt),
                                        acceptingBareJSON: plan.mode == .optional)
        return (g, ToolCallOutput(parser: parser, functions: plan.functions, logger: logger))
    }

    /// Compiles the output grammar; a schema the grammar cannot enforce is a 400 naming the
    /// field and the keyword (never a silent fallback to unconstrained output).
    private func compile(_ output: OutputGrammar, request: ChatCompletionRequest, plan: ToolCallPlan) throws -> CompiledGrammar {
        do {
            return try grammars.grammar(for: output)
        } catch let error as GrammarError {
            for function in plan.functions {
                guard let schema = function.parameters, let problem = grammars.schemaError(schema) else { continue }
                let index = request.tools.firstIndex { $0.name == function.name } ?? 0
                throw APIError.invalidRequest(
                    "Invalid schema for function '\(function.name)': \(problem). Local models enforce tool arguments while generating, so every keyword must be enforceable.",
                    param: request.usesLegacyFunctions ? "functions[\(index)].parameters" : "tools[\(index)].function.parameters",
                    code: "unsupported_schema")
            }
            if case .jsonSchema(_, _, let schema?, _) = request.responseFormat, let problem = grammars.schemaError(schema) {
                throw APIError.invalidRequest(
                    "Invalid schema for response_format: \(problem). Local models enforce the schema while generating, so every keyword must be enforceable.",
                    param: "response_format.json_schema.schema", code: "unsupported_schema")
            }
            throw APIError.invalidRequest("The requested output cannot be enforced on model '\(modelID)': \(error).",
                                          param: "tools", code: "unsupported_schema")
        }
    }
}
