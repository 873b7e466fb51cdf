import Gateway
import ChatAPI
import ChatTemplates
import Grammar

/// What the output of one local generation must look like, as a grammar, and when that grammar
/// takes hold. Built from the request's `ToolCallPlan`, its `response_format` and the model's
/// tool-call format; nil when the output is free text.
struct OutputGrammar {
    /// The grammar of the constrained part.
    var spec: GrammarSpec
    /// nil: constrained from the first token. Otherwise free until one of these texts appears.
    var triggers: [String]?
    /// A key identifying the grammar, for the compiled-grammar cache.
    var cacheKey: String

    /// This grammar for a prompt that leaves a reasoning block open (QwQ, GLM-4.7 and MiniMax-M2
    /// end it with `<think>`): output constrained from the first token may first finish the
    /// reasoning, any text up to `close`. Otherwise the answer or the calls would be written
    /// inside the reasoning block, where they are neither.
    func afterReasoning(closedBy close: String) -> OutputGrammar {
        guard triggers == nil else { return self }
        let reasoning = GrammarSpec.rawString(schema: ["type": "string"], excluding: close)
        return OutputGrammar(spec: .sequence([reasoning, .literal(close), Self.whitespace, spec]), triggers: nil,
                             cacheKey: cacheKey + "|after:" + close)
    }

    /// A tool whose parameter schema the model's own call format cannot spell under a grammar.
    struct UnenforceableParameters: Error {
        var function: String
        var problem: GrammarError
    }

    /// The grammar for `plan` and `responseFormat` in `format`, or nil for free text. Throws
    /// `UnenforceableParameters` when a tool's parameters cannot be written in `format`.
    static func make(plan: ToolCallPlan, responseFormat: ResponseFormat, format: ToolCallFormat) throws -> OutputGrammar? {
        let answer = answerSpec(responseFormat)
        let calls = plan.mode == .forbidden || plan.functions.isEmpty ? nil : try callSection(plan: plan, format: format)
        var key = "\(format.rawValue)|\(plan.mode)|\(plan.maxCalls.map(String.init) ?? "*")|"
        key += plan.functions.map { $0.name + ":" + ($0.parameters?.serialized() ?? "") }.joined(separator: "|")
        key += "|rf:" + responseFormatKey(responseFormat)

        switch (calls, answer) {
        case (nil, nil):
            return nil
        case (nil, let answer?):
            return OutputGrammar(spec: answer, triggers: nil, cacheKey: key)
        case (let calls?, nil):
            if plan.mode == .mandatory {
                // A model told it must call may still open with a newline; let it.
                return OutputGrammar(spec: .sequence([whitespace, calls]), triggers: nil, cacheKey: key)
            }
            if format == .generic {
                return OutputGrammar(spec: calls, triggers: format.syntax.triggers, cacheKey: key)
            }
            // Left to itself, a small model may write a bare or fenced JSON call instead of its
            // template's format; that starts a (constrained) call too.
            return OutputGrammar(spec: .choice([calls, genericSection(plan: plan)]),
                                 triggers: format.syntax.triggers + ToolCallFormat.generic.syntax.triggers, cacheKey: key)
        case (let calls?, let answer?):
            // Structured answer or calls: both constrained from the first token.
            let spec: GrammarSpec = plan.mode == .mandatory ? .sequence([whitespace, calls]) : .choice([calls, answer])
            return OutputGrammar(spec: spec, triggers: nil, cacheKey: key)
        }
    }

    /// The JSON answer `response_format` asks for, or nil for text.
    static func answerSpec(_ responseFormat: ResponseFormat) -> GrammarSpec? {
        switch responseFormat {
        case .text: return nil
        case .jsonObject: return .json(schema: ["type": "object"])
        case .jsonSchema(_, _, let schema, _): return .json(schema: schema ?? .object([:]))
        }
    }

    private static func responseFormatKey(_ responseFormat: ResponseFormat) -> String {
        switch responseFormat {
        case .text: return "text"
        case .jsonObject: return "object"
        case .jsonSchema(_, _, let schema, _): return "schema:" + (schema?.serialized() ?? "")
        }
    }

    /// Up to four spaces or newlines, where a model may put insignificant whitespace around the
    /// call's own JSON wrapper (the arguments themselves are compact).
    static let whitespace: GrammarSpec = .repeated(.choice([.literal(" "), .literal("\n")]), min: 0, max: 4)

    /// The arguments of `function`: one JSON value of its parameter schema (an empty object
    /// when it declares none).
    static func arguments(_ function: FunctionDefinition) -> GrammarSpec {
        .json(schema: function.parameters ?? ["type": "object", "properties": .object([:])])
    }

    /// `{"name": "NAME", "arguments": ARGS}` with the format's key names, whitespace allowed
    /// around the wrapper's punctuation.
    static func jsonCallObject(_ function: FunctionDefinition, nameKey: String, argumentsKey: String,
                               idKey: String?) -> GrammarSpec {
        let ws = whitespace
        var parts: [GrammarSpec] = [.literal("{"), ws]
        func member(_ key: String, _ value: GrammarSpec) {
            parts += [.literal(JSONValue.quoted(key)), ws, .literal(":"), ws, value, ws]
        }
        if let idKey {
            member(idKey, .json(schema: ["type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"]))
            parts += [.literal(","), ws]
        }
        member(nameKey, .literal(JSONValue.quoted(function.name)))
        parts += [.literal(","), ws]
        member(argumentsKey, arguments(function))
        parts.append(.literal("}"))
        return .sequence(parts)
    }

    /// One call of any of `plan.functions`, then up to `maxCalls - 1` more, as `format` writes
    /// a section of calls.
    static func callSection(plan: ToolCallPlan, format: ToolCallFormat) throws -> GrammarSpec {
        if format == .generic { return genericSection(plan: plan) }
        let syntax = format.syntax
        let maxCalls = syntax.supportsParallelCalls ? plan.maxCalls : 1
        var argumentsOf: [String: GrammarSpec] = [:]
        for function in plan.functions {
            do {
                argumentsOf[function.name] = switch syntax.argumentsEncoding {
                case .json: arguments(function)
                case .xmlParameters: try XMLParameterGrammar(syntax.argumentsEncoding)!.arguments(function)
                case .gemma: try GemmaArgumentGrammar().arguments(function)
                case .pythonKeywords: try PythonArgumentGrammar().arguments(function)
                }
            } catch let problem as GrammarError {
                throw UnenforceableParameters(function: function.name, problem: problem)
            }
        }
        func call(index: Int?) -> GrammarSpec {
            .choice(plan.functions.map { function in
                switch syntax.namePlacement {
                case .literal:
                    let before = syntax.textBeforeArguments(name: function.name, index: index ?? 0)
                    return .sequence([.literal(before), argumentsOf[function.name]!, .literal(syntax.textAfterArguments())])
                case .insideJSON(let nameKey, let argumentsKey, let idKey):
                    return .sequence([.literal(syntax.callPrefix),
                                      jsonCallObject(function, nameKey: nameKey, argumentsKey: argumentsKey, idKey: idKey),
                                      .literal(syntax.callSuffix)])
                }
            })
        }
        let calls: GrammarSpec
        if syntax.callTextDependsOnIndex {
            // Each call spells its own position (Kimi's `functions.NAME:0`): unroll a few.
            let limit = min(maxCalls ?? 8, 8)
            var tail: GrammarSpec? = nil
            for i in stride(from: limit - 1, through: 1, by: -1) {
                let this: GrammarSpec = .sequence([.literal(syntax.separator), call(index: i)] + (tail.map { [$0] } ?? []))
                tail = .repeated(this, min: 0, max: 1)
            }
            calls = .sequence([call(index: 0)] + (tail.map { [$0] } ?? []))
        } else {
            calls = .repeated(call(index: nil), min: 1, max: maxCalls, separator: syntax.separator)
        }
        return .sequence([.literal(syntax.sectionPrefix), calls, .literal(syntax.sectionSuffix)])
    }

    /// The generic format: `{"name": …, "arguments": …}` for one call, or
    /// `{"tool_calls": [ … ]}` for several, optionally in a ```json fence.
    static func genericSection(plan: ToolCallPlan) -> GrammarSpec {
        let ws = whitespace
        let one: GrammarSpec = .choice(plan.functions.map {
            jsonCallObject($0, nameKey: "name", argumentsKey: "arguments", idKey: nil)
        })
        var forms: [GrammarSpec] = [one]
        if plan.maxCalls != 1 {
            let item: GrammarSpec = .sequence([ws, one, ws])
            forms.append(.sequence([
                .literal("{"), ws, .literal("\"tool_calls\""), ws, .literal(":"), ws, .literal("["),
                .repeated(item, min: 1, max: plan.maxCalls, separator: ","), .literal("]"), ws, .literal("}"),
            ]))
        }
        let bare: GrammarSpec = .choice(forms)
        let fenced: GrammarSpec = .sequence([.literal("```json"), ws, bare, ws, .literal("```")])
        return .choice([bare, fenced])
    }
}
