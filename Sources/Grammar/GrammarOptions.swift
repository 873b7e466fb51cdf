/// Choices the schema compiler makes where JSON Schema leaves the generator free.
public struct GrammarOptions: Sendable, Equatable {
    /// Which object properties a grammar admits beyond those a schema's `properties` declares.
    public enum AdditionalProperties: Sendable, Equatable {
        /// Generation policy (the default): an object schema with `properties` admits only those
        /// properties (plus `required` names and `patternProperties` keys), whatever
        /// `additionalProperties` says, because a model should emit what the tool declared.
        /// An object schema without `properties` admits any keys, with values per
        /// `additionalProperties` (and `propertyNames`).
        case declaredOnly
        /// Faithful to JSON Schema: undeclared properties are admitted (after the declared ones)
        /// unless `additionalProperties` is `false`, with values per `additionalProperties`.
        /// Used to check that every valid instance is accepted (GrammarBench).
        case asSchema
    }

    public var additionalProperties: AdditionalProperties

    public init(additionalProperties: AdditionalProperties = .declaredOnly) {
        self.additionalProperties = additionalProperties
    }
}
