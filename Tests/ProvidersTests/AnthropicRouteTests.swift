import ChatAPI
import Foundation
import Gateway
import Providers
import XCTest

/// Anthropic routes end to end: a client talks OpenAI's API to the real server, whose gateway
/// routes `claude-*` to the Anthropic adapter, which talks to a fake Messages API on loopback.
/// The fake refuses what Anthropic refuses (`AnthropicRules`) and replays the fixtures' wire
/// text; each test states the exact events the client sees.
final class AnthropicRouteTests: XCTestCase {
    static let http = UpstreamHTTPClient(environment: [:])

    static func route(_ upstream: FakeUpstream, retries: Int = 2) -> Route {
        Route("claude-*", backends: [AnthropicBackend(.init(baseURL: upstream.rootURL, apiKey: "sk-ant-test-secret", capabilities: AnthropicBackend.defaultCapabilities), http: http)],
              retry: RetryPolicy(maxRetries: retries, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50)),
              timeout: .seconds(20))
    }

    static func fixture(_ name: String) throws -> JSONValue { try AnthropicFixtureTests.fixture(name) }

    /// A fixture's stream as the fake sends it: one write per SSE event.
    static func stream(_ fixture: JSONValue, _ key: String = "anthropic_stream") -> FakeReply {
        ProviderFixtures.streamReply(fixture[key])
    }

    /// The fixture's request through the gateway; checks the fake got exactly the body expected.
    func run(_ fixture: JSONValue, replies: [FakeReply], stream: Bool? = nil) async throws -> (Seen, FakeUpstream) {
        let upstream = try await FakeUpstream.start(replies)
        var request = try XCTUnwrap(fixture["openai_request"]?.objectValue)
        if let stream { request["stream"] = .bool(stream) }
        let seen = try await gateway([Self.route(upstream)], [.object(request)])[0]
        upstream.stop()
        if stream == nil, let expected = fixture["anthropic_request"] {
            XCTAssertEqual(upstream.received.first.map(ProviderFixtures.canonical), ProviderFixtures.canonical(expected))
        }
        return (seen, upstream)
    }

    // MARK: - Wire formats

    func testStreamedCallArrivesIncrementally() async throws {
        let fixture = try Self.fixture("single_call")
        let (seen, _) = try await run(fixture, replies: [Self.stream(fixture)])
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, ["call 0 get_weather", #"args 0 {"city":"#, #"args 0 "Le Havre"}"#, "finish tool_calls", "[DONE]"])
        XCTAssertEqual(seen.guardHeader, "checked")
    }

    func testWholeAnswerWithParallelCalls() async throws {
        let fixture = try Self.fixture("parallel_calls")
        let (seen, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["anthropic_response"]))])
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, ["text Checking both.", #"call 0 get_weather {"city":"Paris","days":2}"#, "call 1 get_time {}",
                                     "finish tool_calls"])
        XCTAssertEqual(seen.json?["usage"]?["prompt_tokens"], 40)
        XCTAssertEqual(seen.json?["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.last?["id"], "toolu_02")
    }

    func testNamedChoiceWithCacheUsage() async throws {
        let fixture = try Self.fixture("named_choice")
        let (seen, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["anthropic_response"]))])
        XCTAssertEqual(seen.events, ["call 0 get_time {}", "finish tool_calls"])
        XCTAssertEqual(seen.json?["usage"]?["prompt_tokens"], 50)
        XCTAssertEqual(seen.json?["usage"]?["prompt_tokens_details"]?["cached_tokens"], 0)
    }

    /// Two results for two calls, an error result and a follow-up: the strict fake accepts the
    /// translated conversation.
    func testMultiTurnLoopIsAcceptedUpstream() async throws {
        let fixture = try Self.fixture("multi_turn")
        let (seen, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["anthropic_response"]))])
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, ["text Paris is sunny; Rome is unknown.", "finish stop"])
    }

    /// Reasoning and its signature reach the client; sent back, they open the assistant turn.
    func testThinkingWithTools() async throws {
        let fixture = try Self.fixture("thinking_tools")
        let (seen, _) = try await run(fixture, replies: [Self.stream(fixture)])
        XCTAssertEqual(seen.events, ["reasoning Tomorrow means days=2.", "signature EqQBCgIYAhIMZm9yZWNhc3Q=", "call 0 get_weather",
                                     #"args 0 {"city":"Paris","days":2}"#, "finish tool_calls", "[DONE]"])
        // Not streamed, the same answer carries both in the message.
        let (whole, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["anthropic_response"]))], stream: false)
        XCTAssertEqual(whole.json?["choices"]?.arrayValue?.first?["message"]?["reasoning_content"], "Tomorrow means days=2.")
        XCTAssertEqual(whole.json?["choices"]?.arrayValue?.first?["message"]?["reasoning_signature"], "EqQBCgIYAhIMZm9yZWNhc3Q=")
    }

    /// A JSON-schema answer arrives as text through the forced answer tool, checked by the guard.
    func testStructuredAnswerThroughTheAnswerTool() async throws {
        let fixture = try Self.fixture("json_schema")
        let (seen, _) = try await run(fixture, replies: [Self.stream(fixture)])
        XCTAssertEqual(seen.events, [#"text {"city":"Paris","#, #"text "temp_c":18}"#, "finish stop", "[DONE]"])
        let (whole, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["anthropic_response"]))], stream: false)
        XCTAssertEqual(whole.events, [#"text {"city":"Paris","temp_c":18}"#, "finish stop"])
    }

    // MARK: - Faults

    func testOverloadedThenRateLimitedAreRetried() async throws {
        let fixture = try Self.fixture("overloaded")
        let errors = try XCTUnwrap(fixture["anthropic_http_errors"]?.arrayValue)
        let started = ContinuousClock.now
        let (seen, upstream) = try await run(fixture, replies: errors.map(ProviderFixtures.errorReply) + [Self.stream(fixture, "anthropic_retry_stream")])
        XCTAssertEqual(seen.events, ["text Hello!", "finish stop", "[DONE]"])
        XCTAssertEqual(upstream.received.count, 3)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(1), "the 429's retry-after is waited out")
    }

    /// An `overloaded_error` event before any content is retried like an HTTP 529.
    func testOverloadedEventBeforeContentIsRetried() async throws {
        let fixture = try Self.fixture("overloaded")
        let (seen, upstream) = try await run(fixture, replies: [Self.stream(fixture), Self.stream(fixture, "anthropic_retry_stream")])
        XCTAssertEqual(seen.events, ["text Hello!", "finish stop", "[DONE]"])
        XCTAssertEqual(upstream.received.count, 2)
    }

    /// Retries used up: the client gets Anthropic's error in OpenAI's shape, status kept.
    func testPersistentOverloadKeepsItsStatus() async throws {
        let fixture = try Self.fixture("overloaded")
        let error = try XCTUnwrap(fixture["anthropic_http_errors"]?.arrayValue?.first)
        let (seen, upstream) = try await run(fixture, replies: [ProviderFixtures.errorReply(error)])
        XCTAssertEqual(seen.status, 529)
        XCTAssertEqual(seen.json?["error"]?["type"], "overloaded_error")
        XCTAssertEqual(seen.json?["error"]?["message"], "Overloaded")
        XCTAssertEqual(upstream.received.count, 3, "one attempt and two retries")
    }

    func testCutStream() async throws {
        let fixture = try Self.fixture("cut_stream")
        var cut = Self.stream(fixture)
        cut.cut = true
        let (seen, _) = try await run(fixture, replies: [cut])
        XCTAssertEqual(seen.events, ["call 0 get_weather", #"args 0 {"ci"#, "error upstream_stream_cut", "[DONE]"])
    }

    /// A request the translation got wrong would be refused upstream: the fake is as strict as
    /// the API, and its 400 reaches the client with the upstream's message.
    func testFakeRefusesWhatAnthropicRefuses() async throws {
        let valid: JSONObject = try XCTUnwrap(Self.fixture("multi_turn")["anthropic_request"]?.objectValue)
        XCTAssertNil(AnthropicRules.invalid(.object(valid)))
        var broken: [(JSONObject, String)] = []
        var noMax = valid
        noMax.removeValue(forKey: "max_tokens")
        broken.append((noMax, "max_tokens: Field required"))
        var unmerged = valid
        let messages = valid["messages"]!.arrayValue!
        unmerged["messages"] = .array(messages + [["role": "user", "content": "again"]])
        broken.append((unmerged, "roles must alternate"))
        var unanswered = valid
        unanswered["messages"] = .array(Array(messages.prefix(2)) + [["role": "user", "content": "skip the results"]])
        broken.append((unanswered, "tool_use ids were found without tool_result blocks"))
        var hot = valid
        hot["temperature"] = 1.5
        broken.append((hot, "temperature"))
        for (body, expected) in broken {
            let problem = AnthropicRules.invalid(.object(body))
            XCTAssertTrue(problem?.contains(expected) == true, "\(problem ?? "accepted") lacks \(expected)")
        }
    }

    // MARK: - Models

    func testModelsAreListed() async throws {
        let upstream = try await FakeUpstream.start([.json([:])])
        defer { upstream.stop() }
        let backend = AnthropicBackend(.init(baseURL: upstream.rootURL + "/", apiKey: "k", capabilities: AnthropicBackend.defaultCapabilities), http: Self.http)
        let ids = try await backend.modelIDs()
        XCTAssertEqual(ids, ["grok-4", "grok-3-mini", "other"])
        XCTAssertFalse(backend.capabilities.strict, "the guard enforces strict schemas for Anthropic")
        let healthy = await backend.checkHealth()
        XCTAssertTrue(healthy)
    }
}
