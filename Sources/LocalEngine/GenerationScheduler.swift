import ChatAPI
import Foundation
import Logging

/// What one scheduler step did, for tests and diagnostics: which sequences decoded a generated
/// token, and how many prompt tokens each reading sequence read.
public struct SchedulerStep: Sendable, Equatable {
    /// Sequences that decoded one generated token in this step.
    public var generating: [Int]
    /// Prompt tokens read in this step, by sequence.
    public var promptTokens: [Int: Int]
}

/// The engine's generation thread: continuous batching over the context's sequences.
///
/// Jobs wait in a bounded FIFO queue and take a free sequence between steps (the free one whose
/// cache shares the longest prefix with the job's prompt, else the longest unused). Each step
/// is one `llama_decode` holding the next token of every generating sequence plus prompt
/// tokens of those still reading; while others generate, a prompt is read at most `promptChunk`
/// tokens per step, so a long prompt cannot freeze the streams already running.
/// After the decode, each sequence with logits samples its own next token with its own
/// sampler, grammar and stop strings. A cancelled job frees its sequence at the next step.
/// llama.cpp is only ever called from this thread.
final class GenerationScheduler: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [GenerationJob] = []  // guarded by `condition`
    private var running = true  // guarded by `condition`
    /// The generation thread has left its loop: llama.cpp is idle for good. Guarded by `condition`.
    private var stopped = false
    /// Jobs holding a sequence; guarded by `condition` (read by `status` and `shutdown`).
    private var activeCount = 0
    private let maxQueued: Int
    private let reusePromptPrefix: Bool
    private let promptChunk: Int
    private let observer: (@Sendable (SchedulerStep) -> Void)?
    private let logger = Logger(label: "switchboard.engine")
    /// How long an idle engine waits for more requests after one arrives.
    static let burstWindow: TimeInterval = 0.003

    // Used only on the generation thread.
    private let context: LlamaContext
    private let slots: [SequenceSlot]
    private var step = 0
    /// Jobs started so far; orders prompt reading by arrival.
    private var admissions = 0

    init(context: LlamaContext, maxQueued: Int, reusePromptPrefix: Bool, promptChunk: Int,
         observer: (@Sendable (SchedulerStep) -> Void)?) {
        self.context = context
        self.slots = (0..<context.sequences).map { SequenceSlot(sequence: $0, vocabularySize: context.model.vocabularySize) }
        self.maxQueued = maxQueued
        self.reusePromptPrefix = reusePromptPrefix
        self.promptChunk = max(1, min(promptChunk, context.batchSize - context.sequences))
        self.observer = observer
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
        // Jobs beyond the free sequences wait; `maxQueued` of them may.
        guard activeCount + queue.count < slots.count + maxQueued else {
            throw LocalEngineError.queueFull(limit: maxQueued)
        }
        queue.append(job)
        condition.signal()
    }

    /// Drops a job that has not started (its consumer went away).
    func withdraw(_ job: GenerationJob) {
        condition.lock()
        queue.removeAll { $0 === job }
        condition.unlock()
    }

    /// Jobs generating and jobs waiting for a sequence.
    var status: (generating: Int, queued: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (activeCount, queue.count)
    }

    /// Stops the thread: running jobs end with `shutDown` at the next step, queued jobs at once.
    func shutdown() {
        condition.lock()
        running = false
        let abandoned = queue
        queue.removeAll()
        condition.signal()
        condition.unlock()
        for job in abandoned { job.continuation.finish(throwing: LocalEngineError.shutDown) }
    }

    /// Blocks until the generation thread has left its loop after `shutdown()` (at most one
    /// step), or `timeout` passes. Returns whether it stopped.
    func waitUntilStopped(timeout: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !stopped && condition.wait(until: deadline) {}
        return stopped
    }

    private func runLoop() {
        while true {
            step += 1
            // Cancelled jobs give their sequences up before admission, so a waiting job can
            // take one in this very step.
            for slot in slots where !slot.isFree && slot.job!.isCancelled {
                logger.debug("generation cancelled", metadata: ["sequence": "\(slot.sequence)", "generated": "\(slot.generated)"])
                slot.abandon(nil, step: step)
            }
            guard admit() else { break }
            let report = fillBatch()
            do {
                try context.decodeBatch()
            } catch {
                let inBatch = Set(report.generating).union(report.promptTokens.keys)
                for slot in slots where !slot.isFree && inBatch.contains(slot.sequence) { slot.abandon(error, step: step) }
            }
            observer?(report)
            for slot in slots where !slot.isFree {
                guard let row = slot.logitsRow else { continue }
                slot.logitsRow = nil
                let room = context.sequenceSize - context.length(of: slot.sequence)
                _ = slot.sample(context.logits(at: row), model: context.model, room: room, step: step)
            }
            publishActiveCount()
        }
        for slot in slots where !slot.isFree { slot.abandon(LocalEngineError.shutDown, step: step) }
        publishActiveCount()
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until there is work, then gives queued jobs the free sequences, in arrival order.
    /// Returns false when the engine shuts down.
    private func admit() -> Bool {
        condition.lock()
        if running && queue.isEmpty && activeCount == 0 {
            while running && queue.isEmpty { condition.wait() }
            // Idle until now: requests of a burst arrive a few milliseconds apart, and reading
            // their prompts in one batch gives all of them their first token sooner.
            let deadline = Date(timeIntervalSinceNow: Self.burstWindow)
            while running && queue.count < slots.count && condition.wait(until: deadline) {}
        }
        guard running else {
            condition.unlock()
            return false
        }
        var starting: [GenerationJob] = []
        var free = slots.filter(\.isFree).count
        while free > 0, !queue.isEmpty {
            starting.append(queue.removeFirst())
            free -= 1
        }
        activeCount += starting.count
        condition.unlock()
        for job in starting { start(job) }
        return true
    }

    private func publishActiveCount() {
        let active = slots.filter { !$0.isFree }.count
        condition.lock()
        activeCount = active
        condition.unlock()
    }

    /// Puts `job` on the free sequence whose cache shares the longest prefix with its prompt
    /// (ties: the one unused longest, so recent caches survive for the turns that follow).
    private func start(_ job: GenerationJob) {
        let free = slots.filter(\.isFree)
        guard let slot = free.max(by: { a, b in
            let (sa, sb) = (shared(a, job), shared(b, job))
            return sa != sb ? sa < sb : a.lastUsed > b.lastUsed
        }) else { return job.continuation.finish(throwing: LocalEngineError.shutDown) }
        if job.isCancelled { return job.finishCancelled() }
        let reused = context.truncate(slot.sequence, to: shared(slot, job))
        admissions += 1
        slot.start(job, reused: reused, admission: admissions)
        _ = slot.finishIfNothingToGenerate(step: step)
    }

    private func shared(_ slot: SequenceSlot, _ job: GenerationJob) -> Int {
        reusePromptPrefix ? context.sharedPrefix(of: slot.sequence, with: job.promptTokens) : 0
    }

    /// The step's batch: the pending token of every generating sequence, then prompt tokens of
    /// reading sequences in admission order, up to the batch's capacity. While anything
    /// generates, each prompt gives at most `promptChunk` tokens to a step: a long prompt delays
    /// the running streams by one chunk per step, and short prompts arriving together are all
    /// read in one step.
    private func fillBatch() -> SchedulerStep {
        var report = SchedulerStep(generating: [], promptTokens: [:])
        for slot in slots where !slot.isFree {
            guard let token = slot.nextToken else { continue }
            slot.nextToken = nil
            slot.logitsRow = context.add(token, to: slot.sequence, wantsLogits: true)
            report.generating.append(slot.sequence)
        }
        var capacity = context.batchSize - context.batchCount
        let perSequence = report.generating.isEmpty ? capacity : promptChunk
        for slot in slots.filter(\.isReadingPrompt).sorted(by: { $0.admission < $1.admission }) where capacity > 0 {
            let count = min(slot.promptRemaining, perSequence, capacity)
            let finishing = count == slot.promptRemaining
            let tokens = slot.takePrompt(count)
            for (offset, token) in tokens.enumerated() {
                let row = context.add(token, to: slot.sequence, wantsLogits: finishing && offset == count - 1)
                if finishing && offset == count - 1 { slot.logitsRow = row }
            }
            report.promptTokens[slot.sequence] = count
            capacity -= count
        }
        return report
    }
}
