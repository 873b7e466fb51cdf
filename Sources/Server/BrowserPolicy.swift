import Hummingbird

/// What a web browser may do with the API.
///
/// Two browser attacks matter for a server on a developer's machine. A page on any site can
/// send a "simple" cross-origin POST (form-encoded or type-less body) and make the model
/// generate; and a DNS-rebinding page (a hostile name re-pointed at 127.0.0.1) is same-origin
/// with the server and can read the answers. So: a request that carries an `Origin` must come
/// from an origin the operator listed (`--cors-origin`), and while listening on loopback the
/// `Host` must be a loopback name or one the operator listed (`--allowed-host`). Clients that
/// are not browsers send no `Origin` and a loopback `Host`, and are unaffected.
struct BrowserPolicy: Sendable {
    /// Lower-cased allowed origins, without a trailing slash; `*` allows any.
    let allowedOrigins: Set<String>
    /// Lower-cased extra Host values (with or without port); nil when no Host check applies.
    let allowedHosts: Set<String>?

    init(configuration: ServerConfiguration) {
        allowedOrigins = Set(configuration.corsOrigins.map(Self.normalizedOrigin))
        allowedHosts = Self.isLoopback(host: configuration.host) ? Set(configuration.allowedHosts.map { $0.lowercased() }) : nil
    }

    // MARK: Host

    /// True unless the server listens on loopback and `authority` (the `Host` header) names
    /// neither a loopback host nor an allowed one. A request without a Host cannot come from a
    /// browser, so it passes.
    func acceptsHost(_ authority: String?) -> Bool {
        guard let allowedHosts, let authority else { return true }
        let value = authority.lowercased()
        let name = Self.hostName(of: value)
        return Self.isLoopback(host: name) || allowedHosts.contains(value) || allowedHosts.contains(name)
    }

    /// The host part of a Host value: `[::1]:8080` → `::1`, `localhost:8080` → `localhost`.
    static func hostName(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        if let colon = authority.lastIndex(of: ":"), authority.firstIndex(of: ":") == colon {
            return String(authority[..<colon])
        }
        return authority
    }

    /// `localhost`, any `127.x.y.z`, and `::1` (the names a loopback listener is reached by
    /// without DNS).
    static func isLoopback(host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    // MARK: Origin and CORS

    var corsEnabled: Bool { !allowedOrigins.isEmpty }

    func acceptsOrigin(_ origin: String) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(Self.normalizedOrigin(origin))
    }

    static func normalizedOrigin(_ origin: String) -> String {
        var o = origin.lowercased()
        while o.hasSuffix("/") { o.removeLast() }
        return o
    }

    /// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`) from an
    /// allowed origin.
    func preflightHeaders(origin: String, request: HTTPFields) -> HTTPFields {
        var headers = corsHeaders(origin: origin)
        headers[.accessControlAllowMethods] = "GET, POST, OPTIONS"
        // The SDKs send their own headers (`x-stainless-*`, `openai-*`); echoing what the
        // browser asks for is what allowing them means, since the origin is already trusted.
        headers[.accessControlAllowHeaders] = request[.accessControlRequestHeaders] ?? "authorization, content-type"
        headers[.accessControlMaxAge] = "600"
        return headers
    }

    /// Headers that let an allowed origin read a response.
    func corsHeaders(origin: String) -> HTTPFields {
        [.accessControlAllowOrigin: origin, .vary: "Origin"]
    }
}
