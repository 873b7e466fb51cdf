/// One part of a message's content array.
public enum ContentPart: Sendable, Equatable {
    case text(String)
    case imageURL(url: String, detail: String?)
    case inputAudio(data: String, format: String)
    case file(JSONValue)
    case refusal(String)

    /// The spec's `type` tag for this part.
    public var typeName: String {
        switch self {
        case .text: return "text"
        case .imageURL: return "image_url"
        case .inputAudio: return "input_audio"
        case .file: return "file"
        case .refusal: return "refusal"
        }
    }
}

/// Message content: a plain string or an array of parts.
public enum MessageContent: Sendable, Equatable {
    case text(String)
    case parts([ContentPart])

    /// The text of the content: the string, or the text (and refusal) parts joined in order.
    public var text: String {
        switch self {
        case .text(let s): return s
        case .parts(let parts):
            return parts.compactMap {
                switch $0 {
                case .text(let t), .refusal(let t): return t
                default: return nil
                }
            }.joined()
        }
    }
}

/// A function call made by the assistant.
public struct ToolCall: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The arguments as JSON text (a JSON object), exactly as the spec transports them.
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// A chat message of any role.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        case system, developer, user, assistant, tool
        /// Deprecated `function` result message.
        case function
    }

    public var role: Role
    /// nil only for an assistant message that carries tool calls, or a legacy function result.
    public var content: MessageContent?
    /// Participant name (system/user/assistant) or the function name (`function` role).
    public var name: String?
    /// Assistant tool calls, in order.
    public var toolCalls: [ToolCall]
    /// For `tool` messages: the id of the call this result answers.
    public var toolCallID: String?
    /// Assistant refusal text, if any.
    public var refusal: String?
    /// Assistant reasoning text from an earlier turn, when a client sends it back.
    public var reasoningContent: String?
    /// The provider's seal over `reasoningContent`, sent back unchanged (`reasoning_signature`,
    /// Switchboard's extension; see `ChatEvent.reasoningSignature`).
    public var reasoningSignature: String?
    /// For `tool` messages: the result reports that the call failed (`is_error`, Switchboard's
    /// extension, passed to providers that can mark a tool result as an error).
    public var isError: Bool

    public init(role: Role, content: MessageContent?, name: String? = nil, toolCalls: [ToolCall] = [],
                toolCallID: String? = nil, refusal: String? = nil, reasoningContent: String? = nil,
                reasoningSignature: String? = nil, isError: Bool = false) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.refusal = refusal
        self.reasoningContent = reasoningContent
        self.reasoningSignature = reasoningSignature
        self.isError = isError
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: .system, content: .text(text)) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: .text(text)) }
    public static func assistant(_ text: String?, toolCalls: [ToolCall] = []) -> ChatMessage {
        ChatMessage(role: .assistant, content: text.map(MessageContent.text), toolCalls: toolCalls)
    }
    public static func tool(_ text: String, callID: String) -> ChatMessage {
        ChatMessage(role: .tool, content: .text(text), toolCallID: callID)
    }
}

// MARK: - Decoding with validation

extension ChatMessage {
    /// Decodes and validates one message of the `messages` array.
    public init(json: JSONValue, path: String) throws {
        let r = try FieldReader(json, path: path)
        let roleText = try r.requiredString("role")
        guard let role = Role(rawValue: roleText) else {
            throw APIError.invalidRequest(
                "Invalid value for '\(r.param("role"))': '\(roleText)'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.",
                param: r.param("role"))
        }
        self.role = role
        self.name = try r.string("name")
        self.refusal = try r.string("refusal")
        self.reasoningContent = try r.string("reasoning_content")
        self.reasoningSignature = try r.string("reasoning_signature")
        self.isError = role == .tool ? try r.bool("is_error") ?? false : false
        self.toolCallID = nil
        self.toolCalls = []

        let allowedParts: Set<String>
        switch role {
        case .system, .developer, .tool, .function: allowedParts = ["text"]
        case .user: allowedParts = ["text", "image_url", "input_audio", "file"]
        case .assistant: allowedParts = ["text", "refusal"]
        }
        self.content = try r.value("content").map {
            try MessageContent(json: $0, path: r.param("content"), allowedParts: allowedParts)
        }

        switch role {
        case .system, .developer, .user:
            if content == nil { throw APIError.missing(r.param("content")) }
        case .tool:
            if content == nil { throw APIError.missing(r.param("content")) }
            guard let id = try r.string("tool_call_id") else { throw APIError.missing(r.param("tool_call_id")) }
            guard !id.isEmpty else {
                throw APIError.invalidRequest("'\(r.param("tool_call_id"))' must not be empty.", param: r.param("tool_call_id"))
            }
            self.toolCallID = id
        case .function:
            if name == nil { throw APIError.missing(r.param("name")) }
        case .assistant:
            if let calls = try r.array("tool_calls") {
                self.toolCalls = try calls.enumerated().map { i, call in
                    try ToolCall(json: call, path: "\(r.param("tool_calls"))[\(i)]")
                }
            }
            if let legacy = try r.objectReader("function_call") {
                // Deprecated single function call: keep it as a tool call so templates see it.
                let name = try legacy.requiredString("name")
                let arguments = try legacy.string("arguments") ?? "{}"
                self.toolCalls.append(ToolCall(id: "call_legacy_\(name)", name: name, arguments: arguments))
            }
            if content == nil && toolCalls.isEmpty && refusal == nil {
                throw APIError.invalidRequest(
                    "Invalid '\(path)': an assistant message needs 'content', 'tool_calls' or 'refusal'.",
                    param: r.param("content"), code: "missing_required_parameter")
            }
        }
    }
}

extension ToolCall {
    init(json: JSONValue, path: String) throws {
        let r = try FieldReader(json, path: path)
        let type = try r.string("type") ?? "function"
        guard type == "function" else {
            throw APIError.invalidRequest("Invalid value for '\(r.param("type"))': '\(type)'. Only 'function' tool calls are supported.",
                                          param: r.param("type"))
        }
        self.id = try r.requiredString("id")
        guard let function = try r.objectReader("function") else { throw APIError.missing(r.param("function")) }
        self.name = try function.requiredString("name")
        // Some clients send arguments as an object instead of a string; accept both, store text.
        switch function.value("arguments") {
        case nil: self.arguments = "{}"
        case .string(let s): self.arguments = s
        case .object(let o): self.arguments = JSONValue.object(o).serialized()
        case let other?: throw APIError.wrongType(function.param("arguments"), expected: "a string", got: other)
        }
    }
}

extension MessageContent {
    init(json: JSONValue, path: String, allowedParts: Set<String>) throws {
        switch json {
        case .string(let s):
            self = .text(s)
        case .array(let items):
            var parts: [ContentPart] = []
            for (i, item) in items.enumerated() {
                let p = try FieldReader(item, path: "\(path)[\(i)]")
                let type = try p.requiredString("type")
                guard allowedParts.contains(type) else {
                    throw APIError.invalidRequest(
                        "Invalid value for '\(p.param("type"))': '\(type)'. Supported values here are: \(allowedParts.sorted().map { "'\($0)'" }.joined(separator: ", ")).",
                        param: p.param("type"))
                }
                switch type {
                case "text": parts.append(.text(try p.requiredString("text")))
                case "refusal": parts.append(.refusal(try p.requiredString("refusal")))
                case "image_url":
                    guard let image = try p.objectReader("image_url") else { throw APIError.missing(p.param("image_url")) }
                    parts.append(.imageURL(url: try image.requiredString("url"), detail: try image.string("detail")))
                case "input_audio":
                    guard let audio = try p.objectReader("input_audio") else { throw APIError.missing(p.param("input_audio")) }
                    parts.append(.inputAudio(data: try audio.requiredString("data"), format: try audio.requiredString("format")))
                default:
                    parts.append(.file(try p.required("file")))
                }
            }
            self = .parts(parts)
        default:
            throw APIError.wrongType(path, expected: "a string or an array of content parts", got: json)
        }
    }
}
