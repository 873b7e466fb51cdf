import ChatAPI
import Foundation
import Gateway

/// The `chat_completions` MCP tool: a Chat Completions request as tool arguments, answered by
/// the gateway exactly as `POST /v1/chat/completions` is (same routes, same guard), the
/// completion returned whole as `result`.
enum ChatCompletionsTool {
    static let name = "chat_completions"

    static let description = """
        Creates a chat completion with any model this Switchboard serves (see list_models), with \
        OpenAI Chat Completions semantics: pass messages, and optionally tools and tool_choice; \
        the result is an OpenAI chat.completion object. Tool calls in it always name a given \
        tool and their arguments always satisfy its JSON Schema; tool_choice is always honoured.
        """

    /// The input schema: the Chat Completions fields this tool takes, with OpenAI's names,
    /// types and ranges.
    static let inputSchema: JSONValue = {
        let text: JSONValue = ["type": "string"]
        let part: JSONValue = ["type": "object", "required": ["type"], "properties": [
            "type": ["type": "string", "enum": ["text", "image_url"]],
            "text": text,
            "image_url": ["type": "object", "required": ["url"], "properties": [
                "url": ["type": "string", "description": "An http(s) URL or a base64 data: URL of the image."],
                "detail": ["type": "string", "enum": ["auto", "low", "high"]],
            ]],
        ]]
        let toolCall: JSONValue = ["type": "object", "required": ["id", "type", "function"], "properties": [
            "id": text, "type": ["type": "string", "enum": ["function"]],
            "function": ["type": "object", "required": ["name", "arguments"], "properties": [
                "name": text, "arguments": ["type": "string", "description": "The arguments as JSON text."]]],
        ]]
        let message: JSONValue = ["type": "object", "required": ["role"], "properties": [
            "role": ["type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]],
            "content": ["description": "The message text, or (user messages) a list of content parts.",
                        "anyOf": [text, ["type": "array", "items": part], ["type": "null"]]],
            "name": text,
            "tool_calls": ["type": "array", "items": toolCall, "description": "Assistant messages: the calls the model made."],
            "tool_call_id": ["type": "string", "description": "Tool messages: the id of the call this result answers."],
        ]]
        let tool: JSONValue = ["type": "object", "required": ["type", "function"], "properties": [
            "type": ["type": "string", "enum": ["function"]],
            "function": ["type": "object", "required": ["name"], "properties": [
                "name": text, "description": text,
                "parameters": ["type": "object", "description": "The function's parameters as a JSON Schema object."],
                "strict": ["type": "boolean"],
            ]],
        ]]
        let penalty: JSONValue = ["type": "number", "minimum": -2, "maximum": 2]
        return ["type": "object", "required": ["messages"], "properties": [
            "messages": ["type": "array", "minItems": 1, "items": message,
                         "description": "The conversation so far: system, user, assistant and tool messages."],
            "model": ["type": "string", "description": "The model id (see list_models). Default: the server's first model."],
            "tools": ["type": "array", "items": tool, "description": "Functions the model may call."],
            "tool_choice": ["description": "'none', 'auto', 'required', or {\"type\": \"function\", \"function\": {\"name\": …}}.",
                            "anyOf": [["type": "string", "enum": ["none", "auto", "required"]],
                                      ["type": "object", "required": ["type", "function"], "properties": [
                                          "type": ["type": "string", "enum": ["function"]],
                                          "function": ["type": "object", "required": ["name"], "properties": ["name": text]]]]]],
            "parallel_tool_calls": ["type": "boolean", "description": "Whether the model may make several calls at once."],
            "response_format": ["type": "object", "required": ["type"], "properties": [
                "type": ["type": "string", "enum": ["text", "json_object", "json_schema"]],
                "json_schema": ["type": "object", "properties": ["name": text, "schema": ["type": "object"], "strict": ["type": "boolean"]]],
            ]],
            "seed": ["type": "integer"],
            "stop": ["description": "Up to 4 sequences where generation stops.",
                     "anyOf": [text, ["type": "array", "items": text, "maxItems": 4]]],
            "user": text,
            "top_p": ["type": "number", "minimum": 0, "maximum": 1],
            "temperature": ["type": "number", "minimum": 0, "maximum": 2],
            "max_tokens": ["type": "integer", "minimum": 1, "description": "Most tokens to generate."],
            "presence_penalty": penalty,
            "frequency_penalty": penalty,
            "reasoning_effort": ["type": "string", "enum": ["none", "minimal", "low", "medium", "high"]],
            "stream": ["type": "boolean",
                       "description": "Report the answer's chunks as progress notifications while it is generated (needs a progress token); the result is the whole completion either way."],
        ]]
    }()

    /// The output schema: the completion as `result`.
    static let outputSchema: JSONValue = ["type": "object", "required": ["result"], "properties": [
        "result": ["type": "object", "description": "The OpenAI chat.completion object."],
    ]]

    /// Runs one call: `arguments` as a Chat Completions request (the first served model when it
    /// names none) through `router`, each chunk passed to `progress` when streaming. Bad
    /// arguments throw the `APIError` the HTTP API would answer with.
    static func run(_ arguments: JSONObject, router: ModelRouter,
                    progress: (@Sendable (JSONValue) async -> Void)?) async throws -> JSONValue {
        var arguments = arguments
        if arguments["model"] == nil {
            guard let first = router.routes.first(where: { $0.pattern.isExact }) else {
                throw APIError.invalidRequest("'model' is required: this server serves no single default model.", param: "model")
            }
            arguments["model"] = .string(first.pattern.text)
        }
        let request = try ChatCompletionRequest(json: .object(arguments))
        let identity = CompletionIdentity.new(model: request.model, systemFingerprint: SwitchboardServer.systemFingerprint,
                                              now: Date().timeIntervalSince1970)
        let routed = try await router.startCompletion(request)
        var encoder = ChunkEncoder(identity: identity, includeUsage: request.includeUsage, legacyFunctionCall: request.usesLegacyFunctions)
        return try await routed.completion(identity: identity, legacyFunctionCall: request.usesLegacyFunctions) { event in
            guard let progress, request.stream else { return }
            for chunk in encoder.chunks(for: event) { await progress(chunk) }
        }.json
    }
}
