import ChatAPI

/// Reading an upstream's answer, which nothing trusts: the shared field readers (whose errors
/// are 400s meant for clients) turned into 502s about the upstream, naming the field.
enum UpstreamJSON {
    /// A reader over `json`, whose fields are named from `path`.
    static func reader(_ json: JSONValue, path: String) throws -> FieldReader {
        try read { try FieldReader(json, path: path) }
    }

    /// Runs `read`, turning a field error of the shared readers into a 502 about the
    /// upstream's response (`APIError.decodingUpstream`).
    static func read<T>(_ read: () throws -> T) throws -> T {
        try APIError.decodingUpstream("response", read)
    }

    static func missing(_ param: String) -> APIError {
        APIError.badUpstream("The upstream's response is malformed: '\(param)' is missing.")
    }
}
