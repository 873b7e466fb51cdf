import ChatAPI
import SwitchboardKit
import XCTest

/// SwitchboardKit's `ChatClient` against a fake OpenAI-compatible server on loopback: whole and
/// streamed answers, typed errors, retries that honour `Retry-After`, and cancellation.
final class ChatClientTests: XCTestCase {
    private let request = ChatCompletionRequest(model: "m", messages: [.user("What is the weather in Paris?")])

    private func client(_ upstream: FakeUpstream, maxRetries: Int = 2) -> ChatClient {
        ChatClient(baseURL: upstream.baseURL, apiKey: "k", retry: RetryPolicy(maxRetries: maxRetries, baseDelay: .milliseconds(10)))
    }

    func testCompleteReadsTheWholeAnswer() async throws {
        let upstream = try await FakeUpstream.start([.json(Wire.completion(calls: [("get_weather", #"{"city":"Paris"}"#)]))])
        defer { upstream.stop() }
        let completion = try await client(upstream).complete(request)
        XCTAssertEqual(completion.toolCalls, [ToolCall(id: "call_up0", name: "get_weather", arguments: #"{"city":"Paris"}"#)])
        XCTAssertEqual(completion.finishReason, .toolCalls)
        XCTAssertEqual(completion.usage, TokenUsage(promptTokens: 12, completionTokens: 7))
        XCTAssertNotEqual(upstream.received.first?["stream"], true)
        XCTAssertEqual(upstream.received.first?["model"], "m")
    }

    func testStreamYieldsChunksThenTheFinish() async throws {
        let upstream = try await FakeUpstream.start([.sse([
            Wire.role, Wire.text("It is "), Wire.text("sunny."), Wire.finish("stop"), Wire.usage,
        ])])
        defer { upstream.stop() }
        var texts: [String] = []
        var aggregator = StreamAggregator()
        for try await chunk in client(upstream).stream(request) {
            texts.append(chunk.text)
            aggregator.add(chunk)
        }
        XCTAssertEqual(texts, ["It is ", "sunny.", ""])
        XCTAssertEqual(aggregator.completion?.content, "It is sunny.")
        XCTAssertEqual(aggregator.completion?.usage, TokenUsage(promptTokens: 12, completionTokens: 7))
        XCTAssertEqual(upstream.received.first?["stream"], true)
        XCTAssertEqual(upstream.received.first?["stream_options"]?["include_usage"], true)
    }

    func testAServerErrorIsTypedAndNotRetried() async throws {
        let body: JSONValue = ["error": ["message": "Invalid 'temperature'.", "type": "invalid_request_error",
                                         "param": "temperature", "code": "invalid_value"]]
        let upstream = try await FakeUpstream.start([.json(body, status: 400)])
        defer { upstream.stop() }
        do {
            _ = try await client(upstream).complete(request)
            XCTFail("no error")
        } catch let error as APIError {
            XCTAssertEqual(error, APIError(status: 400, message: "Invalid 'temperature'.", type: "invalid_request_error",
                                           param: "temperature", code: "invalid_value"))
        }
        XCTAssertEqual(upstream.received.count, 1)
    }

    func testA429IsRetriedAfterRetryAfter() async throws {
        let limited: JSONValue = ["error": ["message": "Slow down.", "type": "rate_limit_error"]]
        let upstream = try await FakeUpstream.start([
            .json(limited, status: 429, headers: ["Retry-After": "1"]),
            .json(Wire.completion(content: "Hello.")),
        ])
        defer { upstream.stop() }
        let started = ContinuousClock.now
        let completion = try await client(upstream).complete(request)
        XCTAssertEqual(completion.content, "Hello.")
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(1), "Retry-After is waited out")
        XCTAssertEqual(upstream.received.count, 2)
    }

    func testRetriesRunOut() async throws {
        let upstream = try await FakeUpstream.start([.json(["error": ["message": "Overloaded."]], status: 503)])
        defer { upstream.stop() }
        do {
            _ = try await client(upstream, maxRetries: 2).complete(request)
            XCTFail("no error")
        } catch let error as APIError {
            XCTAssertEqual(error.status, 503)
            XCTAssertEqual(error.type, "server_error")
        }
        XCTAssertEqual(upstream.received.count, 3, "the first attempt and two retries")
    }

    func testARefusedConnectionIsRetriedThenThrown() async throws {
        let client = ChatClient(baseURL: "http://127.0.0.1:\(try closedPort())/v1",
                                retry: RetryPolicy(maxRetries: 1, baseDelay: .milliseconds(10)))
        do {
            _ = try await client.complete(request)
            XCTFail("no error")
        } catch {
            XCTAssertFalse(error is APIError, "a transport failure, not a server's answer: \(error)")
        }
    }

    struct Card: Decodable, JSONSchemaConvertible {
        let city: String
        static let jsonSchema: JSONValue = ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]
    }

    func testRespondAsATypeAsksForItsSchemaAndDecodes() async throws {
        let upstream = try await FakeUpstream.start([.json(Wire.completion(content: #"{"city":"Paris"}"#)),
                                                     .json(Wire.completion(content: "Paris is nice."))])
        defer { upstream.stop() }
        let card = try await client(upstream).respond(to: request, as: Card.self)
        XCTAssertEqual(card.city, "Paris")
        let format = upstream.received.first?["response_format"]
        XCTAssertEqual(format?["type"], "json_schema")
        XCTAssertEqual(format?["json_schema"]?["name"], "Card")
        XCTAssertEqual(format?["json_schema"]?["strict"], true)
        XCTAssertEqual(format?["json_schema"]?["schema"], Card.jsonSchema)
        do {
            _ = try await client(upstream).respond(to: request, as: Card.self)
            XCTFail("a prose answer decoded")
        } catch let error as StructuredAnswerError {
            XCTAssertEqual(error.text, "Paris is nice.")
        }
    }

    func testStoppingTheStreamCancelsTheRequest() async throws {
        let upstream = try await FakeUpstream.start([FakeReply(headers: ["Content-Type": "text/event-stream"],
                                                               pieces: [SSE.event(Wire.text("a"))], trickle: 200)])
        defer { upstream.stop() }
        var received = 0
        for try await chunk in client(upstream).stream(request) where !chunk.text.isEmpty {
            received += 1
            if received == 3 { break }
        }
        // The fake notices on its next write, 50 ms later.
        for _ in 0..<100 where upstream.clientDisconnects == 0 { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertEqual(upstream.clientDisconnects, 1, "leaving the loop closed the connection")
    }
}
