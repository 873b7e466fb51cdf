import ChatAPI
import Foundation
import Grammar
import LocalEngine

/// Compiles output grammars against one model's vocabulary and keeps the results: clients send
/// the same tools with every turn, and a compiled grammar also keeps the masks it has learned.
/// The vocabulary (a walk over every token) is built on first use, not at start-up.
final class GrammarCache: @unchecked Sendable {
    private let model: LlamaModel
    private let lock = NSLock()
    private var compiler: GrammarCompiler?  // guarded by `lock`
    private var grammars: [String: CompiledGrammar] = [:]  // guarded by `lock`
    private let capacity = 64

    init(model: LlamaModel) { self.model = model }

    /// The compiled grammar for `output`; throws `GrammarError` for a schema it cannot enforce.
    func grammar(for output: OutputGrammar) throws -> CompiledGrammar {
        lock.lock()
        let cached = grammars[output.cacheKey]
        lock.unlock()
        if let cached { return cached }
        let compiled = try sharedCompiler().compile(output.spec)
        lock.lock()
        if grammars.count >= capacity { grammars.removeAll() }
        grammars[output.cacheKey] = compiled
        lock.unlock()
        return compiled
    }

    /// Why `schema` alone cannot be compiled (nil if it can): names the culprit when a combined
    /// grammar fails.
    func schemaError(_ schema: JSONValue) -> GrammarError? {
        do {
            _ = try sharedCompiler().compile(schema: schema)
            return nil
        } catch let error as GrammarError {
            return error
        } catch {
            return .invalidSchema("\(error)")
        }
    }

    /// The compiler for this model, with its vocabulary built on first use.
    private func sharedCompiler() -> GrammarCompiler {
        lock.lock()
        defer { lock.unlock() }
        if compiler == nil { compiler = GrammarCompiler(vocabulary: model.makeGrammarVocabulary(), options: .generation) }
        return compiler!
    }
}
