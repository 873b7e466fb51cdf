import ChatAPI
import Grammar

/// The guard on a hosted upstream's stream: passes each event on only when it keeps the
/// contract, and each argument fragment only while the call's text so far can still complete
/// to a value its schema accepts.
///
/// The prefix check runs the function's grammar over the argument bytes. The grammar is exact
/// or narrower than the schema, so a fragment it rejects may still be valid (a documented
/// narrowing, or a schema the grammar refuses): from there the call's fragments are held back,
/// and the validator decides when the call ends. Either way the client never receives the
/// whole of an invalid call: the stream ends with an error naming the problem instead.
struct ArgumentGate {
    private var checker: ToolCallGuard
    private var matcher: GrammarMatcher?
    private var held: [ChatEvent] = []
    private var holding = false
    private let report: GuardReport

    init(checker: ToolCallGuard, report: GuardReport) {
        self.checker = checker
        self.report = report
    }

    /// The events to pass on for `event`, in order. `matcher` is the new call's argument
    /// matcher when `event` starts a call (nil: hold the whole call). Throws the violation.
    mutating func pass(_ event: ChatEvent, matcher newMatcher: GrammarMatcher? = nil) throws -> [ChatEvent] {
        try checker.check(event)  // a call or finish ends the previous call: validated here
        switch event {
        case .toolCallStarted(let index, _, _):
            let out = released() + [event]
            matcher = newMatcher
            holding = newMatcher == nil
            if holding { report.add(.heldArguments(index)) }
            return out
        case .toolCallArgumentsDelta(let index, let fragment):
            if !holding, matcher?.accept(bytes: Array(fragment.utf8)) == true { return [event] }
            if !holding {
                holding = true
                report.add(.heldArguments(index))
            }
            held.append(event)
            return []
        case .finished(let reason, _):
            // A call cut by the token limit is not validated, so what was held is dropped.
            return (reason == .length ? [] : released()) + [event]
        case .textDelta, .reasoningDelta, .reasoningSignature:
            return [event]
        }
    }

    /// The held fragments of the call that just passed validation.
    private mutating func released() -> [ChatEvent] {
        defer { held = []; holding = false; matcher = nil }
        return held
    }
}

/// Compiled argument grammars for the guard's prefix check, by schema, over bytes (no
/// vocabulary). Owned by the router; compiled off the cooperative pool under a budget.
public final class ArgumentGrammars: Sendable {
    private let executor: CompileExecutor
    private let cache = CompilationCache<CompiledGrammar?>(capacity: 256)
    private let compiler = GrammarCompiler(
        vocabulary: GrammarVocabulary(tokenBytes: [], specialIDs: [], endOfGenerationIDs: []), options: .faithful)

    public init(executor: CompileExecutor) { self.executor = executor }

    /// A fresh matcher for `function`'s arguments, or nil when its schema has no grammar (the
    /// call is then held back whole until it validates).
    func matcher(for function: FunctionDefinition) async -> GrammarMatcher? {
        let schema = function.parameters ?? ["type": "object"]
        let key = schema.serialized()
        if let outcome = cache.outcome(key) { return (try? outcome.get())?.makeMatcher() }
        let cache = self.cache, compiler = self.compiler
        let grammar = try? await executor.run { budget in
            try cache.value(key) {
                do { return try compiler.compile(schema: schema, budget: budget) } catch is GrammarError { return nil }
            }
        }
        return grammar?.makeMatcher()
    }
}
