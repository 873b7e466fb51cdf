import Foundation
import ChatAPI

/// A schema that cannot be compiled: names the keyword and where in the schema it sits.
///
/// Thrown by `JSONSchema(json:)`, e.g. for `"type": "not-a-type"`, a `required` that is not an
/// array of strings, an invalid `pattern`, or a `$ref` that points outside the document.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The keyword at fault, e.g. `type`.
    public let keyword: String
    /// JSON Pointer to the schema object holding the keyword (`""` for the root schema).
    public let schemaPath: String
    /// What is wrong, in words.
    public let message: String

    public init(keyword: String, schemaPath: String, message: String) {
        self.keyword = keyword
        self.schemaPath = schemaPath
        self.message = message
    }

    /// E.g. `/properties/x: "not-a-type" is not a JSON Schema type (type)`.
    public var description: String {
        "\(schemaPath.isEmpty ? "/" : schemaPath): \(message) (\(keyword))"
    }
}

/// One way an instance fails a schema.
public struct ValidationError: Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer to the failing part of the instance (`""` for the whole instance).
    public let instancePath: String
    /// The keyword that failed, e.g. `enum`.
    public let keyword: String
    /// JSON Pointer to the schema object holding the keyword.
    public let schemaPath: String
    /// What is wrong, in words.
    public let message: String

    public init(instancePath: String, keyword: String, schemaPath: String, message: String) {
        self.instancePath = instancePath
        self.keyword = keyword
        self.schemaPath = schemaPath
        self.message = message
    }

    /// E.g. `/unit: "kelvin" is not one of ["celsius","fahrenheit"] (enum)`.
    public var description: String {
        "\(instancePath.isEmpty ? "/" : instancePath): \(message) (\(keyword))"
    }
}

/// JSON Pointer token escaping (RFC 6901).
enum JSONPointer {
    static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        return token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    static func unescape(_ token: String) -> String {
        guard token.utf8.contains(UInt8(ascii: "~")) else { return token }
        return token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
    }

    /// The tokens of a pointer such as `/a/b~1c` (`""` has none); nil if it does not start with `/`.
    static func tokens(_ pointer: String) -> [String]? {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { return nil }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { unescape(String($0)) }
    }

    /// Follows `pointer` from `root`.
    static func resolve(_ pointer: String, in root: JSONValue) -> JSONValue? {
        guard let tokens = tokens(pointer) else { return nil }
        var current = root
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(token), index >= 0, index < array.count,
                    token == "0" || !token.hasPrefix("0")
                else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }
}
