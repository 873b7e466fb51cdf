import ChatAPI

extension ToolCallFormat {
    /// The text a model of this family emits (after the generation prompt) for an assistant turn
    /// with optional visible `content` followed by `calls` — what the family's template renders
    /// for assistant tool calls. JSON is written the way templates' `tojson` does (`", "`, `": "`).
    public func render(calls: [ToolCallFormat.Call], content: String? = nil) -> String {
        let s = syntax
        let text = content ?? ""
        func json(_ object: JSONObject) -> String {
            JSONValue.object(object).serialized(JSONFormatting(itemSeparator: " ", keySeparator: ": "))
        }
        func standard(_ encodeArguments: (JSONObject) -> String) -> String {
            guard !calls.isEmpty else { return text }
            let body = calls.enumerated().map { i, call in
                s.textBeforeArguments(name: call.name, index: i, id: call.id) + encodeArguments(call.arguments)
                    + s.textAfterArguments()
            }.joined(separator: s.separator)
            return text + s.sectionPrefix + body + s.sectionSuffix
        }
        switch self {
        case .hermes, .qwen3Coder, .glm45:
            let encode: (JSONObject) -> String = self == .hermes ? json : { xmlParameters($0) }
            // Qwen3-Coder and Qwen3.5 leave a blank line between the text and the first call.
            let gap = self == .qwen3Coder ? "\n\n" : "\n"
            return (text.isEmpty || calls.isEmpty ? text : text + gap) + standard(encode).dropFirst(text.count)
        case .llama3, .minimaxM1, .nemotronV2:
            return (text.isEmpty || calls.isEmpty ? text : text + "\n") + standard(json).dropFirst(text.count)
        case .mistral, .apriel:
            // The id, when the call has one, follows the arguments.
            guard !calls.isEmpty else { return text }
            let body = calls.map { call -> String in
                var object = "{\"name\": " + JSONValue.quoted(call.name) + ", \"arguments\": " + json(call.arguments)
                if let id = call.id { object += ", \"id\": " + JSONValue.quoted(id) }
                return object + "}"
            }.joined(separator: s.separator)
            // Apriel opens the section on a line of its own.
            return text + (self == .apriel ? "\n" : "") + s.sectionPrefix + body + s.sectionSuffix
        case .mistralArgs:
            return text + calls.map { call in
                "[TOOL_CALLS]" + call.name + (call.id.map { "[CALL_ID]" + $0 } ?? "") + "[ARGS]" + json(call.arguments)
            }.joined()
        case .functionaryV32:
            // The generation prompt already ends with ">>>": output starts with a recipient.
            var parts: [String] = []
            if !text.isEmpty { parts.append("all\n" + text) }
            parts += calls.map { $0.name + "\n" + json($0.arguments) }
            return parts.joined(separator: ">>>")
        case .commandRPlus:
            // The action list follows the content on a line of its own, even after empty content.
            return calls.isEmpty ? text : text + "\n" + standard(json).dropFirst(text.count)
        case .commandR7B:
            let visible = text.isEmpty ? "" : "<|START_RESPONSE|>" + text + "<|END_RESPONSE|>"
            return visible + standard(json).dropFirst(text.count)
        case .gptOss:
            // The generation prompt ends with "<|start|>assistant"; each later message restarts it.
            var parts: [String] = []
            if !text.isEmpty { parts.append("<|channel|>commentary<|message|>" + text + "<|end|>") }
            parts += calls.map { s.textBeforeArguments(name: $0.name, index: 0) + json($0.arguments) + s.textAfterArguments() }
            return parts.joined(separator: "<|start|>assistant")
        case .minimaxM2:
            // The template opens the section on a line of its own, even after empty content.
            return calls.isEmpty ? text : text + "\n" + standard { xmlParameters($0) }.dropFirst(text.count)
        case .hy3, .minicpm5:
            return standard { xmlParameters($0) }
        case .deepseekV32, .deepseekV4:
            return calls.isEmpty ? text : text + "\n\n" + standard { xmlParameters($0) }.dropFirst(text.count)
        case .seedOSS:
            // Each call opens on a line of its own, after the content's own line.
            return (text.isEmpty || calls.isEmpty ? text : text + "\n") + (calls.isEmpty ? "" : "\n")
                + standard { xmlParameters($0) }.dropFirst(text.count)
        case .gemma:
            return standard { gemmaArguments($0) }
        case .lfm2:
            // As LFM2.5's `format_arg_value`: strings in single quotes, objects as JSON, the rest as Python writes them.
            return standard { arguments in
                arguments.map { key, value in
                    let spelled: String
                    switch value {
                    case .string(let s): spelled = "'" + s + "'"
                    case .object: spelled = value.serialized(JSONFormatting(itemSeparator: " ", keySeparator: ": "))
                    default: spelled = pythonRepr(value)
                    }
                    return key + "=" + spelled
                }.joined(separator: ", ")
            }
        case .generic:
            guard !calls.isEmpty else { return text }
            let prefix = text.isEmpty ? "" : text + "\n"
            if calls.count == 1 {
                return prefix + json(["name": .string(calls[0].name), "arguments": .object(calls[0].arguments)])
            }
            let list = calls.map { JSONValue.object(["name": .string($0.name), "arguments": .object($0.arguments)]) }
            return prefix + json(["tool_calls": .array(list)])
        case .functionaryV31, .deepseekR1, .deepseekV31, .firefunctionV2, .granite, .kimiK2, .apertus, .solarOpen, .gigachat31:
            return standard(json)
        }
    }

    /// XML-style parameters (Qwen3-Coder, GLM, MiniMax, Hy3, Seed, DSML): strings raw, other values as JSON.
    private func xmlParameters(_ arguments: JSONObject) -> String {
        guard case .xmlParameters(let keyOpen, let keyClose, let valueOpen, let valueClose, let end) = syntax.argumentsEncoding
        else { return "" }
        var out = ""
        for (key, value) in arguments {
            let text = value.stringValue
                ?? value.serialized(JSONFormatting(itemSeparator: " ", keySeparator: ": "))
            out += keyOpen + key + ToolCallSyntax.keyClose(keyClose, beforeString: value.stringValue != nil) + valueOpen
                + text + valueClose
        }
        return out + end
    }
}

/// Gemma 4's argument notation, as its template's `format_argument` macro writes it: keys
/// bare in `gemmaKeyOrder`, strings wrapped in `<|"|>`, `null` as Python's `None`.
func gemmaArguments(_ object: JSONObject) -> String { gemmaNotation(.object(object)) }

/// One value in Gemma 4's argument notation (see `gemmaArguments`).
public func gemmaNotation(_ value: JSONValue) -> String {
    switch value {
    case .string(let s): return "<|\"|>" + s + "<|\"|>"
    case .bool(let b): return b ? "true" : "false"
    case .null: return "None"
    case .number(let n): return n.text
    case .array(let items): return "[" + items.map(gemmaNotation).joined(separator: ",") + "]"
    case .object(let o): return "{" + gemmaKeyOrder(Array(o.keys)).map { $0 + ":" + gemmaNotation(o[$0]!) }.joined(separator: ",") + "}"
    }
}

/// The order Gemma's template writes an object's keys in: Jinja's `dictsort`, which ignores case.
public func gemmaKeyOrder(_ keys: [String]) -> [String] {
    keys.sorted { ($0.lowercased(), $0) < ($1.lowercased(), $1) }
}

/// A JSON value as Python's `str()` writes the equivalent literal (`True`, `None`, `['a', 1]`).
func pythonRepr(_ value: JSONValue) -> String {
    switch value {
    case .string(let s): return "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    case .bool(let b): return b ? "True" : "False"
    case .null: return "None"
    case .number(let n): return n.text
    case .array(let items): return "[" + items.map(pythonRepr).joined(separator: ", ") + "]"
    case .object(let o): return "{" + o.map { pythonRepr(.string($0.key)) + ": " + pythonRepr($0.value) }.joined(separator: ", ") + "}"
    }
}
