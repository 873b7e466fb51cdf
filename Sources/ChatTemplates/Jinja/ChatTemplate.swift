import ChatAPI
import Foundation

/// How a template is parsed and rendered. The defaults reproduce Hugging Face's
/// `apply_chat_template` environment: `trim_blocks`, `lstrip_blocks`, the immutable sandbox (no
/// `list.append`), `loopcontrols`, its `tojson`, `raise_exception` and `strftime_now`.
public struct ChatTemplateOptions: @unchecked Sendable {
    /// Drop the first newline after a block tag (jinja2 `trim_blocks`).
    public var trimBlocks = true
    /// Strip spaces/tabs before a block tag at the start of a line (jinja2 `lstrip_blocks`).
    public var lstripBlocks = true
    /// Keep a single trailing newline at the end of the template (jinja2 `keep_trailing_newline`).
    public var keepTrailingNewline = false
    /// Allow `list.append`, `dict.update`, ... (jinja2's non-immutable sandbox). Off like HF.
    public var allowsMutation = false
    /// Bounds on loops, call depth and output size.
    public var limits = RenderLimits()
    /// The clock behind `strftime_now`; inject a fixed instant for reproducible output.
    public var now: @Sendable () -> Date = { Date() }
    /// Time zone `strftime_now` formats in (Python's `datetime.now()` uses local time).
    public var timeZone: TimeZone = .current

    public init() {}
}

/// A parsed Jinja chat template. Parse once, render many times (thread-safe: rendering does not
/// mutate the template).
///
/// ```swift
/// let template = try ChatTemplate(source: text)
/// let prompt = try template.render(context: ["messages": messages, "add_generation_prompt": true])
/// ```
public final class ChatTemplate: @unchecked Sendable {
    /// The template text as given.
    public let source: String
    public let options: ChatTemplateOptions
    private let nodes: [Node]

    /// Parses `source`; throws `TemplateError` (kind `.syntax`) naming the line and column.
    public init(source: String, options: ChatTemplateOptions = ChatTemplateOptions()) throws {
        self.source = source
        self.options = options
        var lexer = JinjaLexer(source: source, options: LexerOptions(
            trimBlocks: options.trimBlocks, lstripBlocks: options.lstripBlocks, keepTrailingNewline: options.keepTrailingNewline))
        let tokens = try lexer.tokenize()
        var parser = JinjaParser(tokens: tokens, lineMap: lexer.lineMap)
        nodes = try parser.parseTemplate()
    }

    /// Renders with JSON variables (`messages`, `tools`, `add_generation_prompt`, `bos_token`, ...).
    /// Each render gets fresh copies, so templates cannot leak state between renders.
    public func render(context: [String: JSONValue]) throws -> String {
        try render(values: context.mapValues { JinjaValue(json: $0) })
    }

    /// Renders a typed chat context.
    public func render(_ context: ChatTemplateContext) throws -> String {
        try render(context: context.variables)
    }

    /// Renders with template values directly.
    public func render(values: [String: JinjaValue]) throws -> String {
        let globals = Scope(parent: nil)
        globals.vars = Variables(Globals.values)
        let interpreter = Interpreter(globals: globals, limits: options.limits, allowsMutation: options.allowsMutation,
                                      now: options.now, timeZone: options.timeZone)
        interpreter.root.vars = Variables(values)
        var out = ""
        _ = try interpreter.render(nodes, interpreter.root, into: &out)
        return out
    }
}

/// The variables Hugging Face's `apply_chat_template` passes to a template.
public struct ChatTemplateContext: Sendable {
    /// OpenAI-style messages (`role`, `content`, `tool_calls`, `tool_call_id`, ...).
    public var messages: [JSONValue]
    /// Tool definitions, or nil (rendered as `None`, exactly as HF passes it).
    public var tools: [JSONValue]?
    /// RAG documents, or nil.
    public var documents: [JSONValue]?
    public var addGenerationPrompt: Bool
    public var bosToken: String
    public var eosToken: String
    /// Any further template kwargs (`enable_thinking`, `reasoning_effort`, ...).
    public var extra: [String: JSONValue]

    public init(messages: [JSONValue], tools: [JSONValue]? = nil, documents: [JSONValue]? = nil,
                addGenerationPrompt: Bool = true, bosToken: String = "", eosToken: String = "",
                extra: [String: JSONValue] = [:]) {
        self.messages = messages
        self.tools = tools
        self.documents = documents
        self.addGenerationPrompt = addGenerationPrompt
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.extra = extra
    }

    /// The context as template variables.
    public var variables: [String: JSONValue] {
        var v = extra
        v["messages"] = .array(messages)
        v["tools"] = tools.map { .array($0) } ?? .null
        v["documents"] = documents.map { .array($0) } ?? .null
        v["add_generation_prompt"] = .bool(addGenerationPrompt)
        v["bos_token"] = .string(bosToken)
        v["eos_token"] = .string(eosToken)
        return v
    }
}
