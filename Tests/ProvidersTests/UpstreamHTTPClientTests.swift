import XCTest
@testable import Providers

/// Proxy settings from the environment: HTTPS_PROXY for upstreams, except NO_PROXY hosts and
/// loopback.
final class UpstreamHTTPClientTests: XCTestCase {
    func testProxyAndExceptions() async throws {
        let client = UpstreamHTTPClient(environment: ["HTTPS_PROXY": "http://proxy.internal:3128", "NO_PROXY": "corp.example, .lan,10.0.0.5"])
        defer { Task { try? await client.shutdown() } }
        XCTAssertTrue(client.usesProxy(for: "api.x.ai"))
        XCTAssertTrue(client.usesProxy(for: "api.openai.com"))
        XCTAssertFalse(client.usesProxy(for: "corp.example"))
        XCTAssertFalse(client.usesProxy(for: "llm.corp.example"))
        XCTAssertFalse(client.usesProxy(for: "box.lan"))
        XCTAssertFalse(client.usesProxy(for: "10.0.0.5"))
        XCTAssertFalse(client.usesProxy(for: "127.0.0.1"))
        XCTAssertFalse(client.usesProxy(for: "localhost"))
        XCTAssertTrue(client.usesProxy(for: "notcorp.example.com"))
    }

    func testNoProxyConfigured() async throws {
        let client = UpstreamHTTPClient(environment: [:])
        defer { Task { try? await client.shutdown() } }
        XCTAssertFalse(client.usesProxy(for: "api.x.ai"))
    }
}
