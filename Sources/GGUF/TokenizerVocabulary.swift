/// A model's token vocabulary as raw bytes, built from GGUF `tokenizer.ggml.*` metadata.
///
/// Constrained decoding works on bytes, not on the tokenizer's display strings: GPT-2 style
/// (byte-level BPE) vocabularies spell bytes with the printable-unicode mapping (`Ġ` is a space,
/// `Ċ` a newline) and SentencePiece (llama) vocabularies use `▁` for spaces and `<0xNN>` byte
/// tokens. `bytes(of:)` undoes both, giving what the model actually emits.
public struct TokenizerVocabulary: Sendable {
    /// The kind of tokenizer (`tokenizer.ggml.model`).
    public enum Model: String, Sendable {
        case gpt2, llama
    }

    /// Token type codes (`tokenizer.ggml.token_type`, llama.cpp `llama_token_type`).
    public enum TokenType: Int, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case missingKey(String)
        case unsupportedModel(String)

        public var description: String {
            switch self {
            case .missingKey(let k): return "GGUF file has no \(k)"
            case .unsupportedModel(let m): return "unsupported tokenizer model '\(m)' (supported: gpt2, llama)"
            }
        }
    }

    public let model: Model
    /// Token texts as stored in the file.
    public let texts: [String]
    /// Token types (normal when the file has none).
    public let types: [TokenType]
    /// Each token's exact output bytes.
    public let tokenBytes: [[UInt8]]
    public let bosID: Int?
    public let eosID: Int?
    /// Ids that end generation: eos, eot, eom and the control tokens llama.cpp also treats as
    /// end-of-generation (`<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`, `<end_of_turn>`, …).
    public let endOfGenerationIDs: Set<Int>
    /// Ids that are not ordinary text: control, user-defined-but-special-looking, unknown, unused.
    /// A grammar never emits them as text.
    public let specialIDs: Set<Int>

    public var count: Int { texts.count }

    public func bytes(of token: Int) -> [UInt8] { tokenBytes[token] }

    /// Builds the vocabulary from a parsed GGUF file.
    public init(gguf: GGUFFile) throws {
        guard let modelName = gguf.string("tokenizer.ggml.model") else {
            throw Error.missingKey("tokenizer.ggml.model")
        }
        guard let model = Model(rawValue: modelName) else { throw Error.unsupportedModel(modelName) }
        guard let texts = gguf.stringArray("tokenizer.ggml.tokens") else {
            throw Error.missingKey("tokenizer.ggml.tokens")
        }
        let typeCodes = gguf.intArray("tokenizer.ggml.token_type") ?? []
        let types = texts.indices.map { i in
            i < typeCodes.count ? (TokenType(rawValue: typeCodes[i]) ?? .normal) : .normal
        }
        var eog: Set<Int> = []
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = gguf.int(key), id >= 0, id < texts.count { eog.insert(id) }
        }
        self.init(model: model, texts: texts, types: types,
                  bosID: gguf.int("tokenizer.ggml.bos_token_id"),
                  eosID: gguf.int("tokenizer.ggml.eos_token_id"), declaredEOG: eog)
    }

    /// Builds a vocabulary from token texts and types (used by `init(gguf:)` and by tests).
    public init(model: Model, texts: [String], types: [TokenType], bosID: Int?, eosID: Int?,
                declaredEOG: Set<Int>) {
        self.model = model
        self.texts = texts
        self.types = types
        self.bosID = bosID
        self.eosID = eosID
        var eog = declaredEOG
        var special: Set<Int> = []
        let eogNames: Set<String> = [
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>",
            "<|eom_id|>", "<EOT>", "<|end_of_text|>", "<|return|>", "<|call|>", "<｜end▁of▁sentence｜>",
        ]
        var bytes: [[UInt8]] = []
        bytes.reserveCapacity(texts.count)
        for (i, text) in texts.enumerated() {
            let type = types[i]
            switch type {
            case .control, .unknown, .unused, .undefined:
                special.insert(i)
                if type == .control, eogNames.contains(text) { eog.insert(i) }
                bytes.append(Array(text.utf8))
            case .userDefined:
                // Added tokens are emitted verbatim; ones that look like markup (`<|...|>`) are
                // treated as special so grammars never spell them out.
                if text.hasPrefix("<|") || text.hasPrefix("<｜") || eogNames.contains(text) {
                    special.insert(i)
                    if eogNames.contains(text) { eog.insert(i) }
                }
                bytes.append(Array(text.utf8))
            case .byte:
                bytes.append(TokenizerVocabulary.byteTokenValue(text).map { [$0] } ?? Array(text.utf8))
            case .normal:
                switch model {
                case .gpt2: bytes.append(TokenizerVocabulary.decodeByteLevel(text))
                case .llama:
                    if let b = TokenizerVocabulary.byteTokenValue(text) {
                        bytes.append([b])
                    } else {
                        bytes.append(Array(text.replacingOccurrences(of: "\u{2581}", with: " ").utf8))
                    }
                }
            }
        }
        self.tokenBytes = bytes
        self.endOfGenerationIDs = eog
        self.specialIDs = special.union(eog)
    }

    /// `<0xNN>` → NN.
    static func byteTokenValue(_ text: String) -> UInt8? {
        let u = Array(text.utf8)
        guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"),
              u[2] == UInt8(ascii: "x"), u[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16)
    }

    /// The GPT-2 byte → printable code point table: printable Latin-1 bytes map to themselves,
    /// the other 68 bytes to U+0100 onwards in byte order.
    public static let byteToUnicode: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    static let unicodeToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, u) in byteToUnicode.enumerated() { map[u] = UInt8(b) }
        return map
    }()

    /// Decodes a byte-level BPE token text to bytes. Characters outside the mapping (which a
    /// well-formed vocabulary does not contain) are kept as their UTF-8.
    public static func decodeByteLevel(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let b = unicodeToByte[scalar.value] {
                out.append(b)
            } else {
                out.append(contentsOf: Array(String(scalar).utf8))
            }
        }
        return out
    }
}
