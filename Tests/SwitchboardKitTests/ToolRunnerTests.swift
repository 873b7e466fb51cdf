import ChatAPI
import Synchronization
import SwitchboardKit
import XCTest

/// `ToolRunner` over a scripted backend: calls of one turn overlap, rounds are capped, approval
/// can deny or substitute, tool errors and bad arguments are fed back, results keep call order,
/// and a forced `tool_choice` holds for the first round only.
final class ToolRunnerTests: XCTestCase {
    /// Answers each request with the next scripted answer (the last repeats), streamed as the
    /// events a server would send; records the requests.
    final class ScriptedBackend: ChatCompleting {
        private let script: Mutex<[ChatCompletion]>
        private let sent = Mutex<[ChatCompletionRequest]>([])
        var requests: [ChatCompletionRequest] { sent.withLock { $0 } }

        init(_ answers: [ChatCompletion]) { script = Mutex(answers) }

        func stream(_ request: ChatCompletionRequest) -> AsyncThrowingStream<ChatStreamChunk, Error> {
            sent.withLock { $0.append(request) }
            let answer = script.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
            return AsyncThrowingStream { continuation in
                for event in answer.events { continuation.yield(ChatStreamChunk(id: "chatcmpl-s", model: "m", events: [event])) }
                continuation.finish()
            }
        }
    }

    static func answer(_ text: String) -> ChatCompletion {
        ChatCompletion(identity: CompletionIdentity(id: "chatcmpl-s", created: 1, model: "m"), content: text,
                       finishReason: .stop, usage: TokenUsage(promptTokens: 10, completionTokens: 2))
    }

    static func calls(_ calls: [(String, String)]) -> ChatCompletion {
        ChatCompletion(identity: CompletionIdentity(id: "chatcmpl-s", created: 1, model: "m"), content: nil,
                       toolCalls: calls.enumerated().map { ToolCall(id: "call_\($0)", name: $1.0, arguments: $1.1) },
                       finishReason: .toolCalls, usage: TokenUsage(promptTokens: 10, completionTokens: 5))
    }

    struct CityArguments: ToolArguments {
        let city: String
        static let jsonSchema: JSONValue = ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]
    }

    /// Counts how many of its calls run at once.
    final class Gauge: Sendable {
        private let state = Mutex((now: 0, most: 0, calls: 0))
        var most: Int { state.withLock { $0.most } }
        var calls: Int { state.withLock { $0.calls } }
        func enter() { state.withLock { $0.now += 1; $0.calls += 1; $0.most = max($0.most, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
    }

    struct SlowWeather: Tool {
        let gauge: Gauge
        var name = "get_weather"
        var description = "Current weather in a city."
        var runsAlone = false
        func call(_ arguments: CityArguments) async throws -> String {
            gauge.enter()
            defer { gauge.leave() }
            try await Task.sleep(for: .milliseconds(300))
            return "Sunny in \(arguments.city)."
        }
    }

    struct Thermostat: Tool {
        struct Arguments: ToolArguments {
            let celsius: Int
            static let jsonSchema: JSONValue = ["type": "object", "properties": ["celsius": ["type": "integer"]], "required": ["celsius"]]
        }
        struct Reading: Encodable, Sendable { let set: Int; let unit: String }
        let gauge: Gauge
        let name = "set_thermostat"
        let description = "Set the thermostat."
        var needsApproval: Bool { true }
        func call(_ arguments: Arguments) async throws -> Reading {
            gauge.enter()
            gauge.leave()
            return Reading(set: arguments.celsius, unit: "C")
        }
    }

    struct Broken: Tool {
        let name = "broken"
        let description = "Always fails."
        struct Failure: Error, CustomStringConvertible { var description: String { "the sensor is offline" } }
        func call(_ arguments: CityArguments) async throws -> String { throw Failure() }
    }

    private let ask = ChatCompletionRequest(model: "m", messages: [.user("Weather in Paris and Tokyo?")])

    func testCallsOfOneTurnOverlapAndKeepTheirOrder() async throws {
        let gauge = Gauge()
        let backend = ScriptedBackend([Self.calls([("get_weather", #"{"city":"Paris"}"#), ("get_weather", #"{"city":"Tokyo"}"#)]),
                                       Self.answer("Sunny in both.")])
        let result = try await ToolRunner(client: backend, tools: [SlowWeather(gauge: gauge)]).run(ask)
        XCTAssertEqual(gauge.most, 2, "the two calls ran at once")
        let results = result.messages.filter { $0.role == .tool }
        XCTAssertEqual(results.map(\.toolCallID), ["call_0", "call_1"])
        XCTAssertEqual(results.map(\.content?.text), ["Sunny in Paris.", "Sunny in Tokyo."])
        XCTAssertEqual(result.answer.content, "Sunny in both.")
        XCTAssertEqual(result.usage, TokenUsage(promptTokens: 20, completionTokens: 7))
        XCTAssertEqual(backend.requests.first?.tools.map(\.name), ["get_weather"], "the tools are declared for the model")
    }

    func testToolsThatRunAloneAndRequestsWithoutParallelCallsDoNotOverlap() async throws {
        let script = [Self.calls([("get_weather", #"{"city":"Paris"}"#), ("get_weather", #"{"city":"Tokyo"}"#)]), Self.answer("Done.")]
        let alone = Gauge()
        _ = try await ToolRunner(client: ScriptedBackend(script), tools: [SlowWeather(gauge: alone, runsAlone: true)]).run(ask)
        XCTAssertEqual(alone.most, 1)
        let sequential = Gauge()
        var request = ask
        request.parallelToolCalls = false
        _ = try await ToolRunner(client: ScriptedBackend(script), tools: [SlowWeather(gauge: sequential)]).run(request)
        XCTAssertEqual(sequential.most, 1)
        XCTAssertEqual(sequential.calls, 2)
    }

    func testRoundsAreCapped() async throws {
        let gauge = Gauge()
        let backend = ScriptedBackend([Self.calls([("get_weather", #"{"city":"Paris"}"#)])])
        var runner = ToolRunner(client: backend, tools: [SlowWeather(gauge: gauge)])
        runner.maxRounds = 3
        let result = try await runner.run(ask)
        XCTAssertEqual(backend.requests.count, 3)
        XCTAssertEqual(gauge.calls, 2, "the last round's calls are not run")
        XCTAssertEqual(result.answer.finishReason, .toolCalls)
    }

    func testApprovalDeniesOrSubstitutes() async throws {
        let script = [Self.calls([("set_thermostat", #"{"celsius":30}"#)]), Self.answer("OK.")]
        let gauge = Gauge()
        let denied = try await ToolRunner(client: ScriptedBackend(script), tools: [Thermostat(gauge: gauge)],
                                          approve: { _ in .deny(reason: "too warm") }).run(ask)
        XCTAssertEqual(gauge.calls, 0)
        XCTAssertEqual(denied.messages.last { $0.role == .tool }?.content?.text, "The call was not approved: too warm")
        let substituted = try await ToolRunner(client: ScriptedBackend(script), tools: [Thermostat(gauge: gauge)],
                                               approve: { _ in .substitute(output: "Set to 21 instead.") }).run(ask)
        XCTAssertEqual(gauge.calls, 0)
        XCTAssertEqual(substituted.messages.last { $0.role == .tool }?.content?.text, "Set to 21 instead.")
        let approved = try await ToolRunner(client: ScriptedBackend(script), tools: [Thermostat(gauge: gauge)],
                                            approve: { call in call.name == "set_thermostat" ? .approve : .deny(reason: "?") }).run(ask)
        XCTAssertEqual(gauge.calls, 1)
        XCTAssertEqual(approved.messages.last { $0.role == .tool }?.content?.text, #"{"set":30,"unit":"C"}"#, "Encodable output as JSON")
    }

    func testFailuresAreFedBackToTheModel() async throws {
        let backend = ScriptedBackend([
            Self.calls([("broken", #"{"city":"Paris"}"#), ("get_weather", #"{"town":"Paris"}"#), ("nowhere", "{}")]),
            Self.answer("Sorry."),
        ])
        var finished: [(String, Bool)] = []
        for try await event in ToolRunner(client: backend, tools: [Broken(), SlowWeather(gauge: Gauge())]).stream(ask) {
            if case .callFinished(_, let output, let isError) = event { finished.append((output, isError)) }
        }
        XCTAssertEqual(finished.count, 3)
        XCTAssertTrue(finished.allSatisfy { $0.1 }, "all three failed")
        let results = backend.requests[1].messages.filter { $0.role == .tool }.compactMap(\.content?.text)
        XCTAssertEqual(results[0], "Error: the sensor is offline")
        XCTAssertEqual(results[1], "Error: The arguments of 'get_weather' are invalid: 'city' is missing.")
        XCTAssertTrue(results[2].hasPrefix("Error: there is no tool named 'nowhere'"), results[2])
    }

    func testAForcedChoiceHoldsForTheFirstRoundOnly() async throws {
        let backend = ScriptedBackend([Self.calls([("get_weather", #"{"city":"Paris"}"#)]), Self.answer("Sunny.")])
        var request = ask
        request.tools = [SlowWeather(gauge: Gauge()).definition]
        request.toolChoice = .required
        _ = try await ToolRunner(client: backend, tools: [SlowWeather(gauge: Gauge())]).run(request)
        XCTAssertEqual(backend.requests.map(\.toolChoice), [.required, .auto])
        // A choice per round, as the caller picks it.
        let chosen = ScriptedBackend([Self.calls([("get_weather", #"{"city":"Paris"}"#)]), Self.answer("Sunny.")])
        var runner = ToolRunner(client: chosen, tools: [SlowWeather(gauge: Gauge())])
        runner.toolChoice = { round, _ in round == 1 ? .required : .none }
        _ = try await runner.run(ask)
        XCTAssertEqual(chosen.requests.map(\.toolChoice), [.required, .none])
    }

    func testStreamedEventsComeInOrder() async throws {
        let backend = ScriptedBackend([Self.calls([("get_weather", #"{"city":"Paris"}"#)]), Self.answer("Sunny in Paris.")])
        var trace: [String] = []
        for try await event in ToolRunner(client: backend, tools: [SlowWeather(gauge: Gauge())]).stream(ask) {
            switch event {
            case .textDelta(let text): trace.append("text \(text)")
            case .callStarted(let call): trace.append("start \(call.name)")
            case .callFinished(let call, let output, _): trace.append("done \(call.name): \(output)")
            case .roundFinished(let round): trace.append("round \(round)")
            case .finished: trace.append("finished")
            }
        }
        XCTAssertEqual(trace, ["start get_weather", "done get_weather: Sunny in Paris.", "round 1", "text Sunny in Paris.", "round 2", "finished"])
    }
}
