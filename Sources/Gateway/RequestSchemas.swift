import ChatAPI
import JSONSchemaKit

/// The JSON Schemas a request carries (tool `parameters`, `response_format` schema), compiled
/// into validators before any backend sees the request, so a malformed or too costly schema is
/// a 400 naming the field on every backend alike, and the guard can check every call.
public struct RequestSchemas: Sendable {
    /// Validators of the declared functions' parameters, by function name (functions without
    /// `parameters` have none).
    public let functions: [String: JSONSchema]
    /// Validator of `response_format.json_schema.schema`, if the request has one.
    public let responseFormat: JSONSchema?

    /// Every schema of `request` with the request field it came from.
    package static func sources(of request: ChatCompletionRequest) -> [(schema: JSONValue, source: SchemaSource)] {
        var out: [(JSONValue, SchemaSource)] = []
        for (i, tool) in request.tools.enumerated() {
            guard let parameters = tool.parameters else { continue }
            out.append((parameters, .function(name: tool.name, index: i, legacy: request.usesLegacyFunctions)))
        }
        if case .jsonSchema(let name, _, let schema?, _) = request.responseFormat {
            out.append((schema, .responseFormat(name: name)))
        }
        return out
    }
}

/// Where in a request a schema sits: names the field and its owner in error messages.
public enum SchemaSource: Sendable, Equatable {
    case function(name: String, index: Int, legacy: Bool)
    case responseFormat(name: String)

    /// The request field, as OpenAI's `param` spells it.
    public var param: String {
        switch self {
        case .function(_, let index, let legacy): return legacy ? "functions[\(index)].parameters" : "tools[\(index)].function.parameters"
        case .responseFormat: return "response_format.json_schema.schema"
        }
    }

    /// "function 'get_weather'" or "response format 'answer'".
    public var owner: String {
        switch self {
        case .function(let name, _, _): return "function '\(name)'"
        case .responseFormat(let name): return "response format '\(name)'"
        }
    }

    /// The client-facing error for a schema whose compilation ran out of budget; a cancelled
    /// one (nobody is waiting) becomes `CancellationError`.
    package func error(for exceeded: WorkBudgetExceeded) -> any Error {
        if exceeded.reason == .cancelled { return CancellationError() }
        return APIError.invalidRequest(
            "The schema for \(owner) is too complex to compile within this server's limits (\(exceeded.detail)). Simplify it: fewer nested or combined subschemas (allOf, anyOf, $ref), shorter patterns.",
            param: param, code: "schema_too_complex")
    }
}

/// Compiles requests' schemas into validators off the cooperative pool, under a budget, and
/// remembers each distinct schema's outcome (valid or not).
public final class SchemaValidators: Sendable {
    private let executor: CompileExecutor
    private let cache = CompilationCache<JSONSchema>(capacity: 512)

    public init(executor: CompileExecutor) { self.executor = executor }

    /// The validators of `request`'s schemas. Throws a 400 `invalid_schema` for a malformed
    /// schema and a 400 `schema_too_complex` for one over budget, both naming the field.
    public func compile(_ request: ChatCompletionRequest) async throws -> RequestSchemas {
        let sources = RequestSchemas.sources(of: request)
        let keys = sources.map { $0.schema.serialized() }
        var outcomes: [Result<JSONSchema, any Error>?] = keys.map { cache.outcome($0) }
        let missing = outcomes.indices.filter { outcomes[$0] == nil }
        if !missing.isEmpty {
            let cache = self.cache
            let results = try await executor.run { budget in
                missing.map { i in
                    Result { try cache.value(keys[i]) { try JSONSchema(json: sources[i].schema, budget: budget) } }
                }
            }
            for (i, result) in zip(missing, results) { outcomes[i] = result }
        }
        var compiled: [JSONSchema] = []
        for (i, outcome) in outcomes.enumerated() {
            do {
                compiled.append(try outcome!.get())
            } catch let error as SchemaError {
                throw APIError.invalidRequest("Invalid schema for \(sources[i].source.owner): \(error).",
                                              param: sources[i].source.param, code: "invalid_schema")
            } catch let error as WorkBudgetExceeded {
                throw sources[i].source.error(for: error)
            }
        }
        var functions: [String: JSONSchema] = [:]
        var responseFormat: JSONSchema?
        for (i, entry) in sources.enumerated() {
            switch entry.source {
            case .function(let name, _, _): functions[name] = compiled[i]
            case .responseFormat: responseFormat = compiled[i]
            }
        }
        return RequestSchemas(functions: functions, responseFormat: responseFormat)
    }
}
