import ChatAPI
import Foundation
import Logging

/// The engine's single generation thread: a FIFO queue of jobs served one at a time on one
/// llama.cpp context, so llama.cpp is never called from two threads on the same context.
/// Between tokens it checks the job's cancellation flag, so a consumer that goes away stops
/// generation at once and the next job starts.
final class GenerationWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [GenerationJob] = []  // guarded by `condition`
    private var running = true  // guarded by `condition`
    private let maxQueued: Int
    private let reusePromptPrefix: Bool
    private let logger = Logger(label: "switchboard.engine")

    // Used only on the generation thread.
    private let context: LlamaContext
    private let sampler: TokenSampler

    init(context: LlamaContext, maxQueued: Int, reusePromptPrefix: Bool) {
        self.context = context
        self.sampler = TokenSampler(vocabularySize: context.model.vocabularySize)
        self.maxQueued = maxQueued
        self.reusePromptPrefix = reusePromptPrefix
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "switchboard.generation"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues `job`; throws `queueFull` or `shutDown`.
    func submit(_ job: GenerationJob) throws {
        condition.lock()
        defer { condition.unlock() }
        guard running else { throw LocalEngineError.shutDown }
        guard queue.count < maxQueued else { throw LocalEngineError.queueFull(limit: maxQueued) }
        queue.append(job)
        condition.signal()
    }

    /// Drops a job that has not started (its consumer went away).
    func withdraw(_ job: GenerationJob) {
        condition.lock()
        queue.removeAll { $0 === job }
        condition.unlock()
    }

    /// Stops the thread after the current job; queued jobs end with `shutDown`.
    func shutdown() {
        condition.lock()
        running = false
        let abandoned = queue
        queue.removeAll()
        condition.signal()
        condition.unlock()
        for job in abandoned { job.continuation.finish(throwing: LocalEngineError.shutDown) }
    }

    private func nextJob() -> GenerationJob? {
        condition.lock()
        defer { condition.unlock() }
        while running && queue.isEmpty { condition.wait() }
        guard running else { return nil }
        return queue.removeFirst()
    }

    private func runLoop() {
        while let job = nextJob() {
            if job.isCancelled {
                job.continuation.finish()
                continue
            }
            do {
                try generate(job)
            } catch {
                job.continuation.finish(throwing: error)
            }
        }
    }

    /// Runs one job to its end: prompt (reusing the cached prefix), then token by token.
    private func generate(_ job: GenerationJob) throws {
        let request = job.request
        let prompt = job.promptTokens
        let cached = reusePromptPrefix ? context.reusePrefix(of: prompt) : { context.clear(); return 0 }()
        guard try context.decode(prompt[cached...], shouldContinue: { !job.isCancelled }) else {
            job.continuation.finish()
            return
        }

        let model = context.model
        let maxTokens = request.maxTokens ?? Int.max
        let processor = request.logitsProcessor
        sampler.reset(request.sampling)
        var streamer = TextStreamer(stops: request.stop)
        var generated = 0
        func finish(_ reason: FinishReason) {
            let tail = streamer.finish()
            if !tail.isEmpty { job.continuation.yield(.textDelta(tail)) }
            job.continuation.yield(.finished(reason: reason, usage: TokenUsage(
                promptTokens: prompt.count, completionTokens: generated, cachedPromptTokens: cached)))
            job.continuation.finish()
        }

        while true {
            if generated >= maxTokens { return finish(.length) }
            if job.isCancelled {
                logger.debug("generation cancelled after \(generated) tokens")
                return job.continuation.finish()
            }
            let logits = context.lastLogits()
            processor?.process(logits)
            let token = sampler.sample(logits)
            processor?.didAccept(token)
            if model.endOfGenerationFlags[Int(token)] { return finish(.stop) }
            sampler.accept(token)
            generated += 1
            let text = streamer.append(model.tokenBytes(token))
            if !text.isEmpty { job.continuation.yield(.textDelta(text)) }
            if streamer.stopped { return finish(.stop) }
            if generated >= maxTokens { return finish(.length) }
            if context.cachedTokens.count >= context.size { return finish(.length) }
            try context.decode(token)
        }
    }
}
