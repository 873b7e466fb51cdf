import ChatAPI
import Foundation
import Gateway
import Providers
import XCTest

/// Gemini routes end to end: a client talks OpenAI's API to the real server, whose gateway
/// routes `gemini-*` to the Gemini adapter, which talks to a fake Gemini API on loopback. The
/// fake refuses what Gemini refuses (`GeminiRules`) and replays the fixtures' wire text; each
/// test states the exact events the client sees.
final class GeminiRouteTests: XCTestCase {
    static let http = UpstreamHTTPClient(environment: [:])

    static func route(_ upstream: FakeUpstream, retries: Int = 2) -> Route {
        Route("gemini-*", backends: [GeminiBackend(.init(baseURL: upstream.rootURL, apiKey: "gemini-test-secret",
                                                         capabilities: GeminiBackend.defaultCapabilities), http: http)],
              retry: RetryPolicy(maxRetries: retries, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50)),
              timeout: .seconds(20))
    }

    static func fixture(_ name: String) throws -> JSONValue { try GeminiFixtureTests.fixture(name) }

    static func stream(_ fixture: JSONValue, _ key: String = "gemini_stream") -> FakeReply { ProviderFixtures.streamReply(fixture[key]) }

    /// The fixture's request through the gateway; checks the fake got exactly the body expected.
    func run(_ fixture: JSONValue, replies: [FakeReply], stream: Bool? = nil,
             change: (inout JSONObject) -> Void = { _ in }) async throws -> (Seen, FakeUpstream) {
        let upstream = try await FakeUpstream.start(replies)
        var request = try XCTUnwrap(fixture["openai_request"]?.objectValue)
        if let stream { request["stream"] = .bool(stream) }
        change(&request)
        let seen = try await gateway([Self.route(upstream)], [.object(request)])[0]
        upstream.stop()
        if stream == nil, let expected = fixture["gemini_request"] {
            XCTAssertEqual(upstream.received.first.map(ProviderFixtures.canonical), ProviderFixtures.canonical(expected))
        }
        return (seen, upstream)
    }

    /// The generated id of the first call the client saw (Gemini gave none).
    static func firstCallID(_ seen: Seen) -> String? {
        seen.json?["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first?["id"]?.stringValue
    }

    // MARK: - Wire formats

    func testStreamedCallArrivesWholeAfterText() async throws {
        let fixture = try Self.fixture("single_call")
        let (seen, _) = try await run(fixture, replies: [Self.stream(fixture)])
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, ["text Checking ", "text now.", "call 0 get_weather", #"args 0 {"city":"Le Havre"}"#,
                                     "finish tool_calls", "[DONE]"])
        XCTAssertEqual(seen.guardHeader, "checked")
    }

    /// Ids are generated per request: two answers never share one, so tool results find their call.
    func testGeneratedCallIDsAreUnique() async throws {
        let fixture = try Self.fixture("single_call")
        let reply = FakeReply.json(try XCTUnwrap(fixture["gemini_response"]))
        let (first, _) = try await run(fixture, replies: [reply], stream: false)
        let (second, _) = try await run(fixture, replies: [reply], stream: false)
        let ids = [Self.firstCallID(first), Self.firstCallID(second)].compactMap { $0 }
        XCTAssertEqual(ids.count, 2)
        XCTAssertNotEqual(ids[0], ids[1])
        XCTAssertTrue(ids.allSatisfy { $0.hasPrefix("call_") && $0.count > 12 }, "\(ids)")
    }

    func testWholeAnswerWithParallelCalls() async throws {
        let fixture = try Self.fixture("parallel_calls")
        let (seen, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["gemini_response"]))])
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, ["text Checking both.", #"call 0 get_weather {"city":"Paris","days":2}"#, "call 1 get_time {}",
                                     "finish tool_calls"])
        XCTAssertEqual(seen.json?["usage"]?["prompt_tokens"], 40)
        XCTAssertEqual(seen.json?["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.last?["id"], "fc_7")
    }

    /// Gemini cannot be told `parallel_tool_calls: false`: the field is not sent, and a second
    /// call is refused by the guard (as for every upstream) instead of reaching the client.
    func testParallelCallsFalseIsEnforced() async throws {
        let fixture = try Self.fixture("parallel_calls")
        let (seen, upstream) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["gemini_response"]))], stream: false) {
            $0["parallel_tool_calls"] = false
        }
        XCTAssertEqual(seen.status, 502)
        XCTAssertEqual(seen.events, ["error upstream_invalid_tool_call"])
        XCTAssertEqual(upstream.received.first.map(ProviderFixtures.canonical),
                       ProviderFixtures.canonical(try XCTUnwrap(fixture["gemini_request"])), "nothing about parallel calls is sent")
    }

    func testNamedChoiceWithZeroArgumentTool() async throws {
        let fixture = try Self.fixture("named_choice")
        let (seen, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["gemini_response"]))])
        XCTAssertEqual(seen.events, ["call 0 get_time {}", "finish tool_calls"])
        XCTAssertEqual(seen.json?["usage"]?["completion_tokens"], 5)
    }

    /// Two results for two calls, an error result and a follow-up: the strict fake accepts the
    /// translated conversation.
    func testMultiTurnLoopIsAcceptedUpstream() async throws {
        let fixture = try Self.fixture("multi_turn")
        let (seen, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["gemini_response"]))])
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events, ["text Paris is sunny; Rome is unknown.", "finish stop"])
    }

    /// Thoughts and the call's signature reach the client; the signature sent back returns on
    /// that turn's call (the fixture's request body says where).
    func testThinkingWithTools() async throws {
        let fixture = try Self.fixture("thinking_tools")
        let (seen, _) = try await run(fixture, replies: [Self.stream(fixture)])
        XCTAssertEqual(seen.events, ["reasoning Tomorrow means days=2.", "signature Cs4BAVSoXO8=", "call 0 get_weather",
                                     #"args 0 {"city":"Paris","days":2}"#, "finish tool_calls", "[DONE]"])
        let (whole, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["gemini_response"]))], stream: false)
        XCTAssertEqual(whole.json?["choices"]?.arrayValue?.first?["message"]?["reasoning_content"], "Tomorrow means days=2.")
        XCTAssertEqual(whole.json?["choices"]?.arrayValue?.first?["message"]?["reasoning_signature"], "Cs4BAVSoXO8=")
        XCTAssertEqual(whole.json?["usage"]?["completion_tokens"], 40, "thought tokens count as completion tokens")
    }

    /// The converted schema is accepted upstream; the guard holds the answer to the original.
    func testConvertedSchemaIsAcceptedAndTheOriginalEnforced() async throws {
        let fixture = try Self.fixture("schema_conversion")
        let (seen, _) = try await run(fixture, replies: [.json(try XCTUnwrap(fixture["gemini_response"]))])
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.events.first, #"call 0 book {"place":{"city":"Paris","ref":7},"unit":null,"guests":2,"mode":"fast","when":"2026-12-05T19:00:00Z","email":"a@b.co","tags":["window"]}"#)
        // Arguments Gemini's schema allows but the original does not (guests must be > 0):
        // the guard refuses them rather than pass them on.
        let broken = try JSONParser.parse(try XCTUnwrap(fixture["gemini_response"]).serialized()
            .replacingOccurrences(of: #""guests":2"#, with: #""guests":0"#))
        let (refused, _) = try await run(fixture, replies: [.json(broken)], stream: false)
        XCTAssertEqual(refused.status, 502, "\(refused.events)")
    }

    // MARK: - Faults

    func testRateLimitedThenUnavailableAreRetried() async throws {
        let fixture = try Self.fixture("rate_limited")
        let errors = try XCTUnwrap(fixture["gemini_http_errors"]?.arrayValue)
        let started = ContinuousClock.now
        let (seen, upstream) = try await run(fixture, replies: errors.map(ProviderFixtures.errorReply) + [Self.stream(fixture, "gemini_retry_stream")])
        XCTAssertEqual(seen.events, ["text Hello!", "finish stop", "[DONE]"])
        XCTAssertEqual(upstream.received.count, 3)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(1), "the 429's retry-after is waited out")
    }

    /// An error event before any content is retried like the HTTP status it names.
    func testErrorEventBeforeContentIsRetried() async throws {
        let fixture = try Self.fixture("rate_limited")
        let (seen, upstream) = try await run(fixture, replies: [Self.stream(fixture), Self.stream(fixture, "gemini_retry_stream")])
        XCTAssertEqual(seen.events, ["text Hello!", "finish stop", "[DONE]"])
        XCTAssertEqual(upstream.received.count, 2)
    }

    /// Retries used up: the client gets Google's error in OpenAI's shape, status kept.
    func testPersistentRateLimitKeepsItsStatus() async throws {
        let fixture = try Self.fixture("rate_limited")
        let error = try XCTUnwrap(fixture["gemini_http_errors"]?.arrayValue?.last)
        let (seen, upstream) = try await run(fixture, replies: [ProviderFixtures.errorReply(error)], stream: false)
        XCTAssertEqual(seen.status, 503)
        XCTAssertEqual(seen.json?["error"]?["code"], "UNAVAILABLE")
        XCTAssertEqual(seen.json?["error"]?["message"], "The model is overloaded. Please try again later.")
        XCTAssertEqual(upstream.received.count, 3, "one attempt and two retries")
    }

    func testCutStream() async throws {
        let fixture = try Self.fixture("cut_stream")
        var cut = Self.stream(fixture)
        cut.cut = true
        let (seen, _) = try await run(fixture, replies: [cut])
        XCTAssertEqual(seen.events, ["text Let me check.", "error upstream_stream_cut", "[DONE]"])
    }

    /// A request the translation got wrong would be refused upstream: the fake is as strict as
    /// the API, and its 400 reaches the client with the upstream's message.
    func testFakeRefusesWhatGeminiRefuses() async throws {
        let valid = try XCTUnwrap(Self.fixture("multi_turn")["gemini_request"]?.objectValue)
        XCTAssertNil(GeminiRules.invalid(.object(valid)))
        XCTAssertNil(GeminiRules.invalid(try XCTUnwrap(Self.fixture("schema_conversion")["gemini_request"])))
        let contents = try XCTUnwrap(valid["contents"]?.arrayValue)
        var broken: [(JSONObject, String)] = []
        var unanswered = valid
        unanswered["contents"] = .array(Array(contents.prefix(2)) + [["role": "user", "parts": [["text": "skip the results"]]]])
        broken.append((unanswered, "number of function response parts"))
        var assistant = valid
        assistant["contents"] = .array([["role": "assistant", "parts": [["text": "hi"]]]])
        broken.append((assistant, "valid role"))
        var unknown = valid
        unknown["parallel_tool_calls"] = false
        broken.append((unknown, #"Unknown name "parallel_tool_calls""#))
        var loose = valid
        loose["tools"] = [["functionDeclarations": [["name": "f", "parameters": ["type": "object", "properties": ["a": ["type": "string"]],
                                                                                 "additionalProperties": false]]]]]
        loose.removeValue(forKey: "toolConfig")
        broken.append((loose, #"Unknown name "additionalProperties""#))
        for (body, expected) in broken {
            let problem = GeminiRules.invalid(.object(body))
            XCTAssertTrue(problem?.contains(expected) == true, "\(problem ?? "accepted") lacks \(expected)")
        }
        // Through the gateway, an upstream 400 keeps its status and message.
        let upstream = try await FakeUpstream.start([.json([:])])
        defer { upstream.stop() }
        let backend = GeminiBackend(.init(baseURL: upstream.rootURL, apiKey: nil, capabilities: GeminiBackend.defaultCapabilities), http: Self.http)
        let seen = try await gateway([Route("gemini-*", backends: [backend])], ["model": "gemini-x", "messages": [["role": "user", "content": "Hi"]]])
        XCTAssertEqual(seen.status, 403)
        XCTAssertEqual(seen.json?["error"]?["code"], "PERMISSION_DENIED")
    }

    // MARK: - Models

    func testModelsAreListed() async throws {
        let upstream = try await FakeUpstream.start([.json([:])])
        defer { upstream.stop() }
        let backend = GeminiBackend(.init(baseURL: upstream.rootURL + "/", apiKey: "k", capabilities: GeminiBackend.defaultCapabilities), http: Self.http)
        let ids = try await backend.modelIDs()
        XCTAssertEqual(ids, ["gemini-2.5-flash", "gemini-2.5-pro"])
        XCTAssertFalse(backend.capabilities.parallelToolCalls, "the guard enforces parallel_tool_calls for Gemini")
        XCTAssertFalse(backend.capabilities.strict, "the guard enforces strict schemas for Gemini")
        let healthy = await backend.checkHealth()
        XCTAssertTrue(healthy)
    }
}
