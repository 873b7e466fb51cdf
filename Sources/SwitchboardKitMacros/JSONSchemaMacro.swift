import SwiftCompilerPlugin
import SwiftSyntax
import SwiftSyntaxBuilder
import SwiftSyntaxMacros

/// `@JSONSchema` on a struct or a `String`-backed enum: an extension conforming it to
/// `JSONSchemaConvertible`, whose `jsonSchema` is derived from the declaration.
///
/// - A struct is an object with every stored property required and no others allowed
///   (`additionalProperties: false`), as OpenAI's strict mode wants; an optional property is
///   required too but may be `null`.
/// - `String`, integers (unsigned ones from 0), `Double`/`Float`, `Bool`, arrays and
///   `[String: T]` map to their JSON types; any other type is referenced through its own
///   `jsonSchema` (a nested `@JSONSchema` struct or enum).
/// - A `String` enum is a string with its raw values as `enum`.
/// - `///` comments become `description`s; `@SchemaBounds(…)` on a property adds its bounds.
public struct JSONSchemaMacro: ExtensionMacro {
    public static func expansion(
        of node: AttributeSyntax, attachedTo declaration: some DeclGroupSyntax, providingExtensionsOf type: some TypeSyntaxProtocol,
        conformingTo protocols: [TypeSyntax], in context: some MacroExpansionContext
    ) throws -> [ExtensionDeclSyntax] {
        let schema: String
        if let structure = declaration.as(StructDeclSyntax.self) {
            schema = try objectSchema(structure)
        } else if let enumeration = declaration.as(EnumDeclSyntax.self) {
            schema = try enumSchema(enumeration)
        } else {
            throw SchemaMacroError("@JSONSchema applies to a struct or a String-backed enum")
        }
        // `protocols` is empty when the type already declares the conformance itself.
        let conformance = protocols.isEmpty ? "" : ": JSONSchemaConvertible"
        return [try ExtensionDeclSyntax("""
            extension \(type.trimmed)\(raw: conformance) {
                public static var jsonSchema: JSONValue { \(raw: schema) }
            }
            """)]
    }

    private static func objectSchema(_ structure: StructDeclSyntax) throws -> String {
        if structure.memberBlock.members.contains(where: { $0.decl.as(EnumDeclSyntax.self)?.name.text == "CodingKeys" }) {
            throw SchemaMacroError("@JSONSchema does not read CodingKeys: name the properties as their JSON keys")
        }
        var properties: [String] = []
        var names: [String] = []
        for member in structure.memberBlock.members {
            guard let variable = member.decl.as(VariableDeclSyntax.self), isStored(variable) else { continue }
            for binding in variable.bindings {
                // `let x = value` is never decoded, so it is not part of the JSON.
                if variable.bindingSpecifier.text == "let" && binding.initializer != nil { continue }
                guard let name = binding.pattern.as(IdentifierPatternSyntax.self)?.identifier.text else { continue }
                let key = name.hasPrefix("`") ? String(name.dropFirst().dropLast()) : name
                guard let type = binding.typeAnnotation?.type else {
                    throw SchemaMacroError("'\(key)' needs a type annotation for @JSONSchema")
                }
                var extra = try bounds(of: variable, property: key)
                if let description = documentation(variable.leadingTrivia) { extra.append(("description", literal(description))) }
                properties.append("\(literal(key)): \(try schema(of: type, extra: extra, property: key))")
                names.append(literal(key))
            }
        }
        var entries = [
            "\"type\": \"object\"",
            "\"properties\": " + (properties.isEmpty ? "[:]" : "[" + properties.joined(separator: ", ") + "]"),
            "\"required\": [" + names.joined(separator: ", ") + "]",
            "\"additionalProperties\": false",
        ]
        if let description = documentation(structure.leadingTrivia) { entries.append("\"description\": \(literal(description))") }
        return "[" + entries.joined(separator: ", ") + "]"
    }

    private static func enumSchema(_ enumeration: EnumDeclSyntax) throws -> String {
        let rawType = enumeration.inheritanceClause?.inheritedTypes.first?.type.trimmedDescription
        guard rawType == "String" else { throw SchemaMacroError("@JSONSchema applies to enums with String raw values") }
        var values: [String] = []
        for member in enumeration.memberBlock.members {
            guard let cases = member.decl.as(EnumCaseDeclSyntax.self) else { continue }
            for element in cases.elements {
                if element.parameterClause != nil { throw SchemaMacroError("case '\(element.name.text)' has associated values") }
                if let raw = element.rawValue?.value.as(StringLiteralExprSyntax.self) {
                    values.append(raw.trimmedDescription)
                } else {
                    values.append(literal(element.name.text))
                }
            }
        }
        var entries = ["\"type\": \"string\"", "\"enum\": [" + values.joined(separator: ", ") + "]"]
        if let description = documentation(enumeration.leadingTrivia) { entries.append("\"description\": \(literal(description))") }
        return "[" + entries.joined(separator: ", ") + "]"
    }

    /// The schema expression of a property's type, with `extra` keys (bounds, description).
    private static func schema(of type: TypeSyntax, extra: [(String, String)], property: String) throws -> String {
        if let optional = type.as(OptionalTypeSyntax.self) { return try nullable(optional.wrappedType, extra: extra, property: property) }
        if let identifier = type.as(IdentifierTypeSyntax.self), identifier.name.text == "Optional",
           let wrapped = identifier.genericArgumentClause?.arguments.first?.argument.as(TypeSyntax.self) {
            return try nullable(wrapped, extra: extra, property: property)
        }
        if let primitive = primitive(type) { return object(primitive + extra) }
        if let array = type.as(ArrayTypeSyntax.self) {
            return object([("type", "\"array\""), ("items", try schema(of: array.element, extra: [], property: property))] + extra)
        }
        if let dictionary = type.as(DictionaryTypeSyntax.self) {
            guard dictionary.key.trimmedDescription == "String" else { throw SchemaMacroError("'\(property)': only [String: T] dictionaries map to JSON objects") }
            return object([("type", "\"object\""), ("additionalProperties", try schema(of: dictionary.value, extra: [], property: property))] + extra)
        }
        guard type.is(IdentifierTypeSyntax.self) || type.is(MemberTypeSyntax.self) else {
            throw SchemaMacroError("'\(property)': @JSONSchema cannot describe the type \(type.trimmedDescription)")
        }
        let reference = "\(type.trimmedDescription).jsonSchema"
        return extra.isEmpty ? reference : "\(reference).mergingSchema(\(object(extra)))"
    }

    /// An optional property: required, but `null` allowed.
    private static func nullable(_ wrapped: TypeSyntax, extra: [(String, String)], property: String) throws -> String {
        if let primitive = primitive(wrapped), case let (key, type) = primitive[0], key == "type" {
            return object([("type", "[\(type), \"null\"]")] + primitive.dropFirst() + extra)
        }
        let inner = try schema(of: wrapped, extra: extra.filter { $0.0 != "description" }, property: property)
        return object([("anyOf", "[\(inner), [\"type\": \"null\"]]")] + extra.filter { $0.0 == "description" })
    }

    /// The keys of a type JSON has a name for.
    private static func primitive(_ type: TypeSyntax) -> [(String, String)]? {
        guard let name = type.as(IdentifierTypeSyntax.self)?.name.text, type.as(IdentifierTypeSyntax.self)?.genericArgumentClause == nil else {
            return nil
        }
        switch name {
        case "String", "Substring", "Character": return [("type", "\"string\"")]
        case "Int", "Int8", "Int16", "Int32", "Int64": return [("type", "\"integer\"")]
        case "UInt", "UInt8", "UInt16", "UInt32", "UInt64": return [("type", "\"integer\""), ("minimum", "0")]
        case "Double", "Float", "Float32", "Float64": return [("type", "\"number\"")]
        case "Bool": return [("type", "\"boolean\"")]
        default: return nil
        }
    }

    /// `@SchemaBounds(…)` on the property, as schema keys.
    private static func bounds(of variable: VariableDeclSyntax, property: String) throws -> [(String, String)] {
        var keys: [(String, String)] = []
        for attribute in variable.attributes {
            guard let attribute = attribute.as(AttributeSyntax.self),
                  attribute.attributeName.trimmedDescription == "SchemaBounds",
                  let arguments = attribute.arguments?.as(LabeledExprListSyntax.self) else { continue }
            for argument in arguments {
                guard let label = argument.label?.text else { throw SchemaMacroError("'\(property)': @SchemaBounds takes labeled values") }
                keys.append((label, argument.expression.trimmedDescription))
            }
        }
        return keys
    }

    /// Stored properties only: not static, no getter.
    private static func isStored(_ variable: VariableDeclSyntax) -> Bool {
        if variable.modifiers.contains(where: { ["static", "class"].contains($0.name.text) }) { return false }
        return variable.bindings.allSatisfy { binding in
            switch binding.accessorBlock?.accessors {
            case nil: true
            case .getter?: false
            case .accessors(let accessors)?: !accessors.contains { ["get", "_read"].contains($0.accessorSpecifier.text) }
            }
        }
    }

    /// The `///` comment lines before a declaration, joined.
    private static func documentation(_ trivia: Trivia) -> String? {
        let lines = trivia.compactMap { piece -> String? in
            guard case .docLineComment(let text) = piece else { return nil }
            return text.dropFirst(3).trimmingCharacters(in: " ")
        }
        return lines.isEmpty ? nil : lines.joined(separator: " ")
    }

    private static func object(_ entries: [(String, String)]) -> String {
        "[" + entries.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "]"
    }

    /// A Swift string literal of `text`.
    private static func literal(_ text: String) -> String {
        StringLiteralExprSyntax(content: text).description
    }
}

/// `@SchemaBounds`: a marker read by `@JSONSchema`; it adds nothing itself.
public struct SchemaBoundsMacro: PeerMacro {
    public static func expansion(of node: AttributeSyntax, providingPeersOf declaration: some DeclSyntaxProtocol,
                                 in context: some MacroExpansionContext) throws -> [DeclSyntax] { [] }
}

struct SchemaMacroError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

@main
struct SwitchboardKitMacrosPlugin: CompilerPlugin {
    let providingMacros: [any Macro.Type] = [JSONSchemaMacro.self, SchemaBoundsMacro.self]
}
