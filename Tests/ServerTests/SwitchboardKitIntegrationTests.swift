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
        XCTAssertEqual(streamed.toolCalls.map(\.arguments), whole.toolCalls.map(\.arguments), "temperature 0: the same call")
        XCTAssertEqual(streamed.usage.promptTokens, whole.usage.promptTokens, "usage arrives in the stream too")
        XCTAssertEqual(streamed.usage.completionTokens, whole.usage.completionTokens)
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
