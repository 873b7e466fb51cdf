/// Why a schema or grammar could not be compiled. Every unsupported construct is reported by
/// name; nothing is silently dropped.
public enum GrammarError: Error, CustomStringConvertible, Equatable {
    /// A JSON Schema keyword (or keyword value) the compiler cannot enforce.
    case unsupportedKeyword(String, detail: String)
    /// A regular-expression construct outside the supported subset (backreferences, lookaround…).
    case unsupportedRegex(construct: String, pattern: String)
    /// Malformed regular expression.
    case invalidRegex(String, pattern: String)
    /// A `$ref` that cannot be resolved.
    case unresolvedReference(String)
    /// The schema admits no value at all.
    case unsatisfiable(String)
    /// The schema is structurally invalid (wrong keyword value types).
    case invalidSchema(String)
    /// The construct would need an automaton larger than the configured limits.
    case tooLarge(String)

    public var description: String {
        switch self {
        case .unsupportedKeyword(let k, let d): return "unsupported JSON Schema keyword '\(k)': \(d)"
        case .unsupportedRegex(let c, let p): return "unsupported regex construct \(c) in pattern \(p)"
        case .invalidRegex(let m, let p): return "invalid regex \(p): \(m)"
        case .unresolvedReference(let r): return "cannot resolve $ref \(r)"
        case .unsatisfiable(let m): return "schema is unsatisfiable: \(m)"
        case .invalidSchema(let m): return "invalid schema: \(m)"
        case .tooLarge(let m): return "grammar too large: \(m)"
        }
    }
}
