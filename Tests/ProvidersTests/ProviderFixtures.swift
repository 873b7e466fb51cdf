import ChatAPI
import Foundation
import Gateway
import Providers
import XCTest

/// The wire-format fixtures of `Fixtures/<provider>/` (one file per scenario, written from the
/// provider's API reference) and the one way every provider's tests write events in them.
enum ProviderFixtures {
    /// Every fixture file of `provider`, by name.
    static func all(_ provider: String) throws -> [(name: String, json: JSONValue)] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(provider)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            (name, try JSONParser.parse(String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)))
        }
    }

    static func named(_ name: String, of provider: String) throws -> JSONValue {
        try XCTUnwrap(all(provider).first { $0.name == name + ".json" }?.json)
    }

    /// A fixture's stream lines as the SSE text the provider sends.
    static func sseText(_ lines: JSONValue?) -> String {
        (lines?.arrayValue ?? []).compactMap(\.stringValue).map { $0 + "\n" }.joined()
    }

    /// A fixture's stream as a fake upstream sends it: one write per SSE event.
    static func streamReply(_ lines: JSONValue?) -> FakeReply {
        FakeReply(headers: ["Content-Type": "text/event-stream"],
                  pieces: sseText(lines).components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { $0 + "\n\n" })
    }

    /// A fixture's HTTP error (`status`, `headers`, `body`) as a fake upstream's reply.
    static func errorReply(_ error: JSONValue) -> FakeReply {
        var headers: [String: String] = [:]
        for (name, value) in error["headers"]?.objectValue ?? [:] { headers[name] = value.stringValue }
        return .json(error["body"] ?? [:], status: error["status"]?.intValue ?? 500, headers: headers)
    }

    /// What `decoder` makes of `text`, fed in pieces of `splitAt` bytes: its events, then the
    /// finish or the error, as the fixtures write them.
    static func decode<Decoder: UpstreamStreamDecoder>(_ text: String, with decoder: Decoder, splitAt size: Int? = nil) -> [JSONValue] {
        var sse = SSEDecoder()
        var decoder = decoder
        var out: [JSONValue] = []
        let bytes = Array(text.utf8)
        do {
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + (size ?? bytes.count))
                for data in try sse.feed(bytes[start..<end]) {
                    out += try decoder.events(for: try JSONParser.parse(data)).map(json)
                }
                start = end
            }
            out.append(json(try decoder.finish()))
        } catch {
            out.append(errorJSON(error))
        }
        return out
    }

    /// An error as the fixtures write it.
    static func errorJSON(_ error: Error) -> JSONValue {
        let (apiError, retryable): (APIError?, Bool) = switch error {
        case let error as UpstreamError: (error.apiError, error.retryable)
        case let error as APIError: (error, false)
        default: (nil, false)
        }
        guard let apiError else { return ["error": .string("\(error)")] }
        return ["error": ["status": .int(apiError.status), "code": apiError.code.map(JSONValue.string) ?? .null, "retryable": .bool(retryable)]]
    }

    /// An event as the fixtures write it.
    static func json(_ event: ChatEvent) -> JSONValue {
        switch event {
        case .textDelta(let text): return ["text": .string(text)]
        case .reasoningDelta(let text): return ["reasoning": .string(text)]
        case .reasoningSignature(let signature): return ["signature": .string(signature)]
        case .toolCallStarted(let index, let id, let name): return ["call": ["index": .int(index), "id": .string(id), "name": .string(name)]]
        case .toolCallArgumentsDelta(let index, let fragment): return ["arguments": ["index": .int(index), "fragment": .string(fragment)]]
        case .finished(let reason, let usage):
            return ["finish": ["reason": .string(reason.rawValue), "usage": [
                "prompt_tokens": .int(usage.promptTokens), "completion_tokens": .int(usage.completionTokens),
                "cached_tokens": .int(usage.cachedPromptTokens)]]]
        }
    }

    /// `json` with every object's keys sorted, so bodies compare by content, not key order.
    static func canonical(_ json: JSONValue) -> JSONValue {
        switch json {
        case .object(let o): return .object(JSONObject(uniqueKeysWithValues: o.keys.sorted().map { ($0, canonical(o[$0]!)) }))
        case .array(let a): return .array(a.map(canonical))
        default: return json
        }
    }
}
