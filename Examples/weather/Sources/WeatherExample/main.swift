// The function-calling loop against a running Switchboard (`make serve`) with SwitchboardKit:
// a typed tool whose schema @JSONSchema derives, and ToolRunner running the calls.
//
//   swift run --package-path Examples/weather WeatherExample [BASE_URL] [MODEL]
//   (defaults: http://127.0.0.1:8080/v1 and the embedded SmolLM2 model)
import SwitchboardKit

@JSONSchema
struct WeatherQuery: Decodable {
    /// City name, e.g. Paris.
    let city: String
    let unit: TemperatureUnit
}

@JSONSchema
enum TemperatureUnit: String, Decodable {
    case celsius, fahrenheit
}

struct Weather: Tool {
    let name = "get_weather"
    let description = "Get the current weather for a city."

    struct Report: Encodable {
        let city: String, temperature: Int, unit: String, condition: String
    }

    func call(_ query: WeatherQuery) async throws -> Report {
        let celsius = 8 + query.city.unicodeScalars.reduce(0) { ($0 + Int($1.value)) % 17 }
        let temperature = query.unit == .fahrenheit ? celsius * 9 / 5 + 32 : celsius
        return Report(city: query.city, temperature: temperature, unit: query.unit.rawValue, condition: "cloudy")
    }
}

let arguments = CommandLine.arguments
let client = ChatClient(baseURL: arguments.count > 1 ? arguments[1] : "http://127.0.0.1:8080/v1")
var runner = ToolRunner(client: client, tools: [Weather()])
// A 135M model seldom decides to call on its own, so the first round requires a call and the
// second asks for a text answer; with a larger model `auto` on every round is the usual loop.
runner.toolChoice = { round, _ in round == 1 ? .required : .none }

var request = ChatCompletionRequest(
    model: arguments.count > 2 ? arguments[2] : "SmolLM2-135M-Instruct.Q4_1",
    messages: [.system("You are a helpful assistant. Use the tools when they help."),
               .user("What is the weather in Paris right now, in celsius?")])
request.temperature = 0
for try await event in runner.stream(request) {
    switch event {
    case .callStarted(let call): print("model calls \(call.name)(\(call.arguments))")
    case .callFinished(_, let output, _): print("     result \(output)")
    case .finished(let result): print("answer: \(result.answer.content ?? "")")
    default: break
    }
}
