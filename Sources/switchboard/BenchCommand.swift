import ArgumentParser
import CLlama
import ChatAPI
import Foundation
import LocalEngine

/// `switchboard bench`: generation speed of the local engine against a bare llama.cpp loop.
///
/// Both sides use the same model file, thread count, context size and prompt tokens, decode
/// greedily with end-of-generation tokens forbidden (so every run produces exactly N tokens),
/// and alternate run by run so they share the machine's conditions. The engine is measured as
/// a client sees it: from `generate` to the first text delta, then delta by delta to `.finished`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark local generation: the engine against a bare llama.cpp decode loop.")

    @Option(help: "GGUF model path (default: the bootstrap's SmolLM2-135M-Instruct).")
    var model: String = LocalEngineConfiguration.defaultModelPath

    @Option(name: .customLong("tokens"), help: "Tokens to generate per run.")
    var tokenCount: Int = 128

    @Option(help: "Measured runs per side (the median is reported).")
    var repetitions: Int = 5

    @Option(help: "llama.cpp threads (default: number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Context size in tokens.")
    var context: Int = 4096

    @Option(help: "User message of the prompt.")
    var prompt: String = "Write a detailed essay about the history of sailing ships and the sea."

    func validate() throws {
        guard tokenCount >= 2 else { throw ValidationError("--tokens must be at least 2") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
    }

    func run() async throws {
        var configuration = LocalEngineConfiguration(modelPath: model)
        configuration.contextSize = context
        configuration.threads = threads
        // Every run reads the whole prompt, as the bare loop does.
        configuration.reusePromptPrefix = false
        configuration.parallel = 1
        let engine = try LocalEngine(configuration: configuration)

        var request = GenerationRequest(messages: [PromptMessage(role: "user", content: prompt)])
        request.sampling.temperature = 0
        request.maxTokens = tokenCount
        let promptTokens = try engine.validate(request)
        let banned = engine.model.endOfGenerationTokens

        let bare = try BareLoop(modelPath: model, contextSize: engine.contextSize, threads: threads)
        print("model:    \(engine.modelName) (\(model))")
        print("machine:  \(Self.cpuName()), \(ProcessInfo.processInfo.activeProcessorCount) cores; threads \(threads)")
        print("llama.cpp: \(String(cString: llama_print_system_info()))")
        print("prompt:   \(promptTokens.count) tokens; generating \(tokenCount) tokens greedily, "
              + "\(repetitions) runs per side after one warm-up run each")

        var bareRuns: [Run] = []
        var engineRuns: [Run] = []
        var bareTokens: [Int32] = []
        var engineTokens: [Int32] = []
        for repetition in 0...repetitions {
            let (b, bt) = try bare.generate(prompt: promptTokens, count: tokenCount, banned: banned)
            let recorder = AcceptedTokens(banned: banned)
            request.logitsProcessor = recorder
            let e = try await Self.measure(engine, request)
            if repetition > 0 {
                bareRuns.append(b)
                engineRuns.append(e)
            }
            bareTokens = bt
            engineTokens = recorder.tokens
        }

        let bareTTFT = median(bareRuns.map(\.timeToFirstToken))
        let engineTTFT = median(engineRuns.map(\.timeToFirstToken))
        let bareSpeed = median(bareRuns.map(\.tokensPerSecond))
        let engineSpeed = median(engineRuns.map(\.tokensPerSecond))
        print("")
        print("                      time to first token   generation")
        print(String(format: "bare llama.cpp loop   %8.1f ms           %7.1f tokens/s", bareTTFT * 1000, bareSpeed))
        print(String(format: "LocalEngine           %8.1f ms           %7.1f tokens/s", engineTTFT * 1000, engineSpeed))
        print(String(format: "engine / bare                              %7.1f %%", engineSpeed / bareSpeed * 100))
        print("per-run tokens/s (bare):   " + bareRuns.map { String(format: "%.1f", $0.tokensPerSecond) }.joined(separator: " "))
        print("per-run tokens/s (engine): " + engineRuns.map { String(format: "%.1f", $0.tokensPerSecond) }.joined(separator: " "))
        print("same tokens on both sides: \(bareTokens == engineTokens ? "yes" : "no")")
    }

    struct Run {
        var timeToFirstToken: Double
        var tokensPerSecond: Double
    }

    /// One engine run as a client sees it.
    private static func measure(_ engine: LocalEngine, _ request: GenerationRequest) async throws -> Run {
        let start = DispatchTime.now().uptimeNanoseconds
        var first: UInt64?
        var end: UInt64 = start
        var completion = 0
        for try await event in engine.generate(request) {
            let now = DispatchTime.now().uptimeNanoseconds
            switch event {
            case .textDelta:
                if first == nil { first = now }
            case .finished(_, let usage):
                end = now
                completion = usage.completionTokens
            default: break
            }
        }
        guard let first, completion > 1 else { throw ValidationError("the engine produced no tokens") }
        return Run(timeToFirstToken: Double(first - start) / 1e9,
                   tokensPerSecond: Double(completion - 1) / (Double(end - first) / 1e9))
    }

    private static func cpuName() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in info.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }
        return "unknown CPU"
    }
}

/// The median of `values` (mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// Records the engine's accepted tokens and forbids end-of-generation, like the bare loop.
private final class AcceptedTokens: LogitsProcessor, @unchecked Sendable {
    private(set) var tokens: [Int32] = []
    let banned: [Int32]
    init(banned: [Int32]) { self.banned = banned }
    func process(_ logits: UnsafeMutableBufferPointer<Float>) {
        for token in banned { logits[Int(token)] = -.infinity }
    }
    func didAccept(_ token: Int32) { tokens.append(token) }
}

/// The baseline: its own model and context straight from llama.cpp, driven by the C loop in
/// the CLlama shim (clm_bare_greedy_generate).
private final class BareLoop {
    let model: OpaquePointer
    let context: OpaquePointer
    let batchSize: Int32 = 512

    init(modelPath: String, contextSize: Int, threads: Int) throws {
        var modelParams = llama_model_default_params()
        modelParams.n_gpu_layers = 0
        guard let model = llama_model_load_from_file(modelPath, modelParams) else {
            throw ValidationError("llama.cpp could not load \(modelPath)")
        }
        var params = llama_context_default_params()
        params.n_ctx = UInt32(contextSize)
        params.n_batch = UInt32(batchSize)
        params.n_ubatch = UInt32(batchSize)
        params.n_seq_max = 1
        params.n_threads = Int32(threads)
        params.n_threads_batch = Int32(threads)
        guard let context = llama_init_from_model(model, params) else {
            llama_model_free(model)
            throw ValidationError("llama.cpp could not create a context")
        }
        self.model = model
        self.context = context
    }

    deinit {
        llama_free(context)
        llama_model_free(model)
    }

    func generate(prompt: [Int32], count: Int, banned: [Int32]) throws -> (BenchCommand.Run, [Int32]) {
        var tokens = [Int32](repeating: 0, count: count)
        let result = clm_bare_greedy_generate(
            context, prompt, Int32(prompt.count), Int32(count), batchSize, banned, Int32(banned.count), &tokens)
        guard result.status == 0, result.generated == count else {
            throw ValidationError("bare llama_decode failed with status \(result.status)")
        }
        return (BenchCommand.Run(timeToFirstToken: result.time_to_first_token_us / 1e6,
                                 tokensPerSecond: Double(count - 1) / (result.generation_us / 1e6)),
                tokens)
    }
}
