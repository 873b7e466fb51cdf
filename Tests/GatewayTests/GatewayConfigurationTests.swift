import Foundation
import XCTest
@testable import Gateway

/// The configuration file: the README's example reads as documented, and mistakes are named.
final class GatewayConfigurationTests: XCTestCase {
    /// The first ```yaml block of the README.
    static func readmeExample() throws -> String {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try XCTUnwrap(text.range(of: "```yaml\n"))
        let end = try XCTUnwrap(text.range(of: "```", range: start.upperBound..<text.endIndex))
        return String(text[start.upperBound..<end.lowerBound])
    }

    func testReadmeExample() throws {
        let configuration = try GatewayConfiguration.parse(try Self.readmeExample())
        XCTAssertEqual(configuration.routes.map(\.model), ["smollm2", "grok-*", "qwen-fleet", "claude-*", "gemini-*"])
        XCTAssertEqual(configuration.routes[0].local, "default")
        XCTAssertEqual(configuration.routes[1].baseURLs, ["https://api.x.ai/v1"])
        XCTAssertEqual(configuration.routes[1].apiKeyEnv, "XAI_API_KEY")
        XCTAssertEqual(configuration.routes[1].fallbacks, ["smollm2"])
        XCTAssertEqual(configuration.routes[2].baseURLs.count, 2)
        XCTAssertEqual(configuration.routes[2].capabilities?.resolved(over: BackendCapabilities()).namedToolChoice, false)
        XCTAssertEqual(configuration.routes[2].capabilities?.resolved(over: BackendCapabilities()).requiredToolChoice, true)
        XCTAssertEqual(configuration.routes[3].provider, "anthropic")
        XCTAssertEqual(configuration.routes[3].maxTokens, 4096)
        XCTAssertEqual(configuration.routes[4].provider, "gemini")
        XCTAssertEqual(configuration.routes[4].baseURLs, ["https://generativelanguage.googleapis.com"])
        let mcp = try XCTUnwrap(configuration.mcpServers)
        XCTAssertEqual(mcp["weather"]?.command, ["python3", "weather_server.py"])
        XCTAssertEqual(mcp["weather"]?.autoApprove, ["get_weather"])
        XCTAssertEqual(mcp["docs"]?.url, "https://mcp.example.com/mcp")
        XCTAssertEqual(mcp["docs"]?.apiKeyEnv, "DOCS_MCP_TOKEN")
        XCTAssertEqual(mcp["docs"]?.tools, ["search_docs"])
        XCTAssertEqual(mcp["docs"]?.timeout, 30)
    }

    func testJSONIsAccepted() throws {
        let configuration = try GatewayConfiguration.parse(#"{"routes": [{"model": "m", "base_url": "http://127.0.0.1:9/v1", "retries": 0}]}"#)
        XCTAssertEqual(configuration.routes[0].retries, 0)
    }

    func testMistakesAreNamed() {
        for (text, expected) in [
            ("routes: []", "no routes"),
            ("routes: [{model: a}]", "needs 'local' or 'base_url'"),
            ("routes: [{model: a, local: default, base_url: 'http://x'}]", "not both"),
            ("routes: [{model: 'a*', local: default}]", "not a pattern"),
            ("routes: [{model: a, base_url: 'ftp://x'}]", "not an http(s) URL"),
            ("routes: [{model: a, base_url: 'http://x', provider: bedrock}]", "unknown provider 'bedrock'"),
            ("routes: [{model: a, base_url: 'http://x', max_tokens: 100}]", "'max_tokens' is a setting of 'anthropic' routes"),
            ("routes: [{model: a, base_url: 'http://x', provider: gemini, max_tokens: 100}]", "'max_tokens' is a setting of 'anthropic' routes"),
            ("routes: [{model: a, base_url: 'http://x', provider: anthropic, max_tokens: 0}]", "'max_tokens' must be at least 1"),
            ("routes: [{model: a, local: default}, {model: a, base_url: 'http://x'}]", "served by an earlier route"),
            ("routes: [{model: a, local: default, fallbacks: [b]}]", "fallback 'b' is not served"),
            ("routes: [{model: a, base_url: 'http://x', timeout: 0}]", "'timeout'"),
            ("routes: [{model: a, base_url: 'http://x', retries: 99}]", "'retries'"),
            ("routes: [{model: 5}", "not valid YAML"),
            ("{routes: [{model: a, local: default}], mcp_servers: {w: {}}}", "mcp_servers.w: needs either 'command' (stdio) or 'url'"),
            ("{routes: [{model: a, local: default}], mcp_servers: {w: {command: [x], url: 'http://x'}}}", "needs either"),
            ("{routes: [{model: a, local: default}], mcp_servers: {w: {command: []}}}", "'command' is empty"),
            ("{routes: [{model: a, local: default}], mcp_servers: {w: {url: 'file:///x'}}}", "not an http(s) URL"),
            ("{routes: [{model: a, local: default}], mcp_servers: {w: {command: [x], api_key_env: K}}}", "'api_key_env' is a setting of 'url' servers"),
            ("{routes: [{model: a, local: default}], mcp_servers: {'a b': {command: [x]}}}", "a server name is letters"),
            ("{routes: [{model: a, local: default}], mcp_servers: {w: {command: [x], timeout: -1}}}", "'timeout'"),
        ] {
            XCTAssertThrowsError(try GatewayConfiguration.parse(text), text) {
                XCTAssertTrue("\($0)".contains(expected), "\(text): \($0)")
            }
        }
    }
}
