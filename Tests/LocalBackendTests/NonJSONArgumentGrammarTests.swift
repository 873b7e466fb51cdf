import ChatAPI
import ChatTemplates
import Grammar
import JSONSchemaKit
import TestSupport
import XCTest
@testable import LocalBackend

/// Qwen3-Coder, GLM-4.5, MiniMax-M2, Hy3, Seed-OSS, DeepSeek's DSML and MiniCPM 5 write arguments as XML-style parameter elements,
/// Gemma 4 in its own notation, LFM2 as Python keyword arguments. Their call grammar must admit what a correct model writes (the
/// format's own rendering), refuse a call with a parameter removed, renamed or mistyped, and
/// only ever produce text that the format's parser reads back as schema-valid arguments.
final class NonJSONArgumentGrammarTests: XCTestCase {
    static let formats = ToolCallFormat.allCases.filter { $0.syntax.argumentsEncoding != .json }

    func testEveryNonJSONFormatIsCovered() {
        XCTAssertEqual(Set(Self.formats), [.qwen3Coder, .glm45, .minimaxM2, .hy3, .seedOSS, .deepseekV32, .deepseekV4, .minicpm5, .gemma, .lfm2])
    }

    static let editFile = FunctionDefinition(name: "edit_file", parameters: [
        "type": "object",
        "properties": [
            "path": ["type": "string", "pattern": "^[a-z/._]+$"],
            "content": ["type": "string"],
            "line": ["type": "integer", "minimum": 1],
            "mode": ["type": "string", "enum": ["replace", "append"]],
            "dry_run": ["type": "boolean"],
            "options": ["type": "object", "properties": ["indent": ["type": "integer"]], "required": ["indent"]],
        ],
        "required": ["path", "content", "line"],
    ])

    static let goodArguments: JSONObject = [
        "path": "src/main.swift",
        "content": "if a < b && c > d {\n  print(\"</tag>\")\n}\n",
        "line": 12,
        "mode": "append",
        "options": ["indent": 4],
    ]

    /// The call as the format writes it, with values other than strings as compact JSON (the
    /// grammar's JSON is compact in every format; templates' `tojson` adds spaces).
    private func rendered(_ format: ToolCallFormat, _ arguments: JSONObject) -> String {
        let syntax = format.syntax
        let encoded: String
        switch syntax.argumentsEncoding {
        case .xmlParameters(let keyOpen, let keyClose, let valueOpen, let valueClose, let end):
            encoded = arguments.map { key, value in
                keyOpen + key + ToolCallSyntax.keyClose(keyClose, beforeString: value.stringValue != nil) + valueOpen
                    + (value.stringValue ?? value.serialized()) + valueClose
            }.joined() + end
        case .gemma:
            encoded = gemmaNotation(.object(arguments))
        case .pythonKeywords:
            encoded = arguments.map { key, value in key + "=" + CallGrammarCheck.pythonKeywordValue(value) }.joined(separator: ", ")
        case .json:
            preconditionFailure("\(format) writes JSON arguments")
        }
        return syntax.sectionPrefix + syntax.textBeforeArguments(name: "edit_file", index: 0) + encoded
            + syntax.textAfterArguments() + syntax.sectionSuffix
    }

    /// What ends a raw string value: the XML closing marker, or Gemma's quote; nil where strings
    /// are JSON strings (Python keyword arguments), which escape anything.
    private func valueTerminator(_ format: ToolCallFormat) -> String? {
        switch format.syntax.argumentsEncoding {
        case .xmlParameters: return XMLParameterGrammar(format.syntax.argumentsEncoding)?.valueTerminator
        case .gemma: return GemmaArgumentGrammar.quote
        case .json, .pythonKeywords: return nil
        }
    }

    func testTheFormatsOwnCallIsAdmittedAndParsesBack() throws {
        for format in Self.formats {
            let g = try CallGrammarCheck.grammar(format, [Self.editFile])
            let text = rendered(format, Self.goodArguments)
            XCTAssertTrue(CallGrammarCheck.admits(g, text), "\(format): \(text)")
            let calls = CallGrammarCheck.parse(format, text, tools: [Self.editFile])
            XCTAssertEqual(calls.map(\.name), ["edit_file"])
            XCTAssertEqual(try calls.first.map { CallGrammarCheck.keysSorted(try JSONValue(parsing: $0.arguments)) },
                           CallGrammarCheck.keysSorted(.object(Self.goodArguments)), "\(format)")
        }
    }

    func testACallWithAParameterRemovedRenamedOrMistypedIsRefused() throws {
        var removed = Self.goodArguments
        removed["content"] = nil
        let renamed: JSONObject = ["path": "a.txt", "text": "x", "line": 1]
        var mistyped = Self.goodArguments
        mistyped["line"] = "twelve"
        var badEnum = Self.goodArguments
        badEnum["mode"] = "prepend"
        var badPattern = Self.goodArguments
        badPattern["path"] = "C:\\windows"
        var closesEarly = Self.goodArguments
        for format in Self.formats {
            let g = try CallGrammarCheck.grammar(format, [Self.editFile])
            var cases = [("removed", removed), ("renamed", renamed), ("mistyped", mistyped),
                         ("outside the enum", badEnum), ("against the pattern", badPattern)]
            if let terminator = valueTerminator(format) {
                closesEarly["content"] = .string("a " + terminator + " b")
                cases.append(("holding the closing marker", closesEarly))
            }
            for (what, arguments) in cases {
                XCTAssertFalse(CallGrammarCheck.admits(g, rendered(format, arguments)), "\(format): a parameter \(what) was admitted")
            }
            // Gemma writes keys in its own fixed order, which its rendering above always follows.
            guard format != .gemma else { continue }
            // Declared order: the same arguments, `line` before `path`.
            var reordered: JSONObject = ["line": 12]
            for (key, value) in Self.goodArguments where key != "line" { reordered[key] = value }
            XCTAssertFalse(CallGrammarCheck.admits(g, rendered(format, reordered)), "\(format): out of order")
        }
    }

    /// MiniMax-M2's prompt ends inside `<think>`: a forced call comes after the model closes
    /// the block, never inside it, where the parser would read it as reasoning.
    func testAForcedCallAfterAnOpenReasoningBlockWaitsForItsEnd() throws {
        let format = ToolCallFormat.minimaxM2
        let close = try XCTUnwrap(format.syntax.reasoningClose)
        let g = try CallGrammarCheck.grammar(format, [Self.editFile], reasoningClose: close)
        let call = rendered(format, Self.goodArguments)
        XCTAssertTrue(CallGrammarCheck.admits(g, "The user wants <code> at line 12." + close + "\n\n" + call))
        XCTAssertTrue(CallGrammarCheck.admits(g, close + call))
        XCTAssertFalse(CallGrammarCheck.admits(g, call), "a call inside the reasoning block")
        XCTAssertFalse(CallGrammarCheck.admits(g, "a" + close + "b" + close + call), "text between the block and the call")
        var parser = format.makeParser(tools: [Self.editFile], startInReasoning: true)
        let events = parser.feed(bytes: Array(("Thinking." + close + "\n\n" + call).utf8)) + parser.finish()
        XCTAssertEqual(events.first, .reasoning("Thinking."))
        XCTAssertTrue(events.contains(.toolCallFinished(index: 0)), "\(events)")
    }

    func testASchemaTheFormatCannotSpellIsRefusedByKeyword() {
        let oneOf = FunctionDefinition(name: "f", parameters: ["oneOf": [["type": "object"]]])
        let stringAnyOf = FunctionDefinition(name: "g", parameters: [
            "type": "object", "properties": ["s": ["type": "string", "anyOf": [["minLength": 1]]]],
        ])
        for format in Self.formats {
            let plan = ToolCallPlan(mode: .mandatory, functions: [oneOf], maxCalls: nil)
            XCTAssertThrowsError(try OutputGrammar.make(plan: plan, responseFormat: .text, format: format)) { error in
                XCTAssertEqual((error as? OutputGrammar.UnenforceableParameters)?.function, "f")
                XCTAssertTrue("\(error)".contains("oneOf"), "\(error)")
            }
            // A raw string cannot be a choice of schemas; a JSON value (Python arguments) can.
            guard valueTerminator(format) != nil else { continue }
            XCTAssertThrowsError(try CallGrammarCheck.grammar(format, [stringAnyOf])) { error in
                XCTAssertTrue("\(error)".contains("anyOf"), "\(error)")
            }
        }
    }

    /// Random schemas, random walks through the grammar: whatever the grammar lets a model
    /// write parses back to arguments that the schema accepts.
    func testTextTheGrammarGeneratesParsesToSchemaValidArguments() throws {
        var rng = SplitMix64(seed: 0x5EED_0014)
        var finishedWalks = 0
        let walks = 60
        for round in 0..<walks {
            let schema = Self.randomParameters(&rng)
            let tool = FunctionDefinition(name: "tool_\(round % 3)", parameters: schema)
            let validator = try JSONSchema(json: schema)
            for format in Self.formats {
                let g = try CallGrammarCheck.grammar(format, [tool])
                guard let text = Self.randomWalk(g, &rng) else { continue }
                finishedWalks += 1
                // The plan allows parallel calls: a walk may write several.
                let calls = CallGrammarCheck.parse(format, text, tools: [tool])
                XCTAssertFalse(calls.isEmpty, "\(format): \(text)")
                for call in calls {
                    let value = try JSONValue(parsing: call.arguments)
                    XCTAssertTrue(validator.isValid(value), "\(format): \(call.arguments) from \(text) against \(schema.serialized())")
                }
            }
        }
        // Walks are capped in length; most must end for the property to mean something.
        XCTAssertGreaterThan(finishedWalks, walks * 2 * 3 / 4)
    }

    /// Text from the grammar's start to acceptance, each step a random allowed byte (closing
    /// punctuation favoured so that walks end); nil when no end came within the cap.
    static func randomWalk(_ grammar: CompiledGrammar, _ rng: inout SplitMix64) -> String? {
        var matcher = grammar.makeMatcher()
        var mask = CallGrammarCheck.byteVocabulary.makeMask()
        var bytes: [UInt8] = []
        let closing = Set("<>/\n\"}],".utf8)
        while bytes.count < 3_000 {
            if matcher.isComplete { return String(decoding: bytes, as: UTF8.self) }
            matcher.fillMask(&mask)
            let allowed = (1...256).filter { mask.contains($0) }
            guard !allowed.isEmpty else { return nil }
            let favoured = allowed.filter { closing.contains(UInt8($0 - 1)) }
            let pool = !favoured.isEmpty && Int.random(in: 0..<3, using: &rng) > 0 ? favoured : allowed
            let token = pool.randomElement(using: &rng)!
            guard matcher.accept(token: token) else { return nil }
            bytes.append(UInt8(token - 1))
        }
        return nil
    }

    /// A tool's parameters: a few properties of assorted types, some required.
    static func randomParameters(_ rng: inout SplitMix64) -> JSONValue {
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 0 ? 9 : 7), using: &rng) {
            case 0: return ["type": "string"]
            case 1: return ["type": "string", "maxLength": 5]
            case 2: return ["type": "string", "enum": ["a<b", "c d", "é"]]
            case 3: return ["type": "integer", "minimum": -3, "maximum": 300]
            case 4: return ["type": "number"]
            case 5: return ["type": "boolean"]
            case 6: return ["type": ["integer", "null"]]
            case 7: return ["type": "array", "items": value(depth - 1), "maxItems": 3]
            default:
                return ["type": "object", "properties": ["x": value(depth - 1), "y": value(depth - 1)], "required": ["x"]]
            }
        }
        var properties = JSONObject()
        var required: [JSONValue] = []
        for i in 0..<Int.random(in: 0...4, using: &rng) {
            properties["p\(i)"] = value(1)
            if Bool.random(using: &rng) { required.append(.string("p\(i)")) }
        }
        return ["type": "object", "properties": .object(properties), "required": .array(required)]
    }
}
