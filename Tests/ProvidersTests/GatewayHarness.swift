import ChatAPI
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import Server
import XCTest

/// What the client saw: the HTTP status, the `x-switchboard-guard` header, and the events
/// in order, each as a short line.
struct Seen: Sendable {
    var status: Int
    var guardHeader: String?
    var events: [String]
    var json: JSONValue?
}

/// A real server and gateway in process, for tests that talk HTTP to it as a client would.
extension XCTestCase {
    /// Runs `requests` through a gateway serving `routes`; with `metrics`, also returns what
    /// `GET /metrics` said afterwards.
    func gateway(_ routes: [Route], _ requests: [JSONValue], metrics: PrometheusCollectorRegistry? = nil) async throws -> [Seen] {
        let router = ModelRouter(routes: routes, compileExecutor: CompileExecutor(),
                                 metrics: GatewayMetrics(factory: PrometheusMetricsFactory(registry: metrics ?? PrometheusCollectorRegistry())))
        var configuration = ServerConfiguration()
        configuration.port = 0
        let app = SwitchboardServer.makeApplication(models: router, configuration: configuration, metrics: metrics,
                                                    logger: quietLogger)
        return try await app.test(.live) { client in
            var seen: [Seen] = []
            for request in requests {
                let response = try await client.execute(
                    uri: "/v1/chat/completions", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: request.serialized()))
                seen.append(Self.seen(response))
            }
            if metrics != nil {
                let response = try await client.execute(uri: "/metrics", method: .get)
                seen.append(Seen(status: Int(response.status.code), guardHeader: nil,
                                 events: String(buffer: response.body).split(separator: "\n").map(String.init), json: nil))
            }
            return seen
        }
    }

    func gateway(_ routes: [Route], _ request: JSONValue) async throws -> Seen {
        try await gateway(routes, [request])[0]
    }

    static func seen(_ response: TestResponse) -> Seen {
        let text = String(buffer: response.body)
        let guardHeader = response.headers[HTTPField.Name(GuardReport.headerName)!]
        guard response.headers[.contentType]?.hasPrefix("text/event-stream") == true else {
            let json = try? JSONParser.parse(text)
            var events: [String] = []
            if let error = json?["error"] {
                events.append("error \(error["code"]?.stringValue ?? "-")")
            } else if let message = json?["choices"]?.arrayValue?.first?["message"] {
                if let reasoning = message["reasoning_content"]?.stringValue { events.append("reasoning \(reasoning)") }
                if let signature = message["reasoning_signature"]?.stringValue { events.append("signature \(signature)") }
                if let content = message["content"]?.stringValue, !content.isEmpty { events.append("text \(content)") }
                for (i, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
                    events.append("call \(i) \(call["function"]?["name"]?.stringValue ?? "?") \(call["function"]?["arguments"]?.stringValue ?? "?")")
                }
                events.append("finish \(json?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue ?? "-")")
            }
            return Seen(status: Int(response.status.code), guardHeader: guardHeader, events: events, json: json)
        }
        var sse = SSEDecoder()
        var events: [String] = []
        for data in (try? sse.feed(Array(text.utf8))) ?? [] {
            if data == "[DONE]" { events.append("[DONE]"); continue }
            guard let chunk = try? JSONParser.parse(data) else { events.append("unparsable"); continue }
            if let error = chunk["error"] { events.append("error \(error["code"]?.stringValue ?? "-")"); continue }
            guard let choice = chunk["choices"]?.arrayValue?.first else { continue }
            if let reasoning = choice["delta"]?["reasoning_content"]?.stringValue { events.append("reasoning \(reasoning)") }
            if let signature = choice["delta"]?["reasoning_signature"]?.stringValue { events.append("signature \(signature)") }
            if let content = choice["delta"]?["content"]?.stringValue, !content.isEmpty { events.append("text \(content)") }
            for call in choice["delta"]?["tool_calls"]?.arrayValue ?? [] {
                let index = call["index"]?.intValue ?? -1
                if let name = call["function"]?["name"]?.stringValue { events.append("call \(index) \(name)") }
                if let fragment = call["function"]?["arguments"]?.stringValue, !fragment.isEmpty { events.append("args \(index) \(fragment)") }
            }
            if let finish = choice["finish_reason"]?.stringValue { events.append("finish \(finish)") }
        }
        return Seen(status: Int(response.status.code), guardHeader: guardHeader, events: events, json: nil)
    }
}
