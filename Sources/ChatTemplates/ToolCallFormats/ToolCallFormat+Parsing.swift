import ChatAPI
extension ToolCallFormat {
    /// A fresh incremental parser for one generation.
    ///
    /// - Parameters:
    ///   - tools: the request's tools. Bare-JSON formats (`llama3`, `generic`) only treat an
    ///     object as a call when it names one of them; XML-style formats read their schemas to
    ///     keep string parameters verbatim.
    ///   - startInReasoning: the prompt already opened a reasoning block (it ends with `<think>`;
    ///     see `promptOpensReasoning(_:)`), so output starts inside reasoning.
    ///   - acceptingBareJSON: also read a bare or fenced JSON call object (the generic format)
    ///     when it names one of `tools`: small models often answer that way even when their
    ///     template taught them another format.
    public func makeParser(tools: [FunctionDefinition] = [], startInReasoning: Bool = false,
                           acceptingBareJSON: Bool = false) -> ToolCallStreamParser {
        var plan = parsePlan
        if acceptingBareJSON && self != .generic {
            let known = Set(plan.triggers.map(\.text))
            plan.triggers += ToolCallFormat.generic.parsePlan.triggers.filter { !known.contains($0.text) }
            plan.requireKnownName = true
        }
        return ToolCallStreamParser(plan: plan, tools: tools, startInReasoning: startInReasoning)
    }

    /// Convenience: a parser knowing only the tool names.
    public func makeParser(toolNames: [String], startInReasoning: Bool = false) -> ToolCallStreamParser {
        makeParser(tools: toolNames.map { FunctionDefinition(name: $0) }, startInReasoning: startInReasoning)
    }

    /// Whether a rendered prompt (with the generation prompt) leaves a reasoning block open, so
    /// the model's output begins inside it (e.g. QwQ and GLM-4.7 end the prompt with `<think>`).
    public func promptOpensReasoning(_ prompt: String) -> Bool {
        let tail = prompt.utf8.suffix(256)
        let text = String(decoding: tail, as: UTF8.self)
        for block in parsePlan.reasoning {
            let open = String(decoding: block.open, as: UTF8.self)
            let close = String(decoding: block.close, as: UTF8.self)
            guard let openRange = text.range(of: open, options: .backwards) else { continue }
            if text[openRange.upperBound...].contains(close) { continue }
            if text[openRange.upperBound...].allSatisfy(\.isWhitespace) { return true }
        }
        return false
    }

    var parsePlan: ParsePlan {
        typealias Step = ParsePlan.Step
        func lit(_ s: String) -> Step { .literal(s.trimmingCharacters(in: .whitespacesAndNewlines).bytes) }
        func trigger(_ s: String, _ steps: [Step], consumed: Bool = true,
                     next: String? = nil, nextIsCallText: Bool = false, end: String? = nil) -> ParsePlan.Trigger {
            ParsePlan.Trigger(text: s.bytes, consumed: consumed,
                              layout: .init(steps: steps, nextCall: next?.bytes, nextCallIsCallText: nextIsCallText,
                                            sectionEnd: end?.bytes))
        }
        func name(_ terminators: [String], keep: Bool = false, style: ParsePlan.NameStyle = .plain) -> Step {
            .name(terminators: terminators.map(\.bytes), keepTerminator: keep, style: style)
        }
        func calls(name: String = "name", arguments: [String] = ["arguments"], id: [String] = [],
                   wrapper: Bool = false) -> Step {
            .jsonCalls(.init(name: [name], arguments: arguments, id: id, allowWrapper: wrapper))
        }
        /// A section `begin (call steps…)+ end`, each call opened by `call`; a call opened
        /// without the section marker is accepted too.
        func section(begin: String, call: String, end: String, _ steps: [Step]) -> [ParsePlan.Trigger] {
            let all = [Step.optionalLiteral(call.bytes)] + steps
            return [trigger(begin, all, next: call, end: end), trigger(call, all, next: call, end: end)]
        }
        let think = [(open: "<think>".bytes, close: "</think>".bytes)]

        switch self {
        case .hermes:
            return ParsePlan(triggers: [trigger("<tool_call>", [calls(), lit("</tool_call>")])], reasoning: think)
        case .qwen3Coder:
            let style = ParsePlan.XMLArgumentStyle(keyOpen: "<parameter=".bytes, keyClose: ">".bytes, valueOpen: nil,
                                                   valueClose: "</parameter>".bytes, end: "</function>".bytes,
                                                   trimNewlines: true)
            return ParsePlan(triggers: [trigger("<tool_call>", [lit("<function="), name([">"]), .begin,
                                                                .xmlArguments(style), lit("</tool_call>")])],
                             reasoning: think)
        case .llama3:
            let keys = ParsePlan.JSONCallKeys(name: ["name"], arguments: ["parameters", "arguments"], id: [],
                                              allowWrapper: false)
            return ParsePlan(triggers: [trigger("{", [.jsonCalls(keys)], consumed: false),
                                        trigger("<|python_tag|>", [.pythonTag(keys)])],
                             reasoning: [], dropMarkers: ["<|eom_id|>".bytes, "<|eot_id|>".bytes], requireKnownName: true)
        case .mistral:
            return ParsePlan(triggers: [trigger("[TOOL_CALLS]", [calls(id: ["id"])])], reasoning: [])
        case .mistralArgs:
            return ParsePlan(triggers: [trigger("[TOOL_CALLS]", [name(["[CALL_ID]", "[ARGS]"], keep: true),
                                                                 .optionalID(open: "[CALL_ID]".bytes, close: "[ARGS]".bytes),
                                                                 .begin, lit("[ARGS]"), .jsonArguments])],
                             reasoning: [(open: "[THINK]".bytes, close: "[/THINK]".bytes)])
        case .functionaryV31:
            return ParsePlan(triggers: [trigger("<function=", [name([">"]), .begin, .jsonArguments, lit("</function>")])],
                             reasoning: [])
        case .functionaryV32:
            let steps: [Step] = [name(["\n"], style: .recipient), .begin, .jsonArguments]
            return ParsePlan(triggers: [trigger(">>>", steps)], reasoning: [],
                             initialLayout: .init(steps: steps))
        case .deepseekR1:
            let steps: [Step] = [lit("function"), lit("<｜tool▁sep｜>"), name(["\n", "```"], keep: true), .begin,
                                 .optionalLiteral("```json".bytes), .jsonArguments, .optionalLiteral("```".bytes),
                                 lit("<｜tool▁call▁end｜>")]
            return ParsePlan(triggers: section(begin: "<｜tool▁calls▁begin｜>", call: "<｜tool▁call▁begin｜>",
                                               end: "<｜tool▁calls▁end｜>", steps),
                             reasoning: think)
        case .deepseekV31:
            let steps: [Step] = [name(["<｜tool▁sep｜>"]), .begin, .jsonArguments, lit("<｜tool▁call▁end｜>")]
            return ParsePlan(triggers: section(begin: "<｜tool▁calls▁begin｜>", call: "<｜tool▁call▁begin｜>",
                                               end: "<｜tool▁calls▁end｜>", steps),
                             reasoning: think)
        case .commandR7B:
            return ParsePlan(triggers: [trigger("<|START_ACTION|>", [calls(name: "tool_name", arguments: ["parameters"],
                                                                           id: ["tool_call_id"]),
                                                                     lit("<|END_ACTION|>")])],
                             reasoning: [(open: "<|START_THINKING|>".bytes, close: "<|END_THINKING|>".bytes)],
                             dropMarkers: ["<|START_RESPONSE|>".bytes, "<|END_RESPONSE|>".bytes])
        case .commandRPlus:
            return ParsePlan(triggers: [trigger("Action:", [lit("```json"), calls(name: "tool_name", arguments: ["parameters"]),
                                                            lit("```")])],
                             reasoning: [])
        case .firefunctionV2:
            // The `[` belongs to the JSON array the call step reads.
            return ParsePlan(triggers: [trigger(" functools", [calls()]), trigger("functools", [calls()])],
                             reasoning: [])
        case .granite:
            return ParsePlan(triggers: [trigger("<|tool_call|>", [calls()])], reasoning: think,
                             dropMarkers: ["<response>".bytes, "</response>".bytes])
        case .gptOss:
            let steps: [Step] = [name([" ", "<|channel|>", "<|constrain|>", "<|message|>"], keep: true),
                                 .skipThrough("<|message|>".bytes), .begin, .jsonArguments, lit("<|call|>")]
            return ParsePlan(triggers: [trigger(" to=functions.", steps),
                                        trigger("<|channel|>commentary to=functions.", steps)],
                             reasoning: [(open: "<|channel|>analysis<|message|>".bytes, close: "<|end|>".bytes)],
                             dropMarkers: ["<|start|>assistant", "<|channel|>final<|message|>",
                                           "<|channel|>commentary<|message|>", "<|end|>", "<|return|>"].map(\.bytes))
        case .glm45:
            let style = ParsePlan.XMLArgumentStyle(keyOpen: "<arg_key>".bytes, keyClose: "</arg_key>".bytes,
                                                   valueOpen: "<arg_value>".bytes, valueClose: "</arg_value>".bytes,
                                                   end: "</tool_call>".bytes, trimNewlines: false)
            return ParsePlan(triggers: [trigger("<tool_call>", [name(["\n", "<arg_key>", "</tool_call>"], keep: true),
                                                                .begin, .xmlArguments(style)])],
                             reasoning: think)
        case .minimaxM2:
            let style = ParsePlan.XMLArgumentStyle(keyOpen: "<parameter name=\"".bytes, keyClose: "\">".bytes, valueOpen: nil,
                                                   valueClose: "</parameter>".bytes, end: "</invoke>".bytes,
                                                   trimNewlines: false)
            return ParsePlan(triggers: section(begin: "<minimax:tool_call>", call: "<invoke name=\"",
                                               end: "</minimax:tool_call>", [name(["\">"]), .begin, .xmlArguments(style)]),
                             reasoning: think)
        case .hy3:
            let style = ParsePlan.XMLArgumentStyle(keyOpen: "<arg_key:opensource>".bytes, keyClose: "</arg_key:opensource>".bytes,
                                                   valueOpen: "<arg_value:opensource>".bytes,
                                                   valueClose: "</arg_value:opensource>".bytes,
                                                   end: "</tool_call:opensource>".bytes, trimNewlines: false)
            return ParsePlan(triggers: section(begin: "<tool_calls:opensource>", call: "<tool_call:opensource>",
                                               end: "</tool_calls:opensource>",
                                               [name(["<tool_sep:opensource>"]), .begin, .xmlArguments(style)]),
                             reasoning: [(open: "<think:opensource>".bytes, close: "</think:opensource>".bytes)])
        case .minimaxM1:
            return ParsePlan(triggers: [trigger("<tool_calls>", [calls()], next: "{", nextIsCallText: true,
                                                end: "</tool_calls>")],
                             reasoning: think)
        case .nemotronV2:
            return ParsePlan(triggers: [trigger("<TOOLCALL>", [calls(), lit("</TOOLCALL>")])], reasoning: think)
        case .apertus:
            // The section ends at `]`; its `<|tools_suffix|>` token is dropped from the text after it.
            let steps: [Step] = [lit("{\""), name(["\""]), lit(":"), .begin, .jsonArguments, lit("}")]
            return ParsePlan(triggers: [trigger("<|tools_prefix|>[", steps, next: ",", end: "]")],
                             reasoning: [(open: "<|inner_prefix|>".bytes, close: "<|inner_suffix|>".bytes)],
                             dropMarkers: ["<|tools_suffix|>".bytes])
        case .solarOpen:
            // The model's call id is skipped, not reported: the model writes it from a short
            // alphabet, so ids of different turns could repeat; the caller assigns fresh ones.
            let steps: [Step] = [.skipThrough("<|tool_call:name|>".bytes), name(["<|tool_call:args|>"]), .begin,
                                 .jsonArguments, lit("<|tool_call:end|>")]
            return ParsePlan(triggers: section(begin: "<|tool_calls|>", call: "<|tool_call:begin|>", end: "<|calls|>", steps),
                             reasoning: [(open: "<|think|>".bytes, close: "<|end|>".bytes)],
                             dropMarkers: ["<|begin|>assistant".bytes, "<|content|>".bytes])
        case .apriel:
            return ParsePlan(triggers: [trigger("<tool_calls>", [calls(id: ["id"]), lit("</tool_calls>")])],
                             reasoning: [(open: "Here are my reasoning steps:".bytes, close: "[BEGIN FINAL RESPONSE]".bytes),
                                         (open: "<thinking>".bytes, close: "</thinking>".bytes)])
        case .gigachat31:
            return ParsePlan(triggers: [trigger("<|function_call|>", [calls()])], reasoning: [])
        case .seedOSS:
            let style = ParsePlan.XMLArgumentStyle(keyOpen: "<parameter=".bytes, keyClose: ">".bytes, valueOpen: nil,
                                                   valueClose: "</parameter>".bytes, end: "</function>".bytes,
                                                   trimNewlines: false)
            return ParsePlan(triggers: [trigger("<seed:tool_call>", [lit("<function="), name([">"]), .begin,
                                                                     .xmlArguments(style), lit("</seed:tool_call>")])],
                             reasoning: [(open: "<seed:think>".bytes, close: "</seed:think>".bytes)])
        case .deepseekV32, .deepseekV4:
            let block = self == .deepseekV32 ? "function_calls>" : "tool_calls>"
            let style = ParsePlan.XMLArgumentStyle(keyOpen: "<｜DSML｜parameter name=\"".bytes, keyClose: "\">".bytes,
                                                   valueOpen: nil, valueClose: "</｜DSML｜parameter>".bytes,
                                                   end: "</｜DSML｜invoke>".bytes, trimNewlines: false,
                                                   stringAttribute: "\" string=\"".bytes)
            return ParsePlan(triggers: section(begin: "<｜DSML｜" + block, call: "<｜DSML｜invoke name=\"",
                                               end: "</｜DSML｜" + block, [name(["\">"]), .begin, .xmlArguments(style)]),
                             reasoning: think)
        case .minicpm5:
            let style = ParsePlan.XMLArgumentStyle(keyOpen: "<param name=\"".bytes, keyClose: "\">".bytes, valueOpen: nil,
                                                   valueClose: "</param>".bytes, end: "</function>".bytes,
                                                   trimNewlines: false, unwrapsCDATA: true)
            return ParsePlan(triggers: [trigger("<function name=\"", [name(["\">"]), .begin, .xmlArguments(style)])],
                             reasoning: think)
        case .lfm2:
            // The section ends at `]`; its `<|tool_call_end|>` token is dropped from the text after it.
            return ParsePlan(triggers: [trigger("<|tool_call_start|>[", [name(["("]), .begin, .pythonArguments], next: ",", end: "]")],
                             reasoning: think, dropMarkers: ["<|tool_call_end|>".bytes])
        case .kimiK2:
            let steps: [Step] = [name(["<|tool_call_argument_begin|>"], style: .kimi), .begin, .jsonArguments,
                                 lit("<|tool_call_end|>")]
            return ParsePlan(triggers: section(begin: "<|tool_calls_section_begin|>", call: "<|tool_call_begin|>",
                                               end: "<|tool_calls_section_end|>", steps),
                             reasoning: think)
        case .gemma:
            return ParsePlan(triggers: [trigger("<|tool_call>", [lit("call:"), name(["{"], keep: true), .begin,
                                                                 .gemmaArguments, lit("<tool_call|>")])],
                             reasoning: [(open: "<|channel>thought".bytes, close: "<channel|>".bytes)])
        case .generic:
            let object = calls(arguments: ["arguments", "parameters"], wrapper: true)
            return ParsePlan(triggers: [trigger("{", [object], consumed: false),
                                        trigger("```json", [object, lit("```")]),
                                        trigger("```", [object, lit("```")])],
                             reasoning: think, requireKnownName: true)
        }
    }
}

import Foundation
