import Foundation
import XCTest

/// Pooling clients (the openai SDK, httpx) send their next request on the connection of the
/// previous one unless the response said `Connection: close`. The server keeps every connection
/// alive, chat completions included (watching for hang-ups must not cost the connection), and
/// never closes one silently: that loses the next request ("Server disconnected without sending
/// a response", seen in CI).
final class ConnectionReuseTests: XCTestCase {
    private func chatBody(stream: Bool) throws -> Data {
        try JSONSerialization.data(withJSONObject: [
            "model": ServerProcess.defaultModelID, "max_tokens": 3, "stream": stream,
            "messages": [["role": "user", "content": "Say hi."]],
        ])
    }

    private func checkReuse(first: (RawHTTPConnection) throws -> RawHTTPConnection.Response, _ what: String) throws {
        let c = try RawHTTPConnection(port: try server().port)
        let r = try first(c)
        XCTAssertNotEqual(r.headers["connection"]?.lowercased(), "close", "\(what): the connection was not kept alive")
        try c.send(method: "GET", path: "/health", keepAlive: true)
        let second = try c.readResponse()
        XCTAssertEqual(second.status, 200, "\(what): the connection was not kept alive")
    }

    func testChatCompletionConnectionIsKeptAlive() throws {
        let cases: [(String, Data, Int)] = [
            ("non-streaming completion", try chatBody(stream: false), 200),
            ("streaming completion", try chatBody(stream: true), 200),
            ("error response", Data(#"{"model":"#.utf8), 400),
        ]
        for (what, body, status) in cases {
            try checkReuse(first: { c in
                try c.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"],
                           body: body, keepAlive: true)
                let r = try c.readResponse()
                XCTAssertEqual(r.status, status, "\(what): \(r.text)")
                return r
            }, what)
        }
        // Other endpoints keep the connection.
        let c = try RawHTTPConnection(port: try server().port)
        for _ in 0..<3 {
            try c.send(method: "GET", path: "/v1/models", keepAlive: true)
            XCTAssertEqual(try c.readResponse().status, 200)
        }
    }
}
