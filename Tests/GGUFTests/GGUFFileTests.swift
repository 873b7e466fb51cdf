import Foundation
import XCTest
@testable import GGUF

/// Builds GGUF bytes in memory so the reader is tested without a model file.
private struct GGUFWriter {
    var bytes: [UInt8] = []
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
}

final class GGUFFileTests: XCTestCase {
    func testParsesAllValueTypesFromSyntheticFile() throws {
        var w = GGUFWriter()
        w.u32(0x4655_4747); w.u32(3); w.u64(7); w.u64(6)
        w.str("general.architecture"); w.u32(8); w.str("llama")
        w.str("a.u8"); w.u32(0); w.bytes.append(200)
        w.str("a.i32"); w.u32(5); w.u32(UInt32(bitPattern: -5))
        w.str("a.f32"); w.u32(6); w.u32(Float(1.5).bitPattern)
        w.str("a.bool"); w.u32(7); w.bytes.append(1)
        w.str("a.arr"); w.u32(9); w.u32(8); w.u64(2); w.str("x"); w.str("ÿ")
        w.bytes += [0xde, 0xad]  // tensor infos would follow; never read
        let f = try GGUFFile(data: Data(w.bytes))
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.tensorCount, 7)
        XCTAssertEqual(f.keys.count, 6)
        XCTAssertEqual(f.architecture, "llama")
        XCTAssertEqual(f.int("a.u8"), 200)
        XCTAssertEqual(f.int("a.i32"), -5)
        XCTAssertEqual(f.double("a.f32"), 1.5)
        XCTAssertEqual(f.bool("a.bool"), true)
        XCTAssertEqual(f.stringArray("a.arr"), ["x", "ÿ"])
        XCTAssertNil(f.string("missing"))
    }

    func testRejectsBadMagicAndTruncation() {
        XCTAssertThrowsError(try GGUFFile(data: Data([1, 2, 3, 4, 5, 6, 7, 8]))) {
            XCTAssertEqual($0 as? GGUFError, .notGGUF)
        }
        var w = GGUFWriter()
        w.u32(0x4655_4747); w.u32(3); w.u64(0); w.u64(1); w.str("k"); w.u32(8); w.u64(100)
        XCTAssertThrowsError(try GGUFFile(data: Data(w.bytes)))
    }

    func testByteLevelMappingRoundTrips() {
        XCTAssertEqual(TokenizerVocabulary.decodeByteLevel("Ġ"), [0x20])
        XCTAssertEqual(TokenizerVocabulary.decodeByteLevel("Ċ"), [0x0A])
        XCTAssertEqual(TokenizerVocabulary.decodeByteLevel("ĠHello"), Array(" Hello".utf8))
        // Every byte maps to a distinct code point and back.
        for b in 0..<256 {
            let s = String(UnicodeScalar(TokenizerVocabulary.byteToUnicode[b])!)
            XCTAssertEqual(TokenizerVocabulary.decodeByteLevel(s), [UInt8(b)])
        }
    }

    func testSentencePieceTokens() {
        let v = TokenizerVocabulary(
            model: .llama, texts: ["<unk>", "<s>", "</s>", "<0x0A>", "▁hello", "é"],
            types: [.unknown, .control, .control, .byte, .normal, .normal],
            bosID: 1, eosID: 2, declaredEOG: [2])
        XCTAssertEqual(v.bytes(of: 3), [0x0A])
        XCTAssertEqual(v.bytes(of: 4), Array(" hello".utf8))
        XCTAssertEqual(v.bytes(of: 5), [0xC3, 0xA9])
        XCTAssertEqual(v.endOfGenerationIDs, [2])
        XCTAssertTrue(v.specialIDs.isSuperset(of: [0, 1, 2]))
        XCTAssertFalse(v.specialIDs.contains(4))
    }
}

/// Checks against the real model files when they are present (they are after scripts/bootstrap
/// and scripts/fetch-qwen).
final class GGUFModelFileTests: XCTestCase {
    static let models = FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/switchboard/models/"

    private func load(_ name: String) throws -> (GGUFFile, TokenizerVocabulary) {
        let path = Self.models + name
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) not present") }
        let f = try GGUFFile(path: path)
        return (f, try TokenizerVocabulary(gguf: f))
    }

    /// Greedy longest-match tokenization; enough to check the byte spellings round-trip.
    private func roundTrip(_ text: String, _ v: TokenizerVocabulary) -> [UInt8] {
        var index: [[UInt8]: Int] = [:]
        for i in 0..<v.count where !v.specialIDs.contains(i) { index[v.bytes(of: i)] = i }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            var best = 0
            for len in stride(from: min(24, bytes.count - i), through: 1, by: -1) where index[Array(bytes[i..<i + len])] != nil {
                best = len
                break
            }
            XCTAssertGreaterThan(best, 0, "no token for byte \(bytes[i])")
            if best == 0 { return out }
            out += v.bytes(of: index[Array(bytes[i..<i + best])]!)
            i += best
        }
        return out
    }

    func testSmolLM2Vocabulary() throws {
        let (f, v) = try load("SmolLM2-135M-Instruct.Q4_1.gguf")
        XCTAssertEqual(v.model, .gpt2)
        XCTAssertEqual(v.count, 49_152)
        XCTAssertNotNil(f.chatTemplate)
        XCTAssertEqual(v.texts[0], "<|endoftext|>")
        XCTAssertEqual(v.texts[2], "<|im_end|>")
        XCTAssertTrue(v.endOfGenerationIDs.contains(2))
        XCTAssertTrue(v.specialIDs.contains(1))
        let space = try XCTUnwrap(v.texts.firstIndex(of: "Ġ"))
        XCTAssertEqual(v.bytes(of: space), [0x20])
        let newline = try XCTUnwrap(v.texts.firstIndex(of: "Ċ"))
        XCTAssertEqual(v.bytes(of: newline), [0x0A])
        // Printable ASCII, tab and newline exist as single-byte tokens (bytes never valid in UTF-8, such as
        // 0xC0/0xC1/0xF5…, are missing from this vocabulary: 235 of 256 are present).
        let singles = Set(v.tokenBytes.filter { $0.count == 1 }.map { $0[0] })
        XCTAssertTrue(singles.isSuperset(of: Set(0x20..<0x7F).union([0x0A, 0x09])))
        XCTAssertEqual(singles.count, 235)
        for text in ["Hello, world!\n", "{\"a\": [1, 2.5e-3]}", "naïve café — 東京 🙂"] {
            XCTAssertEqual(roundTrip(text, v), Array(text.utf8))
        }
    }

    func testQwenVocabulary() throws {
        let (_, v) = try load("qwen2.5-coder-0.5b-instruct.gguf")
        XCTAssertEqual(v.model, .gpt2)
        XCTAssertEqual(v.count, 151_936)
        let imEnd = try XCTUnwrap(v.texts.firstIndex(of: "<|im_end|>"))
        XCTAssertTrue(v.endOfGenerationIDs.contains(imEnd))
        XCTAssertEqual(roundTrip("def f(x):\n    return {\"k\": x}", v), Array("def f(x):\n    return {\"k\": x}".utf8))
    }
}
