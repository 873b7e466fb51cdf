import CLlama
import Foundation

/// A GGUF model loaded once through llama.cpp: weights, vocabulary, metadata, chat template.
///
/// Every token's text is decoded once at load time into one flat byte table, so generation
/// looks pieces up without calling into llama.cpp, and the Grammar module can read the
/// vocabulary as byte strings (`tokenBytes(_:)`). Immutable after `init`, hence `Sendable`;
/// llama.cpp documents tokenization and the vocabulary queries as thread-safe.
public final class LlamaModel: @unchecked Sendable {
    let pointer: OpaquePointer
    let vocab: OpaquePointer

    /// The file this model was loaded from.
    public let path: String
    /// `general.name` from the GGUF metadata, or the file name without extension.
    public let name: String
    /// Number of tokens in the vocabulary.
    public let vocabularySize: Int
    /// The context length the model was trained with.
    public let trainContextLength: Int
    /// The (Jinja) chat template prompts are rendered with: the one given at load, else the
    /// GGUF's own, if it carries one.
    public let chatTemplate: String?
    /// Whether llama.cpp adds a beginning-of-sequence token when tokenizing with special tokens.
    public let addsBeginningOfSequence: Bool
    /// The beginning-of-sequence token, if the vocabulary has one.
    public let beginningOfSequenceToken: Int32?
    /// Every token that ends a generation (llama_vocab_is_eog), ascending.
    public let endOfGenerationTokens: [Int32]

    /// Concatenated bytes of every token's piece (special tokens render as nothing).
    let pieceBytes: [UInt8]
    /// pieceOffsets[t] ..< pieceOffsets[t + 1] is token t's range in `pieceBytes`.
    let pieceOffsets: [Int32]
    /// endOfGenerationFlags[t] for every token t.
    let endOfGenerationFlags: [Bool]
    /// specialFlags[t]: token t is one llama.cpp matches by its text when parsing special
    /// tokens (attribute CONTROL, USER_DEFINED or UNKNOWN, as its tokenizer's special cache).
    let specialFlags: [Bool]
    /// The escape for request text over this vocabulary's special-token spellings.
    public let requestTextEscaping: RequestTextEscaping

    /// Loads the GGUF at `path` (memory-mapped). Throws `modelNotFound` / `modelLoadFailed`.
    /// `chatTemplate`, when given, replaces the GGUF's own template (for a GGUF whose template
    /// is missing or wrong, as llama-server's `--chat-template-file`).
    public init(path: String, chatTemplate: String? = nil) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LocalEngineError.modelNotFound(path: path)
        }
        LlamaBackend.ensureInitialized()
        var params = llama_model_default_params()
        params.n_gpu_layers = 0
        guard let model = llama_model_load_from_file(path, params) else {
            throw LocalEngineError.modelLoadFailed(path: path)
        }
        guard let vocab = llama_model_get_vocab(model) else {
            llama_model_free(model)
            throw LocalEngineError.modelLoadFailed(path: path)
        }
        self.pointer = model
        self.vocab = vocab
        self.path = path
        let vocabularySize = Int(llama_vocab_n_tokens(vocab))
        self.vocabularySize = vocabularySize
        self.trainContextLength = Int(llama_model_n_ctx_train(model))
        self.chatTemplate = chatTemplate ?? llama_model_chat_template(model, nil).map { String(cString: $0) }
        self.addsBeginningOfSequence = llama_vocab_get_add_bos(vocab)
        let bos = llama_vocab_bos(vocab)
        self.beginningOfSequenceToken = bos >= 0 ? bos : nil

        var bytes: [UInt8] = []
        bytes.reserveCapacity(vocabularySize * 8)
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(vocabularySize + 1)
        var eog = [Bool](repeating: false, count: vocabularySize)
        var eogTokens: [Int32] = []
        var special = [Bool](repeating: false, count: vocabularySize)
        var spellings: [String] = []
        let specialAttributes = LLAMA_TOKEN_ATTR_CONTROL.rawValue | LLAMA_TOKEN_ATTR_USER_DEFINED.rawValue
            | LLAMA_TOKEN_ATTR_UNKNOWN.rawValue
        var buffer = [CChar](repeating: 0, count: 256)
        for token in 0..<Int32(vocabularySize) {
            var n = llama_token_to_piece(vocab, token, &buffer, Int32(buffer.count), 0, false)
            if n < 0 {
                buffer = [CChar](repeating: 0, count: Int(-n) + 1)
                n = llama_token_to_piece(vocab, token, &buffer, Int32(buffer.count), 0, false)
            }
            if n > 0 {
                buffer.withUnsafeBufferPointer { raw in
                    raw.withMemoryRebound(to: UInt8.self) { bytes.append(contentsOf: $0[0..<Int(n)]) }
                }
            }
            offsets.append(Int32(bytes.count))
            if llama_vocab_is_eog(vocab, token) {
                eog[Int(token)] = true
                eogTokens.append(token)
            }
            if llama_vocab_get_attr(vocab, token).rawValue & specialAttributes != 0,
               let text = llama_vocab_get_text(vocab, token) {
                special[Int(token)] = true
                spellings.append(String(cString: text))
            }
        }
        self.specialFlags = special
        self.requestTextEscaping = RequestTextEscaping(spellings: spellings)
        self.pieceBytes = bytes
        self.pieceOffsets = offsets
        self.endOfGenerationFlags = eog
        self.endOfGenerationTokens = eogTokens

        let fileName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        self.name = Self.metadata(model, "general.name").flatMap { $0.isEmpty ? nil : $0 } ?? fileName
    }

    deinit { llama_model_free(pointer) }

    /// The metadata value for `key` rendered as a string by llama.cpp, or nil if absent.
    public func metadata(_ key: String) -> String? { Self.metadata(pointer, key) }

    private static func metadata(_ model: OpaquePointer, _ key: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 512)
        var n = llama_model_meta_val_str(model, key, &buffer, buffer.count)
        if n < 0 { return nil }
        if Int(n) >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(n) + 1)
            n = llama_model_meta_val_str(model, key, &buffer, buffer.count)
        }
        return String(cString: buffer)
    }

    /// Tokenizes `text`. `addSpecial` adds BOS/EOS as the model is configured to;
    /// `parseSpecial` turns special-token text such as `<|im_start|>` into the special tokens
    /// (wanted for rendered prompts, not for user-visible text).
    public func tokenize(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        var utf8 = Array(text.utf8)
        let length = Int32(utf8.count)
        var tokens = [Int32](repeating: 0, count: utf8.count + 2)
        var n = utf8.withUnsafeMutableBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { chars in
                llama_tokenize(vocab, chars.baseAddress, length, &tokens, Int32(tokens.count),
                               addSpecial, parseSpecial)
            }
        }
        if n < 0 {
            tokens = [Int32](repeating: 0, count: Int(-n))
            n = utf8.withUnsafeMutableBufferPointer { raw in
                raw.withMemoryRebound(to: CChar.self) { chars in
                    llama_tokenize(vocab, chars.baseAddress, length, &tokens, Int32(tokens.count),
                                   addSpecial, parseSpecial)
                }
            }
        }
        return Array(tokens.prefix(Int(max(n, 0))))
    }

    /// Tokenizes a rendered prompt whose request-derived text was escaped with
    /// `requestTextEscaping`: the template's own special-token text becomes special tokens,
    /// request text never does (see `RequestTextEscaping`). A prompt without escapes gives
    /// exactly `tokenize(prompt, addSpecial: false, parseSpecial: true)`.
    public func tokenizePrompt(_ prompt: String) -> [Int32] {
        let escaping = requestTextEscaping
        guard escaping.containsMarker(prompt) else {
            return tokenize(prompt, addSpecial: false, parseSpecial: true)
        }
        var tokens: [Int32] = []
        for segment in escaping.segments(of: prompt) {
            switch segment {
            case .markup(let bytes):
                tokens += tokenize(String(decoding: bytes, as: UTF8.self), addSpecial: false, parseSpecial: true)
            case .literal(let bytes):
                tokens += plainTokens(String(decoding: bytes, as: UTF8.self))
            }
        }
        return tokens
    }

    /// `text` as tokens none of which is special. `parseSpecial: false` is not quite that:
    /// llama.cpp (like Hugging Face's tokenizers) still matches USER_DEFINED tokens by their
    /// text, e.g. Qwen's `<tool_call>`. Such a spelling is cut after its first character, and
    /// the two sides tokenized separately.
    func plainTokens(_ text: String) -> [Int32] {
        let tokens = tokenize(text, addSpecial: false, parseSpecial: false)
        guard tokens.contains(where: { specialFlags[Int($0)] }), let first = text.unicodeScalars.first else { return tokens }
        let rest = String(text.unicodeScalars.dropFirst())
        return tokenize(String(first), addSpecial: false, parseSpecial: false) + (rest.isEmpty ? [] : plainTokens(rest))
    }

    /// Whether llama.cpp parses `token` from its text when special tokens are parsed
    /// (CONTROL, USER_DEFINED or UNKNOWN).
    public func isSpecial(_ token: Int32) -> Bool {
        token >= 0 && Int(token) < vocabularySize && specialFlags[Int(token)]
    }

    /// A token's text as the vocabulary spells it, control tokens included (`<|im_end|>`);
    /// what chat templates receive as `bos_token` / `eos_token`.
    public func tokenText(_ token: Int32) -> String {
        guard token >= 0, Int(token) < vocabularySize, let text = llama_vocab_get_text(vocab, token) else { return "" }
        return String(cString: text)
    }

    /// The end-of-sequence token id, if the model has one.
    public var endOfSequenceToken: Int32? {
        let eos = llama_vocab_eos(vocab)
        return eos >= 0 ? eos : nil
    }

    /// The bytes token `token` contributes to generated text (empty for special tokens).
    /// A piece can be part of a multi-byte UTF-8 character; join pieces before decoding.
    public func tokenBytes(_ token: Int32) -> ArraySlice<UInt8> {
        precondition(token >= 0 && Int(token) < vocabularySize, "token \(token) out of range")
        return pieceBytes[Int(pieceOffsets[Int(token)])..<Int(pieceOffsets[Int(token) + 1])]
    }

    /// The text of a token sequence: pieces joined, then decoded as UTF-8 (invalid bytes
    /// become U+FFFD). Special tokens contribute nothing.
    public func detokenize(_ tokens: [Int32]) -> String {
        var bytes: [UInt8] = []
        for token in tokens { bytes.append(contentsOf: tokenBytes(token)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `token` ends a generation (end-of-sequence, end-of-turn, …).
    public func isEndOfGeneration(_ token: Int32) -> Bool {
        token >= 0 && Int(token) < vocabularySize && endOfGenerationFlags[Int(token)]
    }
}
