import ChatAPI

/// JSON types as a bit set (`integer` is a subset of `number`).
struct TypeSet: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = TypeSet(rawValue: 1)
    static let boolean = TypeSet(rawValue: 2)
    static let object = TypeSet(rawValue: 4)
    static let array = TypeSet(rawValue: 8)
    static let number = TypeSet(rawValue: 16)
    static let string = TypeSet(rawValue: 32)
    static let integer = TypeSet(rawValue: 64)
    static let all: TypeSet = [.null, .boolean, .object, .array, .number, .string, .integer]

    static let names: [(String, TypeSet)] = [
        ("null", .null), ("boolean", .boolean), ("object", .object), ("array", .array),
        ("number", .number), ("string", .string), ("integer", .integer),
    ]

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init?(name: String) {
        guard let found = TypeSet.names.first(where: { $0.0 == name }) else { return nil }
        self = found.1
    }

    var names: [String] { TypeSet.names.filter { contains($0.1) }.map(\.0) }
}

/// One compiled schema object. Subschemas are indices into `CompiledSchema.nodes`, so recursive
/// `$ref`s are plain integers (no reference cycles, no re-resolution while validating).
/// A class so that reading a node while validating costs one retain, not one per field; nodes
/// are never mutated after compilation (hence the unchecked `Sendable`).
final class SchemaNode: @unchecked Sendable {
    /// JSON Pointer of this schema within the root document, for error messages.
    var path: String
    /// `true`/`false` schemas (and `{}`, which compiles to `true`).
    var constant: Bool?

    var ref: Int?
    var refKeyword = "$ref"

    var types: TypeSet?
    var enumValues: [JSONValue]?
    var constValue: JSONValue?

    var minimum: JSONNumber?
    var maximum: JSONNumber?
    var exclusiveMinimum: JSONNumber?
    var exclusiveMaximum: JSONNumber?
    var multipleOf: JSONNumber?

    var minLength: Int?
    var maxLength: Int?
    var pattern: ECMARegex?
    var format: FormatKind?

    var prefixItems: [Int] = []
    /// Schema for items after `prefixItems` (2020-12 `items`, or draft-07 `additionalItems`).
    var items: Int?
    var itemsKeyword = "items"
    var minItems: Int?
    var maxItems: Int?
    var uniqueItems = false
    var contains: Int?
    var minContains: Int?
    var maxContains: Int?
    var unevaluatedItems: Int?

    var properties: [String: Int] = [:]
    var patternProperties: [(ECMARegex, Int)] = []
    var additionalProperties: Int?
    var propertyNames: Int?
    var required: [String] = []
    var minProperties: Int?
    var maxProperties: Int?
    var dependentRequired: [(String, [String])] = []
    var dependentSchemas: [(String, Int)] = []
    var unevaluatedProperties: Int?

    var allOf: [Int] = []
    var anyOf: [Int] = []
    var oneOf: [Int] = []
    var not: Int?
    var ifSchema: Int?
    var thenSchema: Int?
    var elseSchema: Int?

    init(path: String) { self.path = path }
}
