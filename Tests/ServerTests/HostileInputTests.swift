import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The hostile-input battery: what an attacker (or a broken client) can do to the server over
/// HTTP, each case against the real server binary. After every case the server must still
/// answer `/health` within a second and serve a normal completion (`checkStillServing`).
///
/// To add a case (here or in an extension in another file): write a test that attacks, checks the refusal (status and OpenAI error
/// object via `expectAPIError`), then calls `checkStillServing` on the server it attacked.
final class HostileInputTests: XCTestCase {
    /// A server with short deadlines and small limits, so the limits themselves can be hit in a
    /// test, plus CORS and an extra Host allowed.
    static let strict: Result<ServerProcess, Error> = Result {
        try ServerProcess(arguments: [
            "--header-timeout", "1", "--body-timeout", "1", "--idle-timeout", "2", "--max-connections", "4",
            "--cors-origin", "https://app.example", "--allowed-host", "my.box",
        ])
    }

    let hello: [String: Any] = [
        "model": ServerProcess.defaultModelID, "max_tokens": 2, "messages": [["role": "user", "content": "Say hi."]],
    ]

    // MARK: Checks

    /// `/health` answers 200 within a second and a short completion succeeds.
    func checkStillServing(_ s: ServerProcess, apiKey: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let start = Date()
        let c = try RawHTTPConnection(port: s.port, timeout: 5)
        try c.send(method: "GET", path: "/health")
        let health = try c.readResponse()
        XCTAssertEqual(health.status, 200, "health after a hostile case: \(health.text)", file: file, line: line)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "/health took too long after a hostile case", file: file, line: line)
        let headers = apiKey.map { ["Authorization": "Bearer \($0)"] } ?? [:]
        let completion = try s.request("POST", "/v1/chat/completions", json: hello, headers: headers)
        XCTAssertEqual(completion.status, 200, "completion after a hostile case: \(completion.text)", file: file, line: line)
    }

    /// Checks the status and OpenAI's `{"error": {message, type, param, code}}`; returns the error.
    @discardableResult
    func expectAPIError(_ r: RawHTTPConnection.Response, status: Int, code: String? = nil, param: String? = nil,
                                _ what: String = "", file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(r.status, status, "\(what): \(r.text)", file: file, line: line)
        XCTAssertTrue(r.headers["content-type"]?.hasPrefix("application/json") ?? false, "\(what): not JSON: \(r.headers)", file: file, line: line)
        let json = try XCTUnwrap(try? r.json() as? [String: Any], "\(what): body is not a JSON object: \(r.text)", file: file, line: line)
        let error = try XCTUnwrap(json["error"] as? [String: Any], "\(what): \(r.text)", file: file, line: line)
        for key in ["message", "type", "param", "code"] { XCTAssertTrue(error.keys.contains(key), "\(what): missing \(key)", file: file, line: line) }
        if let code { XCTAssertEqual(error["code"] as? String, code, "\(what): \(r.text)", file: file, line: line) }
        if let param { XCTAssertEqual(error["param"] as? String, param, "\(what): \(r.text)", file: file, line: line) }
        return error
    }

    func get(_ s: ServerProcess, _ path: String, headers: [String: String] = [:]) throws -> RawHTTPConnection.Response {
        try s.request("GET", path, headers: headers)
    }

    // MARK: Auth

    /// No spelling of a path reaches a route without the key; only `/health` is open.
    func testKeyIsRequiredWhateverThePathSpelling() throws {
        let s = try server(ServerProcess.withAPIKey)
        let spellings = [
            "/v1/models", "//v1/models", "/v1//models", "/./v1/models", "/v1/./models", "/v1/../v1/models",
            "/x/../v1/models", "/../v1/models", "/health/../v1/models", "/v1%2Fmodels", "/%76%31/models", "/v1/models/",
            "/v1/models?x=1", "/V1/models", "/nope", "/v1/models/\(ServerProcess.defaultModelID)",
        ]
        for path in spellings {
            try expectAPIError(try get(s, path), status: 401, code: "invalid_api_key", "GET \(path) without a key")
        }
        for path in ["//v1/chat/completions", "/v1/../v1/chat/completions", "/v1%2Fchat%2Fcompletions", "/v1/chat/completions/"] {
            let r = try s.request("POST", path, json: hello)
            try expectAPIError(r, status: 401, code: "invalid_api_key", "POST \(path) without a key")
        }
        for header in ["Basic c2stdGVzdC0xMjM=", "Bearersk-test-123", "Bearer sk-test-1234", "Bearer", "sk-test-123"] {
            try expectAPIError(try get(s, "//v1/models", headers: ["Authorization": header]), status: 401, "Authorization: \(header)")
        }
        // The scheme is case-insensitive, and with the key every spelling reaches the route.
        for header in ["Bearer sk-test-123", "bearer sk-test-123", "BEARER sk-test-123", "Bearer  sk-test-123"] {
            for path in ["/v1/models", "//v1/models", "/v1/../v1/models", "/v1%2Fmodels"] {
                XCTAssertEqual(try get(s, path, headers: ["Authorization": header]).status, 200, "\(header) \(path)")
            }
        }
        let chat = try s.request("POST", "//v1/chat/completions", json: hello, headers: ["Authorization": "bearer sk-test-123"])
        XCTAssertEqual(chat.status, 200, chat.text)
        XCTAssertEqual(try get(s, "/health").status, 200)
        XCTAssertEqual(try get(s, "/health?probe=1").status, 200)
        try expectAPIError(try get(s, "/v1/%zz"), status: 400, code: "invalid_path", "malformed escape")
        try expectAPIError(try get(s, "/v1/%00models"), status: 400, code: "invalid_path", "NUL in the path")
        try checkStillServing(s, apiKey: "sk-test-123")
    }

    // MARK: Slow clients and connection limits

    /// A client that sends part of its headers and stops gets a JSON 408 after the header
    /// timeout (1 s on this server) and is disconnected.
    func testHalfSentHeadersAreCutOffAfterTheHeaderTimeout() throws {
        let s = try server(Self.strict)
        let c = try RawHTTPConnection(port: s.port, timeout: 8)
        try c.sendRaw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        try expectAPIError(try c.readResponse(), status: 408, code: "request_timeout", "half-sent headers")
        XCTAssertTrue(try c.isClosedByServer(), "the connection must be closed after the header timeout")
        try checkStillServing(s)
    }

    func testHalfSentBodyIsCutOffAfterTheBodyTimeout() throws {
        let s = try server(Self.strict)
        let c = try RawHTTPConnection(port: s.port, timeout: 8)
        try c.sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":")
        try expectAPIError(try c.readResponse(), status: 408, code: "request_timeout", "half-sent body")
        XCTAssertTrue(try c.isClosedByServer())
        try checkStillServing(s)
    }

    /// Idle connections, fresh or kept alive after a response, are closed after the idle timeout.
    func testIdleConnectionsAreClosed() throws {
        let s = try server(Self.strict)
        let fresh = try RawHTTPConnection(port: s.port, timeout: 8)
        XCTAssertTrue(try fresh.isClosedByServer(), "a connection that never sends must be closed")
        let used = try RawHTTPConnection(port: s.port, timeout: 8)
        try used.send(method: "GET", path: "/health", keepAlive: true)
        XCTAssertEqual(try used.readResponse().status, 200)
        XCTAssertTrue(try used.isClosedByServer(), "an idle keep-alive connection must be closed")
        try checkStillServing(s)
    }

    /// Beyond `--max-connections` (4 here) a new connection is answered with a JSON 503 at once,
    /// not queued; when a connection closes, its slot is free again.
    func testConnectionsBeyondTheCapAreRefusedAtOnce() throws {
        let s = try server(Self.strict)
        // Earlier tests' connections may still be closing; the cap must bite by the 5th anyway.
        var held: [RawHTTPConnection] = []
        var refusal: RawHTTPConnection.Response?
        for _ in 0..<5 {
            let c = try RawHTTPConnection(port: s.port, timeout: 5)
            try c.send(method: "GET", path: "/health", keepAlive: true)
            let r = try c.readResponse()
            if r.status == 503 { refusal = r; break }
            XCTAssertEqual(r.status, 200)
            held.append(c)
        }
        let refused = try XCTUnwrap(refusal, "5 connections were open at once with --max-connections 4")
        try expectAPIError(refused, status: 503, code: "too_many_connections", "over the cap")
        held.removeAll()  // closes them
        var served = false
        for _ in 0..<40 where !served {
            served = try get(s, "/health").status == 200
            if !served { usleep(50_000) }
        }
        XCTAssertTrue(served, "a slot must free up once connections close")
        try checkStillServing(s)
    }

    // MARK: Browsers

    /// CORS is off by default: any request carrying an Origin is refused, including the
    /// form-encoded "simple request" a hostile page can send without a preflight.
    func testCORSIsOffByDefault() throws {
        let s = try server()
        let evil = ["Origin": "https://evil.example"]
        try expectAPIError(try get(s, "/v1/models", headers: evil), status: 403, code: "origin_not_allowed", "GET with Origin")
        try expectAPIError(try get(s, "/health", headers: evil), status: 403, code: "origin_not_allowed", "health with Origin")
        let form = try JSONSerialization.data(withJSONObject: hello)
        let simple = try s.raw("POST", "/v1/chat/completions", body: form,
                               headers: ["Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"])
        try expectAPIError(simple, status: 403, code: "origin_not_allowed", "simple cross-origin POST")
        let preflight = try s.request("OPTIONS", "/v1/chat/completions",
                                      headers: ["Origin": "https://evil.example", "Access-Control-Request-Method": "POST"])
        try expectAPIError(preflight, status: 403, code: "origin_not_allowed", "preflight")
        XCTAssertNil(preflight.headers["access-control-allow-origin"])
        let plain = try get(s, "/v1/models")
        XCTAssertEqual(plain.status, 200)
        XCTAssertNil(plain.headers["access-control-allow-origin"], "no CORS headers without --cors-origin")
        try checkStillServing(s)
    }

    func testCORSForListedOrigins() throws {
        let s = try server(Self.strict)
        let preflight = try s.request("OPTIONS", "/v1/chat/completions", headers: [
            "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        ])
        XCTAssertEqual(preflight.status, 204, preflight.text)
        XCTAssertEqual(preflight.headers["access-control-allow-origin"], "https://app.example")
        XCTAssertTrue(preflight.headers["access-control-allow-methods"]?.contains("POST") ?? false)
        XCTAssertTrue(preflight.headers["access-control-allow-headers"]?.contains("content-type") ?? false)
        let listed = try s.request("POST", "/v1/chat/completions", json: hello, headers: ["Origin": "https://app.example"])
        XCTAssertEqual(listed.status, 200, listed.text)
        XCTAssertEqual(listed.headers["access-control-allow-origin"], "https://app.example")
        try expectAPIError(try get(s, "/v1/models", headers: ["Origin": "https://evil.example"]), status: 403, code: "origin_not_allowed")
        try expectAPIError(try get(s, "/v1/models", headers: ["Origin": "null"]), status: 403, code: "origin_not_allowed")
        try checkStillServing(s)
    }

    /// On loopback, a Host that is not a loopback name is a DNS-rebinding page: refused.
    func testForeignHostIsRefusedOnLoopback() throws {
        let s = try server()
        for host in ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example", "10.0.0.1"] {
            try expectAPIError(try get(s, "/v1/models", headers: ["Host": host]), status: 403, code: "host_not_allowed", "Host: \(host)")
        }
        for host in ["localhost", "localhost:\(s.port)", "LOCALHOST", "127.0.0.1", "127.0.0.1:\(s.port)", "127.1.2.3", "[::1]", "[::1]:\(s.port)"] {
            XCTAssertEqual(try get(s, "/v1/models", headers: ["Host": host]).status, 200, "Host: \(host)")
        }
        let strict = try server(Self.strict)
        for host in ["my.box", "my.box:8080", "MY.BOX"] {
            XCTAssertEqual(try get(strict, "/v1/models", headers: ["Host": host]).status, 200, "allowed Host: \(host)")
        }
        try expectAPIError(try get(strict, "/v1/models", headers: ["Host": "other.box"]), status: 403, code: "host_not_allowed")
        try checkStillServing(s)
    }

    /// `curl -d '{…}'` sends no JSON content type (none, or curl's form type); it keeps working.
    func testTypelessAndFormBodiesStillWork() throws {
        let s = try server()
        let body = try JSONSerialization.data(withJSONObject: hello)
        XCTAssertEqual(try s.raw("POST", "/v1/chat/completions", body: body, headers: [:]).status, 200)
        XCTAssertEqual(try s.raw("POST", "/v1/chat/completions", body: body,
                                 headers: ["Content-Type": "application/x-www-form-urlencoded"]).status, 200)
    }

    // MARK: Limits

    func testMoreThan128ToolsIsRefused() throws {
        let s = try server()
        let tool: (Int) -> [String: Any] = { i in
            ["type": "function", "function": ["name": "f\(i)", "parameters": ["type": "object"]]]
        }
        var body = hello
        body["tools"] = (0..<129).map(tool)
        try expectAPIError(try s.request("POST", "/v1/chat/completions", json: body), status: 400, code: "array_above_max_length", param: "tools")
        body["tools"] = nil
        body["functions"] = (0..<129).map { i in ["name": "f\(i)", "parameters": ["type": "object"]] }
        try expectAPIError(try s.request("POST", "/v1/chat/completions", json: body), status: 400, param: "functions")
        try checkStillServing(s)
    }

    func testMaxTokensBeyondTheContextIsRefused() throws {
        let s = try server()
        for field in ["max_tokens", "max_completion_tokens"] {
            var body = hello
            body["max_tokens"] = nil
            body[field] = 1_000_000
            try expectAPIError(try s.request("POST", "/v1/chat/completions", json: body), status: 400, param: field, field)
            body["stream"] = true
            try expectAPIError(try s.request("POST", "/v1/chat/completions", json: body), status: 400, param: field, "\(field), streaming")
        }
        try checkStillServing(s)
    }

    /// Errors from the HTTP layer itself are OpenAI error objects too.
    func testHTTPLayerErrorsAreJSON() throws {
        let s = try server()
        let big = try s.request("GET", "/health", headers: ["X-Big": String(repeating: "a", count: 100 * 1024)])
        try expectAPIError(big, status: 431, "oversized header")
        let many = try s.request("GET", "/health", headers: Dictionary(uniqueKeysWithValues: (0..<300).map { ("X-H\($0)", "v") }))
        try expectAPIError(many, status: 431, "too many headers")
        for garbage in ["NOT HTTP AT ALL\r\n\r\n", "GET /health HTTP/9.9\r\n\r\n", "GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
                        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"] {
            let c = try RawHTTPConnection(port: s.port, timeout: 10)
            try c.sendRaw(garbage)
            try expectAPIError(try c.readResponse(), status: 400, code: "invalid_http_request", garbage.debugDescription)
        }
        try expectAPIError(try get(s, "/v1/nope"), status: 404)
        // Hummingbird answers a known path with an unknown method as 404; either way, JSON.
        let wrongMethod = try s.request("DELETE", "/v1/models")
        try expectAPIError(wrongMethod, status: wrongMethod.status == 405 ? 405 : 404)
        try checkStillServing(s)
    }

    // MARK: Connections: keep-alive and half-close

    /// Several completions, streaming and not, on one connection, none of them closing it.
    func testCompletionsKeepTheConnectionAlive() throws {
        let s = try server()
        let c = try RawHTTPConnection(port: s.port, timeout: 120)
        for i in 0..<6 {
            var body = hello
            body["stream"] = i % 2 == 1
            try c.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"],
                       body: try JSONSerialization.data(withJSONObject: body), keepAlive: true)
            let r = try c.readResponse()
            XCTAssertEqual(r.status, 200, "request \(i): \(r.text)")
            XCTAssertNotEqual(r.headers["connection"]?.lowercased(), "close", "request \(i) closed the connection")
            if i % 2 == 1 { XCTAssertTrue(r.text.contains("data: [DONE]"), r.text) }
        }
        try c.send(method: "GET", path: "/health", keepAlive: true)
        XCTAssertEqual(try c.readResponse().status, 200)
    }

    /// A client that half-closes after sending its request (it is done sending, still reading)
    /// gets its whole answer, streaming or not.
    func testHalfClosedClientGetsItsAnswer() throws {
        let s = try server()
        for stream in [false, true] {
            var body = hello
            body["max_tokens"] = 8
            body["stream"] = stream
            let c = try RawHTTPConnection(port: s.port, timeout: 120)
            try c.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"],
                       body: try JSONSerialization.data(withJSONObject: body))
            c.halfClose()
            let r = try c.readResponse()
            XCTAssertEqual(r.status, 200, "stream \(stream): \(r.text)")
            if stream {
                XCTAssertTrue(r.text.contains("data: [DONE]"), r.text)
            } else {
                let json = try XCTUnwrap(try r.json() as? [String: Any])
                XCTAssertNotNil((json["choices"] as? [[String: Any]])?.first?["message"], r.text)
            }
        }
        try checkStillServing(s)
    }

    /// A non-streaming client that disconnects before its answer is ready stops its generation
    /// at once: the server logs the abandoned request as cancelled (499) by the time the next
    /// request is answered (the engine serves one request at a time, in order, so without the
    /// cancellation the next one would wait for all of the abandoned tokens and the abandoned
    /// one would be logged as a 200).
    func testDisconnectDuringNonStreamingGenerationStopsIt() throws {
        let s = try server()
        let cancelledBefore = s.log().components(separatedBy: "status=499").count
        var long = hello
        long["messages"] = [["role": "user", "content": "Write a very long story about a dragon and a knight."]]
        long["max_tokens"] = 2000
        long["temperature"] = 1.0
        let c = try RawHTTPConnection(port: s.port)
        try c.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"],
                   body: try JSONSerialization.data(withJSONObject: long))
        usleep(300_000)
        c.hangUp()
        let (status, _) = try s.chat(["messages": [["role": "user", "content": "Hi"]], "max_tokens": 1])
        XCTAssertEqual(status, 200)
        usleep(200_000)  // the log line is written after the response
        let cancelledAfter = s.log().components(separatedBy: "status=499").count
        XCTAssertEqual(cancelledAfter, cancelledBefore + 1, "the abandoned generation was not cancelled")
    }

    // MARK: Shutdown

    /// SIGTERM during a long generation: the process ends it and exits 0 within 10 s, without
    /// needing its watchdog.
    func testSIGTERMDuringLongGenerationExitsCleanly() throws {
        let s = try ServerProcess(arguments: [])
        let c = try RawHTTPConnection(port: s.port, timeout: 30)
        let body: [String: Any] = [
            "model": ServerProcess.defaultModelID, "stream": true, "max_tokens": 4000, "temperature": 1.0, "seed": 7,
            "messages": [["role": "user", "content": "Write an extremely long, detailed story about a dragon and a knight."]],
        ]
        try c.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"],
                   body: try JSONSerialization.data(withJSONObject: body))
        XCTAssertEqual(try c.readHead().status, 200)
        _ = try c.readChunk()
        _ = try c.readChunk()
        let (status, elapsed) = s.terminate(within: 15)
        XCTAssertEqual(status, 0, "exit status after SIGTERM; log:\n\(s.log().suffix(3000))")
        XCTAssertLessThan(elapsed, 10, "the process took \(elapsed)s to exit after SIGTERM")
        XCTAssertFalse(s.log().contains("shutdown watchdog"), "in-flight work ignored cancellation; log:\n\(s.log().suffix(3000))")
        XCTAssertThrowsError(try RawHTTPConnection(port: s.port, timeout: 2), "the listener must be closed")
    }
}
