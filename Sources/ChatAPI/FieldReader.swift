/// Reads typed fields out of a JSON object while keeping track of where it is, so that every
/// validation failure becomes an `APIError` naming the exact field (`messages[1].content[0].text`).
///
/// `null` counts as absent for optional fields, as OpenAI's API treats it.
public struct FieldReader {
    public let object: JSONObject
    /// Path of this object in the request (`""` for the root).
    public let path: String

    public init(_ value: JSONValue, path: String) throws {
        guard case .object(let o) = value else {
            throw APIError.wrongType(path.isEmpty ? "body" : path, expected: "an object", got: value)
        }
        self.object = o
        self.path = path
    }

    public func param(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value, nil when absent or null.
    public func value(_ key: String) -> JSONValue? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    public func has(_ key: String) -> Bool { value(key) != nil }

    public func required(_ key: String) throws -> JSONValue {
        guard let v = value(key) else { throw APIError.missing(param(key)) }
        return v
    }

    public func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw APIError.wrongType(param(key), expected: "a string", got: v) }
        return s
    }

    public func requiredString(_ key: String) throws -> String {
        guard let s = try string(key) else { throw APIError.missing(param(key)) }
        return s
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw APIError.wrongType(param(key), expected: "a boolean", got: v) }
        return b
    }

    public func int(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard case .number(let n) = v, let i = n.int else {
            throw APIError.wrongType(param(key), expected: "an integer", got: v)
        }
        return i
    }

    public func double(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        guard case .number(let n) = v, n.double.isFinite else {
            throw APIError.wrongType(param(key), expected: "a number", got: v)
        }
        return n.double
    }

    /// A number that must lie in `range` (inclusive).
    public func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let d = try double(key) else { return nil }
        guard range.contains(d) else {
            throw APIError.invalidRequest(
                "Invalid '\(param(key))': \(Self.format(d)) is out of range; expected a value between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)).",
                param: param(key))
        }
        return d
    }

    /// An integer that must be at least `minimum`.
    public func int(_ key: String, atLeast minimum: Int) throws -> Int? {
        guard let i = try int(key) else { return nil }
        guard i >= minimum else {
            throw APIError.invalidRequest(
                "Invalid '\(param(key))': integer below minimum value. Expected a value >= \(minimum), but got \(i) instead.",
                param: param(key), code: "integer_below_min_value")
        }
        return i
    }

    public func array(_ key: String) throws -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case .array(let a) = v else { throw APIError.wrongType(param(key), expected: "an array", got: v) }
        return a
    }

    public func objectReader(_ key: String) throws -> FieldReader? {
        guard let v = value(key) else { return nil }
        return try FieldReader(v, path: param(key))
    }

    private static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}
