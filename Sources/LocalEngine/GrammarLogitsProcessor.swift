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
/// A trigger inside a reasoning block does not count: a call there is no call.
///
/// One instance per request (it keeps the matcher); the engine calls it on its generation
/// thread only.
public final class GrammarLogitsProcessor: LogitsProcessor, @unchecked Sendable {
    /// When the grammar takes hold.
    public enum Activation: Sendable {
        /// From the first generated token.
        case immediately
        /// From the first occurrence of any of these texts in the output outside `reasoning`.
        case afterTrigger([String], reasoning: ReasoningBlock? = nil)
    }

    /// The markers of the model's reasoning blocks.
    public struct ReasoningBlock: Sendable {
        public var open: [UInt8]
        public var close: [UInt8]
        /// The prompt opened a block: output starts inside it.
        public var startsInside: Bool

        public init(open: String, close: String, startsInside: Bool) {
            (self.open, self.close, self.startsInside) = (Array(open.utf8), Array(close.utf8), startsInside)
        }
    }

    private let grammar: CompiledGrammar
    private var matcher: GrammarMatcher?
    private var mask: Grammar.TokenMask
    private let triggers: [[UInt8]]
    private let reasoning: ReasoningBlock?
    private var insideReasoning: Bool
    /// The longest marker looked for in `recentOutput`.
    private let longestMarker: Int
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
            reasoning = nil
            matcher = grammar.makeMatcher()
        case .afterTrigger(let texts, let block):
            triggers = texts.map { Array($0.utf8) }.filter { !$0.isEmpty }
            reasoning = block.flatMap { $0.open.isEmpty || $0.close.isEmpty ? nil : $0 }
        }
        insideReasoning = reasoning?.startsInside ?? false
        longestMarker = (triggers.map(\.count) + [reasoning?.open.count ?? 0, reasoning?.close.count ?? 0]).max() ?? 0
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
        guard let start = firstTriggerOutsideReasoning() else {
            if recentOutput.count > longestMarker { recentOutput.removeFirst(recentOutput.count - longestMarker) }
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

    /// Where the first trigger outside reasoning starts in `recentOutput`; reasoning blocks seen
    /// on the way are dropped from it.
    private func firstTriggerOutsideReasoning() -> Int? {
        while true {
            if insideReasoning, let reasoning {
                guard let close = Self.first([reasoning.close], in: recentOutput) else { return nil }
                recentOutput.removeFirst(close + reasoning.close.count)
                insideReasoning = false
            }
            let trigger = Self.first(triggers, in: recentOutput)
            guard let reasoning, let open = Self.first([reasoning.open], in: recentOutput), open < (trigger ?? .max) else {
                return trigger
            }
            recentOutput.removeFirst(open + reasoning.open.count)
            insideReasoning = true
        }
    }

    private static func first(_ needles: [[UInt8]], in bytes: [UInt8]) -> Int? {
        var best: Int?
        for needle in needles where bytes.count >= needle.count {
            for i in 0...(bytes.count - needle.count) where best == nil || i < best! {
                if bytes[i..<(i + needle.count)].elementsEqual(needle) { best = i; break }
            }
        }
        return best
    }
}
