import Foundation
import XCTest

/// A client that hangs up mid-stream stops generation at once: the next request is not stuck
/// behind the abandoned one (the engine serves requests one at a time, in order).
final class CancellationIntegrationTests: XCTestCase {
    func testDisconnectStopsGeneration() throws {
        let s = try server()
        let long: [String: Any] = [
            "model": ServerProcess.defaultModelID,
            "messages": [["role": "user", "content": "Write a very long story about a dragon and a knight."]],
            "temperature": 0.8, "seed": 3, "max_tokens": 300,
        ]
        // Control: the same request run to completion really generates all 300 tokens (with 400 the
        // model ends at its 400th token).
        let start = Date()
        let (_, control) = try s.chat(long)
        let fullDuration = Date().timeIntervalSince(start)
        let choice = (control["choices"] as? [[String: Any]])?.first
        XCTAssertEqual(choice?["finish_reason"] as? String, "length", "control run must not stop early: \(control)")

        // Stream it, read the first chunk, hang up.
        var body = long
        body["stream"] = true
        let c = try RawHTTPConnection(port: s.port)
        try c.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"],
                   body: try JSONSerialization.data(withJSONObject: body))
        let (status, headers) = try c.readHead()
        XCTAssertEqual(status, 200)
        XCTAssertEqual(headers["transfer-encoding"], "chunked")
        _ = try c.readChunk()
        _ = try c.readChunk()
        c.hangUp()

        // The next request runs right away instead of waiting for 300 abandoned tokens.
        let nextStart = Date()
        let (nextStatus, _) = try s.chat(["messages": [["role": "user", "content": "Hi"]], "max_tokens": 1])
        let waited = Date().timeIntervalSince(nextStart)
        XCTAssertEqual(nextStatus, 200)
        XCTAssertLessThan(waited, fullDuration / 2,
                          "next request took \(waited)s; the abandoned 300-token generation takes \(fullDuration)s")
    }
}
