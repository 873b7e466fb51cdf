/// Settings of the HTTP front end.
public struct ServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// When set, every `/v1/*` request needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String? = nil
    /// Largest request body accepted; larger ones get a 400 (OpenAI's error shape, not a bare 413).
    public var maxBodyBytes: Int = 4 * 1024 * 1024
    /// Reported as `system_fingerprint`.
    public var systemFingerprint: String? = nil

    public init() {}
}
