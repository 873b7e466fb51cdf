import ChatAPI

/// A compiled JSON Schema (draft 2020-12, with the draft-04/06/07 spellings real schemas use).
///
/// Compile once, validate many times:
/// ```swift
/// let schema = try JSONSchema(json: parameters)        // throws SchemaError if malformed
/// let errors = schema.validate(arguments)              // [] when valid
/// // errors[0].description == #"/unit: "kelvin" is not one of ["celsius","fahrenheit"] (enum)"#
/// ```
/// `$ref`s are resolved and regexes compiled up front; validation does not touch the source JSON.
/// Remote references (`http…`) are rejected with a `SchemaError`. Unknown keywords are ignored
/// as annotations; `usedKeywords`/`unknownKeywords` list them for callers that care.
public struct JSONSchema: Sendable {
    /// The schema document as given.
    public let json: JSONValue
    /// Every keyword that appears in a schema object this schema can reach (known or not).
    public let usedKeywords: Set<String>
    let nodes: [SchemaNode]
    let integerLiteralsOnly: Bool

    /// Compiles `json`; throws `SchemaError` naming the keyword and schema path when malformed,
    /// or `WorkBudgetExceeded` when compiling it costs more than `budget` allows.
    public init(json: JSONValue, budget: WorkBudget = .offline()) throws {
        var compiler = try SchemaCompiler(root: json, budget: budget)
        try compiler.compile()
        try ValidationCost.check(compiler.nodes, budget: budget)
        self.json = json
        self.nodes = compiler.nodes
        self.usedKeywords = compiler.usedKeywords
        self.integerLiteralsOnly = compiler.draft.integersAreLiterals
    }

    /// Checks that `json` is a usable schema (e.g. a tool's `parameters`) without keeping it.
    public static func check(_ json: JSONValue, budget: WorkBudget = .offline()) throws {
        _ = try JSONSchema(json: json, budget: budget)
    }

    /// Keywords used by this schema that the validator treats as annotations only
    /// (`title`, `description`, vendor extensions, …).
    public var unknownKeywords: Set<String> { usedKeywords.subtracting(SchemaCompiler.knownKeywords) }

    /// Every way `instance` fails the schema; empty when it is valid.
    public func validate(_ instance: JSONValue) -> [ValidationError] {
        var validator = SchemaValidator(nodes: nodes, collecting: true, integerLiteralsOnly: integerLiteralsOnly)
        if validator.validate(0, instance) { return [] }
        if validator.errors.isEmpty {
            // Defensive: a failure must always be explained.
            return [ValidationError(instancePath: "", keyword: "schema", schemaPath: "", message: "instance does not match the schema")]
        }
        return validator.errors
    }

    /// True when `instance` satisfies the schema (stops at the first failure; no allocations for errors).
    public func isValid(_ instance: JSONValue) -> Bool {
        var validator = SchemaValidator(nodes: nodes, collecting: false, integerLiteralsOnly: integerLiteralsOnly)
        return validator.validate(0, instance)
    }
}
