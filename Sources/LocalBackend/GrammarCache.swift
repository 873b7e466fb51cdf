import Gateway
import ChatAPI
import Foundation
import Grammar
import JSONSchemaKit
import LocalEngine

/// Compiles output grammars against one model's vocabulary and keeps the outcomes: clients send
/// the same tools with every turn, a compiled grammar also keeps the masks it has learned, and a
/// refused or over-budget schema is refused again at once. The vocabulary (a walk over every
/// token) is built on first use, not at start-up.
final class GrammarCache: @unchecked Sendable {
    private let model: LlamaModel
    private let lock = NSLock()
    private var compiler: GrammarCompiler?  // guarded by `lock`
    private let grammars = CompilationCache<CompiledGrammar>(capacity: 64)
    private let schemaErrors = CompilationCache<GrammarError?>(capacity: 256)

    init(model: LlamaModel) { self.model = model }

    /// The compiled grammar for `output`; throws `GrammarError` for a schema it cannot enforce
    /// and `WorkBudgetExceeded` when compiling costs more than `budget`.
    func grammar(for output: OutputGrammar, budget: WorkBudget) throws -> CompiledGrammar {
        try grammars.value(output.cacheKey) { try sharedCompiler().compile(output.spec, budget: budget) }
    }

    /// Why `schema` alone cannot be compiled (nil if it can): names the culprit when a combined
    /// grammar fails.
    func schemaError(_ schema: JSONValue, budget: WorkBudget) throws -> GrammarError? {
        try schemaErrors.value(schema.serialized()) {
            do {
                _ = try sharedCompiler().compile(schema: schema, budget: budget)
                return nil
            } catch let error as GrammarError {
                return error
            }
        }
    }

    /// Whether the vocabulary is built, so compilations cost only their own work.
    var isCompilerReady: Bool {
        lock.lock()
        defer { lock.unlock() }
        return compiler != nil
    }

    /// Builds the vocabulary (a walk over every token, a second or more for a 151k vocabulary)
    /// if it is not built yet.
    func prepareCompiler() { _ = sharedCompiler() }

    /// The compiler for this model, with its vocabulary built on first use.
    private func sharedCompiler() -> GrammarCompiler {
        lock.lock()
        defer { lock.unlock() }
        if compiler == nil { compiler = GrammarCompiler(vocabulary: model.makeGrammarVocabulary(), options: .generation) }
        return compiler!
    }
}
