import ChatAPI
import ChatTemplates
import Grammar

/// The grammar of a call's arguments in Gemma 4's notation (`{city:<|"|>Paris<|"|>,days:3}`),
/// derived from the tool's parameter schema the way Gemma's template writes arguments and the
/// format's parser reads them back:
/// - objects list their declared properties in the template's key order, each at most once,
///   the required ones present, separated by commas; keys are bare;
/// - strings are bare text between `<|"|>` quotes (`<`, quotes and newlines included),
///   constrained by `pattern`, `format`, lengths, `enum` or `const`;
/// - numbers and booleans are spelled as in JSON, `null` as `None`, arrays in brackets;
/// - an object that declares no properties takes free keys with scalar values.
///
/// Gemma's notation has no spelling for a choice between schemas, so `anyOf`, `oneOf`, `$ref`
/// and the like are errors naming the keyword, never silently widened.
struct GemmaArgumentGrammar {
    static let quote = "<|\"|>"

    /// Keywords of a value schema that this grammar honours, or that only annotate.
    static let understood: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
        "enum", "const", "pattern", "format", "minLength", "maxLength",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "title", "description", "$schema", "$id", "$comment", "examples", "default",
    ]
    /// Deeper schemas are refused: every level multiplies the grammar.
    static let maxDepth = 16

    /// The arguments object of `function`. Throws for a schema the notation cannot spell.
    func arguments(_ function: FunctionDefinition) throws -> GrammarSpec {
        let schema = function.parameters ?? ["type": "object", "properties": .object([:])]
        if let type = schema["type"], type != .string("object") {
            throw GrammarError.invalidSchema("parameters must have type \"object\"")
        }
        return try object(schema, depth: 0)
    }

    private func value(_ schema: JSONValue, depth: Int) throws -> GrammarSpec {
        guard depth < Self.maxDepth else { throw GrammarError.tooLarge("parameters nested more than \(Self.maxDepth) levels deep") }
        if case .bool(true) = schema { return Self.anyScalar }
        guard case .object(let node) = schema else { throw GrammarError.invalidSchema("a schema must be an object") }
        if let keyword = node.keys.sorted().first(where: { !Self.understood.contains($0) }) {
            throw GrammarError.unsupportedKeyword(keyword, detail: "not supported in arguments this model writes in Gemma's notation")
        }
        if let constant = node["const"] { return .literal(gemmaNotation(constant)) }
        if let options = node["enum"]?.arrayValue {
            var spellings: [GrammarSpec] = options.filter { $0.stringValue == nil }.map { .literal(gemmaNotation($0)) }
            if options.contains(where: { $0.stringValue != nil }) {
                // The raw-string grammar honours the enum's strings (and any pattern beside it).
                var strings = node
                strings["enum"] = .array(options.filter { $0.stringValue != nil })
                spellings.append(string(strings))
            }
            return spellings.count == 1 ? spellings[0] : .choice(spellings)
        }
        let types: [String]
        switch node["type"] {
        case .string(let type)?: types = [type]
        case .array(let list)?: types = list.compactMap(\.stringValue)
        default:
            if node["properties"] != nil { types = ["object"] } else if node["items"] != nil { types = ["array"] } else { return Self.anyScalar }
        }
        let spellings = try types.map { type -> GrammarSpec in
            switch type {
            case "string": return string(node)
            case "integer", "number", "boolean":
                var scalar = node
                scalar["type"] = .string(type)
                return .json(schema: .object(scalar))
            case "null": return .literal("None")
            case "array": return try array(node, depth: depth)
            case "object": return try object(.object(node), depth: depth)
            default: throw GrammarError.invalidSchema("unknown type \"\(type)\"")
            }
        }
        return spellings.count == 1 ? spellings[0] : .choice(spellings)
    }

    private func string(_ node: JSONObject) -> GrammarSpec {
        var schema = node
        schema["type"] = "string"
        return .sequence([.literal(Self.quote), .rawString(schema: .object(schema), excluding: Self.quote), .literal(Self.quote)])
    }

    private func array(_ node: JSONObject, depth: Int) throws -> GrammarSpec {
        let item = try value(node["items"] ?? .bool(true), depth: depth + 1)
        let min = node["minItems"]?.intValue ?? 0
        let max = node["maxItems"]?.intValue
        return .sequence([.literal("["), .repeated(item, min: min, max: max, separator: ","), .literal("]")])
    }

    private func object(_ schema: JSONValue, depth: Int) throws -> GrammarSpec {
        guard case .object(let node) = schema else { throw GrammarError.invalidSchema("an object schema must be an object") }
        if let keyword = node.keys.sorted().first(where: { !Self.understood.contains($0) }) {
            throw GrammarError.unsupportedKeyword(keyword, detail: "not supported in arguments this model writes in Gemma's notation")
        }
        let properties = node["properties"]?.objectValue ?? [:]
        let required = Set((node["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        if let missing = required.sorted().first(where: { properties[$0] == nil }) {
            throw GrammarError.unsupportedKeyword("required", detail: "'\(missing)' is not among the declared properties")
        }
        if let bad = properties.keys.first(where: { !Self.isBareKey($0) }) {
            throw GrammarError.invalidSchema("property name '\(bad)' cannot be written bare in Gemma's notation")
        }
        if properties.isEmpty {
            guard node["additionalProperties"] != .bool(false) else { return .literal("{}") }
            let key = GrammarSpec.rawString(schema: ["type": "string", "pattern": .string(XMLParameterGrammar.freeNamePattern)],
                                            excluding: ":")
            let member: GrammarSpec = .sequence([key, .literal(":"), Self.anyScalar])
            return .sequence([.literal("{"), .repeated(member, min: 0, max: nil, separator: ","), .literal("}")])
        }
        let members = try gemmaKeyOrder(Array(properties.keys)).map { name in
            (required: required.contains(name),
             spec: GrammarSpec.sequence([.literal(name + ":"), try value(properties[name]!, depth: depth + 1)]))
        }
        let body = GrammarSpec.orderedMembers(members, separator: ",")
        return .sequence([.literal("{"), body, .literal("}")])
    }

    /// A value of no declared type: a string, number, boolean or None.
    static let anyScalar: GrammarSpec = .choice([
        .sequence([.literal(quote), .rawString(schema: ["type": "string"], excluding: quote), .literal(quote)]),
        .json(schema: ["type": "number"]), .literal("true"), .literal("false"), .literal("None"),
    ])

    /// Whether the parser reads `key` back when written without quotes.
    static func isBareKey(_ key: String) -> Bool {
        !key.isEmpty && !key.contains(where: { ":{}[],<>|\"".contains($0) || $0.isWhitespace })
    }
}
