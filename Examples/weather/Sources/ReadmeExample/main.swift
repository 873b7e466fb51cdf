import SwitchboardKit

@JSONSchema
struct WeatherQuery: Decodable {
    /// City name, e.g. Paris.
    let city: String
}

struct Weather: Tool {
    let name = "get_weather", description = "Current weather in a city."
    func call(_ query: WeatherQuery) async throws -> String { "18°C, light rain in \(query.city)." }
}
let runner = ToolRunner(client: ChatClient(baseURL: "http://127.0.0.1:8080/v1"), tools: [Weather()])
let request = ChatCompletionRequest(model: "SmolLM2-135M-Instruct.Q4_1", messages: [.user("Weather in Paris?")])
print(try await runner.run(request).answer.content ?? "")
