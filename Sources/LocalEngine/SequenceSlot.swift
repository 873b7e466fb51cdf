import ChatAPI

/// One of the context's sequences and the job it serves: the prompt still to read, the
/// sampler, stop strings and grammar of that job, and what it has generated. Lives on the
/// generation thread only.
final class SequenceSlot {
    /// The llama.cpp sequence id.
    let sequence: Int
    private(set) var job: GenerationJob?
    /// Prompt tokens of the job; `promptRead` of them are in the cache or the pending batch.
    private(set) var prompt: [Int32] = []
    private(set) var promptRead = 0
    /// Prompt tokens found in the cache when the job started.
    private(set) var reusedPrefix = 0
    /// Tokens generated so far.
    private(set) var generated = 0
    /// The batch row whose logits choose this slot's next token, once the current batch is decoded.
    var logitsRow: Int?
    /// The sampled token not yet decoded (it goes into the next batch).
    var nextToken: Int32?
    /// When the slot last finished a job (scheduler steps), to keep the longest-unused caches last.
    private(set) var lastUsed = 0
    /// The scheduler's count of jobs started when this one started (orders prompt reading).
    private(set) var admission = 0
    private let sampler: TokenSampler
    private var streamer = TextStreamer(stops: [])

    init(sequence: Int, vocabularySize: Int) {
        self.sequence = sequence
        self.sampler = TokenSampler(vocabularySize: vocabularySize)
    }

    var isFree: Bool { job == nil }
    /// Still reading its prompt.
    var isReadingPrompt: Bool { job != nil && promptRead < prompt.count }
    var promptRemaining: Int { prompt.count - promptRead }

    /// Takes `job`, whose first `reused` prompt tokens the cache already holds.
    func start(_ job: GenerationJob, reused: Int, admission: Int) {
        self.job = job
        self.admission = admission
        prompt = job.promptTokens
        promptRead = reused
        reusedPrefix = reused
        generated = 0
        logitsRow = nil
        nextToken = nil
        sampler.reset(job.request.sampling)
        streamer = TextStreamer(stops: job.request.stop)
    }

    /// The next `count` prompt tokens to read (they are counted as read).
    func takePrompt(_ count: Int) -> ArraySlice<Int32> {
        defer { promptRead += count }
        return prompt[promptRead..<(promptRead + count)]
    }

    /// Chooses the next token from `logits` and streams its text. Returns the finish reason
    /// when the job is done (the slot is then free), nil when the token is to be decoded.
    func sample(_ logits: UnsafeMutableBufferPointer<Float>, model: LlamaModel, room: Int, step: Int) -> FinishReason? {
        guard let job else { return nil }
        let request = job.request
        request.logitsProcessor?.process(logits)
        let token = sampler.sample(logits)
        request.logitsProcessor?.didAccept(token)
        if model.endOfGenerationFlags[Int(token)] { return finish(.stop, step: step) }
        sampler.accept(token)
        generated += 1
        let text = streamer.append(model.tokenBytes(token))
        if !text.isEmpty { job.continuation.yield(.textDelta(text)) }
        if streamer.stopped { return finish(.stop, step: step) }
        if generated >= request.maxTokens ?? Int.max { return finish(.length, step: step) }
        // The sampled token takes a position when decoded; the context must still have one.
        if room <= 0 { return finish(.length, step: step) }
        nextToken = token
        return nil
    }

    /// Ends the job at its start when it asks for no tokens at all.
    func finishIfNothingToGenerate(step: Int) -> Bool {
        guard let job, let maxTokens = job.request.maxTokens, maxTokens <= 0 else { return false }
        _ = finish(.length, step: step)
        return true
    }

    private func finish(_ reason: FinishReason, step: Int) -> FinishReason {
        guard let job else { return reason }
        let tail = streamer.finish()
        if !tail.isEmpty { job.continuation.yield(.textDelta(tail)) }
        job.continuation.yield(.finished(reason: reason, usage: TokenUsage(
            promptTokens: prompt.count, completionTokens: generated, cachedPromptTokens: reusedPrefix)))
        job.continuation.finish()
        release(step: step)
        return reason
    }

    /// Ends the job with an error (or quietly, if cancelled) and frees the slot.
    func abandon(_ error: Error?, step: Int) {
        guard let job else { return }
        if let error { job.continuation.finish(throwing: error) } else { job.finishCancelled() }
        release(step: step)
    }

    private func release(step: Int) {
        job = nil
        logitsRow = nil
        nextToken = nil
        lastUsed = step
    }
}
