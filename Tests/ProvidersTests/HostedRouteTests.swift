import ChatAPI
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Providers
import Server
import XCTest

/// Hosted routes end to end: a client talks HTTP to the real server, whose gateway routes to
/// the OpenAI-compatible adapter, which talks HTTP to a fake upstream on loopback replaying a
/// provider's wire format (faults included). Each test states the exact events the client sees.
final class HostedRouteTests: XCTestCase {
    static let http = UpstreamHTTPClient(environment: [:])
    static let weather: JSONValue = [
        "type": "object", "properties": ["city": ["type": "string"], "days": ["type": "integer", "minimum": 1]],
        "required": ["city"], "additionalProperties": false,
    ]

    /// A request for `grok-4` with two tools.
    static func body(stream: Bool, toolChoice: JSONValue = "auto", parallel: Bool = true) -> JSONValue {
        ["model": "grok-4", "stream": .bool(stream), "parallel_tool_calls": .bool(parallel),
         "messages": [["role": "user", "content": "Weather in Paris?"]],
         "tools": [["type": "function", "function": ["name": "get_weather", "parameters": weather]],
                   ["type": "function", "function": ["name": "get_time", "parameters": ["type": "object", "properties": [:]]]]],
         "tool_choice": toolChoice]
    }

    static func route(_ urls: [String], pattern: String = "grok-*", capabilities: BackendCapabilities = BackendCapabilities(),
                      fallbacks: [String] = [], timeout: Duration = .seconds(20)) -> Route {
        Route(pattern, backends: urls.map { OpenAICompatibleBackend(.init(baseURL: $0, apiKey: "sk-test-secret", capabilities: capabilities), http: http) },
              fallbacks: fallbacks,
              retry: RetryPolicy(maxRetries: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50)),
              timeout: timeout)
    }

    // MARK: - Wire formats

    func testOpenAIStreamedCallArrivesIncrementally() async throws {
        let upstream = try await FakeUpstream.start([.sse([
            Wire.role, Wire.callStart(0, id: "call_a", name: "get_weather"),
            Wire.arguments(0, #"{"city""#), Wire.arguments(0, #":"Paris"}"#), Wire.finish("tool_calls"), Wire.usage,
        ])])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: true))
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, ["call 0 get_weather", #"args 0 {"city""#, #"args 0 :"Paris"}"#, "finish tool_calls", "[DONE]"])
        XCTAssertEqual(seen.guardHeader, "checked")
        // The upstream got the request as OpenAI's API reads it, with usage asked for.
        let sent = try XCTUnwrap(upstream.received.first)
        XCTAssertEqual(sent["model"], "grok-4")
        XCTAssertEqual(sent["stream_options"]?["include_usage"], true)
        XCTAssertEqual(sent["tools"]?.arrayValue?.count, 2)
    }

    /// xAI sends each call whole in one chunk; some servers also number every call 0.
    func testWholeCallChunksWithRepeatedIndexZero() async throws {
        let upstream = try await FakeUpstream.start([.sse([
            Wire.role,
            Wire.callStart(0, id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#),
            Wire.callStart(0, id: "call_2", name: "get_weather", arguments: #"{"city":"Rome","days":2}"#),
            Wire.finish("tool_calls"),
        ])])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: true))
        XCTAssertEqual(seen.events, ["call 0 get_weather", #"args 0 {"city":"Paris"}"#,
                                     "call 1 get_weather", #"args 1 {"city":"Rome","days":2}"#, "finish tool_calls", "[DONE]"])
    }

    func testNonStreamingAnswer() async throws {
        let upstream = try await FakeUpstream.start([.json(Wire.completion(calls: [("get_weather", #"{"city":"Paris"}"#)]))])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: false))
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, [#"call 0 get_weather {"city":"Paris"}"#, "finish tool_calls"])
        XCTAssertEqual(seen.json?["usage"]?["prompt_tokens"], 12)
    }

    // MARK: - Upstreams that break the rules

    /// `tool_choice: required`, and the upstream answers in prose: asked again, it calls.
    func testIgnoredRequiredToolChoiceIsRepaired() async throws {
        let upstream = try await FakeUpstream.start([
            .json(Wire.completion(content: "It is sunny.")),
            .json(Wire.completion(calls: [("get_weather", #"{"city":"Paris"}"#)])),
        ])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: false, toolChoice: "required"))
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, [#"call 0 get_weather {"city":"Paris"}"#, "finish tool_calls"])
        XCTAssertEqual(seen.guardHeader, "checked; repaired=1")
        XCTAssertEqual(upstream.received.count, 2)
        let retry = upstream.received[1]["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
        XCTAssertTrue(retry.contains("tool_choice requires"), retry)
    }

    func testUpstreamThatNeverComplies() async throws {
        let upstream = try await FakeUpstream.start([.json(Wire.completion(calls: [("launch", "{}")]))])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: false))
        XCTAssertEqual(seen.status, 502)
        XCTAssertEqual(seen.events, ["error upstream_invalid_tool_call"])
        XCTAssertTrue(seen.json?["error"]?["message"]?.stringValue?.contains("'launch'") == true)
        XCTAssertEqual(upstream.received.count, 3, "the first answer and two repairs")
    }

    /// A JSON `response_format` answer is held to its schema like a call: a broken one is asked
    /// again, and one that never complies is a 502, never a 200 with text that breaks the schema.
    func testResponseFormatAnswersAreChecked() async throws {
        let format: JSONValue = ["type": "json_schema", "json_schema": ["name": "weather", "schema": Self.weather]]
        let body: JSONValue = ["model": "grok-4", "messages": [["role": "user", "content": "Weather in Paris?"]], "response_format": format]
        let upstream = try await FakeUpstream.start([
            .json(Wire.completion(content: #"{"city":"Paris","days":0}"#)),
            .json(Wire.completion(content: #"{"city":"Paris","days":2}"#)),
        ])
        let seen = try await gateway([Self.route([upstream.baseURL])], body)
        upstream.stop()
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, [#"text {"city":"Paris","days":2}"#, "finish stop"])
        XCTAssertEqual(seen.guardHeader, "checked; repaired=1")
        let retry = upstream.received.last?["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
        XCTAssertTrue(retry.contains("response_format schema"), retry)

        let prose = try await FakeUpstream.start([.json(Wire.completion(content: "It is sunny in Paris."))])
        let refused = try await gateway([Self.route([prose.baseURL])], body)
        prose.stop()
        XCTAssertEqual(refused.status, 502)
        XCTAssertEqual(refused.events, ["error upstream_invalid_response_format"])
        XCTAssertEqual(prose.received.count, 3, "the first answer and two repairs")

        // Streamed, the text has gone out when it can be judged: the stream ends with the error.
        var streamed = try XCTUnwrap(body.objectValue)
        streamed["stream"] = true
        let chunks = try await FakeUpstream.start([.sse([Wire.role, Wire.text("It is "), Wire.text("sunny."), Wire.finish("stop")])])
        let cut = try await gateway([Self.route([chunks.baseURL])], .object(streamed))
        chunks.stop()
        XCTAssertEqual(cut.events, ["text It is ", "text sunny.", "error upstream_invalid_response_format", "[DONE]"])
    }

    /// An upstream configured as ignoring a named `tool_choice` gets only that function.
    func testNamedToolChoiceNarrowsToolsForUpstreamThatIgnoresIt() async throws {
        let upstream = try await FakeUpstream.start([.json(Wire.completion(calls: [("get_time", "{}")]))])
        defer { upstream.stop() }
        var capabilities = BackendCapabilities()
        capabilities.namedToolChoice = false
        let seen = try await gateway([Self.route([upstream.baseURL], capabilities: capabilities)],
                                     Self.body(stream: false, toolChoice: ["type": "function", "function": ["name": "get_time"]]))
        XCTAssertEqual(seen.events, ["call 0 get_time {}", "finish tool_calls"])
        XCTAssertEqual(seen.guardHeader, "checked; narrowed-tools=get_time")
        let sent = try XCTUnwrap(upstream.received.first)
        XCTAssertEqual(sent["tools"]?.arrayValue?.compactMap { $0["function"]?["name"]?.stringValue }, ["get_time"])
        XCTAssertEqual(sent["tool_choice"], "required")
    }

    /// Fragments pass while they can still complete validly; the one that breaks the schema
    /// never reaches the client.
    func testStreamedInvalidArgumentsStopBeforeTheBadFragment() async throws {
        let upstream = try await FakeUpstream.start([.sse([
            Wire.role, Wire.callStart(0, id: "call_a", name: "get_weather"),
            Wire.arguments(0, #"{"city":"#), Wire.arguments(0, "5}"), Wire.finish("tool_calls"),
        ])])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: true))
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, ["call 0 get_weather", #"args 0 {"city":"#, "error upstream_invalid_tool_call", "[DONE]"])
    }

    /// A call of an undeclared function as the first event: an HTTP 502, no stream.
    func testStreamedUndeclaredFunction() async throws {
        let upstream = try await FakeUpstream.start([.sse([
            Wire.role, Wire.callStart(0, id: "call_a", name: "launch", arguments: "{}"), Wire.finish("tool_calls"),
        ])])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: true))
        XCTAssertEqual(seen.status, 502)
        XCTAssertEqual(seen.events, ["error upstream_invalid_tool_call"])
    }

    /// `parallel_tool_calls: false` and a second call streamed: the stream ends at the second.
    func testSecondCallWhenParallelCallsAreOff() async throws {
        let upstream = try await FakeUpstream.start([.sse([
            Wire.role, Wire.callStart(0, id: "call_1", name: "get_time", arguments: "{}"),
            Wire.callStart(1, id: "call_2", name: "get_time", arguments: "{}"), Wire.finish("tool_calls"),
        ])])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: true, parallel: false))
        XCTAssertEqual(seen.events, ["call 0 get_time", "args 0 {}", "error upstream_invalid_tool_call", "[DONE]"])
    }

    // MARK: - Faults

    func test429WithRetryAfterIsWaitedOut() async throws {
        let upstream = try await FakeUpstream.start([
            .json(["error": ["message": "Slow down", "type": "rate_limit_error", "code": "rate_limited"]], status: 429,
                  headers: ["Retry-After": "1"]),
            .json(Wire.completion(content: "Sunny.")),
        ])
        defer { upstream.stop() }
        let started = ContinuousClock.now
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: false))
        XCTAssertEqual(seen.events, ["text Sunny.", "finish stop"])
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(1))
        XCTAssertEqual(upstream.received.count, 2)
    }

    /// Retries used up: the client gets the upstream's error with its status; the key it was
    /// sent with is not echoed.
    func testPersistent500KeepsUpstreamStatus() async throws {
        let upstream = try await FakeUpstream.start([
            .json(["error": ["message": "Internal failure for key sk-test-secret", "type": "server_error", "code": .null]], status: 500),
        ])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: true))
        XCTAssertEqual(seen.status, 500)
        XCTAssertEqual(seen.json?["error"]?["message"], "Internal failure for key [redacted]")
        XCTAssertEqual(upstream.received.count, 3, "one attempt and two retries")
    }

    func testConnectRefusalFallsBackToTheNextRoute() async throws {
        let upstream = try await FakeUpstream.start([.json(Wire.completion(content: "From the fallback."))])
        defer { upstream.stop() }
        let refused = "http://127.0.0.1:\(try closedPort())/v1"
        let seen = try await gateway([Self.route([refused], fallbacks: ["backup"]), Self.route([upstream.baseURL], pattern: "backup")],
                                     Self.body(stream: false))
        XCTAssertEqual(seen.events, ["text From the fallback.", "finish stop"])
        XCTAssertEqual(upstream.received.first?["model"], "backup")
    }

    /// A pool with a dead member: every request is still answered, and the dead one is ejected.
    func testPoolEjectsAFailingUpstream() async throws {
        let upstream = try await FakeUpstream.start([.json(Wire.completion(content: "ok"))])
        defer { upstream.stop() }
        let route = Self.route([("http://127.0.0.1:\(try closedPort())/v1"), upstream.baseURL])
        let seen = try await gateway([route], Array(repeating: Self.body(stream: false), count: 12))
        XCTAssertEqual(seen.map(\.status), Array(repeating: 200, count: 12))
        XCTAssertEqual(route.pool.snapshot.map(\.ejected), [true, false])
    }

    func testStallBeforeAnswerPassesTheDeadline() async throws {
        var slow = FakeReply.json(Wire.completion(content: "late"))
        slow.delay = .seconds(10)
        let upstream = try await FakeUpstream.start([slow])
        defer { upstream.stop() }
        let started = ContinuousClock.now
        let seen = try await gateway([Self.route([upstream.baseURL], timeout: .milliseconds(500))], Self.body(stream: false))
        XCTAssertEqual(seen.status, 504)
        XCTAssertEqual(seen.events, ["error upstream_timeout"])
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
    }

    func testStallMidStreamPassesTheDeadline() async throws {
        var stalled = FakeReply.sse([Wire.role, Wire.callStart(0, id: "call_a", name: "get_weather"), Wire.arguments(0, #"{"ci"#)], done: false)
        stalled.stall = .seconds(10)
        let upstream = try await FakeUpstream.start([stalled])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL], timeout: .milliseconds(800))], Self.body(stream: true))
        XCTAssertEqual(seen.events, ["call 0 get_weather", #"args 0 {"ci"#, "error upstream_timeout", "[DONE]"])
    }

    /// A client that hangs up mid-stream cancels the upstream request: the upstream sees its
    /// connection close. (The hang-up is noticed when the next event fails to reach the client.)
    func testClientHangUpCancelsTheUpstreamRequest() async throws {
        var slow = FakeReply.sse([Wire.role, Wire.text("Hel")], done: false)
        slow.trickle = 200
        let upstream = try await FakeUpstream.start([slow])
        defer { upstream.stop() }
        let router = ModelRouter(routes: [Self.route([upstream.baseURL])], compileExecutor: CompileExecutor())
        var configuration = ServerConfiguration()
        configuration.port = 0
        let app = SwitchboardServer.makeApplication(models: router, configuration: configuration, logger: quietLogger)
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let body = Self.body(stream: true).serialized()
            let socket = try RawSocket(port: port)
            try socket.send("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let head = try socket.receive()
            XCTAssertTrue(head.contains("Hel"), head)
            socket.close()
            let deadline = ContinuousClock.now + .seconds(5)
            while upstream.clientDisconnects == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            XCTAssertEqual(upstream.clientDisconnects, 1)
        }
    }

    func testStreamCutMidCall() async throws {
        var cut = FakeReply.sse([Wire.role, Wire.callStart(0, id: "call_a", name: "get_weather"), Wire.arguments(0, #"{"ci"#)], done: false)
        cut.cut = true
        let upstream = try await FakeUpstream.start([cut])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], Self.body(stream: true))
        XCTAssertEqual(seen.events, ["call 0 get_weather", #"args 0 {"ci"#, "error upstream_stream_cut", "[DONE]"])
    }

    func testMalformedJSON() async throws {
        let upstream = try await FakeUpstream.start([
            FakeReply(headers: ["Content-Type": "application/json"], pieces: [#"{"id": "x", "choices": [{"#]),
            FakeReply(headers: ["Content-Type": "text/event-stream"],
                      pieces: [SSE.event(Wire.role), SSE.event(Wire.text("Hel")), "data: {\"choices\": [{\"delta\": \n\n"]),
        ])
        defer { upstream.stop() }
        let seen = try await gateway([Self.route([upstream.baseURL])], [Self.body(stream: false), Self.body(stream: true)])
        XCTAssertEqual(seen[0].status, 502)
        XCTAssertEqual(seen[0].events, ["error upstream_malformed_response"])
        XCTAssertEqual(seen[1].events, ["text Hel", "error upstream_malformed_response", "[DONE]"])
    }

    // MARK: - Metrics

    /// `/metrics` counts requests, attempts, retries, repairs and guard actions by route and
    /// upstream, never by the model id a client sent.
    func testMetrics() async throws {
        let upstream = try await FakeUpstream.start([
            .json(["error": ["message": "busy"]], status: 503),
            .json(Wire.completion(content: "prose")),
            .json(Wire.completion(calls: [("get_weather", #"{"city":"Paris"}"#)])),
        ])
        defer { upstream.stop() }
        let registry = PrometheusCollectorRegistry()
        let seen = try await gateway([Self.route([upstream.baseURL])], [Self.body(stream: false, toolChoice: "required")], metrics: registry)
        XCTAssertEqual(seen[0].status, 200)
        let lines = Set(seen[1].events)
        for expected in [
            #"switchboard_requests_total{route="grok-*",status="200"} 1"#,
            #"switchboard_upstream_attempts_total{route="grok-*",upstream="\#(upstream.baseURL)",outcome="503"} 1"#,
            #"switchboard_upstream_attempts_total{route="grok-*",upstream="\#(upstream.baseURL)",outcome="ok"} 2"#,
            #"switchboard_upstream_retries_total{route="grok-*"} 1"#,
            #"switchboard_guard_repairs_total{route="grok-*"} 1"#,
            #"switchboard_guard_actions_total{route="grok-*",action="repaired"} 1"#,
            #"switchboard_tokens_total{route="grok-*",kind="prompt"} 12"#,
        ] {
            XCTAssertTrue(lines.contains(expected), "missing \(expected) in:\n\(seen[1].events.joined(separator: "\n"))")
        }
    }

    // MARK: - Models

    /// A wildcard route lists the upstream's own models that match it, with capabilities.
    func testModelsListMergesRoutes() async throws {
        let upstream = try await FakeUpstream.start([.json(Wire.completion(content: "ok"))])
        defer { upstream.stop() }
        let router = ModelRouter(routes: [Self.route([upstream.baseURL]), Self.route([upstream.baseURL], pattern: "local-model")],
                                 compileExecutor: CompileExecutor())
        let backend = try XCTUnwrap(router.routes[0].pool.backends[0] as? OpenAICompatibleBackend)
        let ids = try await backend.modelIDs()
        XCTAssertEqual(ids, ["grok-4", "grok-3-mini", "other"])
        // Through the route's catalog, as /v1/models lists them.
        var route = Self.route([upstream.baseURL])
        route.catalog = backend
        let listed = await ModelRouter(routes: [route, Self.route([upstream.baseURL], pattern: "local-model")], compileExecutor: CompileExecutor())
            .modelList().models
        XCTAssertEqual(listed.map(\.id), ["grok-4", "grok-3-mini", "local-model"])
        XCTAssertEqual(listed[0].capabilities?["enforced_by"], "guard")
        // An id the wildcard serves but the upstream does not list still has an entry.
        let unlisted = await ModelRouter(routes: [route], compileExecutor: CompileExecutor()).modelEntry("grok-5")
        XCTAssertEqual(unlisted?.id, "grok-5")
        let unserved = await ModelRouter(routes: [route], compileExecutor: CompileExecutor()).modelEntry("gpt-4o")
        XCTAssertNil(unserved)
    }
}
