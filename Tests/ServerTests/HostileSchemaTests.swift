import Foundation
import XCTest

/// Schemas built to crash or stall the server (issue 8): each gets a clean 400 naming the field,
/// and the server keeps answering everyone else while they are refused.
final class HostileSchemaTests: XCTestCase {
    /// A tool request whose `parameters` is `schema`.
    static func toolRequest(_ schema: Any, choice: Any = "required") -> [String: Any] {
        [
            "messages": [["role": "user", "content": "Call the tool."]],
            "tools": [["type": "function", "function": ["name": "f", "parameters": schema]]],
            "tool_choice": choice, "max_tokens": 30,
        ]
    }

    /// `a0 = allOf [a1, a1]`, … (3 KB): 2^depth paths for a naive merger or validator.
    static func allOfDoublingChain(depth: Int) -> [String: Any] {
        var defs: [String: Any] = [:]
        for i in 0..<depth {
            let next = ["$ref": "#/$defs/a\(i + 1)"]
            defs["a\(i)"] = ["allOf": [next, next]]
        }
        defs["a\(depth)"] = ["type": "object", "properties": ["x": ["type": "integer"]]]
        return ["type": "object", "$defs": defs, "$ref": "#/$defs/a0"]
    }

    /// `n0 = not anyOf [n1, n1]`, …: the same doubling through negation.
    static func notAnyOfChain(depth: Int) -> [String: Any] {
        var defs: [String: Any] = [:]
        for i in 0..<depth {
            let next = ["$ref": "#/$defs/n\(i + 1)"]
            defs["n\(i)"] = ["not": ["anyOf": [next, next]]]
        }
        defs["n\(depth)"] = ["type": "string"]
        return ["type": "object", "properties": ["v": ["$ref": "#/$defs/n0"]], "$defs": defs]
    }

    /// The server still answers: `/health` within 1 s, then an ordinary completion.
    func assertStillServing(_ s: ServerProcess, file: StaticString = #filePath, line: UInt = #line) throws {
        let start = Date()
        let health = try s.request("GET", "/health")
        XCTAssertEqual(health.status, 200, file: file, line: line)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0, "/health was slow", file: file, line: line)
        let (status, json) = try s.chat(["messages": [["role": "user", "content": "Hi"]], "max_tokens": 3])
        XCTAssertEqual(status, 200, "\(json)", file: file, line: line)
    }

    func error(_ json: [String: Any]) -> [String: Any] { json["error"] as? [String: Any] ?? [:] }

    func testDeeplyNestedRegexGroupsAreAnErrorNotACrash() throws {
        let s = try server()
        let depth = 300_000
        let pattern = String(repeating: "(", count: depth) + "a" + String(repeating: ")", count: depth)
        for schema: [String: Any] in [
            ["type": "object", "properties": ["p": ["type": "string", "pattern": pattern]]],
            ["type": "object", "patternProperties": [pattern: ["type": "string"]]],
        ] {
            let (status, json) = try s.chat(Self.toolRequest(schema))
            XCTAssertEqual(status, 400, "\(json)")
            XCTAssertEqual(error(json)["param"] as? String, "tools[0].function.parameters")
            try assertStillServing(s)
        }
        var body = Self.toolRequest(["type": "object"], choice: "none")
        body["tools"] = nil
        body["response_format"] = ["type": "json_schema", "json_schema": ["name": "r", "schema": ["type": "string", "pattern": pattern]]]
        let (status, json) = try s.chat(body)
        XCTAssertEqual(status, 400, "\(json)")
        XCTAssertEqual(error(json)["param"] as? String, "response_format.json_schema.schema")
        try assertStillServing(s)
    }

    func testExponentialCombinationsAreRefusedPromptly() throws {
        let s = try server()
        for schema in [Self.allOfDoublingChain(depth: 40), Self.notAnyOfChain(depth: 40)] {
            let size = try JSONSerialization.data(withJSONObject: schema).count
            XCTAssertLessThan(size, 4_000)
            let start = Date()
            let (status, json) = try s.chat(Self.toolRequest(schema))
            XCTAssertLessThan(Date().timeIntervalSince(start), 5, "the budget (2 s) must end it")
            XCTAssertEqual(status, 400, "\(json)")
            XCTAssertEqual(error(json)["code"] as? String, "schema_too_complex", "\(json)")
            XCTAssertEqual(error(json)["param"] as? String, "tools[0].function.parameters")
            try assertStillServing(s)
        }
    }

    /// 2,000 properties with distinct patterns (150 KB): linear, but compiling its grammar takes
    /// longer than the 2 s budget. `salt` makes each copy a new schema (outcomes are cached).
    static func costlyLinearSchema(salt: Int) -> [String: Any] {
        var properties: [String: Any] = [:]
        for i in 0..<2_000 {
            properties["p\(i)"] = ["type": "string", "pattern": "^[a-z]{1,\(3 + i % 7)}-[0-9]{2,\(5 + i % 5)}(x|y\(i)z\(salt))$"]
        }
        return ["type": "object", "properties": properties, "required": ["p0", "p1"], "additionalProperties": false]
    }

    func testFourCostlyCompilationsDoNotStallOtherRequests() throws {
        let s = try server()
        let salt = Int.random(in: 0..<1_000_000_000)
        let results = ResultBox()
        let group = DispatchGroup()
        for i in 0..<4 {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                do {
                    let (status, json) = try s.chat(Self.toolRequest(Self.costlyLinearSchema(salt: salt + i)))
                    results.append("\(status) \((json["error"] as? [String: Any])?["code"] ?? "-")")
                } catch {
                    results.append("\(error)")
                }
            }
        }
        // While the four compile, everyone else is served promptly.
        Thread.sleep(forTimeInterval: 0.8)
        XCTAssertEqual(group.wait(timeout: .now()), .timedOut, "the costly compilations must still be running")
        try assertStillServing(s)
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        // Each ends with its budget, or (on a fast machine) just within it with the grammar's own
        // size limit; either way a 400 naming the schema.
        XCTAssertEqual(results.values.count, 4)
        for result in results.values {
            XCTAssertTrue(["400 schema_too_complex", "400 unsupported_schema"].contains(result), result)
        }
        try assertStillServing(s)
    }
}

/// No silent widening over HTTP (issue 8, item 6): what the grammar cannot enforce exactly is a
/// 400 naming the field and the keyword, and what it accepts it enforces exactly.
final class SchemaGuaranteeTests: XCTestCase {
    func testOverlappingOneOfIsRefusedByName() throws {
        let s = try server()
        // Both branches admit `[]`; "exactly one" would need the negation of `items`.
        let schema: [String: Any] = ["type": "object", "required": ["v"], "properties": ["v": ["oneOf": [
            ["type": "array", "items": ["type": "string"]], ["type": "array", "maxItems": 1],
        ]]]]
        let (status, json) = try s.chat(HostileSchemaTests.toolRequest(schema))
        XCTAssertEqual(status, 400, "\(json)")
        let error = json["error"] as? [String: Any] ?? [:]
        XCTAssertEqual(error["param"] as? String, "tools[0].function.parameters")
        XCTAssertTrue((error["message"] as? String ?? "").contains("oneOf"), "\(json)")
    }

    /// A `oneOf` told apart by type and a `date` that knows month lengths: generated output
    /// satisfies both, over several seeds.
    func testOneOfAndDateAreEnforcedExactly() throws {
        let s = try server()
        let schema: [String: Any] = [
            "type": "object", "required": ["when", "id"], "additionalProperties": false,
            "properties": [
                "when": ["type": "string", "format": "date"],
                "id": ["oneOf": [["type": "integer"], ["type": "string", "maxLength": 4]]],
            ],
        ]
        for seed in 1...4 {
            let (status, json) = try s.chat([
                "messages": [["role": "user", "content": "Give a date and an id as JSON."]], "max_tokens": 60,
                "temperature": 1.5, "seed": seed,
                "response_format": ["type": "json_schema", "json_schema": ["name": "r", "schema": schema]],
            ])
            XCTAssertEqual(status, 200, "\(json)")
            let message = ((json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]) ?? [:]
            let content = message["content"] as? String ?? ""
            guard let value = try? JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any] else {
                XCTFail("not a JSON object: \(content)"); continue
            }
            let when = value["when"] as? String ?? ""
            XCTAssertTrue(Self.isCalendarDate(when), "not a calendar date: \(content)")
            let id = value["id"]
            XCTAssertTrue(id is Int || (id as? String).map { $0.count <= 4 } == true, "id matches no branch: \(content)")
        }
    }

    /// RFC 3339 `full-date` in the proleptic Gregorian calendar (as JSON Schema's `date`):
    /// Foundation's calendars switch to Julian rules before 1582, so they cannot judge it.
    static func isCalendarDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.map(\.count) == [4, 2, 2], parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month)
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let length = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...length).contains(day)
    }
}

/// Collects results from several threads.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var values: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
