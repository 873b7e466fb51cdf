import ChatAPI
import Foundation

/// A type described by a JSON Schema: a tool's arguments (`tools[i].function.parameters`), or
/// a structured answer (`response_format: json_schema`).
public protocol JSONSchemaConvertible: Sendable {
    /// The JSON Schema of the type's JSON form.
    static var jsonSchema: JSONValue { get }
}

/// The arguments of a typed tool: decoded from the model's JSON, described by a JSON Schema.
public typealias ToolArguments = Decodable & JSONSchemaConvertible

/// A function the model may call, with typed arguments and output.
///
/// ```swift
/// struct Weather: Tool {
///     struct Arguments: ToolArguments { let city: String; static let jsonSchema: JSONValue = … }
///     let name = "get_weather"
///     let description = "Current weather in a city."
///     func call(_ arguments: Arguments) async throws -> String { "Sunny in \(arguments.city)." }
/// }
/// ```
public protocol Tool: Sendable {
    associatedtype Arguments: ToolArguments
    /// What the model reads back: a `String` as it is, anything else as its JSON.
    associatedtype Output: Encodable & Sendable

    var name: String { get }
    var description: String { get }
    /// The runner asks its approval hook before calling this tool (it changes something).
    var needsApproval: Bool { get }
    /// Calls of this tool run one at a time, never beside the other calls of the same turn.
    var runsAlone: Bool { get }

    func call(_ arguments: Arguments) async throws -> Output
}

extension Tool {
    public var needsApproval: Bool { false }
    public var runsAlone: Bool { false }

    /// The tool as the request declares it.
    public var definition: FunctionDefinition {
        FunctionDefinition(name: name, description: description, parameters: Arguments.jsonSchema)
    }

    /// Decodes `arguments` (the model's JSON text) and calls the tool; the output as text.
    /// Throws `ToolArgumentsError` naming the field when the arguments do not decode.
    func run(arguments: String) async throws -> String {
        let decoded: Arguments
        do {
            decoded = try JSONDecoder().decode(Arguments.self, from: Data((arguments.isEmpty ? "{}" : arguments).utf8))
        } catch let error as DecodingError {
            throw ToolArgumentsError(tool: name, error)
        }
        let output = try await call(decoded)
        if let text = output as? String { return text }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(output), as: UTF8.self)
    }
}

/// The model's arguments for a tool did not decode into its `Arguments`.
public struct ToolArgumentsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let tool: String
    /// The path of the field at fault (`city`, `stops[2].name`); empty for the whole object.
    public let field: String
    public let reason: String

    public init(tool: String, field: String, reason: String) {
        self.tool = tool
        self.field = field
        self.reason = reason
    }

    init(tool: String, _ error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce(into: "") { path, key in
                if let index = key.intValue { path += "[\(index)]" } else { path += (path.isEmpty ? "" : ".") + key.stringValue }
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(tool: tool, field: path(context.codingPath + [key]), reason: "is missing")
        case .typeMismatch(let type, let context):
            self.init(tool: tool, field: path(context.codingPath), reason: "is not \(type)")
        case .valueNotFound(let type, let context):
            self.init(tool: tool, field: path(context.codingPath), reason: "is null where \(type) is needed")
        case .dataCorrupted(let context):
            self.init(tool: tool, field: path(context.codingPath), reason: context.debugDescription)
        @unknown default:
            self.init(tool: tool, field: "", reason: "\(error)")
        }
    }

    public var description: String {
        "The arguments of '\(tool)' are invalid: " + (field.isEmpty ? reason : "'\(field)' \(reason)") + "."
    }
}
