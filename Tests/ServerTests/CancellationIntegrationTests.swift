import Foundation
import XCTest

/// A client that hangs up mid-stream stops generation at once: the next request is not stuck
/// behind the abandoned one. The server has one sequence (`--parallel 1`), so the next request
/// could only run once the abandoned one gave it up. With the queue full, a request is refused
/// with 429 and `Retry-After`.
final class CancellationIntegrationTests: XCTestCase {
    static let oneSequence: Result<ServerProcess, Error> = Result { try ServerProcess(arguments: ["--parallel", "1", "--queue-limit", "1"]) }

    func testDisconnectStopsGeneration() throws {
        let s = try server(Self.oneSequence)
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

    func testAFullQueueIsRefusedWith429AndRetryAfter() throws {
        let s = try server(Self.oneSequence)
        let long: [String: Any] = [
            // The request the test above shows to run its full 300 tokens.
            "model": ServerProcess.defaultModelID, "stream": true, "temperature": 0.8, "seed": 3, "max_tokens": 300,
            "messages": [["role": "user", "content": "Write a very long story about a dragon and a knight."]],
        ]
        // One generating, one waiting: both sequences of work the server accepts are taken.
        var open: [RawHTTPConnection] = []
        for _ in 0..<2 {
            let c = try RawHTTPConnection(port: s.port)
            try c.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"],
                       body: try JSONSerialization.data(withJSONObject: long))
            open.append(c)
        }
        let (status, _) = try open[0].readHead()
        XCTAssertEqual(status, 200)
        _ = try open[0].readChunk()
        var refused: RawHTTPConnection.Response?
        for _ in 0..<50 where refused == nil {
            let r = try s.request("POST", "/v1/chat/completions", json: ["model": ServerProcess.defaultModelID, "max_tokens": 1,
                                                                         "messages": [["role": "user", "content": "Hi"]]])
            if r.status == 429 { refused = r } else { Thread.sleep(forTimeInterval: 0.05) }
        }
        let r = try XCTUnwrap(refused, "a third request was never refused while one generated and one waited")
        XCTAssertEqual(r.headers["retry-after"], "1")
        let error = (try r.json() as? [String: Any])?["error"] as? [String: Any]
        XCTAssertEqual(error?["code"] as? String, "server_busy")
        XCTAssertEqual(error?["type"] as? String, "rate_limit_error")
        for c in open { c.hangUp() }
    }
}
