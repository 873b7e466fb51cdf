/// An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`, with its HTTP status.
///
/// Every failure the server reports goes through this type so clients (and the official SDKs)
/// see the same object whatever went wrong.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status code (400, 401, 404, 500, …).
    public var status: Int
    public var message: String
    /// OpenAI's error type: `invalid_request_error`, `authentication_error`, `not_found_error`, `server_error`.
    public var type: String
    /// The request field at fault, as a path (`messages[2].tool_call_id`), or nil.
    public var param: String?
    /// A machine-readable code (`invalid_value`, `missing_required_parameter`, …), or nil.
    public var code: String?
    /// Seconds the client should wait before retrying (sent as `Retry-After`), for a 429 or 503.
    public var retryAfterSeconds: Int?

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil,
                retryAfterSeconds: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// A 400 for a request that is malformed or asks for something unsupported.
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = "invalid_value") -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// A 400 for a required field that is absent.
    public static func missing(_ param: String) -> APIError {
        .invalidRequest("Missing required parameter: '\(param)'.", param: param, code: "missing_required_parameter")
    }

    /// A 400 for a field of the wrong JSON type.
    public static func wrongType(_ param: String, expected: String, got: JSONValue) -> APIError {
        .invalidRequest("Invalid type for '\(param)': expected \(expected), but got \(got.typeName == "integer" ? "an integer" : article(got.typeName)).",
                        param: param, code: "invalid_type")
    }

    public static func unauthorized(_ message: String) -> APIError {
        APIError(status: 401, message: message, type: "authentication_error", code: "invalid_api_key")
    }

    public static func notFound(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 404, message: message, type: "not_found_error", param: param, code: code)
    }

    public static func server(_ message: String) -> APIError {
        APIError(status: 500, message: message, type: "server_error", code: "internal_error")
    }

    /// The error object as OpenAI sends it.
    public var json: JSONValue {
        .object([
            "error": .object([
                "message": .string(message),
                "type": .string(type),
                "param": param.map(JSONValue.string) ?? .null,
                "code": code.map(JSONValue.string) ?? .null,
            ])
        ])
    }

    public var description: String { "\(status) \(type): \(message)" + (param.map { " (param: \($0))" } ?? "") }

    private static func article(_ typeName: String) -> String {
        switch typeName {
        case "null": return "null"
        case "array", "object", "integer": return "an \(typeName)"
        default: return "a \(typeName)"
        }
    }
}
