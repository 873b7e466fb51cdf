import ChatAPI

/// Reading an upstream's answer, which nothing trusts: the shared field readers (whose errors
/// are 400s meant for clients) turned into 502s about the upstream, naming the field.
enum UpstreamJSON {
    /// A reader over `json`, whose fields are named from `path`.
    static func reader(_ json: JSONValue, path: String) throws -> FieldReader {
        try read { try FieldReader(json, path: path) }
    }

    /// Runs `read`, turning a field error of the shared readers into a 502 about the
    /// upstream's answer.
    static func read<T>(_ read: () throws -> T) throws -> T {
        do {
            return try read()
        } catch let error as APIError where error.status == 400 {
            throw APIError.badUpstream("The upstream's response is malformed: \(error.message)")
        }
    }

    static func missing(_ param: String) -> APIError {
        APIError.badUpstream("The upstream's response is malformed: '\(param)' is missing.")
    }
}
