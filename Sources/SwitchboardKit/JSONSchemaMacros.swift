// The SDK's wire types (requests, messages, JSONValue) come with it.
@_exported import ChatAPI

/// Derives the type's JSON Schema from its declaration and conforms it to
/// `JSONSchemaConvertible`: a struct becomes a strict object (every property required,
/// optionals nullable, no others allowed), a `String` enum a string `enum`, `///` comments
/// `description`s. Properties of other types must be `JSONSchemaConvertible` themselves.
///
/// ```swift
/// @JSONSchema
/// struct WeatherQuery: Decodable {
///     /// City name, e.g. Paris.
///     let city: String
///     @SchemaBounds(minimum: 1, maximum: 7)
///     let days: Int
///     let unit: Unit?
/// }
/// ```
@attached(extension, conformances: JSONSchemaConvertible, names: named(jsonSchema))
public macro JSONSchema() = #externalMacro(module: "SwitchboardKitMacros", type: "JSONSchemaMacro")

/// Bounds for a property of a `@JSONSchema` type, copied into its schema as these keywords.
@attached(peer)
public macro SchemaBounds(minimum: Double? = nil, maximum: Double? = nil, exclusiveMinimum: Double? = nil,
                          exclusiveMaximum: Double? = nil, minLength: Int? = nil, maxLength: Int? = nil,
                          pattern: String? = nil, minItems: Int? = nil, maxItems: Int? = nil) =
    #externalMacro(module: "SwitchboardKitMacros", type: "SchemaBoundsMacro")

extension JSONValue {
    /// This schema with `keywords` added (a property's description or bounds on a type that
    /// has its own schema). Used by the code `@JSONSchema` writes.
    public func mergingSchema(_ keywords: JSONValue) -> JSONValue {
        guard case .object(var schema) = self, case .object(let extra) = keywords else { return self }
        for (key, value) in extra { schema[key] = value }
        return .object(schema)
    }
}
