/// Requests back to the JSON OpenAI's API reads: what a gateway sends upstream and a client SDK
/// sends to any OpenAI-compatible server. `ChatCompletionRequest(json:)` reads this output back
/// to an equal request (legacy `functions` are written as `tools`).

extension ChatCompletionRequest {
    /// The request body. Fields at their defaults are left out, so an upstream that does not
    /// know a field never sees it unless the client asked for it.
    public var json: JSONValue {
        var o: JSONObject = ["model": .string(model), "messages": .array(messages.map(\.json))]
        if !tools.isEmpty {
            o["tools"] = .array(tools.map(\.toolJSON))
            o["tool_choice"] = toolChoice.json
            // The legacy dialect allows one call; written as `tools`, that is this flag.
            if !parallelToolCalls || usesLegacyFunctions { o["parallel_tool_calls"] = false }
        }
        if responseFormat != .text { o["response_format"] = responseFormat.json }
        if stream {
            o["stream"] = true
            if includeUsage { o["stream_options"] = ["include_usage": true] }
        }
        if !stop.isEmpty { o["stop"] = .array(stop.map(JSONValue.string)) }
        if let maxCompletionTokens { o[maxCompletionTokensParam] = .int(maxCompletionTokens) }
        if let temperature { o["temperature"] = .double(temperature) }
        if let topP { o["top_p"] = .double(topP) }
        if let seed { o["seed"] = .int(seed) }
        if let presencePenalty { o["presence_penalty"] = .double(presencePenalty) }
        if let frequencyPenalty { o["frequency_penalty"] = .double(frequencyPenalty) }
        if let user { o["user"] = .string(user) }
        if let reasoningEffort { o["reasoning_effort"] = .string(reasoningEffort) }
        return .object(o)
    }
}

extension ChatMessage {
    /// One entry of `messages`.
    public var json: JSONValue {
        var o: JSONObject = ["role": .string(role.rawValue)]
        o["content"] = content.map(\.json) ?? .null
        if let name { o["name"] = .string(name) }
        if !toolCalls.isEmpty { o["tool_calls"] = .array(toolCalls.map(\.json)) }
        if let toolCallID { o["tool_call_id"] = .string(toolCallID) }
        if let refusal { o["refusal"] = .string(refusal) }
        if let reasoningContent { o["reasoning_content"] = .string(reasoningContent) }
        if let reasoningSignature { o["reasoning_signature"] = .string(reasoningSignature) }
        if isError { o["is_error"] = true }
        return .object(o)
    }
}

extension MessageContent {
    public var json: JSONValue {
        switch self {
        case .text(let s): return .string(s)
        case .parts(let parts): return .array(parts.map(\.json))
        }
    }
}

extension ContentPart {
    public var json: JSONValue {
        switch self {
        case .text(let t): return ["type": "text", "text": .string(t)]
        case .refusal(let t): return ["type": "refusal", "refusal": .string(t)]
        case .imageURL(let url, let detail):
            var image: JSONObject = ["url": .string(url)]
            if let detail { image["detail"] = .string(detail) }
            return ["type": "image_url", "image_url": .object(image)]
        case .inputAudio(let data, let format):
            return ["type": "input_audio", "input_audio": ["data": .string(data), "format": .string(format)]]
        case .file(let file): return ["type": "file", "file": file]
        }
    }
}

extension ToolCall {
    /// An entry of an assistant message's `tool_calls`.
    public var json: JSONValue {
        ["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]]
    }
}

extension FunctionDefinition {
    /// An entry of `tools`: `{"type": "function", "function": {…}}`.
    public var toolJSON: JSONValue {
        var f: JSONObject = ["name": .string(name)]
        if let description { f["description"] = .string(description) }
        if let parameters { f["parameters"] = parameters }
        if strict { f["strict"] = true }
        return ["type": "function", "function": .object(f)]
    }
}

extension ToolChoice {
    public var json: JSONValue {
        switch self {
        case .none: return "none"
        case .auto: return "auto"
        case .required: return "required"
        case .function(let name): return ["type": "function", "function": ["name": .string(name)]]
        case .allowed(let names, let required):
            return ["type": "allowed_tools", "allowed_tools": [
                "mode": required ? "required" : "auto",
                "tools": .array(names.map { ["type": "function", "function": ["name": .string($0)]] }),
            ]]
        }
    }
}

extension ResponseFormat {
    public var json: JSONValue {
        switch self {
        case .text: return ["type": "text"]
        case .jsonObject: return ["type": "json_object"]
        case .jsonSchema(let name, let description, let schema, let strict):
            var s: JSONObject = ["name": .string(name)]
            if let description { s["description"] = .string(description) }
            if let schema { s["schema"] = schema }
            s["strict"] = .bool(strict)
            return ["type": "json_schema", "json_schema": .object(s)]
        }
    }
}
