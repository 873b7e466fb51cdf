/// What a request demands of tool use, reduced to what generation must enforce.
///
/// `tool_choice`, `parallel_tool_calls` and the deprecated `functions` dialect combine into
/// three facts: whether calls are forbidden, optional or mandatory; which functions may be
/// called; and how many calls at most. Every backend enforces the same plan.
public struct ToolCallPlan: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// No tool call may be generated (`tool_choice: "none"`, or no tools).
        case forbidden
        /// The model chooses between answering and calling (`auto`).
        case optional
        /// Generation is one or more calls and nothing else (`required`, a named function).
        case mandatory
    }

    public var mode: Mode
    /// The functions that may be called, in the order the request listed them.
    public var functions: [FunctionDefinition]
    /// At most this many calls (1 for `parallel_tool_calls: false`, a named function, or the
    /// legacy single `function_call`); nil for no limit.
    public var maxCalls: Int?

    public init(mode: Mode, functions: [FunctionDefinition], maxCalls: Int?) {
        self.mode = mode
        self.functions = functions
        self.maxCalls = maxCalls
    }

    public init(request: ChatCompletionRequest) {
        let single = !request.parallelToolCalls || request.usesLegacyFunctions
        switch request.toolChoice {
        case .none:
            self.init(mode: .forbidden, functions: [], maxCalls: 0)
        case _ where request.tools.isEmpty:
            self.init(mode: .forbidden, functions: [], maxCalls: 0)
        case .auto:
            self.init(mode: .optional, functions: request.tools, maxCalls: single ? 1 : nil)
        case .required:
            self.init(mode: .mandatory, functions: request.tools, maxCalls: single ? 1 : nil)
        case .function(let name):
            self.init(mode: .mandatory, functions: request.tools.filter { $0.name == name }, maxCalls: 1)
        case .allowed(let names, let required):
            let allowed = Set(names)
            self.init(mode: required ? .mandatory : .optional, functions: request.tools.filter { allowed.contains($0.name) },
                      maxCalls: single ? 1 : nil)
        }
    }
}
