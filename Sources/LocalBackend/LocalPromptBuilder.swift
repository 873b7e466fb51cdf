import Gateway
import ChatAPI
import ChatTemplates
import LocalEngine

/// Renders a chat request into the prompt text of a local model, tools included.
///
/// A model whose template knows tools (a native `format`) gets them, its earlier calls and their
/// results through that template, as Hugging Face's `apply_chat_template` would pass them. Any
/// other model gets the generic format: the tools described in the system message
/// (`GenericToolPrompt`), earlier calls written as the JSON it is asked to produce, and results
/// as user messages, so the template only ever sees plain roles.
///
/// Every string taken from the request is escaped (`RequestTextEscaping`) before anything is
/// built from it, here in one place, so that only the template's and our own text can become
/// control tokens when the prompt is tokenized.
struct LocalPromptBuilder {
    /// The format calls are written in (`.generic` for templates without tool support).
    let format: ToolCallFormat
    /// The engine's renderer; a `JinjaPromptRenderer` is needed for the native path.
    let renderer: any PromptRenderer
    /// The model's escape for request text.
    let escaping: RequestTextEscaping

    /// The prompt text for `request`, request-derived text escaped: hand it to the engine as
    /// `GenerationRequest.renderedPrompt`.
    func render(_ request: ChatCompletionRequest, plan: ToolCallPlan) throws -> String {
        let (request, plan) = escapedForPrompt(request, plan: plan)
        if format != .generic, let jinja = renderer as? JinjaPromptRenderer {
            return try renderNative(request, plan: plan, jinja: jinja)
        }
        return try renderer.render(genericMessages(request, plan: plan), addGenerationPrompt: true)
    }

    // MARK: Native templates

    private func renderNative(_ request: ChatCompletionRequest, plan: ToolCallPlan, jinja: JinjaPromptRenderer) throws -> String {
        var messages: [JSONValue] = []
        let names = Self.callNames(request.messages)
        for message in withFormatHint(request.messages, responseFormat: request.responseFormat) {
            var m: JSONObject = ["role": .string(Self.templateRole(message.role))]
            m["content"] = .string(message.content?.text ?? "")
            if !message.toolCalls.isEmpty {
                m["tool_calls"] = .array(message.toolCalls.map { call in
                    let arguments = (try? JSONValue(parsing: call.arguments)) ?? .string(call.arguments)
                    return ["id": .string(call.id), "type": "function",
                            "function": ["name": .string(call.name), "arguments": arguments]]
                })
            }
            if message.role == .tool || message.role == .function {
                let id = message.toolCallID ?? ""
                m["tool_call_id"] = .string(id)
                if let name = message.name ?? names[id] { m["name"] = .string(name) }
            }
            messages.append(.object(m))
        }
        // `none` keeps the tools out of the prompt: the model is not invited to call.
        let tools: [JSONValue]? = plan.mode == .forbidden ? nil : plan.functions.map { f in
            var function: JSONObject = ["name": .string(f.name)]
            if let d = f.description { function["description"] = .string(d) }
            function["parameters"] = f.parameters ?? ["type": "object", "properties": .object([:])]
            return ["type": "function", "function": .object(function)]
        }
        let context = ChatTemplateContext(messages: messages, tools: tools, addGenerationPrompt: true,
                                          bosToken: jinja.bosToken, eosToken: jinja.eosToken,
                                          extra: reasoningKwargs(request.reasoningEffort))
        do {
            return try jinja.template.render(context)
        } catch {
            throw LocalEngineError.templateFailed("\(error)")
        }
    }

    /// The template kwargs for `reasoning_effort`: `enable_thinking: false` for `none` (the
    /// Qwen3 and GLM families' switch), and the effort itself for gpt-oss, whose levels are
    /// OpenAI's. Other templates reading `reasoning_effort` know other levels (Hy3 raises on
    /// `medium`), so they are left their default.
    func reasoningKwargs(_ effort: String?) -> [String: JSONValue] {
        switch effort {
        case "none"?: return ["enable_thinking": false]
        case let effort? where format == .gptOss: return ["reasoning_effort": .string(effort == "minimal" ? "low" : effort)]
        default: return [:]
        }
    }

    // MARK: Generic format

    func genericMessages(_ request: ChatCompletionRequest, plan: ToolCallPlan) -> [PromptMessage] {
        var out: [PromptMessage] = []
        let names = Self.callNames(request.messages)
        var pendingResults: [String] = []
        func flushResults() {
            guard !pendingResults.isEmpty else { return }
            // Said outright: a small model otherwise tends to echo the call JSON it saw last.
            let results = pendingResults.joined(separator: "\n")
            out.append(PromptMessage(role: "user", content: results + "\nAnswer my question in plain words using these results."))
            pendingResults.removeAll()
        }
        for message in withFormatHint(request.messages, responseFormat: request.responseFormat) {
            switch message.role {
            case .tool, .function:
                let id = message.toolCallID ?? ""
                let name = message.name ?? names[id] ?? "the tool"
                pendingResults.append("Result of \(name)" + (id.isEmpty ? "" : " (call \(id))") + ": " + (message.content?.text ?? ""))
            case .assistant:
                flushResults()
                let calls = message.toolCalls.compactMap(ToolCallFormat.Call.init)
                out.append(PromptMessage(role: "assistant",
                                         content: ToolCallFormat.generic.render(calls: calls, content: message.content?.text)))
            default:
                flushResults()
                out.append(PromptMessage(role: Self.templateRole(message.role), content: message.content?.text ?? ""))
            }
        }
        flushResults()
        guard plan.mode != .forbidden else { return out }
        let section = GenericToolPrompt.section(tools: plan.functions, allowParallel: plan.maxCalls != 1,
                                                required: plan.mode == .mandatory)
        if let first = out.first, first.role == "system" {
            out[0].content = first.content.isEmpty ? section : first.content + "\n\n" + section
        } else {
            out.insert(PromptMessage(role: "system", content: section), at: 0)
        }
        return out
    }

    // MARK: Request text

    /// The request and plan with every string that can reach the prompt escaped: message
    /// contents, names, ids, tool-call arguments, tool definitions and the `response_format`
    /// schema. Only for rendering: grammar and parser keep working on the original plan.
    func escapedForPrompt(_ request: ChatCompletionRequest, plan: ToolCallPlan) -> (ChatCompletionRequest, ToolCallPlan) {
        var request = request
        var plan = plan
        request.messages = request.messages.map(escaped)
        plan.functions = plan.functions.map(escaped)
        if case .jsonSchema(let name, let description, let schema, let strict) = request.responseFormat {
            request.responseFormat = .jsonSchema(name: escaping.escape(name), description: description.map(escaping.escape),
                                                 schema: schema.map(escaping.escape), strict: strict)
        }
        return (request, plan)
    }

    private func escaped(_ message: ChatMessage) -> ChatMessage {
        var m = message
        // Parts are joined first and escaped as one text: escaped one by one, `<|im_` and
        // `end|>` in two parts would join into an unbroken spelling.
        m.content = message.content.map { .text(escaping.escape($0.text)) }
        m.name = message.name.map(escaping.escape)
        m.toolCallID = message.toolCallID.map(escaping.escape)
        m.refusal = message.refusal.map(escaping.escape)
        m.reasoningContent = message.reasoningContent.map(escaping.escape)
        m.toolCalls = message.toolCalls.map { call in
            // Parsed before escaping: a JSON escape such as `\u003c|im_end|>` spells the token
            // only once decoded. The serialized form parses back to the same value.
            let arguments = (try? JSONValue(parsing: call.arguments)).map { escaping.escape($0).serialized() }
                ?? escaping.escape(call.arguments)
            return ToolCall(id: escaping.escape(call.id), name: escaping.escape(call.name), arguments: arguments)
        }
        return m
    }

    private func escaped(_ function: FunctionDefinition) -> FunctionDefinition {
        FunctionDefinition(name: escaping.escape(function.name), description: function.description.map(escaping.escape),
                           parameters: function.parameters.map(escaping.escape), strict: function.strict)
    }

    // MARK: Shared

    /// The messages with a note on the requested JSON answer appended to the system message
    /// (or a new one), so a small model knows what the grammar will hold it to.
    private func withFormatHint(_ messages: [ChatMessage], responseFormat: ResponseFormat) -> [ChatMessage] {
        let hint: String
        switch responseFormat {
        case .text: return messages
        case .jsonObject: hint = "Reply with one JSON object and nothing else."
        case .jsonSchema(_, _, let schema?, _):
            hint = "Reply with one JSON value matching this JSON Schema, and nothing else: " + schema.serialized()
        case .jsonSchema: hint = "Reply with one JSON value and nothing else."
        }
        var out = messages
        if let first = out.first, first.role == .system || first.role == .developer {
            let text = first.content?.text ?? ""
            out[0].content = .text(text.isEmpty ? hint : text + "\n\n" + hint)
        } else {
            out.insert(.system(hint), at: 0)
        }
        return out
    }

    /// Chat templates know `system`; `developer` is OpenAI's newer name for it, and the legacy
    /// `function` result is a tool result.
    static func templateRole(_ role: ChatMessage.Role) -> String {
        switch role {
        case .developer: return "system"
        case .function: return "tool"
        default: return role.rawValue
        }
    }

    /// Function name of every earlier call, by call id (tool results name their call only by id).
    static func callNames(_ messages: [ChatMessage]) -> [String: String] {
        var names: [String: String] = [:]
        for message in messages { for call in message.toolCalls { names[call.id] = call.name } }
        return names
    }
}
