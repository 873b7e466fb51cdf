/// Choices the schema compiler makes where JSON Schema leaves the generator free.
///
/// A model that starts a long digit run (`11.0000…`, `1111…`) may repeat digits until the token
/// limit, so generation bounds the spelling of numbers whose schema does not bound them; and a
/// model should emit the properties a tool declared, not invent others. Checking that every
/// valid document is accepted (GrammarBench) needs the opposite: `.faithful`.
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
        case asSchema
    }

    public var additionalProperties: AdditionalProperties
    /// Allow `2.0`, `2.00`, … for `integer`.
    public var integersMayHaveZeroFraction = true
    /// At most this many digits before the decimal point where the schema sets no bound
    /// (nil: unbounded). Schema bounds (`minimum`/`maximum`) always apply as written.
    public var maxIntegerDigits: Int? = nil
    /// At most this many fraction digits (nil: unbounded).
    public var maxFractionDigits: Int? = nil
    /// At most this many exponent digits (nil: unbounded).
    public var maxExponentDigits: Int? = nil
    /// A `maxLength` above this is enforced as this many characters (a narrowing: longer valid
    /// strings are refused), because length-bounded strings take one automaton state per
    /// character. Unbounded strings stay unbounded; a `minLength` above this is an error.
    public var maxStringLengthBound = 2_000

    /// Declared properties only, every number spelling.
    public init(additionalProperties: AdditionalProperties = .declaredOnly) {
        self.additionalProperties = additionalProperties
    }

    /// What the server generates with: declared properties only, integers without fraction, at
    /// most 16 integer digits (beyond that JSON parsers lose precision anyway), 15 fraction and
    /// 3 exponent digits.
    public static let generation: GrammarOptions = {
        var o = GrammarOptions(additionalProperties: .declaredOnly)
        o.integersMayHaveZeroFraction = false
        o.maxIntegerDigits = 16
        o.maxFractionDigits = 15
        o.maxExponentDigits = 3
        return o
    }()

    /// Everything JSON Schema allows: undeclared properties and every number spelling.
    public static let faithful = GrammarOptions(additionalProperties: .asSchema)
}
