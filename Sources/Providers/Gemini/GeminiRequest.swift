import ChatAPI

/// An OpenAI chat-completions request as a Gemini `generateContent` body.
///
/// - `system` and `developer` messages become `systemInstruction`, in order.
/// - Turns are `user` and `model`; consecutive same-role turns are merged, so the `tool`
///   messages answering one assistant turn become ONE user turn of `functionResponse` parts,
///   in order, as Gemini requires (as many responses as the turn had calls).
/// - Assistant `tool_calls` become `functionCall` parts with their ids; a tool result becomes
///   a `functionResponse` whose name is recovered from the call its `tool_call_id` answers,
///   its text as `{"output": …}` (`{"error": …}` when marked `is_error`), the keys Gemini reads.
/// - A `reasoning_signature` sent back is the `thoughtSignature` of the turn's first call (or,
///   without calls, of its text), where Gemini put it.
/// - Tools become `functionDeclarations` with schemas converted by `GeminiSchema`; a tool
///   without parameters declares none (Gemini refuses an object with no properties).
/// - `tool_choice` `auto`/`required`/named/`none` → `functionCallingConfig.mode`
///   `AUTO`/`ANY`/`ANY` + `allowedFunctionNames`/`NONE`.
/// - Sampling fields go to `generationConfig`; `response_format` to `responseMimeType` and
///   `responseSchema`; `reasoning_effort` to a `thinkingConfig` budget, thoughts included.
///
/// Gemini has no `parallel_tool_calls` or `strict`: the guard enforces both (see
/// `GeminiBackend.defaultCapabilities`). What Gemini cannot take is a 400 naming the field.
enum GeminiRequest {
    /// Thinking budgets in tokens for `reasoning_effort`.
    static let thinkingBudgets = ["none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576]

    static func body(for request: ChatCompletionRequest) throws -> JSONValue {
        var body: JSONObject = [:]
        let system = request.messages.filter { $0.role == .system || $0.role == .developer }
            .map { $0.content?.text ?? "" }.filter { !$0.isEmpty }
        body["contents"] = .array(try turns(request.messages).map { ["role": .string($0.role), "parts": .array($0.parts)] })
        if !system.isEmpty { body["systemInstruction"] = ["parts": [["text": .string(system.joined(separator: "\n\n"))]]] }

        var tools = request.tools
        var allowedNames: [String]?
        var mode: String
        switch request.toolChoice {
        case .none: mode = "NONE"
        case .auto: mode = "AUTO"
        case .required: mode = "ANY"
        case .function(let name):
            mode = "ANY"
            allowedNames = [name]
        case .allowed(let names, let required):
            // Gemini takes allowed names with ANY only; `auto` among some offers just those.
            tools = tools.filter { names.contains($0.name) }
            mode = required ? "ANY" : "AUTO"
            if required { allowedNames = names }
        }
        if !tools.isEmpty {
            body["tools"] = [["functionDeclarations": .array(try tools.enumerated().map { i, tool in
                try declaration(tool, param: "tools[\(i)].function.parameters")
            })]]
            var config: JSONObject = ["mode": .string(mode)]
            if let allowedNames { config["allowedFunctionNames"] = .array(allowedNames.map(JSONValue.string)) }
            body["toolConfig"] = ["functionCallingConfig": .object(config)]
        }
        let generation = try generationConfig(request)
        if !generation.isEmpty { body["generationConfig"] = .object(generation) }
        return .object(body)
    }

    static func generationConfig(_ request: ChatCompletionRequest) throws -> JSONObject {
        var config: JSONObject = [:]
        if !request.stop.isEmpty { config["stopSequences"] = .array(request.stop.map(JSONValue.string)) }
        if let maxTokens = request.maxCompletionTokens { config["maxOutputTokens"] = .int(maxTokens) }
        if let temperature = request.temperature { config["temperature"] = .double(temperature) }
        if let topP = request.topP { config["topP"] = .double(topP) }
        if let seed = request.seed { config["seed"] = .int(seed) }
        if let presence = request.presencePenalty { config["presencePenalty"] = .double(presence) }
        if let frequency = request.frequencyPenalty { config["frequencyPenalty"] = .double(frequency) }
        switch request.responseFormat {
        case .text:
            break
        case .jsonObject, .jsonSchema(_, _, nil, _):
            config["responseMimeType"] = "application/json"
        case .jsonSchema(_, _, let schema?, _):
            config["responseMimeType"] = "application/json"
            config["responseSchema"] = try GeminiSchema.convert(schema, param: "response_format.json_schema.schema")
        }
        if let effort = request.reasoningEffort, let budget = thinkingBudgets[effort] {
            config["thinkingConfig"] = budget == 0 ? ["thinkingBudget": 0] : ["thinkingBudget": .int(budget), "includeThoughts": true]
        }
        return config
    }

    // MARK: - Turns

    /// The conversation as Gemini turns of parts, same-role turns merged.
    static func turns(_ messages: [ChatMessage]) throws -> [(role: String, parts: [JSONValue])] {
        var callNames: [String: String] = [:]
        var turns: [(role: String, parts: [JSONValue])] = []
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            let role: String
            let parts: [JSONValue]
            switch message.role {
            case .system, .developer:
                continue
            case .user:
                role = "user"
                parts = try contentParts(message.content, path: "\(path).content")
            case .assistant:
                role = "model"
                parts = try modelParts(message, path: path)
                for call in message.toolCalls { callNames[call.id] = call.name }
            case .tool:
                role = "user"
                guard let id = message.toolCallID, let name = callNames[id] else {
                    throw APIError.invalidRequest(
                        "Invalid '\(path).tool_call_id': it answers no tool call of an earlier assistant message; Gemini needs the called function's name.",
                        param: "\(path).tool_call_id")
                }
                parts = [functionResponse(message, id: id, name: name)]
            case .function:
                role = "user"
                let name = message.name ?? ""
                parts = [functionResponse(message, id: nil, name: name)]
            }
            guard !parts.isEmpty else { continue }
            if turns.last?.role == role {
                turns[turns.count - 1].parts += parts
            } else {
                turns.append((role, parts))
            }
        }
        return turns
    }

    /// User content as parts; empty text is left out.
    static func contentParts(_ content: MessageContent?, path: String) throws -> [JSONValue] {
        switch content {
        case nil: return []
        case .text(let text)?: return text.isEmpty ? [] : [["text": .string(text)]]
        case .parts(let parts)?:
            return try parts.enumerated().compactMap { i, part in
                switch part {
                case .text(let text), .refusal(let text): return text.isEmpty ? nil : ["text": .string(text)]
                case .imageURL(let url, _): return try inlineData(url, path: "\(path)[\(i)].image_url.url")
                case .inputAudio(let data, let format):
                    return ["inlineData": ["mimeType": .string("audio/\(format)"), "data": .string(data)]]
                case .file:
                    throw APIError.invalidRequest("Content parts of type 'file' are not supported by Gemini models through this gateway.",
                                                  param: "\(path)[\(i)].type", code: "unsupported_value")
                }
            }
        }
    }

    /// An image as inline data: Gemini fetches no URLs but its own file URIs, so only a
    /// base64 `data:` URL can be sent.
    static func inlineData(_ url: String, path: String) throws -> JSONValue {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
            throw APIError.invalidRequest("Invalid '\(path)': Gemini models take images as base64 data URLs ('data:image/png;base64,…').",
                                          param: path, code: "unsupported_value")
        }
        let mimeType = url[url.index(url.startIndex, offsetBy: 5)..<comma].dropLast(";base64".count)
        return ["inlineData": ["mimeType": .string(String(mimeType)), "data": .string(String(url[url.index(after: comma)...]))]]
    }

    /// A model turn: its text, then its calls as `functionCall` parts, the signature on the
    /// first call (or on the text when there are none).
    static func modelParts(_ message: ChatMessage, path: String) throws -> [JSONValue] {
        var parts: [JSONObject] = []
        let text = message.content?.text ?? message.refusal ?? ""
        if !text.isEmpty { parts.append(["text": .string(text)]) }
        for (j, call) in message.toolCalls.enumerated() {
            let args: JSONValue
            do {
                args = call.arguments.isEmpty ? .object([:]) : try JSONValue(parsing: call.arguments)
            } catch {
                args = .null
            }
            guard args.objectValue != nil else {
                let param = "\(path).tool_calls[\(j)].function.arguments"
                throw APIError.invalidRequest("Invalid '\(param)': Gemini models need the arguments as a JSON object.", param: param)
            }
            parts.append(["functionCall": ["name": .string(call.name), "args": args, "id": .string(call.id)]])
        }
        if let signature = message.reasoningSignature, !parts.isEmpty {
            let at = message.toolCalls.isEmpty ? 0 : parts.count - message.toolCalls.count
            parts[at]["thoughtSignature"] = .string(signature)
        }
        return parts.map(JSONValue.object)
    }

    /// A tool result as a `functionResponse` part.
    static func functionResponse(_ message: ChatMessage, id: String?, name: String) -> JSONValue {
        let text = JSONValue.string(message.content?.text ?? "")
        var response: JSONObject = ["name": .string(name), "response": message.isError ? ["error": text] : ["output": text]]
        if let id { response["id"] = .string(id) }
        return ["functionResponse": .object(response)]
    }

    // MARK: - Tools

    static func declaration(_ function: FunctionDefinition, param: String) throws -> JSONValue {
        var declaration: JSONObject = ["name": .string(function.name)]
        if let description = function.description { declaration["description"] = .string(description) }
        if let parameters = function.parameters, parameters["properties"]?.objectValue?.isEmpty == false
            || parameters["$ref"] != nil || parameters["anyOf"] != nil {
            declaration["parameters"] = try GeminiSchema.convert(parameters, param: param)
        }
        return .object(declaration)
    }
}
