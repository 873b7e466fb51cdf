import ChatAPI
import HTTPTypes

/// What Anthropic's Messages API refuses, checked by the fake upstream as strictly as the real
/// API does, so that a translation that would fail there fails here: the headers, required and
/// unknown fields, roles that alternate from a user turn, block types per role, non-empty
/// text, tool results that answer exactly the previous turn's tool uses, tool definitions and
/// choice, and parameter ranges.
enum AnthropicRules {
    /// The status, Anthropic error type and message for a request the API would refuse.
    static func problem(headers: HTTPFields, body: JSONValue) -> (Int, String, String)? {
        guard headers[HTTPField.Name("x-api-key")!]?.isEmpty == false else {
            return (401, "authentication_error", "x-api-key header is required")
        }
        guard headers[HTTPField.Name("anthropic-version")!] == "2023-06-01" else {
            return (400, "invalid_request_error", "anthropic-version: header is required")
        }
        if let message = invalid(body) { return (400, "invalid_request_error", message) }
        return nil
    }

    static let topLevel: Set<String> = [
        "model", "max_tokens", "messages", "system", "tools", "tool_choice", "stop_sequences", "temperature", "top_p",
        "top_k", "thinking", "metadata", "stream", "service_tier",
    ]

    /// Why `body` is not a valid Messages request, or nil.
    static func invalid(_ body: JSONValue) -> String? {
        guard let o = body.objectValue else { return "body: Input should be an object" }
        for key in o.keys where !topLevel.contains(key) { return "\(key): Extra inputs are not permitted" }
        guard o["model"]?.stringValue?.isEmpty == false else { return "model: Field required" }
        guard let maxTokens = o["max_tokens"]?.intValue else { return "max_tokens: Field required" }
        guard maxTokens >= 1 else { return "max_tokens: Input should be greater than or equal to 1" }
        if let system = o["system"], system.stringValue == nil, system.arrayValue == nil { return "system: Input should be a valid string" }
        for key in ["temperature", "top_p"] {
            if let value = o[key] {
                guard let d = value.doubleValue, (0...1).contains(d) else { return "\(key): Input should be less than or equal to 1" }
            }
        }
        if let stream = o["stream"], stream.boolValue == nil { return "stream: Input should be a valid boolean" }

        var toolNames = Set<String>()
        for (i, tool) in (o["tools"]?.arrayValue ?? []).enumerated() {
            guard let name = tool["name"]?.stringValue, !name.isEmpty else { return "tools.\(i).name: Field required" }
            guard tool["input_schema"]?["type"] == "object" else { return "tools.\(i).input_schema.type: Input should be 'object'" }
            for key in tool.objectValue?.keys ?? [] where !["name", "description", "input_schema", "cache_control"].contains(key) {
                return "tools.\(i).\(key): Extra inputs are not permitted"
            }
            guard toolNames.insert(name).inserted else { return "tools: Tool names must be unique." }
        }
        if let choice = o["tool_choice"] {
            guard o["tools"] != nil else { return "tool_choice: may only be specified while providing tools." }
            switch choice["type"]?.stringValue {
            case "auto"?, "any"?, "none"?: break
            case "tool"?:
                guard let name = choice["name"]?.stringValue, toolNames.contains(name) else { return "tool_choice.name: Tool not found" }
            default: return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"
            }
        }
        if let thinking = o["thinking"] {
            guard thinking["type"] == "enabled", let budget = thinking["budget_tokens"]?.intValue else { return "thinking: invalid" }
            guard budget >= 1024 else { return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024" }
            guard budget < maxTokens else { return "`max_tokens` must be greater than `thinking.budget_tokens`" }
        }
        return invalidMessages(o["messages"])
    }

    static func invalidMessages(_ messages: JSONValue?) -> String? {
        guard let messages = messages?.arrayValue else { return "messages: Field required" }
        guard !messages.isEmpty else { return "messages: at least one message is required" }
        var pendingToolUses: [String] = []
        for (i, message) in messages.enumerated() {
            guard let role = message["role"]?.stringValue, ["user", "assistant"].contains(role) else {
                return "messages.\(i).role: Input should be 'user' or 'assistant'"
            }
            if i == 0, role != "user" { return "messages: first message must use the \"user\" role" }
            if i > 0, messages[i - 1]["role"]?.stringValue == role { return "messages: roles must alternate between \"user\" and \"assistant\"" }
            let blocks: [JSONValue]
            if let text = message["content"]?.stringValue {
                guard !text.isEmpty else { return "messages.\(i): all messages must have non-empty content" }
                blocks = [["type": "text", "text": .string(text)]]
            } else if let array = message["content"]?.arrayValue, !array.isEmpty {
                blocks = array
            } else {
                return "messages.\(i): all messages must have non-empty content"
            }
            let allowed: Set<String> = role == "user" ? ["text", "image", "tool_result"] : ["text", "tool_use", "thinking", "redacted_thinking"]
            var results: [String] = []
            var uses: [String] = []
            for (j, block) in blocks.enumerated() {
                let at = "messages.\(i).content.\(j)"
                guard let type = block["type"]?.stringValue, allowed.contains(type) else {
                    return "\(at).type: Input tag '\(block["type"]?.stringValue ?? "")' is not allowed in a \(role) message"
                }
                switch type {
                case "text":
                    guard block["text"]?.stringValue?.isEmpty == false else { return "\(at).text: text content blocks must be non-empty" }
                case "tool_result":
                    guard let id = block["tool_use_id"]?.stringValue else { return "\(at).tool_use_id: Field required" }
                    guard results.count == j else { return "\(at): tool_result blocks must come first in the user message" }
                    results.append(id)
                case "tool_use":
                    guard let id = block["id"]?.stringValue, block["name"]?.stringValue != nil, block["input"]?.objectValue != nil else {
                        return "\(at): tool_use needs id, name and an object input"
                    }
                    uses.append(id)
                case "thinking":
                    guard block["signature"]?.stringValue?.isEmpty == false else { return "\(at).signature: Field required" }
                case "image":
                    guard block["source"]?["type"] != nil else { return "\(at).source: Field required" }
                default:
                    break
                }
            }
            if role == "user" {
                if Set(results) != Set(pendingToolUses) || results.count != pendingToolUses.count {
                    return "messages.\(i): tool_use ids were found without tool_result blocks immediately after: \(pendingToolUses.filter { !results.contains($0) }.joined(separator: ", ")); or unexpected tool_use_id found in tool_result blocks: \(results.filter { !pendingToolUses.contains($0) }.joined(separator: ", "))"
                }
                pendingToolUses = []
            } else {
                pendingToolUses = uses
            }
        }
        return nil
    }
}
