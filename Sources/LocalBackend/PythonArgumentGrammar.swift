import ChatAPI
import ChatTemplates
import Grammar

/// The grammar of a call's arguments written as Python keyword arguments (LFM2's
/// `get_weather(city="Paris", days=3)`), derived from the tool's parameter schema the way the
/// format's parser reads them back:
/// - parameters in declared order, each at most once, the required ones present, separated by
///   `, `; names must be Python identifiers;
/// - a boolean is `True` or `False` and a null `None`, as Python writes them;
/// - every other value is one JSON value of its schema (a JSON string is a valid Python string
///   literal, and objects and lists are written as JSON, as the template does for objects).
struct PythonArgumentGrammar {
    /// Names of undeclared parameters, where a schema declares none.
    static let freeNamePattern = "^[A-Za-z_][A-Za-z0-9_]{0,63}$"

    /// The keyword arguments of `function` (without the parentheses). Throws for a schema this
    /// format cannot spell (naming the keyword).
    func arguments(_ function: FunctionDefinition) throws -> GrammarSpec {
        let parameters = try ToolParameters(function, writtenAs: "Python keyword arguments")
        if let bad = parameters.properties.keys.first(where: { !Self.isIdentifier($0) }) {
            throw GrammarError.invalidSchema("property name '\(bad)' is not a Python identifier")
        }
        if let undeclared = parameters.undeclared {
            let name = GrammarSpec.rawString(schema: ["type": "string", "pattern": .string(Self.freeNamePattern)], excluding: "=")
            let value = Self.value(parameters.compilable(undeclared))
            return .repeated(.sequence([name, .literal("="), value]), min: 0, max: nil, separator: ", ")
        }
        return .orderedMembers(parameters.properties.map { name, schema in
            (required: parameters.required.contains(name),
             spec: .sequence([.literal(name + "="), Self.value(parameters.compilable(schema))]))
        }, separator: ", ")
    }

    /// `True`/`False` and `None` for a boolean or null schema; JSON of the schema otherwise.
    static func value(_ schema: JSONValue) -> GrammarSpec {
        switch schema["type"] {
        case .string("boolean")? where schema["enum"] == nil && schema["const"] == nil:
            return .choice([.literal("True"), .literal("False")])
        case .string("null")?:
            return .literal("None")
        default:
            return .json(schema: schema)
        }
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
