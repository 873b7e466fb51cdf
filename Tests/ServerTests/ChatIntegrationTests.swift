import Foundation
import XCTest

/// Chat completions over HTTP against the real server on the real default model.
final class ChatIntegrationTests: XCTestCase {
    private let hello: [[String: Any]] = [["role": "user", "content": "Say hello in one short sentence."]]

    func testHealthAndModels() throws {
        let s = try server()
        XCTAssertEqual(try s.request("GET", "/health").status, 200)
        let r = try s.request("GET", "/v1/models")
        XCTAssertEqual(r.status, 200)
        let json = try XCTUnwrap(try r.json() as? [String: Any])
        XCTAssertEqual(json["object"] as? String, "list")
        let ids = (json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        XCTAssertEqual(ids, [ServerProcess.defaultModelID])
        XCTAssertEqual(try s.request("GET", "/v1/models/\(ServerProcess.defaultModelID)").status, 200)
        XCTAssertEqual(try s.request("GET", "/v1/models/nope").status, 404)
    }

    func testNonStreamingChat() throws {
        let s = try server()
        let (status, json) = try s.chat(["messages": [["role": "system", "content": "You are brief."]] + hello, "max_tokens": 40])
        XCTAssertEqual(status, 200, "\(json)")
        XCTAssertEqual(json["object"] as? String, "chat.completion")
        XCTAssertTrue((json["id"] as? String)?.hasPrefix("chatcmpl-") ?? false)
        let created = try XCTUnwrap(json["created"] as? Int)
        XCTAssertLessThan(abs(Double(created) - Date().timeIntervalSince1970), 120, "created is unix seconds")
        let choice = try XCTUnwrap((json["choices"] as? [[String: Any]])?.first)
        let message = try XCTUnwrap(choice["message"] as? [String: Any])
        XCTAssertEqual(message["role"] as? String, "assistant")
        XCTAssertFalse((message["content"] as? String ?? "").isEmpty)
        XCTAssertTrue(message.keys.contains("refusal"))
        XCTAssertTrue(["stop", "length"].contains(choice["finish_reason"] as? String ?? ""))
        let usage = try XCTUnwrap(json["usage"] as? [String: Any])
        let prompt = try XCTUnwrap(usage["prompt_tokens"] as? Int)
        let completion = try XCTUnwrap(usage["completion_tokens"] as? Int)
        XCTAssertGreaterThan(prompt, 5)
        XCTAssertGreaterThan(completion, 0)
        XCTAssertLessThanOrEqual(completion, 40)
        XCTAssertEqual(usage["total_tokens"] as? Int, prompt + completion)
    }

    func testContentPartsAndDeveloperRole() throws {
        let s = try server()
        let (status, json) = try s.chat([
            "messages": [["role": "developer", "content": "Answer in English."],
                         ["role": "user", "content": [["type": "text", "text": "Name a colour."]]]],
            "max_tokens": 20,
        ])
        XCTAssertEqual(status, 200, "\(json)")
        let message = try XCTUnwrap(((json["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])
        XCTAssertFalse((message["content"] as? String ?? "").isEmpty)
    }

    func testStreaming() throws {
        let s = try server()
        let (status, headers, events) = try s.stream(["messages": hello, "max_tokens": 30])
        XCTAssertEqual(status, 200)
        XCTAssertTrue(headers["content-type"]?.hasPrefix("text/event-stream") ?? false)
        XCTAssertEqual(events.last, "[DONE]")
        let chunks = try events.dropLast().map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertGreaterThan(chunks.count, 2)
        XCTAssertEqual(Set(chunks.compactMap { $0["id"] as? String }).count, 1, "one id across the stream")
        XCTAssertTrue(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let choices = chunks.map { ($0["choices"] as? [[String: Any]])?.first ?? [:] }
        XCTAssertEqual((choices.first?["delta"] as? [String: Any])?["role"] as? String, "assistant")
        let finishes = choices.compactMap { $0["finish_reason"] as? String }
        XCTAssertEqual(finishes.count, 1, "exactly one finish_reason")
        XCTAssertNotNil(choices.last?["finish_reason"] as? String, "nothing follows the finish")
        let text = choices.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
        XCTAssertFalse(text.isEmpty)
        XCTAssertTrue(chunks.allSatisfy { $0["usage"] == nil }, "no usage unless asked")
    }

    func testStreamingIncludeUsage() throws {
        let s = try server()
        let (status, _, events) = try s.stream(["messages": hello, "max_tokens": 12, "stream_options": ["include_usage": true]])
        XCTAssertEqual(status, 200)
        let chunks = try events.dropLast().map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let last = try XCTUnwrap(chunks.last)
        XCTAssertEqual((last["choices"] as? [Any])?.count, 0)
        let usage = try XCTUnwrap(last["usage"] as? [String: Any])
        XCTAssertLessThanOrEqual(usage["completion_tokens"] as? Int ?? 99, 12)
        for chunk in chunks.dropLast() { XCTAssertTrue(chunk["usage"] is NSNull, "usage is null on other chunks") }
    }

    func testMaxTokensEndsWithLength() throws {
        let s = try server()
        for key in ["max_tokens", "max_completion_tokens"] {
            let (status, json) = try s.chat([
                "messages": [["role": "user", "content": "Write a long essay about the history of the sea, with many details."]],
                key: 5,
            ])
            XCTAssertEqual(status, 200)
            let choice = try XCTUnwrap((json["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["finish_reason"] as? String, "length", key)
            XCTAssertEqual((json["usage"] as? [String: Any])?["completion_tokens"] as? Int, 5, key)
        }
    }

    func testStopStringsNeverLeak() throws {
        let s = try server()
        let counting: [[String: Any]] = [["role": "user", "content": "Count from 1 to 10, separated by commas."]]
        for (stop, forbidden) in [(["7", "seven"], ["7", "seven"]), (["5"], ["5"])] as [([String], [String])] {
            for streamed in [false, true] {
                let body: [String: Any] = ["messages": counting, "stop": stop, "temperature": 0, "max_tokens": 60]
                let text: String
                let finish: String?
                if streamed {
                    let (_, _, events) = try s.stream(body)
                    let choices = try events.dropLast().map {
                        ((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["choices"] as? [[String: Any]])?.first ?? [:]
                    }
                    text = choices.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
                    finish = choices.compactMap { $0["finish_reason"] as? String }.first
                } else {
                    let (_, json) = try s.chat(body)
                    let choice = (json["choices"] as? [[String: Any]])?.first
                    text = (choice?["message"] as? [String: Any])?["content"] as? String ?? ""
                    finish = choice?["finish_reason"] as? String
                }
                XCTAssertTrue(text.contains("4") || text.contains("1"), "the model counted: \(text)")
                for f in forbidden { XCTAssertFalse(text.contains(f), "stop string \(f) leaked (streamed: \(streamed)): \(text)") }
                XCTAssertEqual(finish, "stop", "streamed: \(streamed), text: \(text)")
            }
        }
    }

    func testSeedReproducibility() throws {
        let s = try server()
        func sample(seed: Int) throws -> String {
            let (_, json) = try s.chat([
                "messages": [["role": "user", "content": "Tell me a one-sentence story about a cat."]],
                "temperature": 1.0, "seed": seed, "max_tokens": 30,
            ])
            return ((json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String ?? ""
        }
        let a = try sample(seed: 42), b = try sample(seed: 42)
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(a, b, "same seed, same output")
        let others = try [7, 8, 9].map(sample(seed:))
        XCTAssertTrue(others.contains { $0 != a }, "different seeds should not all reproduce seed 42's text")
    }
}
