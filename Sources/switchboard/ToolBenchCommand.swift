import ArgumentParser
import ChatAPI
import Foundation
import Gateway
import LocalBackend
import LocalEngine

/// `switchboard bench-tools`: the cost of constrained decoding. A tool call under
/// `tool_choice: "required"` (grammar mask on every token) against unconstrained generation of
/// the same number of tokens from the same prompt, alternating run by run in one process.
struct ToolBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tools",
        abstract: "Benchmark constrained tool-call generation against unconstrained generation.")

    @Option(help: "GGUF model path (default: the bootstrap's SmolLM2-135M-Instruct).")
    var model: String = LocalEngineConfiguration.defaultModelPath

    @Option(help: "Jinja chat template to use instead of the model's (to measure another tool-call format, e.g. Qwen3-Coder's XML parameters).")
    var chatTemplateFile: String?

    @Option(help: "Measured runs per side (the median is reported).")
    var repetitions: Int = 5

    @Option(help: "llama.cpp threads (default: number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() async throws {
        var configuration = LocalEngineConfiguration(modelPath: model)
        configuration.threads = threads
        configuration.chatTemplate = try chatTemplateFile.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let engine = try LocalEngine(configuration: configuration)
        let backend = LocalChatBackend(engine: engine, modelID: "bench", compileExecutor: CompileExecutor())
        let body = """
        {"model": "bench", "temperature": 0, "tool_choice": "required", "max_tokens": 256,
         "messages": [{"role": "user", "content": "Find flights from Paris to Tokyo for two adults next Friday, economy, and list the three cheapest."}],
         "tools": [{"type": "function", "function": {"name": "search_flights", "description": "Search flights.",
           "parameters": {"type": "object", "properties": {
             "origin": {"type": "string"}, "destination": {"type": "string"}, "date": {"type": "string", "format": "date"},
             "passengers": {"type": "integer", "minimum": 1, "maximum": 9},
             "cabin": {"type": "string", "enum": ["economy", "premium", "business", "first"]},
             "max_results": {"type": "integer"}, "sort": {"type": "array", "items": {"type": "string", "enum": ["price", "duration", "departure"]}}},
           "required": ["origin", "destination", "date", "passengers", "cabin", "max_results", "sort"], "additionalProperties": false}}}]}
        """
        let request = try ChatCompletionRequest(json: try JSONValue(parsing: body))
        print("model:    \(engine.modelName) (\(model)); tool-call format \(backend.toolCallFormat.rawValue)")
        print("machine:  \(ProcessInfo.processInfo.activeProcessorCount) cores; threads \(threads); \(repetitions) runs per side after a warm-up")

        var constrained: [Double] = [], free: [Double] = [], maskMicros: [Double] = [], counts: [Int] = []
        var sample = ""
        for repetition in 0...repetitions {
            var call = try await backend.generationRequest(for: request)
            let processor = try XUnwrap(call.logitsProcessor as? GrammarLogitsProcessor)
            call.sampling.seed = 1
            let (c, tokens, text) = try await Self.measure(engine, call)
            var plain = try await backend.generationRequest(for: request)
            plain.logitsProcessor = BannedTokensProcessor(banned: engine.model.endOfGenerationTokens)
            plain.maxTokens = tokens
            let (f, _, _) = try await Self.measure(engine, plain)
            if repetition > 0 {
                constrained.append(c)
                free.append(f)
                maskMicros += processor.maskNanoseconds.map { Double($0) / 1000 }
                counts.append(tokens)
            }
            sample = text
        }
        let c = median(constrained), f = median(free)
        print("tool call: \(sample)")
        print("")
        print(String(format: "unconstrained generation   %7.1f tokens/s", f))
        print(String(format: "constrained (required)     %7.1f tokens/s  (%d tokens per call)", c, counts.first ?? 0))
        print(String(format: "constrained / unconstrained %6.1f %%", c / f * 100))
        let sortedMasks = maskMicros.sorted()
        print(String(format: "mask cost per token (compute + apply to the logits, %d masks): p50 %.1f µs, p99 %.1f µs, mean %.1f µs",
                     sortedMasks.count, median(sortedMasks), sortedMasks[min(sortedMasks.count - 1, sortedMasks.count * 99 / 100)],
                     sortedMasks.reduce(0, +) / Double(max(sortedMasks.count, 1))))
        print("per-run tokens/s (unconstrained): " + free.map { String(format: "%.1f", $0) }.joined(separator: " "))
        print("per-run tokens/s (constrained):   " + constrained.map { String(format: "%.1f", $0) }.joined(separator: " "))
    }

    /// Generation speed after the first token, the completion length and its text.
    private static func measure(_ engine: LocalEngine, _ request: GenerationRequest) async throws -> (Double, Int, String) {
        var first: UInt64?
        var end: UInt64 = 0
        var completion = 0
        var text = ""
        for try await event in engine.generate(request) {
            let now = DispatchTime.now().uptimeNanoseconds
            switch event {
            case .textDelta(let t):
                if first == nil { first = now }
                text += t
            case .finished(_, let usage):
                end = now
                completion = usage.completionTokens
            default: break
            }
        }
        guard let first, completion > 1 else { throw ValidationError("no tokens generated") }
        return (Double(completion - 1) / (Double(end - first) / 1e9), completion, text)
    }
}

private func XUnwrap<T>(_ value: T?) throws -> T {
    guard let value else { throw ValidationError("the request was not constrained") }
    return value
}
