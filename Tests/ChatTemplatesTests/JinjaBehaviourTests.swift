import ChatAPI
@testable import ChatTemplates
import XCTest
import TestSupport

/// Behaviour jinja2 goldens cannot show: error positions, limits, options, the typed context.
final class JinjaBehaviourTests: XCTestCase {
    private func render(_ source: String, _ context: [String: JSONValue] = [:], options: ChatTemplateOptions = ChatTemplateOptions()) throws -> String {
        try ChatTemplate(source: source, options: options).render(context: context)
    }

    private func error(_ source: String, _ context: [String: JSONValue] = [:], options: ChatTemplateOptions = ChatTemplateOptions()) -> TemplateError? {
        do {
            _ = try render(source, context, options: options)
            return nil
        } catch let e as TemplateError {
            return e
        } catch {
            XCTFail("not a TemplateError: \(error)")
            return nil
        }
    }

    func testSyntaxErrorsNameLineAndColumn() throws {
        let e = try XCTUnwrap(error("line one\n  {% if x %}\n{{ 1 + }}\n{% endif %}"))
        XCTAssertEqual(e.kind, .syntax)
        XCTAssertEqual(e.position, SourcePosition(line: 3, column: 8))
        let unclosed = try XCTUnwrap(error("a\n{% for x in y %}b"))
        XCTAssertEqual(unclosed.kind, .syntax)
        XCTAssertTrue(unclosed.message.contains("endfor"), unclosed.message)
    }

    func testRuntimeErrorsNameLineAndColumn() throws {
        let e = try XCTUnwrap(error("ok\n{% for m in messages %}\n  {{ m.content + 1 }}\n{% endfor %}", ["messages": [["content": "hi"]]]))
        XCTAssertEqual(e.kind, .type)
        XCTAssertEqual(e.position?.line, 3)
        XCTAssertTrue(e.description.contains("line 3"), e.description)
    }

    func testUnsupportedConstructsAreNamed() throws {
        for (source, word) in [("{% include 'x' %}", "include"), ("{% extends 'x' %}", "extends"), ("{% for x in y recursive %}{% endfor %}", "recursive"),
                               ("{% block b %}{% endblock %}", "block"), ("{% do x %}", "do")] {
            let e = try XCTUnwrap(error(source), source)
            XCTAssertEqual(e.kind, .syntax)
            XCTAssertTrue(e.message.contains(word), e.message)
        }
    }

    func testRaiseExceptionKeepsTheMessage() throws {
        let e = try XCTUnwrap(error("{{ raise_exception('Conversation roles must alternate') }}"))
        XCTAssertEqual(e.kind, .raised)
        XCTAssertEqual(e.message, "Conversation roles must alternate")
    }

    func testLoopIterationsAreBounded() throws {
        var options = ChatTemplateOptions()
        options.limits.maxLoopIterations = 10_000
        let e = try XCTUnwrap(error("{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}", options: options))
        XCTAssertEqual(e.kind, .limit)
        XCTAssertEqual(e.position?.line, 1)
    }

    func testRecursionIsBounded() throws {
        let e = try XCTUnwrap(error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
        XCTAssertEqual(e.kind, .limit)
    }

    func testOutputSizeIsBounded() throws {
        var options = ChatTemplateOptions()
        options.limits.maxOutputBytes = 1 << 20
        let e = try XCTUnwrap(error("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", options: options))
        XCTAssertEqual(e.kind, .limit)
        let big = try XCTUnwrap(error("{{ 'x' * 100000000 }}", options: options))
        XCTAssertEqual(big.kind, .limit)
    }

    func testDeepNestingIsASyntaxErrorNotACrash() throws {
        let deep = "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}"
        XCTAssertEqual(error(deep)?.kind, .syntax)
    }

    func testMutationNeedsTheOption() throws {
        let source = "{% set l = [1] %}{% set _ = l.append(2) %}{% set d = {} %}{% set _ = d.update({'k': l}) %}{{ d }}"
        XCTAssertEqual(error(source)?.kind, .security)
        var options = ChatTemplateOptions()
        options.allowsMutation = true
        XCTAssertEqual(try render(source, options: options), "{'k': [1, 2]}")
    }

    func testRendersDoNotShareState() throws {
        var options = ChatTemplateOptions()
        options.allowsMutation = true
        let t = try ChatTemplate(source: "{% set _ = xs.append(1) %}{{ xs|length }}", options: options)
        XCTAssertEqual(try t.render(context: ["xs": []]), "1")
        XCTAssertEqual(try t.render(context: ["xs": []]), "1")
    }

    func testStrftimeUsesTheInjectedClock() throws {
        var options = ChatTemplateOptions()
        options.now = { Date(timeIntervalSince1970: 0) }
        options.timeZone = TimeZone(identifier: "UTC")!
        XCTAssertEqual(try render("{{ strftime_now('%d %B %Y') }}", options: options), "01 January 1970")
    }

    func testTypedContextMatchesHuggingFaceVariables() throws {
        let context = ChatTemplateContext(messages: [["role": "user", "content": "hi"]], addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>",
                                          extra: ["enable_thinking": false])
        let t = try ChatTemplate(source: "{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}{% endfor %}|{{ tools }}|{{ documents is none }}|{{ add_generation_prompt }}|{{ enable_thinking }}{{ eos_token }}")
        XCTAssertEqual(try t.render(context), "<s>user:hi|None|True|True|False</s>")
    }

    func testJSONNumbersBecomePythonIntsAndFloats() throws {
        let ctx: [String: JSONValue] = ["v": try JSONValue(parsing: #"[1, 1.0, 2.50, 1e3, -0, 0.1, 1e-7]"#)]
        XCTAssertEqual(try render("{{ v }}|{{ v|tojson }}", ctx), "[1, 1.0, 2.5, 1000.0, 0, 0.1, 1e-07]|[1, 1.0, 2.5, 1000.0, 0, 0.1, 1e-07]")
    }

    func testJinjaValueRoundTripsJSON() throws {
        let json = try JSONValue(parsing: #"{"b": [1, 2.5, null, true, "x"], "a": {"c": "d"}}"#)
        XCTAssertEqual(JinjaValue(json: json).toJSON(), json)
    }
}

extension JinjaBehaviourTests {
    func testSelfContainingStructuresDoNotRecurseForever() throws {
        let source = "{% set ns = namespace(items=[]) %}{% set ns.items = ns.items + [ns] %}"
        XCTAssertTrue(try render(source + "{{ ns }}").hasPrefix("<Namespace {'items': [<Namespace {'items': ["))
        XCTAssertEqual(error(source + "{{ ns.items|tojson }}")?.kind, .type)
    }
}

extension JinjaBehaviourTests {
    /// Truncated and spliced real templates must fail with an error, never trap or hang.
    func testBrokenTemplatesFailCleanly() throws {
        let dir = JinjaGoldenTests.templates
        let conversations = try XCTUnwrap(JinjaGoldenTests.loadJSON(JinjaGoldenTests.goldens.appendingPathComponent("conversations.json")).arrayValue)
        let context = JinjaGoldenTests.variables(conversations[6]["context"]!)
        var generator = SplitMix64(seed: 0x5EED)
        var options = ChatTemplateOptions()
        options.limits.maxLoopIterations = 20_000
        options.limits.maxOutputBytes = 1 << 20
        var outcomes = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).filter({ $0.hasSuffix(".jinja") }) {
            let bytes = Array(try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8).utf8)
            for _ in 0..<10 {
                var mutated = Array(bytes[0..<Int.random(in: 0...bytes.count, using: &generator)])
                if Bool.random(using: &generator), !bytes.isEmpty {
                    let start = Int.random(in: 0..<bytes.count, using: &generator)
                    mutated += bytes[start..<min(bytes.count, start + Int.random(in: 0...200, using: &generator))]
                }
                let source = String(decoding: mutated, as: UTF8.self)
                _ = try? ChatTemplate(source: source, options: options).render(context: context)
                outcomes += 1
            }
        }
        XCTAssertEqual(outcomes, 72 * 10)
    }
}
