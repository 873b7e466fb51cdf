import ChatAPI
import Foundation
import GGUF
import XCTest
@testable import Grammar

/// A small synthetic vocabulary: every single byte, some JSON-ish merges, and an EOG token.
/// Token ids: 0 = EOG, 1...256 = bytes 0...255, then the merges.
enum SyntheticVocab {
    static let merges = [
        "{\"", "\":", "\",", "\"}", "\":\"", "true", "false", "null", "12", "1.", "e-", "\"a", "ab", "abc",
        "},{\"", "]}", "[{", "\\u", "00", "\\n", "name", "\"name\":\"", "arguments", "<tool_call>", "</tool_call>",
        "\n", "é", "😀", ",\"", "}}", "9\"", "0,",
    ]
    static let shared: GrammarVocabulary = {
        var tokens: [[UInt8]] = [Array("<eos>".utf8)]
        for b in 0..<256 { tokens.append([UInt8(b)]) }
        for m in merges { tokens.append(Array(m.utf8)) }
        return GrammarVocabulary(tokenBytes: tokens, specialIDs: [0], endOfGenerationIDs: [0])
    }()
    static let eos = 0
}

/// The SmolLM2 vocabulary when the model file is present.
enum RealVocab {
    static let smol: GrammarVocabulary? = {
        let path = FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/switchboard/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: path),
              let f = try? GGUFFile(path: path), let t = try? TokenizerVocabulary(gguf: f) else { return nil }
        return GrammarVocabulary(t)
    }()
}

extension XCTestCase {
    func schema(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue {
        do { return try JSONValue(parsing: text) } catch {
            XCTFail("bad test schema: \(error)", file: file, line: line)
            return .bool(true)
        }
    }

    func compile(_ s: JSONValue, _ vocab: GrammarVocabulary = SyntheticVocab.shared) throws -> CompiledGrammar {
        try GrammarCompiler(vocabulary: vocab).compile(schema: s)
    }

    /// Feeds `text` tokenized greedily, checking before every token that the mask agrees with
    /// the matcher; returns whether the whole text is accepted and complete.
    func run(_ g: CompiledGrammar, _ text: String, checkMask: Bool = true, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let vocab = g.vocabulary
        guard let tokens = vocab.greedyTokenize(Array(text.utf8)) else {
            XCTFail("cannot tokenize \(text)", file: file, line: line)
            return false
        }
        var m = g.makeMatcher()
        var mask = vocab.makeMask()
        for t in tokens {
            if checkMask {
                m.fillMask(&mask)
                XCTAssertEqual(mask.contains(t), m.canAccept(token: t), "mask disagrees on token \(t) in \(text)", file: file, line: line)
            }
            if !m.accept(token: t) { return false }
        }
        m.fillMask(&mask)
        let eogAllowed = vocab.endOfGenerationIDs.allSatisfy { mask.contains($0) }
        XCTAssertEqual(eogAllowed, m.isComplete, file: file, line: line)
        return m.isComplete
    }

    /// Byte-by-byte run (each byte its own token in the synthetic vocabulary).
    func runBytes(_ g: CompiledGrammar, _ bytes: [UInt8]) -> Bool {
        var m = g.makeMatcher()
        for b in bytes where !m.accept(bytes: [b]) { return false }
        return m.isComplete
    }

    /// Exhaustive mask check: at every prefix of `text`, the mask equals the set of tokens the
    /// matcher accepts one by one.
    func assertMaskExact(_ g: CompiledGrammar, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let vocab = g.vocabulary
        let tokens = vocab.greedyTokenize(Array(text.utf8)) ?? []
        var m = g.makeMatcher()
        var mask = vocab.makeMask()
        for t in tokens + [-1] {
            m.fillMask(&mask)
            for id in 0..<vocab.count where mask.contains(id) != m.canAccept(token: id) {
                XCTFail("token \(id) \(String(decoding: vocab.tokenBytes[id], as: UTF8.self)) mask \(mask.contains(id)) after \(m.tokenCount) tokens of \(text)", file: file, line: line)
                return
            }
            if t >= 0 { XCTAssertTrue(m.accept(token: t), file: file, line: line) }
        }
    }
}
