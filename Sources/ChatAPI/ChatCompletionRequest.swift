/// A `POST /v1/chat/completions` request, decoded and validated.
///
/// Decoding checks everything that can be checked without knowing the model: field types,
/// ranges, message roles, tool definitions, `tool_choice` against the tools sent, and that every
/// `tool` message answers an earlier assistant tool call. Anything wrong is an `APIError` (400)
/// naming the field; nothing malformed gets past `init(json:)`.
public struct ChatCompletionRequest: Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    /// Function tools (including ones given through the deprecated `functions`).
    public var tools: [FunctionDefinition]
    /// Effective tool choice: the explicit one, else `auto` when tools are given, else `none`.
    public var toolChoice: ToolChoice
    public var parallelToolCalls: Bool
    public var responseFormat: ResponseFormat
    public var stream: Bool
    public var includeUsage: Bool
    public var stop: [String]
    /// `max_completion_tokens`, or the deprecated `max_tokens`.
    public var maxCompletionTokens: Int?
    /// The field `maxCompletionTokens` came from, for errors that must name it.
    public var maxCompletionTokensParam: String = "max_completion_tokens"
    public var temperature: Double?
    public var topP: Double?
    public var seed: Int?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var user: String?
    public var reasoningEffort: String?
    /// True when the client used the deprecated `functions`/`function_call` fields, so the
    /// response should answer in the same dialect (`function_call`).
    public var usesLegacyFunctions: Bool

    public init(model: String, messages: [ChatMessage]) {
        self.model = model
        self.messages = messages
        self.tools = []
        self.toolChoice = .none
        self.parallelToolCalls = true
        self.responseFormat = .text
        self.stream = false
        self.includeUsage = false
        self.stop = []
        self.usesLegacyFunctions = false
    }

    /// Up to this many stop sequences, as OpenAI allows.
    public static let maxStopSequences = 4
    /// Up to this many tools (or legacy functions), as OpenAI allows.
    public static let maxTools = 128

    /// Checked before any element is decoded, so a huge array costs nothing but its parse.
    private static func checkToolCount(_ items: [JSONValue], param: String) throws {
        guard items.count <= maxTools else {
            throw APIError.invalidRequest(
                "Invalid '\(param)': array too long. Expected an array with maximum length \(maxTools), but got an array with length \(items.count) instead.",
                param: param, code: "array_above_max_length")
        }
    }

    /// Decodes and validates a request body.
    public init(json: JSONValue) throws {
        let r = try FieldReader(json, path: "")
        self.model = try r.requiredString("model")

        guard let rawMessages = try r.array("messages") else { throw APIError.missing("messages") }
        guard !rawMessages.isEmpty else {
            throw APIError.invalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                                          param: "messages", code: "empty_array")
        }
        self.messages = try rawMessages.enumerated().map { i, m in try ChatMessage(json: m, path: "messages[\(i)]") }

        // Tools, and the deprecated `functions` spelling of them.
        var tools: [FunctionDefinition] = []
        if let rawTools = try r.array("tools") {
            try Self.checkToolCount(rawTools, param: "tools")
            for (i, t) in rawTools.enumerated() {
                let tr = try FieldReader(t, path: "tools[\(i)]")
                let type = try tr.requiredString("type")
                guard type == "function" else {
                    throw APIError.invalidRequest(
                        "Invalid value for '\(tr.param("type"))': '\(type)'. Only 'function' tools are supported.",
                        param: tr.param("type"))
                }
                tools.append(try FunctionDefinition(json: try tr.required("function"), path: tr.param("function")))
            }
        }
        self.usesLegacyFunctions = false
        if let functions = try r.array("functions") {
            guard tools.isEmpty else {
                throw APIError.invalidRequest("Use either 'tools' or the deprecated 'functions', not both.", param: "functions")
            }
            try Self.checkToolCount(functions, param: "functions")
            tools = try functions.enumerated().map { i, f in try FunctionDefinition(json: f, path: "functions[\(i)]") }
            usesLegacyFunctions = true
        }
        var seen = Set<String>()
        for (i, t) in tools.enumerated() where !seen.insert(t.name).inserted {
            let param = usesLegacyFunctions ? "functions[\(i)].name" : "tools[\(i)].function.name"
            throw APIError.invalidRequest("Duplicate function name '\(t.name)' in '\(usesLegacyFunctions ? "functions" : "tools")'.", param: param)
        }
        self.tools = tools

        // tool_choice (or legacy function_call), checked against the tools sent.
        var choice: ToolChoice? = nil
        var choiceParam = "tool_choice"
        if let raw = r.value("tool_choice") {
            choice = try ToolChoice(json: raw, path: "tool_choice")
        } else if let raw = r.value("function_call") {
            choice = try ToolChoice(legacyJSON: raw, path: "function_call")
            choiceParam = "function_call"
        }
        let names = Set(tools.map(\.name))
        switch choice {
        case .function(let name)?:
            guard !tools.isEmpty else {
                throw APIError.invalidRequest("Invalid value for '\(choiceParam)': '\(choiceParam)' names a function, but no tools were given.", param: choiceParam)
            }
            guard names.contains(name) else {
                throw APIError.invalidRequest(
                    "Invalid value for '\(choiceParam)': no function named '\(name)' was given in 'tools'. Available: \(tools.map { "'\($0.name)'" }.joined(separator: ", ")).",
                    param: choiceParam)
            }
        case .allowed(let allowed, _)?:
            for name in allowed where !names.contains(name) {
                throw APIError.invalidRequest("Invalid value for '\(choiceParam)': allowed tool '\(name)' was not given in 'tools'.", param: choiceParam)
            }
        case .required?:
            guard !tools.isEmpty else {
                throw APIError.invalidRequest("Invalid value for '\(choiceParam)': 'required' needs at least one tool in 'tools'.", param: choiceParam)
            }
        default:
            break
        }
        self.toolChoice = choice ?? (tools.isEmpty ? .none : .auto)
        self.parallelToolCalls = try r.bool("parallel_tool_calls") ?? true

        self.responseFormat = try r.value("response_format").map { try ResponseFormat(json: $0, path: "response_format") } ?? .text

        self.stream = try r.bool("stream") ?? false
        if let options = try r.objectReader("stream_options") {
            guard stream else {
                throw APIError.invalidRequest("Invalid 'stream_options': only allowed when 'stream' is true.", param: "stream_options")
            }
            self.includeUsage = try options.bool("include_usage") ?? false
        } else {
            self.includeUsage = false
        }

        switch r.value("stop") {
        case nil: self.stop = []
        case .string(let s)?: self.stop = [s]
        case .array(let items)?:
            guard items.count <= Self.maxStopSequences else {
                throw APIError.invalidRequest("Invalid 'stop': at most \(Self.maxStopSequences) stop sequences are allowed.", param: "stop")
            }
            self.stop = try items.enumerated().map { i, item in
                guard case .string(let s) = item else { throw APIError.wrongType("stop[\(i)]", expected: "a string", got: item) }
                return s
            }
        case let other?:
            throw APIError.wrongType("stop", expected: "a string or an array of strings", got: other)
        }
        if let i = stop.firstIndex(of: "") {
            throw APIError.invalidRequest("Invalid 'stop\(stop.count > 1 || r.value("stop")?.arrayValue != nil ? "[\(i)]" : "")': stop sequences must not be empty.", param: "stop")
        }

        let maxTokens = try r.int("max_tokens", atLeast: 1)
        let maxCompletion = try r.int("max_completion_tokens", atLeast: 1)
        self.maxCompletionTokens = maxCompletion ?? maxTokens
        if maxCompletion == nil, maxTokens != nil { self.maxCompletionTokensParam = "max_tokens" }

        self.temperature = try r.double("temperature", in: 0...2)
        self.topP = try r.double("top_p", in: 0...1)
        self.presencePenalty = try r.double("presence_penalty", in: -2...2)
        self.frequencyPenalty = try r.double("frequency_penalty", in: -2...2)
        self.seed = try r.int("seed")
        self.user = try r.string("user")
        self.reasoningEffort = try r.string("reasoning_effort")
        if let effort = reasoningEffort, !["none", "minimal", "low", "medium", "high"].contains(effort) {
            throw APIError.invalidRequest(
                "Invalid value for 'reasoning_effort': '\(effort)'. Supported values are: 'none', 'minimal', 'low', 'medium' and 'high'.",
                param: "reasoning_effort")
        }

        // Fields we understand but cannot honour: an explicit error, never a silent drop.
        if let n = try r.int("n") {
            guard (1...128).contains(n) else {
                throw APIError.invalidRequest("Invalid 'n': expected a value between 1 and 128, but got \(n).", param: "n")
            }
            guard n == 1 else {
                throw APIError.invalidRequest("'n' greater than 1 is not supported; send separate requests.", param: "n", code: "unsupported_value")
            }
        }
        if try r.bool("logprobs") == true {
            throw APIError.invalidRequest("'logprobs' is not supported by this server.", param: "logprobs", code: "unsupported_parameter")
        }
        if r.has("top_logprobs") {
            throw APIError.invalidRequest("'top_logprobs' is not supported by this server.", param: "top_logprobs", code: "unsupported_parameter")
        }
        if let bias = try r.objectReader("logit_bias"), !bias.object.isEmpty {
            throw APIError.invalidRequest("'logit_bias' is not supported by this server.", param: "logit_bias", code: "unsupported_parameter")
        }
        for unsupported in ["audio", "prediction", "web_search_options"] where r.has(unsupported) {
            throw APIError.invalidRequest("'\(unsupported)' is not supported by this server.", param: unsupported, code: "unsupported_parameter")
        }
        if let modalities = try r.array("modalities"), modalities.contains(where: { $0 != .string("text") }) {
            throw APIError.invalidRequest("Only the 'text' modality is supported.", param: "modalities", code: "unsupported_value")
        }

        try Self.checkToolResultsAnswerCalls(messages)
    }

    /// Every `tool` message must answer a tool call made by an earlier assistant message.
    static func checkToolResultsAnswerCalls(_ messages: [ChatMessage]) throws {
        var callIDs = Set<String>()
        for (i, m) in messages.enumerated() {
            for call in m.toolCalls { callIDs.insert(call.id) }
            if m.role == .tool, let id = m.toolCallID, !callIDs.contains(id) {
                throw APIError.invalidRequest(
                    "Invalid 'messages[\(i)].tool_call_id': '\(id)' does not match the id of any tool call in an earlier assistant message.",
                    param: "messages[\(i)].tool_call_id")
            }
        }
    }
}
