import ChatAPI
import ChatTemplates
import Grammar

/// The grammar of a call's arguments in an XML-style format (Qwen3-Coder's
/// `<parameter=NAME>\nVALUE\n</parameter>\n`, GLM's `<arg_key>NAME</arg_key>\n<arg_value>VALUE</arg_value>\n`),
/// derived from the tool's parameter schema the way the format's parser reads it back:
/// - parameters in declared order, each at most once, the required ones present; a schema that
///   declares no properties takes any names (as the JSON grammar does), unless it forbids them;
/// - a parameter of type `string` is bare text (quotes and `<` included) up to the closing
///   marker, constrained by its `pattern`, `format`, lengths or `enum`;
/// - any other parameter is one JSON value of its schema, which the parser decodes.
struct XMLParameterGrammar {
    let keyOpen: String
    let keyClose: String
    let valueOpen: String
    let valueClose: String
    let end: String

    /// nil for encodings that are not XML-style parameters.
    init?(_ encoding: ToolCallSyntax.ArgumentsEncoding) {
        guard case .xmlParameters(let keyOpen, let keyClose, let valueOpen, let valueClose, let end) = encoding else { return nil }
        (self.keyOpen, self.keyClose, self.valueOpen, self.valueClose, self.end) = (keyOpen, keyClose, valueOpen, valueClose, end)
    }

    /// The text a string value must never contain: where the parser ends the value (the
    /// closing marker without the newlines the format writes around it).
    var valueTerminator: String { valueClose.trimmingCharacters(in: .newlines) }

    /// Names of undeclared parameters, where a schema declares none.
    static let freeNamePattern = "^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"

    /// The arguments of `function`: parameter elements, then the end marker. Throws for a
    /// schema this format cannot spell (naming the keyword).
    func arguments(_ function: FunctionDefinition) throws -> GrammarSpec {
        let parameters = try ToolParameters(function, writtenAs: "XML-style elements")
        var parts: [GrammarSpec] = []
        for (name, schema) in parameters.properties {
            let element = self.element(name: .literal(name), value: value(parameters.compilable(schema)), isString: Self.isString(schema))
            parts.append(parameters.required.contains(name) ? element : .repeated(element, min: 0, max: 1))
        }
        if let undeclared = parameters.undeclared {
            let name = GrammarSpec.rawString(schema: ["type": "string", "pattern": .string(Self.freeNamePattern)],
                                             excluding: keyClose.trimmingCharacters(in: .newlines))
            let value = GrammarSpec.json(schema: parameters.compilable(undeclared))
            parts.append(.repeated(element(name: name, value: value, isString: false), min: 0, max: nil))
        }
        return .sequence(parts + [.literal(end)])
    }

    /// `keyOpen NAME keyClose valueOpen VALUE valueClose`.
    private func element(name: GrammarSpec, value: GrammarSpec, isString: Bool) -> GrammarSpec {
        .sequence([.literal(keyOpen), name, .literal(ToolCallSyntax.keyClose(keyClose, beforeString: isString) + valueOpen),
                   value, .literal(valueClose)])
    }

    /// Whether a parameter of this schema is written as bare text (type `string` alone).
    private static func isString(_ schema: JSONValue) -> Bool {
        switch schema["type"] {
        case .string(let type)?: return type == "string"
        case .array(let list)?: return list.compactMap(\.stringValue) == ["string"]
        default: return false
        }
    }

    /// A string parameter as bare text; anything else as JSON.
    private func value(_ schema: JSONValue) -> GrammarSpec {
        Self.isString(schema) ? .rawString(schema: schema, excluding: valueTerminator) : .json(schema: schema)
    }
}
