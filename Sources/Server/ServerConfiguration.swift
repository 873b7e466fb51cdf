/// Settings of the HTTP front end. The defaults are the ones `switchboard serve` documents in
/// the README; every limit here exists so that one client cannot hold the server's resources.
public struct ServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// When set, every request except `GET /health` needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String? = nil
    /// Largest request body accepted; larger ones get a 400 (OpenAI's error shape, not a bare 413).
    public var maxBodyBytes: Int = 4 * 1024 * 1024
    /// Largest request head (request line plus all header fields); larger ones get a JSON 431.
    public var maxHeaderBytes: Int = 64 * 1024
    /// Time a client has to send a complete request head once it has sent its first byte.
    public var headerTimeout: Duration = .seconds(10)
    /// Time a client has to send a request body once its head has arrived.
    public var bodyTimeout: Duration = .seconds(60)
    /// Time a connection may sit with no request in progress before it is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// Open connections beyond this are answered with a JSON 503 and closed at once.
    public var maxConnections: Int = 256
    /// Browser origins (`https://app.example.com`) allowed to call the API; CORS is off when
    /// empty. `*` allows every origin.
    public var corsOrigins: [String] = []
    /// Extra `Host` values accepted while listening on a loopback address (DNS-rebinding guard).
    public var allowedHosts: [String] = []
    /// Reported as `system_fingerprint`.
    public var systemFingerprint: String? = nil

    public init() {}
}
