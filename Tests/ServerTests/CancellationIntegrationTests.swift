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
        let body = try JSONSerialization.data(withJSONObject: long)
        let generating = try RawHTTPConnection(port: s.port)
        try generating.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"], body: body)
        XCTAssertEqual(try generating.readHead().status, 200)
        _ = try generating.readChunk()
        // Three more at once while it generates: the one that reaches the engine first waits
        // (the queue holds one); the other two are refused at once.
        var short = long
        short["max_tokens"] = 2
        let shortBody = try JSONSerialization.data(withJSONObject: short)
        let more = try (0..<3).map { _ in try RawHTTPConnection(port: s.port) }
        for c in more { try c.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"], body: shortBody) }
        let answers = Answers()
        let reading = DispatchGroup()
        for c in more {
            DispatchQueue.global().async(group: reading) { answers.add(try? c.readResponse()) }
        }
        answers.waitForRefusals(2, timeout: 20)
        generating.hangUp()  // lets the waiting one run and answer 200
        XCTAssertEqual(reading.wait(timeout: .now() + 60), .success, "a request neither refused nor served")
        let all = answers.all
        XCTAssertEqual(all.map(\.status).sorted(), [200, 429, 429], "one queued, two refused")
        for r in all where r.status == 429 {
            XCTAssertEqual(r.headers["retry-after"], "1")
            let error = (try r.json() as? [String: Any])?["error"] as? [String: Any]
            XCTAssertEqual(error?["code"] as? String, "server_busy")
            XCTAssertEqual(error?["type"] as? String, "rate_limit_error")
        }
        for c in more { c.hangUp() }
    }
}

/// Responses as they come from reading threads.
private final class Answers: @unchecked Sendable {
    private let condition = NSCondition()
    private var responses: [RawHTTPConnection.Response] = []

    func add(_ response: RawHTTPConnection.Response?) {
        condition.lock()
        if let response { responses.append(response) }
        condition.broadcast()
        condition.unlock()
    }

    func waitForRefusals(_ count: Int, timeout: TimeInterval) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        while responses.filter({ $0.status == 429 }).count < count && condition.wait(until: deadline) {}
        condition.unlock()
    }

    var all: [RawHTTPConnection.Response] {
        condition.lock()
        defer { condition.unlock() }
        return responses
    }
}
