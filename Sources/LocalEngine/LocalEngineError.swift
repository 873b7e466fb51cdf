/// Errors from loading a model or generating with the local engine.
public enum LocalEngineError: Error, Equatable, CustomStringConvertible {
    /// No file at the model path.
    case modelNotFound(path: String)
    /// llama.cpp could not load the file as a model.
    case modelLoadFailed(path: String)
    /// llama.cpp could not create an inference context (usually out of memory).
    case contextCreationFailed(contextSize: Int)
    /// The rendered prompt does not leave room for one generated token in the context.
    /// The server reports this as a 400.
    case promptTooLong(tokens: Int, limit: Int)
    /// The chat template could not be applied to the messages.
    case templateFailed(String)
    /// Too many requests are already waiting; the caller should retry later (server: 429/503).
    case queueFull(limit: Int)
    /// llama_decode failed with this status.
    case decodeFailed(status: Int32)
    /// The request is invalid (e.g. a negative max_tokens); the text names the field.
    case invalidRequest(String)
    /// The engine was shut down before the request ran.
    case shutDown

    public var description: String {
        switch self {
        case .modelNotFound(let path): return "model file not found: \(path)"
        case .modelLoadFailed(let path): return "llama.cpp could not load the model at \(path)"
        case .contextCreationFailed(let size):
            return "llama.cpp could not create a context of \(size) tokens"
        case .promptTooLong(let tokens, let limit):
            return "the prompt has \(tokens) tokens but the model's context holds \(limit)"
                + " (at least one token must remain for the completion)"
        case .templateFailed(let message): return "chat template failed: \(message)"
        case .queueFull(let limit): return "too many queued requests (limit \(limit))"
        case .decodeFailed(let status): return "llama_decode failed with status \(status)"
        case .invalidRequest(let message): return "invalid request: \(message)"
        case .shutDown: return "the local engine has shut down"
        }
    }
}
