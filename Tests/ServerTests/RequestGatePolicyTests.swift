import XCTest
@testable import Server

/// The pure parts of the request gate: path canonicalization and the Host/Origin policy.
/// The HTTP behaviour around them is covered end to end in HostileInputTests.
final class RequestGatePolicyTests: XCTestCase {
    func testPathSpellingsCollapseToOneCanonicalPath() throws {
        let cases: [(String, String)] = [
            ("/v1/models", "/v1/models"), ("//v1/models", "/v1/models"), ("/v1//models/", "/v1/models"),
            ("/./v1/./models", "/v1/models"), ("/v1/../v1/models", "/v1/models"), ("/../../v1/models", "/v1/models"),
            ("/health/../v1/models", "/v1/models"), ("/v1%2Fmodels", "/v1/models"), ("/%76%31/models", "/v1/models"),
            ("/v1/%2e%2e/health", "/health"), ("/", "/"), ("//", "/"), ("/a%3Fb", "/a%3Fb"), ("/a%25b", "/a%25b"),
            ("/caf%C3%A9", "/caf%C3%A9"),
        ]
        for (raw, canonical) in cases {
            XCTAssertEqual(try RequestPath(target: raw).path, canonical, raw)
        }
        let withQuery = try RequestPath(target: "//v1/models?a=%2F&b")
        XCTAssertEqual(withQuery.target, "/v1/models?a=%2F&b")
    }

    func testMalformedPathsAreRejected() {
        for raw in ["v1/models", "http://x/v1/models", "*", "/v1/%zz", "/v1/%4", "/v1/%00", "/v1/%0a", "/%ff%fe",
                    "/" + String(repeating: "a", count: 9000)] {
            XCTAssertThrowsError(try RequestPath(target: raw), raw)
        }
    }

    func testHostPolicyOnLoopback() {
        var configuration = ServerConfiguration()
        configuration.allowedHosts = ["my.box"]
        let policy = BrowserPolicy(configuration: configuration)
        for host in ["localhost", "localhost:80", "127.0.0.1", "127.9.9.9:1", "[::1]", "[::1]:8080", "my.box", "my.box:1", nil] {
            XCTAssertTrue(policy.acceptsHost(host), host ?? "nil")
        }
        for host in ["evil.example", "127.0.0.1.nip.io", "localhost.evil", "128.0.0.1", "127.0.0.256", "[::2]", "my.box.evil"] {
            XCTAssertFalse(policy.acceptsHost(host), host)
        }
        configuration.host = "0.0.0.0"
        XCTAssertTrue(BrowserPolicy(configuration: configuration).acceptsHost("evil.example"), "no Host check off loopback")
    }

    func testOriginPolicy() {
        var configuration = ServerConfiguration()
        XCTAssertFalse(BrowserPolicy(configuration: configuration).acceptsOrigin("http://localhost:3000"))
        configuration.corsOrigins = ["https://App.example/"]
        let policy = BrowserPolicy(configuration: configuration)
        XCTAssertTrue(policy.acceptsOrigin("https://app.example"))
        XCTAssertFalse(policy.acceptsOrigin("https://app.example.evil"))
        XCTAssertFalse(policy.acceptsOrigin("null"))
        configuration.corsOrigins = ["*"]
        XCTAssertTrue(BrowserPolicy(configuration: configuration).acceptsOrigin("https://anything.example"))
    }

    func testBearerSchemeIsCaseInsensitiveAndKeyExact() {
        let auth = BearerAuth(apiKey: "sk-1")
        for header in ["Bearer sk-1", "bearer sk-1", "BEARER sk-1", "Bearer   sk-1 ", "\tBearer\tsk-1"] {
            XCTAssertNil(auth.check(header), header)
        }
        for header in [nil, "", "Bearer", "Bearer ", "Bearersk-1", "Basic sk-1", "Bearer sk-12", "Bearer sk-", "sk-1"] {
            XCTAssertNotNil(auth.check(header), header ?? "nil")
        }
    }
}
