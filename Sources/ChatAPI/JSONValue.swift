import OrderedCollections

/// An ordered JSON object: keys keep the order in which they were written, as Python's `dict`
/// and JavaScript objects do. Chat templates (`tojson`), tool schemas ("properties in schema
/// order") and tool-call arguments all depend on that order.
public typealias JSONObject = OrderedDictionary<String, JSONValue>

/// A JSON number that remembers the text it was written with.
///
/// Keeping the literal lets us re-emit `1.50` or `1e3` exactly as a client or a model wrote it,
/// while comparisons follow JSON Schema: `1`, `1.0` and `1e0` are the same number.
public struct JSONNumber: Sendable, CustomStringConvertible {
    /// The number's JSON text, e.g. `-12`, `3.25`, `1e-7`.
    public let text: String
    /// The value as a double (may round for very long literals).
    public let double: Double

    /// Creates a number from JSON number text. Returns nil when `text` is not a JSON number.
    public init?(text: String) {
        guard JSONNumber.isValidLiteral(text), let d = Double(text) else { return nil }
        self.text = text
        self.double = d
    }

    /// A number whose text is trusted to be a valid JSON literal (the parser checked it).
    init(validatedText text: String, double: Double) {
        self.text = text
        self.double = double
    }

    public init(_ value: Int) {
        self.text = String(value)
        self.double = Double(value)
    }

    public init(_ value: Double) {
        if value.isFinite, value == value.rounded(.towardZero), abs(value) < 1e15 {
            self.text = String(Int64(value))
        } else if value.isFinite {
            self.text = "\(value)"
        } else {
            self.text = "null"  // JSON has no NaN/Infinity; callers should not produce them.
        }
        self.double = value
    }

    /// True when the literal's value is a whole number, decided from its digits, not from a
    /// Double: `78E915` is an integer no Double holds, `1.0000000000000001` is not one though
    /// it rounds to 1.0.
    public var isInteger: Bool {
        var literal = Substring(text)
        if literal.first == "-" { literal = literal.dropFirst() }
        let mantissa = literal.prefix { $0 != "e" && $0 != "E" }
        var exponentText = literal.dropFirst(mantissa.count + 1)
        let negativeExponent = exponentText.first == "-"
        if exponentText.first == "-" || exponentText.first == "+" { exponentText = exponentText.dropFirst() }
        let integerDigits = mantissa.prefix { $0 != "." }
        let fractionDigits = mantissa.dropFirst(integerDigits.count + 1)
        let digits = integerDigits + fractionDigits
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        let trailingZeros = digits.reversed().prefix { $0 == "0" }.count
        if trailingZeros == digits.count { return true }
        // The value is DIGITS × 10^(exponent − fraction digits): whole when the trailing zeros cover the scale.
        let digitsAfterPoint = fractionDigits.count
        guard let exponent = Int(exponentText.isEmpty ? "0" : String(exponentText)) else {
            return !negativeExponent  // an exponent too large for Int: whole unless it is negative
        }
        return digitsAfterPoint - (negativeExponent ? -exponent : exponent) <= trailingZeros
    }

    /// The value as an Int when it is integral and fits.
    public var int: Int? {
        guard isInteger, abs(double) < 9.2e18 else { return nil }
        if let exact = Int(text) { return exact }
        return Int(double)
    }

    public var description: String { text }

    /// Checks the JSON number grammar: `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    public static func isValidLiteral(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        guard let first = bytes.first, isDigit(first) else { return false }
        bytes = bytes.dropFirst()
        if first != UInt8(ascii: "0") { bytes = bytes.drop(while: isDigit) }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard let d = bytes.first, isDigit(d) else { return false }
            bytes = bytes.drop(while: isDigit)
        }
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if let s = bytes.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard let d = bytes.first, isDigit(d) else { return false }
            bytes = bytes.drop(while: isDigit)
        }
        return bytes.isEmpty
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

extension JSONNumber: Hashable {
    // Numeric equality, as JSON Schema's `enum`/`const` require (1 == 1.0).
    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        if a.text == b.text { return true }
        return a.double == b.double
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(double) }
}

/// Any JSON value. Objects are ordered; numbers keep their literal text.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public static func int(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
    public static func double(_ v: Double) -> JSONValue { .number(JSONNumber(v)) }

    /// The JSON type name as JSON Schema spells it (`integer` for integral numbers).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number(let n): return n.isInteger ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n } else { return nil } }
    public var doubleValue: Double? { numberValue?.double }
    public var intValue: Int? { numberValue?.int }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    /// Member lookup on objects; nil for other values or missing keys.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var o = JSONObject()
        for (k, v) in elements { o[k] = v }
        self = .object(o)
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { serialized() }
}
