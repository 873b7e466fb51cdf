import CLlama

/// One llama.cpp inference context (KV cache + compute buffers) for a single sequence, with
/// the tokens its KV cache holds so consecutive prompts can reuse a shared prefix.
/// Not thread-safe: the engine's generation thread is its only user.
final class LlamaContext {
    let model: LlamaModel
    let pointer: OpaquePointer
    private let memory: OpaquePointer
    private var batch: llama_batch
    /// Maximum tokens per llama_decode call.
    let batchSize: Int
    /// Tokens the context holds (positions).
    let size: Int
    /// The tokens whose keys/values are in the cache, position by position.
    private(set) var cachedTokens: [Int32] = []

    init(model: LlamaModel, contextSize: Int, batchSize: Int, threads: Int) throws {
        var params = llama_context_default_params()
        params.n_ctx = UInt32(contextSize)
        params.n_batch = UInt32(batchSize)
        params.n_ubatch = UInt32(min(batchSize, 512))
        params.n_seq_max = 1
        params.n_threads = Int32(threads)
        params.n_threads_batch = Int32(threads)
        params.no_perf = true
        guard let context = llama_init_from_model(model.pointer, params) else {
            throw LocalEngineError.contextCreationFailed(contextSize: contextSize)
        }
        guard let memory = llama_get_memory(context) else {
            llama_free(context)
            throw LocalEngineError.contextCreationFailed(contextSize: contextSize)
        }
        self.model = model
        self.pointer = context
        self.memory = memory
        self.size = Int(llama_n_ctx(context))
        self.batchSize = Int(llama_n_batch(context))
        self.batch = llama_batch_init(Int32(self.batchSize), 0, 1)
    }

    deinit {
        llama_batch_free(batch)
        llama_free(pointer)
    }

    /// Keeps the longest cached prefix shared with `prompt` (never all of it: the last prompt
    /// token is always decoded so its logits exist) and drops the rest. Returns its length.
    func reusePrefix(of prompt: [Int32]) -> Int {
        var shared = 0
        let limit = min(cachedTokens.count, prompt.count - 1)
        while shared < limit && cachedTokens[shared] == prompt[shared] { shared += 1 }
        truncate(to: shared)
        return cachedTokens.count
    }

    /// Forgets everything from position `length` on.
    func truncate(to length: Int) {
        guard length < cachedTokens.count else { return }
        if length == 0 || !llama_memory_seq_rm(memory, 0, Int32(length), -1) {
            // Some caches (recurrent, sliding window) cannot drop a partial sequence.
            llama_memory_clear(memory, true)
            cachedTokens.removeAll(keepingCapacity: true)
            return
        }
        cachedTokens.removeSubrange(length...)
    }

    /// Decodes `tokens` after the cached ones, in chunks of `batchSize`; only the last token's
    /// logits are computed. `shouldContinue` is asked between chunks; returns false if it said
    /// stop. On failure the cache is cleared and the error thrown.
    func decode(_ tokens: ArraySlice<Int32>, shouldContinue: () -> Bool = { true }) throws -> Bool {
        var start = tokens.startIndex
        while start < tokens.endIndex {
            if start > tokens.startIndex && !shouldContinue() { return false }
            let end = min(start + batchSize, tokens.endIndex)
            let base = cachedTokens.count
            batch.n_tokens = Int32(end - start)
            for (i, token) in tokens[start..<end].enumerated() {
                batch.token[i] = token
                batch.pos[i] = Int32(base + i)
                batch.n_seq_id[i] = 1
                batch.seq_id[i]![0] = 0
                batch.logits[i] = (start + i == tokens.endIndex - 1) ? 1 : 0
            }
            let status = llama_decode(pointer, batch)
            if status != 0 {
                llama_memory_clear(memory, true)
                cachedTokens.removeAll(keepingCapacity: true)
                throw LocalEngineError.decodeFailed(status: status)
            }
            cachedTokens.append(contentsOf: tokens[start..<end])
            start = end
        }
        return true
    }

    /// Decodes one token after the cached ones (the generation step).
    func decode(_ token: Int32) throws {
        batch.n_tokens = 1
        batch.token[0] = token
        batch.pos[0] = Int32(cachedTokens.count)
        batch.n_seq_id[0] = 1
        batch.seq_id[0]![0] = 0
        batch.logits[0] = 1
        let status = llama_decode(pointer, batch)
        if status != 0 {
            llama_memory_clear(memory, true)
            cachedTokens.removeAll(keepingCapacity: true)
            throw LocalEngineError.decodeFailed(status: status)
        }
        cachedTokens.append(token)
    }

    /// The logits of the last decoded token (vocabulary-sized; valid until the next decode).
    func lastLogits() -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: llama_get_logits_ith(pointer, -1), count: model.vocabularySize)
    }

    /// Empties the KV cache.
    func clear() {
        llama_memory_clear(memory, true)
        cachedTokens.removeAll(keepingCapacity: true)
    }
}
