import ChatAPI

/// An OpenAI chat-completions request as a Messages API body.
///
/// - `system` and `developer` messages become the top-level `system` text, in order.
/// - Turns alternate as Anthropic requires: consecutive same-role turns are merged, so the
///   `tool` messages answering one assistant turn become ONE user turn of `tool_result`
///   blocks, in order (a user message right after them joins that turn, after the results).
/// - Assistant `tool_calls` become `tool_use` blocks with their ids kept; reasoning sent back
///   with its `reasoning_signature` becomes the `thinking` block that opens the turn (reasoning
///   without a signature cannot be verified by Anthropic and is left out).
/// - `tool_choice` `auto`/`required`/named/`none` → `{type: auto|any|tool|none}`;
///   `parallel_tool_calls: false` → `disable_parallel_tool_use: true`.
/// - `max_tokens` is required upstream: the client's, else the route's default.
/// - `reasoning_effort` turns on extended thinking with a token budget for that effort.
/// - `response_format` has no Messages counterpart. Without tools or thinking it becomes the
///   answer tool Anthropic recommends for JSON output: one forced tool whose input schema is
///   the format's, its input read back as the answer's text. Otherwise it is asked for in
///   `system`. Either way the guard checks the answer against the schema.
///
/// What Anthropic cannot do is a 400 naming the field, never a silent drop.
enum AnthropicRequest {
    /// Thinking budgets for `reasoning_effort` (Anthropic's minimum is 1024).
    static let thinkingBudgets = ["minimal": 1024, "low": 1024, "medium": 4096, "high": 16384]

    static func body(for request: ChatCompletionRequest, defaultMaxTokens: Int) throws -> JSONValue {
        let maxTokens = request.maxCompletionTokens ?? defaultMaxTokens
        var body: JSONObject = ["model": .string(request.model), "max_tokens": .int(maxTokens)]

        var system = request.messages.filter { $0.role == .system || $0.role == .developer }
            .map { $0.content?.text ?? "" }.filter { !$0.isEmpty }
        let answer = answerTool(for: request)
        if answer == nil, let instruction = responseFormatInstruction(request.responseFormat) { system.append(instruction) }
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        body["messages"] = .array(try turns(request.messages).map { ["role": .string($0.role), "content": .array($0.blocks)] })

        var tools = request.tools
        // `allowed_tools` has no Messages form: only the allowed functions are offered.
        if case .allowed(let names, _) = request.toolChoice { tools = tools.filter { names.contains($0.name) } }
        if !tools.isEmpty {
            body["tools"] = .array(tools.map(toolJSON))
            body["tool_choice"] = toolChoiceJSON(request.toolChoice, parallel: request.parallelToolCalls)
        } else if let answer {
            body["tools"] = [toolJSON(answer)]
            body["tool_choice"] = ["type": "tool", "name": .string(answer.name)]
        }
        if !request.stop.isEmpty { body["stop_sequences"] = .array(request.stop.map(JSONValue.string)) }
        if let temperature = request.temperature {
            guard temperature <= 1 else {
                throw APIError.invalidRequest(
                    "Invalid 'temperature': \(temperature) is out of range for this model; Anthropic accepts a value between 0 and 1.",
                    param: "temperature")
            }
            body["temperature"] = .double(temperature)
        }
        if let topP = request.topP { body["top_p"] = .double(topP) }
        for (param, value) in [("presence_penalty", request.presencePenalty), ("frequency_penalty", request.frequencyPenalty)]
        where (value ?? 0) != 0 {
            throw APIError.invalidRequest("'\(param)' is not supported by Anthropic models.", param: param, code: "unsupported_parameter")
        }
        if let effort = request.reasoningEffort, let budget = thinkingBudgets[effort] {
            // Anthropic wants the budget below max_tokens; a small max_tokens gets a smaller one.
            let fitted = min(budget, maxTokens - 1)
            guard fitted >= 1024 else {
                throw APIError.invalidRequest(
                    "'reasoning_effort' needs '\(request.maxCompletionTokensParam)' above 1024 on Anthropic models (the smallest thinking budget is 1024 tokens).",
                    param: request.maxCompletionTokensParam)
            }
            body["thinking"] = ["type": "enabled", "budget_tokens": .int(fitted)]
        }
        if let user = request.user { body["metadata"] = ["user_id": .string(user)] }
        if request.stream { body["stream"] = true }
        return .object(body)
    }

    // MARK: - Turns

    /// The conversation as alternating Anthropic turns of content blocks.
    static func turns(_ messages: [ChatMessage]) throws -> [(role: String, blocks: [JSONValue])] {
        var turns: [(role: String, blocks: [JSONValue])] = []
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            let role: String
            let blocks: [JSONValue]
            switch message.role {
            case .system, .developer:
                continue
            case .user:
                role = "user"
                blocks = try contentBlocks(message.content, path: "\(path).content")
            case .assistant:
                role = "assistant"
                blocks = try assistantBlocks(message, path: path)
            case .tool, .function:
                role = "user"
                blocks = [toolResult(message)]
            }
            guard !blocks.isEmpty else { continue }
            if turns.last?.role == role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        return turns
    }

    /// User content as blocks; empty text is left out (Anthropic rejects empty text blocks).
    static func contentBlocks(_ content: MessageContent?, path: String) throws -> [JSONValue] {
        switch content {
        case nil: return []
        case .text(let text)?: return text.isEmpty ? [] : [textBlock(text)]
        case .parts(let parts)?:
            return try parts.enumerated().compactMap { i, part in
                switch part {
                case .text(let text), .refusal(let text): return text.isEmpty ? nil : textBlock(text)
                case .imageURL(let url, _): return try imageBlock(url, path: "\(path)[\(i)].image_url.url")
                case .inputAudio, .file:
                    throw APIError.invalidRequest("Content parts of type '\(part.typeName)' are not supported by Anthropic models.",
                                                  param: "\(path)[\(i)].type", code: "unsupported_value")
                }
            }
        }
    }

    static func textBlock(_ text: String) -> JSONValue { ["type": "text", "text": .string(text)] }

    /// An image part: a `data:` URL as a base64 source, any other URL as a URL source.
    static func imageBlock(_ url: String, path: String) throws -> JSONValue {
        guard url.hasPrefix("data:") else { return ["type": "image", "source": ["type": "url", "url": .string(url)]] }
        // data:<media type>;base64,<data>
        guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
            throw APIError.invalidRequest("Invalid '\(path)': a data URL must be base64 ('data:image/png;base64,…').", param: path)
        }
        let mediaType = url[url.index(url.startIndex, offsetBy: 5)..<comma].dropLast(";base64".count)
        return ["type": "image", "source": ["type": "base64", "media_type": .string(String(mediaType)),
                                            "data": .string(String(url[url.index(after: comma)...]))]]
    }

    /// An assistant turn: its signed reasoning, text, then its calls as `tool_use` blocks.
    static func assistantBlocks(_ message: ChatMessage, path: String) throws -> [JSONValue] {
        var blocks: [JSONValue] = []
        if let signature = message.reasoningSignature {
            blocks.append(["type": "thinking", "thinking": .string(message.reasoningContent ?? ""), "signature": .string(signature)])
        }
        let text = message.content?.text ?? message.refusal ?? ""
        if !text.isEmpty { blocks.append(textBlock(text)) }
        for (j, call) in message.toolCalls.enumerated() {
            let input: JSONValue
            do {
                input = call.arguments.isEmpty ? .object([:]) : try JSONValue(parsing: call.arguments)
            } catch {
                input = .null
            }
            guard input.objectValue != nil else {
                let param = "\(path).tool_calls[\(j)].function.arguments"
                throw APIError.invalidRequest("Invalid '\(param)': Anthropic models need the arguments as a JSON object.", param: param)
            }
            blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": input])
        }
        return blocks
    }

    /// A `tool` (or legacy `function`) message as a `tool_result` block.
    static func toolResult(_ message: ChatMessage) -> JSONValue {
        // A legacy function result answers the call ChatMessage named `call_legacy_<name>`.
        let id = message.toolCallID ?? "call_legacy_\(message.name ?? "")"
        var block: JSONObject = ["type": "tool_result", "tool_use_id": .string(id),
                                 "content": .string(message.content?.text ?? "")]
        if message.isError { block["is_error"] = true }
        return .object(block)
    }

    // MARK: - Tools

    static func toolJSON(_ function: FunctionDefinition) -> JSONValue {
        var tool: JSONObject = ["name": .string(function.name)]
        if let description = function.description { tool["description"] = .string(description) }
        tool["input_schema"] = function.parameters ?? ["type": "object", "properties": [:]]
        return .object(tool)
    }

    static func toolChoiceJSON(_ choice: ToolChoice, parallel: Bool) -> JSONValue {
        var o: JSONObject
        switch choice {
        case .none: return ["type": "none"]
        case .auto: o = ["type": "auto"]
        case .required: o = ["type": "any"]
        case .function(let name): o = ["type": "tool", "name": .string(name)]
        // The tools offered are already narrowed to the allowed ones.
        case .allowed(_, let required): o = ["type": required ? "any" : "auto"]
        }
        if !parallel { o["disable_parallel_tool_use"] = true }
        return .object(o)
    }

    /// The forced tool that carries a `response_format` answer, when the request allows one:
    /// no tools of its own, no thinking (which allows no forced tool), an object schema.
    static func answerTool(for request: ChatCompletionRequest) -> FunctionDefinition? {
        guard request.tools.isEmpty, request.reasoningEffort.flatMap({ thinkingBudgets[$0] }) == nil else { return nil }
        let description = "Give your answer as this tool's input."
        switch request.responseFormat {
        case .text:
            return nil
        case .jsonObject:
            return FunctionDefinition(name: "json_answer", description: description, parameters: ["type": "object"])
        case .jsonSchema(let name, _, let schema, _):
            guard let schema, schema["type"] == "object" else { return nil }
            return FunctionDefinition(name: name, description: description, parameters: schema)
        }
    }

    /// `response_format` as an instruction in `system`, or nil for plain text.
    static func responseFormatInstruction(_ format: ResponseFormat) -> String? {
        switch format {
        case .text: return nil
        case .jsonObject: return "Reply with a single JSON object and nothing else."
        case .jsonSchema(_, _, let schema?, _):
            return "Reply with a single JSON value that matches this JSON Schema, and nothing else: \(schema.serialized())"
        case .jsonSchema(_, _, nil, _): return "Reply with a single JSON value and nothing else."
        }
    }
}
