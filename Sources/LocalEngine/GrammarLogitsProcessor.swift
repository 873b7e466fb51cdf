import Foundation
import Grammar

extension LlamaModel {
    /// The model's vocabulary as the grammar engine sees it: each token's bytes exactly as the
    /// engine emits them (`tokenBytes`), with the end-of-generation tokens allowed only where a
    /// grammar is complete. Tokens that render as nothing (control tokens) are never produced
    /// by a grammar. Building it walks the whole vocabulary, so build once per model.
    public func makeGrammarVocabulary() -> GrammarVocabulary {
        let bytes = (0..<vocabularySize).map { Array(tokenBytes(Int32($0))) }
        return GrammarVocabulary(tokenBytes: bytes, specialIDs: [],
                                 endOfGenerationIDs: Set(endOfGenerationTokens.map(Int.init)))
    }
}

/// Constrains generation to a compiled grammar, either from the first token or lazily: free
/// until the output contains one of the trigger texts, then constrained from the trigger on
/// (the trigger and whatever followed it in the same token are fed to the grammar first).
///
/// One instance per request (it keeps the matcher); the engine calls it on its generation
/// thread only.
public final class GrammarLogitsProcessor: LogitsProcessor, @unchecked Sendable {
    /// When the grammar takes hold.
    public enum Activation: Sendable {
        /// From the first generated token.
        case immediately
        /// From the first occurrence of any of these texts in the output.
        case afterTrigger([String])
    }

    private let grammar: CompiledGrammar
    private var matcher: GrammarMatcher?
    private var mask: Grammar.TokenMask
    private let triggers: [[UInt8]]
    private let longestTrigger: Int
    /// The most recent output bytes while free, kept for finding a trigger split across tokens.
    private var recentOutput: [UInt8] = []
    /// Nanoseconds spent computing and applying each mask, in order (for benchmarks and logs).
    public private(set) var maskNanoseconds: [UInt64] = []
    /// Set when a trigger appeared but what followed it in the same token broke the grammar;
    /// generation then stays free (the output parser decides what the text is).
    public private(set) var triggerRejected = false

    public init(grammar: CompiledGrammar, activation: Activation) {
        self.grammar = grammar
        self.mask = grammar.vocabulary.makeMask()
        switch activation {
        case .immediately:
            triggers = []
            matcher = grammar.makeMatcher()
        case .afterTrigger(let texts):
            triggers = texts.map { Array($0.utf8) }.filter { !$0.isEmpty }
        }
        longestTrigger = triggers.map(\.count).max() ?? 0
    }

    /// Whether the grammar is currently constraining the output.
    public var isConstraining: Bool { matcher != nil }

    /// Whether the constrained part is a complete match (only meaningful once constraining).
    public var isComplete: Bool { matcher?.isComplete ?? false }

    public func process(_ logits: UnsafeMutableBufferPointer<Float>) {
        guard let matcher else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        matcher.fillMask(&mask)
        let allowed = mask.words.withUnsafeBufferPointer {
            LogitsMasking.keepOnly($0, vocabularySize: mask.count, in: logits)
        }
        if allowed == 0 {
            // Cannot happen for a satisfiable grammar; never leave the sampler with nothing.
            for token in grammar.vocabulary.endOfGenerationIDs where token < logits.count { logits[token] = 0 }
        }
        maskNanoseconds.append(DispatchTime.now().uptimeNanoseconds - start)
    }

    public func didAccept(_ token: Int32) {
        if matcher != nil {
            matcher!.accept(token: Int(token))
            return
        }
        guard !triggers.isEmpty, Int(token) < grammar.vocabulary.count else { return }
        recentOutput += grammar.vocabulary.tokenBytes[Int(token)]
        guard let start = firstTrigger(in: recentOutput) else {
            if recentOutput.count > longestTrigger { recentOutput.removeFirst(recentOutput.count - longestTrigger) }
            return
        }
        var candidate = grammar.makeMatcher()
        if candidate.accept(bytes: Array(recentOutput[start...])) {
            matcher = candidate
        } else {
            triggerRejected = true
            recentOutput.removeAll()
        }
    }

    private func firstTrigger(in bytes: [UInt8]) -> Int? {
        var best: Int?
        for trigger in triggers where bytes.count >= trigger.count {
            for i in 0...(bytes.count - trigger.count) where best == nil || i < best! {
                if bytes[i..<(i + trigger.count)].elementsEqual(trigger) { best = i; break }
            }
        }
        return best
    }
}
