extension ToolCallFormat {
    /// Decides a model's tool-call format from its chat template source, by the marker strings
    /// the template uses to render assistant tool calls (the approach of llama.cpp's chat layer).
    ///
    /// `metadata` (GGUF keys such as `general.architecture`, `general.name`) is consulted only
    /// when the template says nothing. Templates without tool support — and families whose
    /// formats are not implemented here (MiniMax-M3, Kimi K3, GigaChat 3, …) —
    /// get `.generic`, which describes the tools in the system prompt instead.
    public static func detect(template: String, metadata: [String: String] = [:]) -> ToolCallFormat {
        let t = template
        func has(_ s: String) -> Bool { t.contains(s) }

        if has("<|channel|>") && has("<|call|>") { return .gptOss }
        if has("<|tool_calls_section_begin|>") { return .kimiK2 }
        if has("<｜tool▁calls▁begin｜>") || has("<｜tool▁call▁begin｜>") {
            return has("```json") ? .deepseekR1 : .deepseekV31
        }
        if has("<|START_ACTION|>") { return .commandR7B }
        if has("Action:\\n```json") && has("tool_name") { return .commandRPlus }
        if has("[TOOL_CALLS]") { return has("[ARGS]") ? .mistralArgs : .mistral }
        if has(" functools[") { return .firefunctionV2 }
        if has("<|tool_call|>") { return .granite }
        if has("<|tool_call>call:") { return .gemma }
        if has("<TOOLCALL>[") { return .nemotronV2 }
        if has("<|tools_prefix|>") { return .apertus }
        if has("<|tool_call:begin|>") && has("<|tool_call:name|>") { return .solarOpen }
        if has("<tool_calls>") && has("<end_of_sentence>") { return .minimaxM1 }
        if has("<tool_calls>[") { return .apriel }
        if has("<|function_call|>") { return .gigachat31 }
        if has("<tool_call>") && has("<arg_key>") { return .glm45 }
        if has("<tool_calls{}>") && has("<arg_key{}>") && has("<tool_sep{}>") { return .hy3 }
        if has("<minimax:tool_call>") && has("<invoke name=") && has("<parameter name=") { return .minimaxM2 }
        if has("<seed:tool_call>") && has("<function=") { return .seedOSS }
        // LFM2's templates list tools in <|tool_list_start|>; not every one renders past calls.
        if has("<|tool_call_start|>") || has("<|tool_list_start|>") || has("List of tools: [") { return .lfm2 }
        if has("<function name=\"") && has("<param name=\"") { return .minicpm5 }
        if has("｜DSML｜") && has("'tool_calls>") { return .deepseekV4 }
        if has("｜DSML｜") && has("'function_calls>") { return .deepseekV32 }
        if has("<tool_call>") && has("<function=") && has("<parameter=") { return .qwen3Coder }
        if has("<function=") && has("</function>") && !has("<parameter=") { return .functionaryV31 }
        if has(">>>all") || (has("'>>>'") && has("recipient")) { return .functionaryV32 }
        // A template that also writes a <tool_calls> section belongs to another family.
        if has("<tool_call>") && has("\"name\"") && !has("<tool_calls>") { return .hermes }
        if has("<|start_header_id|>") && has("\"parameters\"") && has("tool") { return .llama3 }

        if template.isEmpty {
            let arch = (metadata["general.architecture"] ?? "").lowercased()
            let name = (metadata["general.name"] ?? "").lowercased()
            if arch == "gpt-oss" || name.contains("gpt-oss") { return .gptOss }
            if name.contains("hermes") || arch.hasPrefix("qwen2") { return .hermes }
            if name.contains("functionary") { return .functionaryV32 }
        }
        return .generic
    }
}
