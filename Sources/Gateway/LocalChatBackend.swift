import ChatAPI
import LocalEngine

/// Serves chat completions from a local GGUF model through `LocalEngine`.
public struct LocalChatBackend: ChatBackend {
    public let engine: LocalEngine
    public let modelID: String

    public init(engine: LocalEngine, modelID: String) {
        self.engine = engine
        self.modelID = modelID
    }

    public func startCompletion(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        let events = engine.generate(try generationRequest(for: request))
        // Re-emit with engine errors translated to API errors; cancelling the consumer of this
        // stream cancels the task, which drops the engine's stream and stops generation.
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await event in events { continuation.yield(event) }
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

    /// Maps an API request onto the engine's request, rejecting what a text model cannot do.
    func generationRequest(for request: ChatCompletionRequest) throws -> GenerationRequest {
        if request.toolChoice != .none, !request.tools.isEmpty {
            throw APIError.invalidRequest(
                "Function calling is not available on local model '\(modelID)' yet; send tool_choice 'none' or no tools.",
                param: "tools", code: "unsupported_parameter")
        }
        if request.responseFormat != .text {
            throw APIError.invalidRequest(
                "Structured output (response_format) is not available on local model '\(modelID)' yet.",
                param: "response_format", code: "unsupported_parameter")
        }
        var messages: [PromptMessage] = []
        for (i, m) in request.messages.enumerated() {
            if case .parts(let parts)? = m.content {
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
            messages.append(PromptMessage(role: Self.promptRole(m.role), content: Self.promptText(m)))
        }
        var g = GenerationRequest(messages: messages)
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
        return g
    }

    /// Chat templates know system/user/assistant/tool; `developer` is OpenAI's new name for system.
    static func promptRole(_ role: ChatMessage.Role) -> String {
        switch role {
        case .developer: return "system"
        case .function: return "tool"
        default: return role.rawValue
        }
    }

    /// The message as plain text; earlier assistant tool calls are written out as JSON so the
    /// model still sees what it asked for.
    static func promptText(_ m: ChatMessage) -> String {
        var text = m.content?.text ?? ""
        for call in m.toolCalls {
            if !text.isEmpty { text += "\n" }
            text += #"{"name":"# + JSONValue.quoted(call.name) + #","arguments":"# + call.arguments + "}"
        }
        return text
    }
}
