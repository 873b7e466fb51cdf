// Tool-call formats per model family.
//
//   detect(template:metadata:)  which format a chat template uses (marker substrings, as
//                               llama.cpp's chat layer does); `.generic` when it has no tools
//   render(calls:content:)      the text the model emits for calls (template spelling)
//   makeParser(...)             incremental parser: text / reasoning / call started /
//                               argument fragments / finished / malformed
//   syntax                      declarative literal + arguments + literal shape for grammars
//   GenericToolPrompt           system-prompt section for templates without tools
//
// The parser interprets a `ParsePlan` (ParsePlan.swift) per format: text-mode markers
// (triggers, reasoning blocks, dropped control tokens) and, per call, a list of steps
// (literals, name, id, JSON / XML / Gemma arguments). Arguments stream through
// `JSONStreamScanner`, which validates as it goes and drops insignificant whitespace, so the
// fragments of a call always concatenate to one compact JSON object.
//
// Adding a format (today a format is spelled in four places; issue 14 asks for one):
//   1. a case here, documented with the exact text the model writes;
//   2. its `syntax` (ToolCallSyntax.swift): the grammar is built from it, so JSON,
//      `.xmlParameters` and `.gemma` arguments are constrained with no further code;
//   3. its `parsePlan` (ToolCallFormat+Parsing.swift): triggers, steps, reasoning and dropped
//      markers, usually with the `section(begin:call:end:)` helper;
//   4. its `render` case (ToolCallFormat+Rendering.swift) and one line in `detect`;
//   5. tests: the template's expected format in ToolCallFormatDetectionTests, its end-of-turn
//      token in ToolCallTemplateRoundTripTests if new, and the README's format table. The
//      round trips through the real templates then cover it with no further test code.

import ChatAPI

/// How a model family writes tool calls in its output text.
///
/// Pick one with `ToolCallFormat.detect(template:metadata:)`, then use `render(calls:content:)`
/// (the text the model emits), `makeParser(...)` (incremental parsing of generated text) and
/// `syntax` (the declarative shape a constrained decoder turns into a grammar).
public enum ToolCallFormat: String, CaseIterable, Sendable {
    /// Hermes 2/3, Qwen2.5/Qwen3, Granite 4, MiMo, Bielik, Reka:
    /// `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>`.
    case hermes
    /// Qwen3-Coder, Qwen3.5, Nemotron 3, StepFun: `<tool_call>\n<function=NAME>\n<parameter=P>\nV\n</parameter>\n</function>\n</tool_call>`.
    case qwen3Coder
    /// Llama 3.x: a bare `{"name": …, "parameters": …}` object naming a listed tool, optionally
    /// after `<|python_tag|>`; after the tag also Llama 3.1's built-in calls
    /// `brave_search.call(query="…")` and raw code (a call of `python` with `{"code": …}`).
    case llama3
    /// Mistral Nemo: `[TOOL_CALLS][{"name": …, "arguments": …, "id": …}]`.
    case mistral
    /// Newer Mistral (Small 3.2, Devstral, Ministral): `[TOOL_CALLS]NAME[CALL_ID]ID[ARGS]{…}`, the id optional.
    case mistralArgs
    /// Functionary v3.1: `<function=NAME>{…}</function>`.
    case functionaryV31
    /// Functionary v3.2: `>>>NAME\n{…}`; plain text goes to the `all` recipient.
    case functionaryV32
    /// DeepSeek R1: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{…}\n```<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`.
    case deepseekR1
    /// DeepSeek V3.1: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{…}<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`.
    case deepseekV31
    /// Command R7B: `<|START_ACTION|>[{"tool_call_id": …, "tool_name": …, "parameters": …}]<|END_ACTION|>`.
    case commandR7B
    /// Command R+ (tool-use template): `Action:\n```json\n[{"tool_name": …, "parameters": …}]```` .
    case commandRPlus
    /// Firefunction v2: ` functools[{"name": …, "arguments": …}]`.
    case firefunctionV2
    /// Granite 3.x: `<|tool_call|>[{"name": …, "arguments": …}]`.
    case granite
    /// gpt-oss (harmony): ` to=functions.NAME<|channel|>commentary json<|message|>{…}<|call|>`.
    case gptOss
    /// GLM-4.5/4.6/4.7 and relatives: `<tool_call>NAME\n<arg_key>k</arg_key>\n<arg_value>v</arg_value>\n</tool_call>`.
    case glm45
    /// MiniMax-M2: `<minimax:tool_call>\n<invoke name="NAME">\n<parameter name="P">V</parameter>\n</invoke>\n</minimax:tool_call>`.
    case minimaxM2
    /// Tencent Hy3: `<tool_calls:opensource>\n<tool_call:opensource>NAME<tool_sep:opensource>\n<arg_key:opensource>k</arg_key:opensource>\n<arg_value:opensource>v</arg_value:opensource>\n</tool_call:opensource>\n</tool_calls:opensource>`.
    case hy3
    /// MiniMax-M1: `<tool_calls>\n{"name": …, "arguments": …}\n{…}\n</tool_calls>`, one JSON object per line.
    case minimaxM1
    /// Nemotron Nano 2: `<TOOLCALL>[{"name": …, "arguments": …}, …]</TOOLCALL>`.
    case nemotronV2
    /// Apertus: `<|tools_prefix|>[{"NAME": {…}}, …]<|tools_suffix|>`, the name as the object's key.
    case apertus
    /// Solar Open: `<|tool_calls|><|tool_call:begin|>ID<|tool_call:name|>NAME<|tool_call:args|>{…}<|tool_call:end|>…<|calls|>`.
    case solarOpen
    /// Apriel 1.5/1.6: `<tool_calls>[{"name": …, "arguments": …, "id": …}, …]</tool_calls>`, the id optional.
    case apriel
    /// GigaChat 3.1: `<|function_call|>{"name": …, "arguments": …}`, one call per turn.
    case gigachat31
    /// Seed-OSS: `<seed:tool_call>\n<function=NAME>\n<parameter=P>V</parameter>\n</function>\n</seed:tool_call>`,
    /// each call in its own block (the template writes non-string values as Python literals).
    case seedOSS
    /// DeepSeek V3.2 (DSML): `<｜DSML｜function_calls>\n<｜DSML｜invoke name="NAME">\n<｜DSML｜parameter name="P" string="true">V</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>`,
    /// `string="false"` for values written as JSON.
    case deepseekV32
    /// DeepSeek V4: V3.2's DSML in a `<｜DSML｜tool_calls>` section.
    case deepseekV4
    /// MiniCPM 5: `<function name="NAME"><param name="P">V</param></function>`, a value holding
    /// `<`, `&` or a newline wrapped in `<![CDATA[…]]>`.
    case minicpm5
    /// LFM2 / LFM2.5: `<|tool_call_start|>[NAME(key='text', n=1), …]<|tool_call_end|>`, Python calls.
    case lfm2
    /// Kimi K2: `<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{…}<|tool_call_end|><|tool_calls_section_end|>`.
    case kimiK2
    /// Gemma 4: `<|tool_call>call:NAME{key:<|"|>text<|"|>,n:1}<tool_call|>`.
    case gemma
    /// Templates without tool support: tools are described in the system prompt
    /// (`GenericToolPrompt`) and the model answers with one JSON object.
    case generic
}

extension ToolCallFormat {
    /// One tool call to render: name, arguments object and (when the format writes one) id.
    public struct Call: Sendable, Equatable {
        public var name: String
        public var arguments: JSONObject
        /// Written by formats that carry ids (Mistral, Command R7B, Kimi); ignored by the rest.
        public var id: String?

        public init(name: String, arguments: JSONObject, id: String? = nil) {
            self.name = name
            self.arguments = arguments
            self.id = id
        }

        /// A wire `ToolCall` (arguments as JSON text); nil when its arguments are not a JSON object.
        public init?(_ call: ToolCall) {
            guard let object = (try? JSONValue(parsing: call.arguments))?.objectValue else { return nil }
            self.init(name: call.name, arguments: object, id: call.id)
        }
    }
}

extension FunctionDefinition {
    /// The JSON Schema `type` names declared for one parameter (empty when unknown).
    func declaredTypes(of parameter: String) -> [String] {
        guard let property = parameters?["properties"]?[parameter] else { return [] }
        switch property["type"] {
        case .string(let t)?: return [t]
        case .array(let ts)?: return ts.compactMap(\.stringValue)
        default: return []
        }
    }
}

/// What an incremental tool-call parser reports; mirrors ChatAPI's `ChatEvent`.
///
/// For each call: one `toolCallStarted`, then `argumentsDelta`s whose concatenation is the
/// arguments as one compact JSON object (no insignificant whitespace), then `toolCallFinished`
/// — or `malformedToolCall` if the model broke the format after the call had started.
public enum ParsedEvent: Sendable, Equatable {
    case text(String)
    case reasoning(String)
    /// A call begins. `id` is set only when the format writes one before the arguments.
    case toolCallStarted(index: Int, name: String, id: String?)
    case argumentsDelta(index: Int, fragment: String)
    /// The call's arguments are complete and form a valid JSON object.
    case toolCallFinished(index: Int)
    /// A started call could not be completed. `text` is the raw model output of the call so far
    /// (from its opening marker); the caller should discard the call's fragments.
    case malformedToolCall(index: Int, text: String, reason: String)
}

extension ParsedEvent {
    /// The `ChatEvent` this parser event becomes. `callID` names calls whose format carries no
    /// id (ids are the caller's to assign). `toolCallFinished` and `malformedToolCall` have no
    /// `ChatEvent` counterpart and return nil: the caller validates or rejects the call.
    public func chatEvent(callID: (_ index: Int) -> String) -> ChatEvent? {
        switch self {
        case .text(let t): return .textDelta(t)
        case .reasoning(let r): return .reasoningDelta(r)
        case .toolCallStarted(let index, let name, let id): return .toolCallStarted(index: index, id: id ?? callID(index), name: name)
        case .argumentsDelta(let index, let fragment): return .toolCallArgumentsDelta(index: index, fragment: fragment)
        case .toolCallFinished, .malformedToolCall: return nil
        }
    }
}
