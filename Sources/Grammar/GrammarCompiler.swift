import ChatAPI
import JSONSchemaKit

/// A grammar built from literal text, JSON-Schema-constrained JSON values, sequences,
/// alternatives and repetitions — enough to describe tool-call wrappers such as
/// `<tool_call>\n{"name":"f","arguments":{…}}\n</tool_call>` repeated one or more times.
public indirect enum GrammarSpec: Sendable {
    /// Exactly this text (UTF-8).
    case literal(String)
    /// One JSON value (compact, canonical form) satisfying the schema.
    case json(schema: JSONValue)
    /// Each part in order.
    case sequence([GrammarSpec])
    /// Any one of the parts.
    case choice([GrammarSpec])
    /// `min` to `max` (nil = unbounded) repetitions, optionally separated by `separator`.
    case repeated(GrammarSpec, min: Int, max: Int?, separator: String = "")
    /// One string satisfying a string schema (`pattern`, `format`, `minLength`, `maxLength`,
    /// `enum`, `const`), written as bare UTF-8 text, without quotes or escapes, that never
    /// contains `excluding`: a parameter value in an XML-style tool-call format, which ends at
    /// its closing marker.
    case rawString(schema: JSONValue, excluding: String)
}

/// Compiles schemas and grammar specs against one vocabulary.
///
/// ```swift
/// let compiler = GrammarCompiler(vocabulary: vocab)
/// let grammar = try compiler.compile(schema: schema)
/// var matcher = grammar.makeMatcher()
/// var mask = vocab.makeMask()
/// matcher.fillMask(&mask)           // allowed next tokens
/// matcher.accept(token: sampled)    // advance
/// ```
public struct GrammarCompiler: Sendable {
    public let vocabulary: GrammarVocabulary
    /// How schemas are turned into grammars (see `GrammarOptions`).
    public var options: GrammarOptions
    /// The string and number automata of this compiler's grammars, built once each.
    let terminals = Terminals()

    public init(vocabulary: GrammarVocabulary, options: GrammarOptions = GrammarOptions()) {
        self.vocabulary = vocabulary
        self.options = options
    }

    /// Compiles a JSON Schema into a grammar for one JSON value.
    public func compile(schema: JSONValue, budget: WorkBudget = .offline()) throws -> CompiledGrammar {
        try compile(.json(schema: schema), budget: budget)
    }

    /// Compiles a grammar spec. Throws `GrammarError` for what cannot be enforced, and
    /// `WorkBudgetExceeded` when the compilation costs more than `budget` allows.
    public func compile(_ spec: GrammarSpec, budget: WorkBudget = .offline()) throws -> CompiledGrammar {
        let builder = ProgramBuilder()
        let root = try GrammarCompiler.build(spec, builder, options, terminals, budget)
        let program = try builder.finish(root: root, budget: budget)
        return CompiledGrammar(runtime: GrammarRuntime(program: program, vocab: vocabulary), stateCount: builder.stateCount)
    }

    static func build(_ spec: GrammarSpec, _ b: ProgramBuilder, _ options: GrammarOptions, _ terminals: Terminals,
                      _ budget: WorkBudget) throws -> Int32 {
        try budget.spend()
        switch spec {
        case .json(let schema):
            let compiler = try SchemaCompiler(builder: b, document: schema, options: options, terminals: terminals, budget: budget)
            return try compiler.rule(compiler.document)
        case .rawString(let schema, let terminator):
            let compiler = try SchemaCompiler(builder: b, document: schema, options: options, terminals: terminals, budget: budget)
            return try compiler.rawStringRule(excluding: terminator)
        case .literal(let text):
            let (r, start) = try b.newRule()
            b.accept(try b.literal(start, Array(text.utf8)))
            return r
        case .sequence(let parts):
            let (r, start) = try b.newRule()
            var cur = start
            for p in parts {
                let next = try b.newState()
                b.call(cur, try build(p, b, options, terminals, budget), next)
                cur = next
            }
            b.accept(cur)
            return r
        case .choice(let parts):
            let (r, start) = try b.newRule()
            let end = try b.newState()
            b.accept(end)
            for p in parts { b.call(start, try build(p, b, options, terminals, budget), end) }
            return r
        case .repeated(let part, let minCount, let maxCount, let separator):
            if let maxCount, maxCount < minCount { throw GrammarError.unsatisfiable("repeat max < min") }
            let item = try build(part, b, options, terminals, budget)
            let (r, start) = try b.newRule()
            let cap = maxCount ?? max(minCount, 1)
            if cap > 5_000 { throw GrammarError.tooLarge("repetition bound \(cap)") }
            var states = [start]
            for _ in 0..<cap { states.append(try b.newState()) }
            for c in 0...cap {
                if c >= minCount { b.accept(states[c]) }
                if let m = maxCount, c >= m { continue }
                let from = c > 0 && !separator.isEmpty ? try b.literal(states[c], Array(separator.utf8)) : states[c]
                b.call(from, item, states[maxCount != nil ? c + 1 : min(c + 1, cap)])
            }
            return r
        }
    }
}

/// A compiled grammar; cheap to keep and to make matchers from. Caches (masks, steps) grow as
/// matchers explore it and are shared by all its matchers.
public final class CompiledGrammar: @unchecked Sendable {
    let runtime: GrammarRuntime
    /// Size of the compiled automaton (structural states), for diagnostics.
    public let stateCount: Int

    init(runtime: GrammarRuntime, stateCount: Int) {
        self.runtime = runtime
        self.stateCount = stateCount
    }

    public var vocabulary: GrammarVocabulary { runtime.vocab }

    /// A matcher at the start of the grammar.
    public func makeMatcher() -> GrammarMatcher { GrammarMatcher(runtime: runtime) }
}
