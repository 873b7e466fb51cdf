import CLlama

/// One llama.cpp inference context (KV cache + compute buffers) holding `sequences` independent
/// sequences, each with its own slice of the KV cache (`sequenceSize` positions) and a record of
/// the tokens that slice holds, so a later prompt can reuse a shared prefix.
///
/// Work is submitted as batches: `add` queues tokens of any sequences, `decodeBatch` runs them
/// in one `llama_decode`, and `logits(at:)` reads the rows that asked for logits.
/// Not thread-safe: the engine's generation thread is its only user.
final class LlamaContext {
    let model: LlamaModel
    let pointer: OpaquePointer
    private let memory: OpaquePointer
    private var batch: llama_batch
    /// Maximum tokens per `llama_decode` call (the batch's capacity).
    let batchSize: Int
    /// Sequences the context holds at once.
    let sequences: Int
    /// Positions each sequence may use: prompt plus completion must fit.
    let sequenceSize: Int
    /// Per sequence, the tokens whose keys/values are in the cache (decoded), position by position.
    private(set) var cachedTokens: [[Int32]]
    /// Per sequence, tokens added to the pending batch but not decoded yet.
    private var pending: [[Int32]]
    /// Rows of the pending batch.
    var batchCount: Int { Int(batch.n_tokens) }

    init(model: LlamaModel, sequenceSize: Int, sequences: Int, batchSize: Int, threads: Int) throws {
        var params = llama_context_default_params()
        // One KV stream per sequence: attention then reads only the sequence's own cells,
        // which is what independent requests want.
        params.kv_unified = false
        params.n_seq_max = UInt32(sequences)
        params.n_ctx = UInt32(sequenceSize * sequences)
        params.n_batch = UInt32(batchSize)
        params.n_ubatch = UInt32(min(batchSize, 512))
        params.n_threads = Int32(threads)
        params.n_threads_batch = Int32(threads)
        params.no_perf = true
        guard let context = llama_init_from_model(model.pointer, params) else {
            throw LocalEngineError.contextCreationFailed(contextSize: sequenceSize * sequences)
        }
        guard let memory = llama_get_memory(context) else {
            llama_free(context)
            throw LocalEngineError.contextCreationFailed(contextSize: sequenceSize * sequences)
        }
        self.model = model
        self.pointer = context
        self.memory = memory
        self.sequences = Int(llama_n_seq_max(context))
        // llama.cpp rounds each sequence's share up to a multiple of 256; the request asked for
        // `sequenceSize`, so that is the limit (never more than llama.cpp gave).
        self.sequenceSize = min(sequenceSize, Int(llama_n_ctx_seq(context)))
        self.batchSize = Int(llama_n_batch(context))
        self.batch = llama_batch_init(Int32(self.batchSize), 0, 1)
        self.cachedTokens = Array(repeating: [], count: self.sequences)
        self.pending = Array(repeating: [], count: self.sequences)
    }

    deinit {
        llama_batch_free(batch)
        llama_free(pointer)
    }

    /// Positions of `sequence` in use: decoded plus queued in the pending batch.
    func length(of sequence: Int) -> Int { cachedTokens[sequence].count + pending[sequence].count }

    /// How many leading tokens of `prompt` the cache of `sequence` already holds, leaving the
    /// last prompt token out (it is always decoded, so its logits exist).
    func sharedPrefix(of sequence: Int, with prompt: [Int32]) -> Int {
        let cached = cachedTokens[sequence]
        let limit = min(cached.count, prompt.count - 1)
        var shared = 0
        while shared < limit && cached[shared] == prompt[shared] { shared += 1 }
        return shared
    }

    /// Forgets everything of `sequence` from position `length` on; returns the length kept
    /// (0 when the cache cannot drop a partial sequence, e.g. recurrent or sliding-window).
    @discardableResult
    func truncate(_ sequence: Int, to length: Int) -> Int {
        guard length < cachedTokens[sequence].count else { return cachedTokens[sequence].count }
        if length == 0 || !llama_memory_seq_rm(memory, Int32(sequence), Int32(length), -1) {
            clear(sequence)
            return 0
        }
        cachedTokens[sequence].removeSubrange(length...)
        return length
    }

    /// Empties the cache of `sequence`.
    func clear(_ sequence: Int) {
        _ = llama_memory_seq_rm(memory, Int32(sequence), -1, -1)
        cachedTokens[sequence].removeAll(keepingCapacity: true)
    }

    /// Queues `token` as the next position of `sequence` in the pending batch; returns its row,
    /// whose logits `logits(at:)` reads after `decodeBatch` when `wantsLogits`.
    @discardableResult
    func add(_ token: Int32, to sequence: Int, wantsLogits: Bool) -> Int {
        let row = Int(batch.n_tokens)
        precondition(row < batchSize, "batch full")
        batch.token[row] = token
        batch.pos[row] = Int32(length(of: sequence))
        batch.n_seq_id[row] = 1
        batch.seq_id[row]![0] = Int32(sequence)
        batch.logits[row] = wantsLogits ? 1 : 0
        batch.n_tokens += 1
        pending[sequence].append(token)
        return row
    }

    /// Decodes the pending batch. On failure the sequences it touched are cleared (their cache
    /// state is unknown) and the error thrown, naming them.
    func decodeBatch() throws {
        guard batch.n_tokens > 0 else { return }
        let status = llama_decode(pointer, batch)
        batch.n_tokens = 0
        if status != 0 {
            let touched = pending.indices.filter { !pending[$0].isEmpty }
            for sequence in touched {
                pending[sequence].removeAll(keepingCapacity: true)
                clear(sequence)
            }
            throw LocalEngineError.decodeFailed(status: status)
        }
        for sequence in pending.indices where !pending[sequence].isEmpty {
            cachedTokens[sequence] += pending[sequence]
            pending[sequence].removeAll(keepingCapacity: true)
        }
    }

    /// The logits of batch row `row` of the last decode (vocabulary-sized; valid until the next decode).
    func logits(at row: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: llama_get_logits_ith(pointer, Int32(row)), count: model.vocabularySize)
    }
}
