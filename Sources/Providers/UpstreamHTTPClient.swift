import AsyncHTTPClient
import Foundation
import NIOCore

/// The one HTTP client every upstream adapter shares: pooled keep-alive connections, TLS, and
/// the proxy named by the environment (`HTTPS_PROXY`/`HTTP_PROXY`, lower case too), except for
/// hosts in `NO_PROXY` and loopback, which are always reached directly.
///
/// Whoever creates it shuts it down (`shutdown()`), after the last request.
public final class UpstreamHTTPClient: Sendable {
    private let direct: HTTPClient
    /// nil when the environment names no proxy.
    private let proxied: HTTPClient?
    private let noProxy: [String]

    /// - Parameters:
    ///   - environment: where proxy settings are read (the process environment by default).
    ///   - connectTimeout: time to open a connection (TCP and TLS).
    ///   - readTimeout: longest silence from an upstream mid-response before it counts as failed.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(300)) {
        func configuration(proxy: HTTPClient.Configuration.Proxy?) -> HTTPClient.Configuration {
            var c = HTTPClient.Configuration(
                timeout: .init(connect: .nanoseconds(Int64(connectTimeout.nanoseconds)),
                               read: .nanoseconds(Int64(readTimeout.nanoseconds))),
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256),
                proxy: proxy)
            c.decompression = .enabled(limit: .ratio(50))
            // A refused connection fails the attempt at once; the gateway's router decides
            // whether to retry, and where (the pool would otherwise retry until the timeout).
            c.connectionPool.retryConnectionEstablishment = false
            return c
        }
        direct = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration(proxy: nil))
        let proxyURL = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].lazy
            .compactMap { environment[$0] }.first { !$0.isEmpty }
        if let proxyURL, let url = URL(string: proxyURL.contains("://") ? proxyURL : "http://" + proxyURL), let host = url.host {
            let authorization = url.user.map { HTTPClient.Authorization.basic(username: $0, password: url.password ?? "") }
            proxied = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                 configuration: configuration(proxy: .server(host: host, port: url.port ?? 80, authorization: authorization)))
        } else {
            proxied = nil
        }
        noProxy = (environment["NO_PROXY"] ?? environment["no_proxy"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    /// The client to reach `host` with.
    func client(for host: String) -> HTTPClient {
        guard let proxied, usesProxy(for: host) else { return direct }
        return proxied
    }

    /// Whether requests to `host` go through the environment's proxy.
    func usesProxy(for host: String) -> Bool {
        guard proxied != nil else { return false }
        let host = host.lowercased()
        if host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]" { return false }
        for entry in noProxy {
            if entry == "*" { return false }
            let suffix = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if host == suffix || host.hasSuffix("." + suffix) { return false }
        }
        return true
    }

    /// Closes every connection. Call once, after the last request.
    public func shutdown() async throws {
        try await direct.shutdown()
        try await proxied?.shutdown()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
