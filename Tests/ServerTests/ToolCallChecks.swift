import ChatAPI
import Foundation
import JSONSchemaKit
import XCTest

/// The tools the integration tests offer (the conformance kit's pair: one strict, one not).
enum TestTools {
    static let weather: [String: Any] = [
        "type": "function",
        "function": [
            "name": "get_weather",
            "description": "Get the current weather for a city.",
            "parameters": [
                "type": "object",
                "properties": [
                    "city": ["type": "string", "description": "City name, e.g. Paris"],
                    "unit": ["type": "string", "enum": ["celsius", "fahrenheit"]],
                ],
                "required": ["city", "unit"],
                "additionalProperties": false,
            ] as [String: Any],
            "strict": true,
        ] as [String: Any],
    ]
    static let time: [String: Any] = [
        "type": "function",
        "function": [
            "name": "get_time",
            "description": "Get the current local time for an IANA timezone such as Europe/Paris.",
            "parameters": ["type": "object", "properties": ["timezone": ["type": "string"]], "required": ["timezone"]] as [String: Any],
        ] as [String: Any],
    ]
    static let both = [weather, time]
}

/// One assistant answer, from a JSON response or folded from SSE chunks.
struct AssistantAnswer {
    var content: String?
    var toolCalls: [(id: String, name: String, arguments: String)]
    var finishReason: String?

    init(response json: [String: Any]) throws {
        let choice = try XCTUnwrap((json["choices"] as? [[String: Any]])?.first, "no choices in \(json)")
        let message = try XCTUnwrap(choice["message"] as? [String: Any])
        content = message["content"] as? String
        finishReason = choice["finish_reason"] as? String
        toolCalls = try ((message["tool_calls"] as? [[String: Any]]) ?? []).map { call in
            XCTAssertEqual(call["type"] as? String, "function")
            let function = try XCTUnwrap(call["function"] as? [String: Any])
            return (try XCTUnwrap(call["id"] as? String), try XCTUnwrap(function["name"] as? String),
                    try XCTUnwrap(function["arguments"] as? String))
        }
    }

    /// Folds the stream and checks the delta conventions on the way: role first, each call's
    /// first delta carries index, id, type, name and empty arguments, later deltas never repeat
    /// id or name, indexes appear in order, one finish_reason and nothing after it.
    init(stream events: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(events.last, "[DONE]", file: file, line: line)
        var content: String? = nil
        var calls: [(id: String, name: String, arguments: String)] = []
        var finish: String? = nil
        var sawRole = false
        for (n, event) in events.dropLast().enumerated() {
            let chunk = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any])
            guard let choice = (chunk["choices"] as? [[String: Any]])?.first else { continue }  // usage chunk
            XCTAssertNil(finish, "a chunk after finish_reason", file: file, line: line)
            let delta = choice["delta"] as? [String: Any] ?? [:]
            if n == 0 { XCTAssertEqual(delta["role"] as? String, "assistant", file: file, line: line); sawRole = true }
            if let text = delta["content"] as? String { content = (content ?? "") + text }
            for call in delta["tool_calls"] as? [[String: Any]] ?? [] {
                let index = try XCTUnwrap(call["index"] as? Int, file: file, line: line)
                let function = call["function"] as? [String: Any] ?? [:]
                if index == calls.count {
                    let id = try XCTUnwrap(call["id"] as? String, "first delta of a call without id", file: file, line: line)
                    XCTAssertEqual(call["type"] as? String, "function", file: file, line: line)
                    let name = try XCTUnwrap(function["name"] as? String, file: file, line: line)
                    calls.append((id, name, function["arguments"] as? String ?? ""))
                } else {
                    XCTAssertLessThan(index, calls.count, "indexes must appear in order", file: file, line: line)
                    XCTAssertNil(call["id"], "a later delta repeats the id", file: file, line: line)
                    XCTAssertNil(function["name"], "a later delta repeats the name", file: file, line: line)
                    calls[index].arguments += function["arguments"] as? String ?? ""
                }
            }
            if let reason = choice["finish_reason"] as? String { finish = reason }
        }
        XCTAssertTrue(sawRole, file: file, line: line)
        self.content = content
        self.toolCalls = calls
        self.finishReason = finish
    }

    /// Checks every call: unique `call_` id, a listed name, arguments that parse to an object
    /// valid under that tool's schema, and `finish_reason: tool_calls`.
    func checkCalls(tools: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) throws {
        var ids = Set<String>()
        for (n, call) in toolCalls.enumerated() {
            // The token limit may cut the last call short; `length` says so, and that is all
            // a client may rely on (a streamed half call cannot be taken back).
            if finishReason == "length", n == toolCalls.count - 1,
               (try? JSONValue(parsing: call.arguments))?.objectValue == nil { continue }
            XCTAssertTrue(call.id.hasPrefix("call_"), call.id, file: file, line: line)
            XCTAssertTrue(ids.insert(call.id).inserted, "duplicate id \(call.id)", file: file, line: line)
            let tool = try XCTUnwrap(tools.first { ($0["function"] as? [String: Any])?["name"] as? String == call.name },
                                     "call of unlisted function \(call.name)", file: file, line: line)
            guard let arguments = try? JSONValue(parsing: call.arguments) else {
                XCTFail("\(call.name) arguments do not parse (finish \(finishReason ?? "nil")): \(call.arguments)", file: file, line: line)
                continue
            }
            XCTAssertNotNil(arguments.objectValue, "arguments are not an object: \(call.arguments)", file: file, line: line)
            if let parameters = (tool["function"] as? [String: Any])?["parameters"] {
                let schema = try JSONSchema(json: try JSONValue(parsing: String(decoding: try JSONSerialization.data(withJSONObject: parameters), as: UTF8.self)))
                let errors = schema.validate(arguments)
                XCTAssertTrue(errors.isEmpty, "\(call.name)(\(call.arguments)) breaks its schema: \(errors)", file: file, line: line)
            }
        }
        // Calls end with `tool_calls`, unless the token limit came first: then `length`, with
        // the calls finished before it (as OpenAI reports a cut-off).
        if !toolCalls.isEmpty, finishReason != "length" { XCTAssertEqual(finishReason, "tool_calls", file: file, line: line) }
    }
}
