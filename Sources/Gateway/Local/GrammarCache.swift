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
        if let cached = grammars[output.cacheKey] { lock.unlock(); return cached }
        if compiler == nil { compiler = GrammarCompiler(vocabulary: model.makeGrammarVocabulary(), options: .generation) }
        let compiler = self.compiler!
        lock.unlock()
        let compiled = try compiler.compile(output.spec)
        lock.lock()
        if grammars.count >= capacity { grammars.removeAll() }
        grammars[output.cacheKey] = compiled
        lock.unlock()
        return compiled
    }

    /// The compiler, for checking single schemas when a combined grammar fails.
    func schemaError(_ schema: JSONValue) -> GrammarError? {
        lock.lock()
        if compiler == nil { compiler = GrammarCompiler(vocabulary: model.makeGrammarVocabulary(), options: .generation) }
        let compiler = self.compiler!
        lock.unlock()
        do {
            _ = try compiler.compile(schema: schema)
            return nil
        } catch let error as GrammarError {
            return error
        } catch {
            return .invalidSchema("\(error)")
        }
    }
}
