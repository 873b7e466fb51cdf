import ChatAPI
import Grammar

/// A tool's parameter schema as the non-JSON argument grammars (XML-style elements, Python
/// keyword arguments) read it: an object schema whose top level they can spell.
struct ToolParameters {
    /// Top-level keywords the grammars honour or that only annotate.
    static let rootKeys: Set<String> = ["type", "properties", "required", "additionalProperties", "$defs", "definitions",
                                        "title", "description", "$schema", "$id", "$comment", "examples", "default"]

    /// Declared properties, in declared order.
    let properties: JSONObject
    let required: Set<String>
    /// The schema of undeclared parameters (`true` when unrestricted); nil when the schema
    /// declares properties or forbids any other.
    let undeclared: JSONValue?
    private let definitions: JSONObject

    /// Throws for a schema the grammar cannot spell, naming the keyword; `writtenAs` says how
    /// the model writes arguments, for the message.
    init(_ function: FunctionDefinition, writtenAs: String) throws {
        guard case .object(let root) = function.parameters ?? ["type": "object", "properties": .object([:])] else {
            throw GrammarError.invalidSchema("parameters must be an object schema")
        }
        if let key = root.keys.sorted().first(where: { !Self.rootKeys.contains($0) }) {
            throw GrammarError.unsupportedKeyword(key, detail: "not supported at the top of a tool's parameters this model writes as \(writtenAs)")
        }
        if let type = root["type"], type != .string("object") {
            throw GrammarError.invalidSchema("parameters must have type \"object\"")
        }
        let properties = root["properties"]?.objectValue ?? [:]
        let required = Set((root["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        if let missing = required.sorted().first(where: { properties[$0] == nil }) {
            throw GrammarError.unsupportedKeyword("required", detail: "'\(missing)' is not among the declared properties")
        }
        (self.properties, self.required) = (properties, required)
        definitions = root.filter { $0.key == "$defs" || $0.key == "definitions" }
        // Not a ternary: JSONValue is nil-literal expressible, so `nil` there would mean `.null`.
        if properties.isEmpty, root["additionalProperties"] != .bool(false) {
            undeclared = root["additionalProperties"] ?? .bool(true)
        } else {
            undeclared = Optional<JSONValue>.none
        }
    }

    /// A property's schema ready to compile alone: it carries the root's definitions along for its `$ref`s.
    func compilable(_ schema: JSONValue) -> JSONValue {
        guard case .object(var object) = schema else { return schema }
        for (key, value) in definitions where object[key] == nil { object[key] = value }
        return .object(object)
    }
}

extension GrammarSpec {
    /// Members in the given order, each optional one at most once, the required ones present,
    /// with `separator` between those written. The first member written decides where the
    /// separators go, so there is one alternative per possible first member (the optional ones
    /// before the first required one, and that one), each followed by the later members.
    static func orderedMembers(_ members: [(required: Bool, spec: GrammarSpec)], separator: String) -> GrammarSpec {
        var firsts: [GrammarSpec] = []
        for (index, member) in members.enumerated() {
            let later = members[(index + 1)...].map { later -> GrammarSpec in
                let written = GrammarSpec.sequence([.literal(separator), later.spec])
                return later.required ? written : .repeated(written, min: 0, max: 1)
            }
            firsts.append(.sequence([member.spec] + later))
            if member.required { break }
        }
        if firsts.isEmpty { return .sequence([]) }
        return members.contains(where: \.required) ? .choice(firsts) : .repeated(.choice(firsts), min: 0, max: 1)
    }
}
