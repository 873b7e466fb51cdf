/// The declarative shape of a format's tool calls, for a grammar builder.
///
/// A section of calls is written as
/// `sectionPrefix + call(0) + separator + call(1) + … + sectionSuffix`, and each call as
/// `textBeforeArguments(name:index:) + ARGUMENTS + textAfterArguments()`, where ARGUMENTS is one
/// value of the tool's parameter schema in `argumentsEncoding`. In `auto` tool-choice mode the
/// decoder runs free until the output matches one of `triggers` (whose text is the start of
/// `sectionPrefix + textBeforeArguments`, or of the generic format's fenced / `tool_calls`
/// forms; ToolCallFormatSyntaxTests lists the few alternative spellings that are not); from
/// there it is constrained.
public struct ToolCallSyntax: Sendable, Equatable {
    /// Where the function name is written.
    public enum NamePlacement: Sendable, Equatable {
        /// As plain text (after `callPrefix`, spelled by `nameTemplate`).
        case literal
        /// Inside one JSON object together with the arguments: `{"nameKey": "NAME", "argumentsKey": ARGUMENTS}`
        /// (`idKey`, when set, is written first with the call id).
        case insideJSON(nameKey: String, argumentsKey: String, idKey: String?)
    }

    /// How the arguments object is spelled.
    public enum ArgumentsEncoding: Sendable, Equatable {
        /// One JSON object.
        case json
        /// One element per parameter: `keyOpen KEY keyClose valueOpen VALUE valueClose`, then `end`.
        /// String values are written raw; other values as JSON. A `{string}` in `keyClose` is
        /// `true` before a string value and `false` before any other (DeepSeek's DSML); see
        /// `ToolCallSyntax.keyClose(_:beforeString:)`.
        case xmlParameters(keyOpen: String, keyClose: String, valueOpen: String, valueClose: String, end: String)
        /// Gemma's notation: `{key:<|"|>text<|"|>,n:1,flag:true}` (keys sorted, strings in `<|"|>`).
        case gemma
        /// Python keyword arguments: `key="text", n=1, flag=True` (the parentheses around them are
        /// the call's `argumentsPrefix` and `callSuffix`).
        case pythonKeywords
    }

    /// Texts that begin tool calling in the output (auto mode).
    public var triggers: [String]
    /// Written once before the first call.
    public var sectionPrefix: String
    /// Written before each call (before the name, or before the JSON object holding it).
    public var callPrefix: String
    /// How a `.literal` name is spelled; `{name}`, `{index}` and `{id}` (the call id, or the
    /// index when there is none) are substituted.
    public var nameTemplate: String
    /// Written between a `.literal` name and the arguments.
    public var argumentsPrefix: String
    /// Written after each call's arguments.
    public var callSuffix: String
    /// Written between parallel calls.
    public var separator: String
    /// Written after the last call.
    public var sectionSuffix: String
    public var namePlacement: NamePlacement
    public var argumentsEncoding: ArgumentsEncoding
    /// Reasoning block markers, when the family has them.
    public var reasoningOpen: String?
    public var reasoningClose: String?
    /// Whether the family's template renders several calls in one assistant turn.
    public var supportsParallelCalls: Bool

    /// The literal text written before the arguments of call number `index` named `name`.
    public func textBeforeArguments(name: String, index: Int, id: String? = nil) -> String {
        switch namePlacement {
        case .literal:
            let spelled = nameTemplate
                .replacingOccurrences(of: "{name}", with: name)
                .replacingOccurrences(of: "{index}", with: String(index))
                .replacingOccurrences(of: "{id}", with: id ?? String(index))
            return callPrefix + spelled + argumentsPrefix
        case .insideJSON(let nameKey, let argumentsKey, let idKey):
            var out = callPrefix + "{"
            if let idKey { out += quoted(idKey) + ": " + quoted(id ?? String(index)) + ", " }
            return out + quoted(nameKey) + ": " + quoted(name) + ", " + quoted(argumentsKey) + ": "
        }
    }

    /// Whether each call spells its own position (`{index}`, or `{id}` which a grammar writes
    /// as the index), so that a grammar must unroll the calls of a section.
    public var callTextDependsOnIndex: Bool {
        nameTemplate.contains("{index}") || nameTemplate.contains("{id}")
    }

    /// An XML-style `keyClose` as written before a value that is (or is not) a string.
    public static func keyClose(_ keyClose: String, beforeString: Bool) -> String {
        keyClose.replacingOccurrences(of: "{string}", with: beforeString ? "true" : "false")
    }

    /// The literal text written after a call's arguments.
    public func textAfterArguments() -> String {
        switch namePlacement {
        case .literal: return callSuffix
        case .insideJSON: return "}" + callSuffix
        }
    }

    private func quoted(_ s: String) -> String {
        var out = ""
        JSONValueQuoting.write(s, to: &out)
        return out
    }
}

import ChatAPI

enum JSONValueQuoting {
    static func write(_ s: String, to out: inout String) { JSONValue.writeString(s, to: &out) }
}

extension ToolCallFormat {
    /// The declarative description of this format's calls (see `ToolCallSyntax`).
    public var syntax: ToolCallSyntax {
        func make(triggers: [String], sectionPrefix: String = "", callPrefix: String = "",
                  nameTemplate: String = "{name}", argumentsPrefix: String = "", callSuffix: String = "",
                  separator: String = "", sectionSuffix: String = "",
                  name: ToolCallSyntax.NamePlacement = .literal,
                  encoding: ToolCallSyntax.ArgumentsEncoding = .json,
                  reasoning: (String, String)? = ("<think>", "</think>"),
                  parallel: Bool = true) -> ToolCallSyntax {
            ToolCallSyntax(triggers: triggers, sectionPrefix: sectionPrefix, callPrefix: callPrefix,
                           nameTemplate: nameTemplate, argumentsPrefix: argumentsPrefix, callSuffix: callSuffix,
                           separator: separator, sectionSuffix: sectionSuffix, namePlacement: name,
                           argumentsEncoding: encoding, reasoningOpen: reasoning?.0, reasoningClose: reasoning?.1,
                           supportsParallelCalls: parallel)
        }
        let nameArgs = ToolCallSyntax.NamePlacement.insideJSON(nameKey: "name", argumentsKey: "arguments", idKey: nil)
        switch self {
        case .hermes:
            return make(triggers: ["<tool_call>"], callPrefix: "<tool_call>\n", callSuffix: "\n</tool_call>",
                        separator: "\n", name: nameArgs)
        case .qwen3Coder:
            return make(triggers: ["<tool_call>"], callPrefix: "<tool_call>\n<function=", argumentsPrefix: ">\n",
                        callSuffix: "\n</tool_call>", separator: "\n",
                        encoding: .xmlParameters(keyOpen: "<parameter=", keyClose: ">\n", valueOpen: "",
                                                 valueClose: "\n</parameter>\n", end: "</function>"))
        case .llama3:
            // Not `<|python_tag|>`: what follows it (built-in `NAME.call(…)`, raw code) is no JSON
            // call, so a grammar could not take it; a `{"name"` after the tag still triggers.
            return make(triggers: ["{\"name\""], separator: "\n",
                        name: .insideJSON(nameKey: "name", argumentsKey: "parameters", idKey: nil),
                        reasoning: nil, parallel: false)
        case .mistral:
            return make(triggers: ["[TOOL_CALLS]"], sectionPrefix: "[TOOL_CALLS][", separator: ", ",
                        sectionSuffix: "]", name: nameArgs, reasoning: nil)
        case .mistralArgs:
            return make(triggers: ["[TOOL_CALLS]"], callPrefix: "[TOOL_CALLS]", argumentsPrefix: "[ARGS]",
                        reasoning: ("[THINK]", "[/THINK]"))
        case .functionaryV31:
            return make(triggers: ["<function="], callPrefix: "<function=", argumentsPrefix: ">",
                        callSuffix: "</function>", reasoning: nil)
        case .functionaryV32:
            return make(triggers: [">>>"], callPrefix: ">>>", argumentsPrefix: "\n", reasoning: nil)
        case .deepseekR1:
            return make(triggers: ["<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>"],
                        sectionPrefix: "<｜tool▁calls▁begin｜>",
                        callPrefix: "<｜tool▁call▁begin｜>function<｜tool▁sep｜>", argumentsPrefix: "\n```json\n",
                        callSuffix: "\n```<｜tool▁call▁end｜>", separator: "\n",
                        sectionSuffix: "<｜tool▁calls▁end｜>")
        case .deepseekV31:
            return make(triggers: ["<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>"],
                        sectionPrefix: "<｜tool▁calls▁begin｜>", callPrefix: "<｜tool▁call▁begin｜>",
                        argumentsPrefix: "<｜tool▁sep｜>", callSuffix: "<｜tool▁call▁end｜>",
                        sectionSuffix: "<｜tool▁calls▁end｜>")
        case .commandR7B:
            return make(triggers: ["<|START_ACTION|>"], sectionPrefix: "<|START_ACTION|>[\n    ",
                        separator: ",\n    ", sectionSuffix: "\n]<|END_ACTION|>",
                        name: .insideJSON(nameKey: "tool_name", argumentsKey: "parameters", idKey: "tool_call_id"),
                        reasoning: ("<|START_THINKING|>", "<|END_THINKING|>"))
        case .commandRPlus:
            return make(triggers: ["Action:"], sectionPrefix: "Action:\n```json\n[\n    ", separator: ",\n    ",
                        sectionSuffix: "\n]```", name: .insideJSON(nameKey: "tool_name", argumentsKey: "parameters", idKey: nil),
                        reasoning: nil)
        case .firefunctionV2:
            return make(triggers: [" functools[", "functools["], sectionPrefix: " functools[", separator: ", ",
                        sectionSuffix: "]", name: nameArgs, reasoning: nil)
        case .granite:
            return make(triggers: ["<|tool_call|>"], sectionPrefix: "<|tool_call|>[", separator: ", ",
                        sectionSuffix: "]", name: nameArgs)
        case .gptOss:
            return make(triggers: [" to=functions.", "<|channel|>commentary to=functions."],
                        callPrefix: " to=functions.", argumentsPrefix: "<|channel|>commentary json<|message|>",
                        callSuffix: "<|call|>", separator: "<|start|>assistant",
                        reasoning: ("<|channel|>analysis<|message|>", "<|end|>"))
        case .glm45:
            return make(triggers: ["<tool_call>"], callPrefix: "<tool_call>", argumentsPrefix: "\n",
                        separator: "\n",
                        encoding: .xmlParameters(keyOpen: "<arg_key>", keyClose: "</arg_key>\n",
                                                 valueOpen: "<arg_value>", valueClose: "</arg_value>\n",
                                                 end: "</tool_call>"))
        case .minimaxM2:
            return make(triggers: ["<minimax:tool_call>"], sectionPrefix: "<minimax:tool_call>\n",
                        callPrefix: "<invoke name=\"", argumentsPrefix: "\">\n", sectionSuffix: "</minimax:tool_call>",
                        encoding: .xmlParameters(keyOpen: "<parameter name=\"", keyClose: "\">", valueOpen: "",
                                                 valueClose: "</parameter>\n", end: "</invoke>\n"))
        case .hy3:
            return make(triggers: ["<tool_calls:opensource>"], sectionPrefix: "<tool_calls:opensource>\n",
                        callPrefix: "<tool_call:opensource>", argumentsPrefix: "<tool_sep:opensource>\n",
                        sectionSuffix: "</tool_calls:opensource>",
                        encoding: .xmlParameters(keyOpen: "<arg_key:opensource>", keyClose: "</arg_key:opensource>\n",
                                                 valueOpen: "<arg_value:opensource>", valueClose: "</arg_value:opensource>\n",
                                                 end: "</tool_call:opensource>\n"),
                        reasoning: ("<think:opensource>", "</think:opensource>"))
        case .minimaxM1:
            return make(triggers: ["<tool_calls>"], sectionPrefix: "<tool_calls>\n", separator: "\n",
                        sectionSuffix: "\n</tool_calls>", name: nameArgs)
        case .nemotronV2:
            return make(triggers: ["<TOOLCALL>"], sectionPrefix: "<TOOLCALL>[", separator: ", ",
                        sectionSuffix: "]</TOOLCALL>", name: nameArgs)
        case .apertus:
            return make(triggers: ["<|tools_prefix|>"], sectionPrefix: "<|tools_prefix|>[", callPrefix: "{\"",
                        argumentsPrefix: "\": ", callSuffix: "}", separator: ", ", sectionSuffix: "]<|tools_suffix|>",
                        reasoning: ("<|inner_prefix|>", "<|inner_suffix|>"))
        case .solarOpen:
            return make(triggers: ["<|tool_calls|>"], sectionPrefix: "<|tool_calls|>", callPrefix: "<|tool_call:begin|>",
                        nameTemplate: "{id}<|tool_call:name|>{name}", argumentsPrefix: "<|tool_call:args|>",
                        callSuffix: "<|tool_call:end|>", sectionSuffix: "<|calls|>", reasoning: ("<|think|>", "<|end|>"))
        case .apriel:
            // Apriel 1.6's generation prompt opens its reasoning; 1.5's `<thinking>` is parsed too.
            return make(triggers: ["<tool_calls>"], sectionPrefix: "<tool_calls>[", separator: ", ",
                        sectionSuffix: "]</tool_calls>", name: nameArgs,
                        reasoning: ("Here are my reasoning steps:", "[BEGIN FINAL RESPONSE]"))
        case .gigachat31:
            return make(triggers: ["<|function_call|>"], callPrefix: "<|function_call|>", name: nameArgs,
                        reasoning: nil, parallel: false)
        case .seedOSS:
            return make(triggers: ["<seed:tool_call>"], callPrefix: "<seed:tool_call>\n<function=", argumentsPrefix: ">\n",
                        callSuffix: "</seed:tool_call>", separator: "\n",
                        encoding: .xmlParameters(keyOpen: "<parameter=", keyClose: ">", valueOpen: "",
                                                 valueClose: "</parameter>\n", end: "</function>\n"),
                        reasoning: ("<seed:think>", "</seed:think>"))
        case .deepseekV32, .deepseekV4:
            let block = self == .deepseekV32 ? "function_calls>" : "tool_calls>"
            return make(triggers: ["<｜DSML｜" + block], sectionPrefix: "<｜DSML｜" + block + "\n",
                        callPrefix: "<｜DSML｜invoke name=\"", argumentsPrefix: "\">\n", sectionSuffix: "</｜DSML｜" + block,
                        encoding: .xmlParameters(keyOpen: "<｜DSML｜parameter name=\"", keyClose: "\" string=\"{string}\">",
                                                 valueOpen: "", valueClose: "</｜DSML｜parameter>\n", end: "</｜DSML｜invoke>\n"))
        case .minicpm5:
            return make(triggers: ["<function name=\""], callPrefix: "<function name=\"", argumentsPrefix: "\">",
                        encoding: .xmlParameters(keyOpen: "<param name=\"", keyClose: "\">", valueOpen: "",
                                                 valueClose: "</param>", end: "</function>"))
        case .lfm2:
            return make(triggers: ["<|tool_call_start|>"], sectionPrefix: "<|tool_call_start|>[", argumentsPrefix: "(",
                        callSuffix: ")", separator: ", ", sectionSuffix: "]<|tool_call_end|>", encoding: .pythonKeywords)
        case .kimiK2:
            return make(triggers: ["<|tool_calls_section_begin|>"], sectionPrefix: "<|tool_calls_section_begin|>",
                        callPrefix: "<|tool_call_begin|>", nameTemplate: "functions.{name}:{index}",
                        argumentsPrefix: "<|tool_call_argument_begin|>", callSuffix: "<|tool_call_end|>",
                        sectionSuffix: "<|tool_calls_section_end|>")
        case .gemma:
            return make(triggers: ["<|tool_call>"], callPrefix: "<|tool_call>call:", callSuffix: "<tool_call|>",
                        encoding: .gemma, reasoning: ("<|channel>thought", "<channel|>"))
        case .generic:
            return make(triggers: ["{\"name\"", "{\"tool_calls\"", "```json"], name: nameArgs,
                        reasoning: ("<think>", "</think>"), parallel: false)
        }
    }
}
