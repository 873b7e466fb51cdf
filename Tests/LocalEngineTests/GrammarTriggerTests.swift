import Grammar
import XCTest
@testable import LocalEngine

/// A lazily activated grammar takes hold at a trigger in the output, but not at one inside a
/// reasoning block: the parser reads a call there as reasoning, so constraining it would only
/// end the generation with no call.
final class GrammarTriggerTests: XCTestCase {
    /// Every byte is a token (0 is end of generation).
    static let grammar: CompiledGrammar = {
        let vocabulary = GrammarVocabulary(tokenBytes: [Array("<eos>".utf8)] + (0..<256).map { [UInt8($0)] },
                                           specialIDs: [0], endOfGenerationIDs: [0])
        return try! GrammarCompiler(vocabulary: vocabulary, options: .generation)
            .compile(.sequence([.literal("<tool_call>"), .repeated(.literal("x"), min: 1, max: 3), .literal("</tool_call>")]))
    }()

    /// Whether the grammar constrains the output after each of `texts`, fed a byte at a time.
    private func constraining(after texts: [String], reasoning: GrammarLogitsProcessor.ReasoningBlock?) -> [Bool] {
        let processor = GrammarLogitsProcessor(grammar: Self.grammar, activation: .afterTrigger(["<tool_call>"], reasoning: reasoning))
        return texts.map { text in
            for byte in text.utf8 { processor.didAccept(Int32(byte) + 1) }
            return processor.isConstraining
        }
    }

    func testATriggerInsideReasoningIsNoCall() {
        let think = GrammarLogitsProcessor.ReasoningBlock(open: "<think>", close: "</think>", startsInside: false)
        XCTAssertEqual(constraining(after: ["Hm <think>maybe <tool_call>", "x</tool_call></th", "ink>\n", "<tool_call>"],
                                    reasoning: think),
                       [false, false, false, true])
        var opened = think
        opened.startsInside = true
        XCTAssertEqual(constraining(after: ["maybe <tool_call>x", "</think>done <tool_call>"], reasoning: opened), [false, true])
        XCTAssertEqual(constraining(after: ["<think>maybe <tool_call>"], reasoning: nil), [true],
                       "without reasoning markers any trigger counts")
    }
}
