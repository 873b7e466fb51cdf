import ChatAPI

/// The system-prompt text that teaches a model whose template knows nothing of tools (format
/// `.generic`) how to call them: the tools with their JSON Schemas, and the one-JSON-object
/// answer shape that `ToolCallFormat.generic`'s parser reads back.
public enum GenericToolPrompt {
    /// The tools section, to append to (or use as) the system message.
    ///
    /// - Parameters:
    ///   - tools: name, optional description and parameters schema of each tool.
    ///   - allowParallel: also describe `{"tool_calls": [...]}` for several calls at once.
    ///   - required: the model must call a tool (tool_choice `required` / named).
    public static func section(tools: [FunctionDefinition], allowParallel: Bool = true, required: Bool = false) -> String {
        var out = "# Tools\n\nYou can call the following tools. Each is listed with the JSON Schema of its arguments.\n"
        for tool in tools {
            out += "\n- " + tool.name
            if let d = tool.description, !d.isEmpty { out += ": " + d }
            let schema = tool.parameters ?? .object(["type": "object", "properties": .object([:])])
            out += "\n  arguments schema: " + schema.serialized()
        }
        out += "\n\nTo call a tool, reply with only this JSON object and nothing else:\n"
        out += "{\"name\": \"<tool name>\", \"arguments\": {<arguments matching the schema>}}\n"
        if allowParallel {
            out += "To call several tools at once, reply with only:\n"
            out += "{\"tool_calls\": [{\"name\": \"<tool name>\", \"arguments\": {…}}, …]}\n"
        }
        out += required
            ? "You must call a tool in this reply."
            : "If no tool is needed, answer the user in plain text without JSON."
        return out
    }

    /// `base` (the request's own system message, if any) followed by the tools section.
    public static func systemPrompt(base: String?, tools: [FunctionDefinition], allowParallel: Bool = true,
                                    required: Bool = false) -> String {
        let tools = section(tools: tools, allowParallel: allowParallel, required: required)
        guard let base, !base.isEmpty else { return tools }
        return base + "\n\n" + tools
    }
}
