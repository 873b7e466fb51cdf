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
        guard case .object(let root) = function.parameters ?? ["type": "object", "properties": .object([:])] else {
            throw GrammarError.invalidSchema("parameters must be an object schema")
        }
        if let key = root.keys.sorted().first(where: { !XMLParameterGrammar.rootKeys.contains($0) }) {
            throw GrammarError.unsupportedKeyword(key, detail: "not supported at the top of a tool's parameters this model writes as Python keyword arguments")
        }
        if let type = root["type"], type != .string("object") {
            throw GrammarError.invalidSchema("parameters must have type \"object\"")
        }
        let properties = root["properties"]?.objectValue ?? [:]
        let required = Set((root["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        if let missing = required.sorted().first(where: { properties[$0] == nil }) {
            throw GrammarError.unsupportedKeyword("required", detail: "'\(missing)' is not among the declared properties")
        }
        if let bad = properties.keys.first(where: { !Self.isIdentifier($0) }) {
            throw GrammarError.invalidSchema("property name '\(bad)' is not a Python identifier")
        }
        let definitions = root.filter { $0.key == "$defs" || $0.key == "definitions" }
        func withDefinitions(_ schema: JSONValue) -> JSONValue {
            guard case .object(var object) = schema else { return schema }
            for (key, value) in definitions where object[key] == nil { object[key] = value }
            return .object(object)
        }
        if properties.isEmpty {
            guard root["additionalProperties"] != .bool(false) else { return .sequence([]) }
            let name = GrammarSpec.rawString(schema: ["type": "string", "pattern": .string(Self.freeNamePattern)], excluding: "=")
            let value = Self.value(withDefinitions(root["additionalProperties"] ?? .bool(true)))
            return .repeated(.sequence([name, .literal("="), value]), min: 0, max: nil, separator: ", ")
        }
        let members = properties.map { name, schema in
            (required: required.contains(name), spec: GrammarSpec.sequence([.literal(name + "="), Self.value(withDefinitions(schema))]))
        }
        // The first argument written decides where the separators go: one alternative per
        // possible first argument (the optional ones before the first required one, and that one).
        var firsts: [GrammarSpec] = []
        for (index, member) in members.enumerated() {
            let later = members[(index + 1)...].map { later -> GrammarSpec in
                let written = GrammarSpec.sequence([.literal(", "), later.spec])
                return later.required ? written : .repeated(written, min: 0, max: 1)
            }
            firsts.append(.sequence([member.spec] + later))
            if member.required { break }
        }
        return members.contains(where: \.required) ? .choice(firsts) : .repeated(.choice(firsts), min: 0, max: 1)
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
