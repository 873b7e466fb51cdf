/// A position in template source (1-based line and column).
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public var description: String { "line \(line), column \(column)" }
}

/// Everything that can go wrong parsing or rendering a chat template.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The template text is not valid Jinja (or uses a construct we do not support).
        case syntax
        /// A value was used in a way Python/jinja2 rejects (e.g. `'a' + 1`, `x in None`).
        case type
        /// An undefined variable or attribute was used beyond printing/testing it.
        case undefined
        /// The template called a method the sandbox forbids (e.g. `list.append`).
        case security
        /// The template called `raise_exception(message)`.
        case raised
        /// A render limit (iterations, recursion depth, output size) was exceeded.
        case limit
        /// Any other runtime failure (unknown filter, bad argument, ...).
        case runtime
    }

    public var kind: Kind
    public var message: String
    /// Where in the template the failure happened, when known.
    public var position: SourcePosition?

    public init(_ kind: Kind, _ message: String, at position: SourcePosition? = nil) {
        self.kind = kind
        self.message = message
        self.position = position
    }

    public var description: String {
        if let p = position { return "template error (\(kind.rawValue)) at \(p): \(message)" }
        return "template error (\(kind.rawValue)): \(message)"
    }
}

func typeError(_ message: String) -> TemplateError { TemplateError(.type, message) }
func runtimeError(_ message: String) -> TemplateError { TemplateError(.runtime, message) }
