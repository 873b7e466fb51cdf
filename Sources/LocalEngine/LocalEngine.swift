import ChatAPI
import Foundation

/// How to load and run a local model.
public struct LocalEngineConfiguration: Sendable {
    /// Path of the GGUF file.
    public var modelPath: String
    /// Context length in tokens of each sequence; nil → 4096, or the model's training context
    /// if smaller.
    public var contextSize: Int? = nil
    /// Sequences generated at once (continuous batching); nil → `defaultParallelism`.
    public var parallel: Int? = nil
    /// Threads for llama.cpp; nil → the number of cores.
    public var threads: Int? = nil
    /// Maximum tokens per llama_decode call while reading the prompt.
    public var batchSize: Int = 512
    /// Requests that may wait while every sequence is busy; more are refused with `queueFull`.
    public var maxQueuedRequests: Int = 64
    /// Keep each sequence's KV cache after its request and skip re-reading a shared prompt prefix.
    public var reusePromptPrefix = true
    /// Prompt tokens read per step while other sequences generate: the longest pause a new
    /// prompt can cause the running streams.
    public var promptChunk: Int = 128
    /// Told of every scheduler step (tests, diagnostics); called on the generation thread.
    public var stepObserver: (@Sendable (SchedulerStep) -> Void)? = nil
    /// How chat messages become prompt text; nil → the model's own Jinja chat template run by
    /// our interpreter (`JinjaPromptRenderer`), or ChatML for a model without a template.
    public var promptRenderer: (any PromptRenderer)? = nil

    /// A Jinja chat template used instead of the GGUF's own; it also decides the tool-call format.
    public var chatTemplate: String? = nil

    public init(modelPath: String) { self.modelPath = modelPath }

    /// The embedded default model fetched by scripts/bootstrap
    /// (`$SWITCHBOARD_CACHE` or ~/.cache/switchboard, then models/SmolLM2-135M-Instruct.Q4_1.gguf).
    public static var defaultModelPath: String {
        let cache = ProcessInfo.processInfo.environment["SWITCHBOARD_CACHE"]
            ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/switchboard")
        return cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    /// Sequences generated at once by default: 4 per core, at most 8, and at most 32768 context
    /// positions in all so the KV cache of a long context stays within reason.
    public static func defaultParallelism(contextSize: Int) -> Int {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return max(1, min(8, 4 * cores, 32768 / max(contextSize, 1)))
    }
}

/// Local generation on llama.cpp: loads a GGUF once and turns `GenerationRequest`s into the
/// `ChatEvent` stream (text deltas, then exactly one `.finished`).
///
/// Up to `parallel` requests generate at once, batched into one llama.cpp context on a
/// dedicated thread (`GenerationScheduler`); more wait in a bounded queue in arrival order.
/// Stopping consumption of a stream (task cancelled, stream dropped) stops its generation
/// before the next token.
public final class LocalEngine: Sendable {
    /// The loaded model (vocabulary, metadata, template).
    public let model: LlamaModel
    /// The model's name (GGUF `general.name`, or the file name).
    public var modelName: String { model.name }
    /// Tokens one request's sequence holds: prompt plus completion must fit.
    public let contextSize: Int
    /// Requests generated at once.
    public let parallel: Int
    /// The renderer used for `messages`.
    public let promptRenderer: any PromptRenderer
    private let scheduler: GenerationScheduler

    /// Loads the model and creates the context. Throws `LocalEngineError`.
    public init(configuration: LocalEngineConfiguration) throws {
        let model = try LlamaModel(path: configuration.modelPath, chatTemplate: configuration.chatTemplate)
        let requested = configuration.contextSize ?? min(4096, model.trainContextLength)
        let threads = configuration.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let sequences = min(max(configuration.parallel ?? LocalEngineConfiguration.defaultParallelism(contextSize: requested), 1), 256)
        let context = try LlamaContext(
            model: model, sequenceSize: max(requested, 16), sequences: sequences,
            batchSize: max(configuration.batchSize, sequences + 1), threads: max(threads, 1))
        self.model = model
        self.contextSize = context.sequenceSize
        self.parallel = context.sequences
        self.promptRenderer = try configuration.promptRenderer ?? JinjaPromptRenderer.forModel(model)
        self.scheduler = GenerationScheduler(
            context: context, maxQueued: max(configuration.maxQueuedRequests, 0),
            reusePromptPrefix: configuration.reusePromptPrefix, promptChunk: configuration.promptChunk,
            observer: configuration.stepObserver)
    }

    deinit { scheduler.shutdown() }

    /// Stops generating: running requests end with `shutDown`, queued ones at once, and new
    /// ones are refused. Returns once llama.cpp is idle for good (after the step in flight, at
    /// most `timeout` seconds), so that the process can exit without tearing llama.cpp's
    /// globals down under a running decode. Waits on a plain thread, not the cooperative pool.
    public func shutdown(timeout: TimeInterval = 5) async {
        scheduler.shutdown()
        let scheduler = scheduler
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                _ = scheduler.waitUntilStopped(timeout: timeout)
                done.resume()
            }
        }
    }

    /// Requests generating now, and requests waiting for a free sequence.
    public var load: (generating: Int, queued: Int) { scheduler.status }

    /// The prompt text for `request`: `renderedPrompt`, or the messages through the renderer,
    /// their roles and contents escaped as request text (`RequestTextEscaping`).
    public func renderPrompt(_ request: GenerationRequest) throws -> String {
        if let prompt = request.renderedPrompt { return prompt }
        let escaping = model.requestTextEscaping
        let messages = request.messages.map {
            PromptMessage(role: escaping.escape($0.role), content: escaping.escape($0.content))
        }
        return try promptRenderer.render(messages, addGenerationPrompt: request.addGenerationPrompt)
    }

    /// The prompt tokens `request` would be generated from: the template's special-token text
    /// as special tokens, request text as plain text (`LlamaModel.tokenizePrompt`); BOS added
    /// when the model wants one and the text does not already start with it.
    public func promptTokens(_ request: GenerationRequest) throws -> [Int32] {
        let text = try renderPrompt(request)
        var tokens = model.tokenizePrompt(text)
        if model.addsBeginningOfSequence, let bos = model.beginningOfSequenceToken, tokens.first != bos {
            tokens.insert(bos, at: 0)
        }
        return tokens
    }

    /// Number of prompt tokens for `request` (what `usage.promptTokens` will report).
    public func countTokens(_ request: GenerationRequest) throws -> Int {
        try promptTokens(request).count
    }

    /// Number of tokens of plain `text` (no special tokens added or parsed).
    public func countTokens(text: String) -> Int {
        model.tokenize(text, addSpecial: false, parseSpecial: false).count
    }

    /// Checks what can be known before generating: renders and tokenizes the prompt and
    /// throws `promptTooLong`, `templateFailed` or `invalidRequest`. Returns the prompt tokens.
    public func validate(_ request: GenerationRequest) throws -> [Int32] {
        if let maxTokens = request.maxTokens, maxTokens < 0 {
            throw LocalEngineError.invalidRequest("max_tokens must not be negative")
        }
        let sampling = request.sampling
        guard sampling.temperature.isFinite, sampling.temperature >= 0 else {
            throw LocalEngineError.invalidRequest("temperature must be a non-negative number")
        }
        guard sampling.topP.isFinite, sampling.topP > 0, sampling.topP <= 1 else {
            throw LocalEngineError.invalidRequest("top_p must be in (0, 1]")
        }
        guard sampling.presencePenalty.isFinite, sampling.frequencyPenalty.isFinite else {
            throw LocalEngineError.invalidRequest("penalties must be finite numbers")
        }
        let tokens = try promptTokens(request)
        if tokens.isEmpty { throw LocalEngineError.invalidRequest("the prompt is empty") }
        if tokens.count >= contextSize {
            throw LocalEngineError.promptTooLong(tokens: tokens.count, limit: contextSize)
        }
        return tokens
    }

    /// Generates a completion. The stream yields `.textDelta`s and then exactly one
    /// `.finished(reason:usage:)`, or throws a `LocalEngineError` (a too-long prompt fails
    /// before any event, so a server can still answer 400). Cancelling the consuming task or
    /// dropping the stream stops generation.
    public func generate(_ request: GenerationRequest) -> AsyncThrowingStream<ChatEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream<ChatEvent, Error>.makeStream()
        let tokens: [Int32]
        do {
            tokens = try validate(request)
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        let job = GenerationJob(request: request, promptTokens: tokens, continuation: continuation)
        let scheduler = self.scheduler
        continuation.onTermination = { [weak job] _ in
            guard let job else { return }
            job.cancel()
            scheduler.withdraw(job)
        }
        do {
            try scheduler.submit(job)
        } catch {
            continuation.finish(throwing: error)
        }
        return stream
    }
}
