// The classic function-calling loop against a running Switchboard (`make serve`), using only
// HTTP and ChatAPI's JSON types: send the tools, receive a call, run the local function, send
// the `tool` message back, print the final answer.
//
//   swift run WeatherExample [BASE_URL] [MODEL]
//   (defaults: http://127.0.0.1:8080/v1 and the embedded SmolLM2 model)
import ChatAPI
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

let arguments = CommandLine.arguments
let baseURL = arguments.count > 1 ? arguments[1] : "http://127.0.0.1:8080/v1"
let model = arguments.count > 2 ? arguments[2] : "SmolLM2-135M-Instruct.Q4_1"

/// The local function the model may call.
func getWeather(city: String, unit: String) -> JSONValue {
    let celsius = 8 + city.unicodeScalars.reduce(0) { ($0 + Int($1.value)) % 17 }
    let temperature = unit == "fahrenheit" ? celsius * 9 / 5 + 32 : celsius
    return ["city": .string(city), "temperature": .int(temperature), "unit": .string(unit), "condition": "cloudy"]
}

let weatherTool: JSONValue = [
    "type": "function",
    "function": [
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "strict": true,
        "parameters": [
            "type": "object",
            "properties": ["city": ["type": "string"], "unit": ["type": "string", "enum": ["celsius", "fahrenheit"]]],
            "required": ["city", "unit"],
            "additionalProperties": false,
        ],
    ],
]

/// POST /chat/completions and return the first choice's message and finish reason.
func complete(_ messages: [JSONValue], toolChoice: JSONValue) async throws -> (message: JSONObject, finish: String) {
    let body: JSONValue = ["model": .string(model), "messages": .array(messages), "tools": [weatherTool],
                           "tool_choice": toolChoice, "temperature": 0, "max_tokens": 200]
    var request = URLRequest(url: URL(string: baseURL + "/chat/completions")!)
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = Data(body.serialized().utf8)
    let (data, response) = try await URLSession.shared.data(for: request)
    let json = try JSONParser.parse(data)
    guard (response as? HTTPURLResponse)?.statusCode == 200,
          let choice = json["choices"]?.arrayValue?.first, let message = choice["message"]?.objectValue else {
        throw NSError(domain: "weather", code: 1, userInfo: [NSLocalizedDescriptionKey: "server said: \(json.serialized())"])
    }
    return (message, choice["finish_reason"]?.stringValue ?? "")
}

var messages: [JSONValue] = [
    ["role": "system", "content": "You are a helpful assistant. Use the tools when they help."],
    ["role": "user", "content": "What is the weather in Paris right now, in celsius?"],
]
// A 135M model seldom decides to call on its own, so the first turn requires a call, and once
// it has the results it is asked to answer in text; with a larger model "auto" on every turn
// is the usual loop.
for (round, choice) in [JSONValue.string("required"), "none"].enumerated() {
    let (message, finish) = try await complete(messages, toolChoice: choice)
    messages.append(.object(message))
    let calls = message["tool_calls"]?.arrayValue ?? []
    guard finish == "tool_calls", !calls.isEmpty else {
        print("answer: \(message["content"]?.stringValue ?? "")")
        break
    }
    for call in calls {
        let id = call["id"]?.stringValue ?? ""
        let function = call["function"] ?? .null
        let name = function["name"]?.stringValue ?? ""
        let args = try JSONValue(parsing: function["arguments"]?.stringValue ?? "{}")
        print("round \(round + 1): model calls \(name)(\(args.serialized()))")
        let result = getWeather(city: args["city"]?.stringValue ?? "", unit: args["unit"]?.stringValue ?? "celsius")
        print("          result \(result.serialized())")
        messages.append(["role": "tool", "tool_call_id": .string(id), "content": .string(result.serialized())])
    }
}
