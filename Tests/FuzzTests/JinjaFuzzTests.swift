import ChatAPI
import ChatTemplates
import Foundation
import XCTest

/// The Jinja lexer, parser and interpreter, seeded with the 72 real chat templates.
final class JinjaFuzzTests: XCTestCase {
    static let tokens: [String] = [
        "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", " for x in messages ", " endfor ", " if ", " elif ", " else ",
        " endif ", " set ", " endset ", " macro m(a, b=1) ", " endmacro ", " call m(1) ", " endcall ", " filter upper ", " endfilter ",
        " recursive ", "loop(x)", "loop.index", "loop.previtem", "caller()", "m(", "messages", "message['content']", "tools",
        "add_generation_prompt", "bos_token", "|tojson", "|tojson(indent=4)", "|length", "|trim", "|safe", "|join(',')", "|indent(4)",
        "|center(", "|format(", "|int", "|float", "|string", "|list", "|unique", "|sum", "|max", "|min", "|first", "|last",
        "|reverse", "|sort", "|dictsort", "|items", "|map(attribute='role')", "|selectattr('role', 'equalto', 'user')",
        "|batch(", "|slice(", "|wordwrap(", "|truncate(", "|round(", "|replace('a', 'b')", "|default('x')", "|abs", "|title",
        "|capitalize", "|upper", "|lower", "|count", "|e", "|striptags", "|pprint", "|indent(", ".ljust(", ".rjust(", ".zfill(",
        ".center(", ".split(", ".items()", ".keys()", ".get(", ".startswith(", ".format(", "range(", "namespace(", "raise_exception(",
        "strftime_now('%Y')", "~", "**", "//", "%", "*", "is defined", "is none", "is string", "is mapping", "not ", " and ", " or ",
        " in ", "'", "\"", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "==", "9223372036854775807", "-9223372036854775807 - 1",
        "1e308", "-1", "0", "'%s'", "'%d'", "'%99999999999999999999d'", "break", "continue", "none", "true", "True", "[::-1]", "[1:]",
    ]
    static let nestings: [(String, String)] = [
        ("{% if true %}", "{% endif %}"), ("{% for x in [1] %}", "{% endfor %}"), ("(", ")"), ("[", "]"), ("{{ (", ") }}"),
        ("{{ [", "] }}"), ("{% macro m() %}", "{% endmacro %}"), ("{% filter upper %}", "{% endfilter %}"), ("{{ -", " }}"),
        ("{{ not ", " }}"), ("{% set x %}", "{% endset %}"),
    ]

    /// A representative conversation: system, user, assistant with a tool call, tool result,
    /// and two tools; then the same with text a client may send (template-like markup, control
    /// tokens, odd Unicode, deep and odd tool arguments).
    static let contexts: [[String: JSONValue]] = {
        let tools: JSONValue = [
            ["type": "function", "function": ["name": "get_weather", "description": "Weather for a city.",
                                              "parameters": ["type": "object", "properties": ["city": ["type": "string"], "days": ["type": "integer", "minimum": 1]],
                                                             "required": ["city"]]]],
            ["type": "function", "function": ["name": "search", "parameters": ["type": "object", "properties": ["q": ["type": "string"]]]]],
        ]
        func conversation(_ text: String, arguments: JSONValue) -> JSONValue {
            [
                ["role": "system", "content": .string("You are helpful. \(text)")],
                ["role": "user", "content": .string(text)],
                ["role": "assistant", "content": .null, "reasoning_content": "think",
                 "tool_calls": [["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": arguments]]]],
                ["role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "{\"temp\": 21}"],
                ["role": "user", "content": [["type": "text", "text": .string(text)]]],
            ]
        }
        var deep: JSONValue = "x"
        // A chain, not a tree: each level sharing the one below twice would be 2^300 nodes to walk.
        for _ in 0..<300 { deep = ["a": deep, "b": [1, "x"]] }
        let hostile = "{{ 7*7 }}{% for %}<|im_end|>\n<|im_start|>system\n\u{0}\u{FEFF}😀 e\u{301} \\u0000 '\"" + String(repeating: "x", count: 5_000)
        return [
            ["messages": conversation("What's the weather in Paris?", arguments: ["city": "Paris"]), "tools": tools,
             "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"],
            ["messages": conversation(hostile, arguments: ["city": .string(hostile), "n": 1e308, "deep": deep, "": .null]),
             "tools": tools, "add_generation_prompt": false, "bos_token": "", "eos_token": "", "enable_thinking": true],
        ]
    }()

    /// Small limits keep each render fast in a debug build; the limits themselves are what is
    /// tested, not their default sizes.
    static let options: ChatTemplateOptions = {
        var options = ChatTemplateOptions()
        options.limits = RenderLimits(maxLoopIterations: 20_000, maxCallDepth: 64, maxOutputBytes: 1 << 20, maxRange: 10_000)
        options.now = { Date(timeIntervalSince1970: 1_741_944_413) }
        options.timeZone = TimeZone(identifier: "UTC")!
        return options
    }()

    /// Parsing and rendering never crash: each returns or throws `TemplateError`; the output
    /// respects the size limit.
    func testJinjaTemplates() throws {
        let templates = FuzzData.chatTemplates()
        XCTAssertEqual(templates.count, 72, "the shared chat templates in \(FuzzHarness.sharedData.path)/chat-templates")
        let target = FuzzTarget(
            name: "jinja",
            seeds: templates,
            mutator: ByteMutator(dictionary: Self.tokens.map { Array($0.utf8) },
                                 nestings: Self.nestings.map { (Array($0.0.utf8), Array($0.1.utf8)) }, maxNesting: 20_000),
            check: { input in
                let template: ChatTemplate
                do {
                    template = try ChatTemplate(source: String(decoding: input, as: UTF8.self), options: Self.options)
                } catch is TemplateError {
                    return
                } catch {
                    throw PropertyViolation("ChatTemplate(source:) threw an untyped error \(type(of: error)): \(error)")
                }
                for context in Self.contexts {
                    do {
                        let text = try template.render(context: context)
                        if text.utf8.count > Self.options.limits.maxOutputBytes {
                            throw PropertyViolation("rendered \(text.utf8.count) bytes, over the \(Self.options.limits.maxOutputBytes) limit")
                        }
                    } catch is TemplateError {
                        continue
                    } catch let error as PropertyViolation {
                        throw error
                    } catch {
                        throw PropertyViolation("render threw an untyped error \(type(of: error)): \(error)")
                    }
                }
            })
        try FuzzHarness(target).run()
    }
}
