import ChatAPI
import JSONSchemaKit
import SwitchboardKit
import XCTest

/// SwitchboardKit's `ChatClient` against the real server on the default model: a forced tool
/// call, whole and streamed, arrives as a valid call, and both ways agree.
final class SwitchboardKitIntegrationTests: XCTestCase {
    private static let weatherSchema: JSONValue = [
        "type": "object", "additionalProperties": false, "required": ["city"],
        "properties": ["city": ["type": "string", "minLength": 1]],
    ]

    func testForcedCallWholeAndStreamed() async throws {
        let server = try self.server()
        let client = ChatClient(baseURL: "http://127.0.0.1:\(server.port)/v1")
        var request = ChatCompletionRequest(model: ServerProcess.defaultModelID,
                                            messages: [.user("What is the weather in Paris right now?")])
        request.tools = [FunctionDefinition(name: "get_weather", description: "Current weather in a city.",
                                            parameters: Self.weatherSchema)]
        request.toolChoice = .required
        request.temperature = 0
        request.maxCompletionTokens = 60

        let whole = try await client.complete(request)
        XCTAssertEqual(whole.finishReason, .toolCalls)
        let call = try XCTUnwrap(whole.toolCalls.first)
        XCTAssertEqual(call.name, "get_weather")
        let schema = try JSONSchema(json: Self.weatherSchema)
        XCTAssertTrue(schema.isValid(try JSONValue(parsing: call.arguments)), call.arguments)
        XCTAssertGreaterThan(whole.usage.promptTokens, 0)

        var aggregator = StreamAggregator()
        var chunks = 0
        for try await chunk in client.stream(request) {
            chunks += 1
            aggregator.add(chunk)
        }
        let streamed = try XCTUnwrap(aggregator.completion)
        XCTAssertGreaterThan(chunks, 2, "the call arrived in pieces")
        XCTAssertEqual(streamed.toolCalls.map(\.name), whole.toolCalls.map(\.name))
        // Not compared byte for byte with the whole answer: the second request reuses the first
        // one's cached prompt prefix, which can move a near-tie at temperature 0.
        for call in streamed.toolCalls { XCTAssertTrue(schema.isValid(try JSONValue(parsing: call.arguments)), call.arguments) }
        XCTAssertEqual(streamed.usage.promptTokens, whole.usage.promptTokens, "usage arrives in the stream too")
        XCTAssertEqual(streamed.usage.completionTokens, whole.usage.completionTokens)
    }

    struct Weather: Tool {
        struct Arguments: ToolArguments {
            let city: String
            static let jsonSchema = SwitchboardKitIntegrationTests.weatherSchema
        }
        let name = "get_weather"
        let description = "Current weather in a city."
        func call(_ arguments: Arguments) async throws -> String { "The weather in \(arguments.city): 18°C, light rain." }
    }

    /// The weather loop through `ToolRunner`: a forced call, then `none`, so the model answers
    /// from the tool's result; whole and streamed.
    func testWeatherLoopThroughToolRunner() async throws {
        let client = ChatClient(baseURL: "http://127.0.0.1:\(try server().port)/v1")
        var runner = ToolRunner(client: client, tools: [Weather()])
        runner.toolChoice = { round, _ in round == 1 ? .required : .none }
        var request = ChatCompletionRequest(model: ServerProcess.defaultModelID,
                                            messages: [.user("What is the weather in Paris right now?")])
        request.temperature = 0
        request.maxCompletionTokens = 80

        let result = try await runner.run(request)
        XCTAssertEqual(result.messages.map(\.role), [.user, .assistant, .tool, .assistant])
        let call = try XCTUnwrap(result.messages[1].toolCalls.first)
        XCTAssertEqual(call.name, "get_weather")
        XCTAssertEqual(result.messages[2].toolCallID, call.id)
        XCTAssertTrue(result.messages[2].content?.text.hasPrefix("The weather in") ?? false)
        XCTAssertEqual(result.answer.finishReason, .stop)
        XCTAssertTrue(result.answer.toolCalls.isEmpty)
        XCTAssertTrue(result.answer.content?.contains("light rain") ?? false, "the answer uses the tool's result: \(result.answer.content ?? "")")
        XCTAssertGreaterThan(result.usage.promptTokens, result.answer.usage.promptTokens, "usage of both rounds")

        // Streamed. (Not compared word for word with the run above: the second request reuses
        // the first one's cached prompt prefix, which can move a near-tie at temperature 0.)
        var trace: [String] = []
        var text = ""
        var streamedAnswer: String?
        for try await event in runner.stream(request) {
            switch event {
            case .textDelta(let delta): text += delta
            case .callStarted(let call): trace.append("start \(call.name)")
            case .callFinished(let call, _, let isError): trace.append("done \(call.name) \(isError)")
            case .roundFinished(let round): trace.append("round \(round)")
            case .finished(let streamed): streamedAnswer = streamed.answer.content
            }
        }
        XCTAssertEqual(trace, ["start get_weather", "done get_weather false", "round 1", "round 2"])
        XCTAssertEqual(text, streamedAnswer, "the text deltas are the answer")
        XCTAssertTrue(text.contains("light rain"), "the streamed answer uses the tool's result too: \(text)")
    }

    struct CityCard: Decodable, JSONSchemaConvertible {
        let city: String
        let country: String
        let population: Int
        static let jsonSchema: JSONValue = [
            "type": "object", "additionalProperties": false, "required": ["city", "country", "population"],
            "properties": ["city": ["type": "string", "maxLength": 40], "country": ["type": "string", "maxLength": 40],
                           "population": ["type": "integer", "minimum": 0]],
        ]
    }

    /// A structured answer decodes as the type asked for: the server's grammar holds the model
    /// to the type's schema.
    func testRespondAsAType() async throws {
        let client = ChatClient(baseURL: "http://127.0.0.1:\(try server().port)/v1")
        var request = ChatCompletionRequest(model: ServerProcess.defaultModelID, messages: [.user("Describe Paris.")])
        request.temperature = 0
        request.maxCompletionTokens = 120
        let card = try await client.respond(to: request, as: CityCard.self)
        XCTAssertFalse(card.city.isEmpty)
        XCTAssertGreaterThanOrEqual(card.population, 0)
    }

    func testAnInvalidRequestIsATypedError() async throws {
        let client = ChatClient(baseURL: "http://127.0.0.1:\(try server().port)/v1")
        var request = ChatCompletionRequest(model: ServerProcess.defaultModelID, messages: [.user("Hi")])
        request.temperature = 3
        do {
            _ = try await client.complete(request)
            XCTFail("no error")
        } catch let error as APIError {
            XCTAssertEqual(error.status, 400)
            XCTAssertEqual(error.type, "invalid_request_error")
            XCTAssertEqual(error.param, "temperature")
        }
    }
}
