import ChatAPI
import JSONSchemaKit

/// Checks the JSON Schemas a request carries (tool `parameters`, `response_format` schema)
/// before any backend sees them, so a malformed schema is a 400 naming the field and the
/// keyword on every backend alike.
public enum RequestSchemas {
    public static func check(_ request: ChatCompletionRequest) throws {
        for (i, tool) in request.tools.enumerated() {
            guard let parameters = tool.parameters else { continue }
            let param = request.usesLegacyFunctions ? "functions[\(i)].parameters" : "tools[\(i)].function.parameters"
            try check(parameters, param: param, owner: "function '\(tool.name)'")
        }
        if case .jsonSchema(let name, _, let schema?, _) = request.responseFormat {
            try check(schema, param: "response_format.json_schema.schema", owner: "response format '\(name)'")
        }
    }

    private static func check(_ schema: JSONValue, param: String, owner: String) throws {
        do {
            try JSONSchema.check(schema)
        } catch let error as SchemaError {
            throw APIError.invalidRequest("Invalid schema for \(owner): \(error).", param: param, code: "invalid_schema")
        }
    }
}
