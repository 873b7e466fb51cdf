// ThroughputBench (issue 13): local generation throughput of `switchboard serve` against
// llama.cpp's own `llama-server -np N`, same GGUF, same threads, same sequences, one run.
//
//   ThroughputBench --switchboard BIN --llama-server BIN --model GGUF
//                   [--parallel 8] [--concurrency 1,4,8] [--tokens 128] [--rounds 3] [--threads 2]
//                   [--ctx 4096] [--modes free,required]
//
// Both servers run for the whole benchmark, each idle while the other is measured. A run sends
// C streaming chat completions at once (distinct prompts, greedy, max_tokens N) and records,
// per stream, the time to its first content or tool-call chunk and its completion tokens.
// Aggregate tokens/s is all streams' completion tokens over the run's wall time. Sides
// alternate run by run, and which goes first alternates by round; figures are medians over
// rounds. `required` sends a tool with `tool_choice: "required"`, so both sides constrain the
// output with their grammars. scripts/bench-throughput builds everything and runs this.
import AsyncHTTPClient
import Foundation
import NIOCore

struct Options {
    var switchboard = ".build/release/switchboard"
    var llamaServer = ""
    var model = ""
    var parallel = 8
    var concurrency = [1, 4, 8]
    var tokens = 128
    var rounds = 3
    var threads = 2
    var context = 4096
    var modes = ["free", "required"]

    init(_ arguments: [String]) {
        var i = 1
        func value() -> String {
            i += 1
            guard i < arguments.count else { fatalError("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--switchboard": switchboard = value()
            case "--llama-server": llamaServer = value()
            case "--model": model = value()
            case "--parallel": parallel = Int(value())!
            case "--concurrency": concurrency = value().split(separator: ",").map { Int($0)! }
            case "--tokens": tokens = Int(value())!
            case "--rounds": rounds = Int(value())!
            case "--threads": threads = Int(value())!
            case "--ctx": context = Int(value())!
            case "--modes": modes = value().split(separator: ",").map(String.init)
            default: fatalError("unknown option \(arguments[i])")
            }
            i += 1
        }
        precondition(!llamaServer.isEmpty && !model.isEmpty, "--llama-server and --model are required")
    }
}

/// One server under test, started for the benchmark and stopped at its end.
final class Server: @unchecked Sendable {
    let name: String
    let port: Int
    let process = Process()

    init(name: String, port: Int, executable: String, arguments: [String]) throws {
        self.name = name
        self.port = port
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var url: String { "http://127.0.0.1:\(port)/v1/chat/completions" }

    /// Waits until the server answers a tiny completion (its model is loaded).
    func waitUntilReady(_ http: HTTPClient) async throws {
        for _ in 0..<600 {
            if let stream = try? await Stream.run(http, url: url, body: Workload.body(prompt: "Hi", tokens: 1, required: false)),
               stream.tokens >= 0 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BenchError("\(name) did not come up on port \(port)")
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What the streams ask for.
enum Workload {
    static let topics = ["the history of sailing ships", "how bees build their hives", "the life of a lighthouse keeper",
                         "the invention of the printing press", "a journey across the Sahara", "the water cycle",
                         "the first flight of the Wright brothers", "how volcanoes form", "the story of coffee",
                         "life in a medieval village", "the northern lights", "how bridges are built"]

    /// Distinct in every run (`run` first), so neither side reads a prompt from its cache.
    static func prompt(_ stream: Int, run: Int) -> String {
        "Essay \(run)-\(stream). Write a long, detailed essay about \(topics[(stream + run) % topics.count])."
    }

    static func body(prompt: String, tokens: Int, required: Bool) -> Data {
        var body: [String: Any] = [
            "model": "bench", "stream": true, "temperature": 0, "max_tokens": tokens,
            "stream_options": ["include_usage": true],
            "messages": [["role": "user", "content": prompt]],
        ]
        if required {
            body["tools"] = [["type": "function", "function": [
                "name": "record_essay", "description": "Records an essay with its title and paragraphs.",
                "parameters": ["type": "object", "properties": [
                    "title": ["type": "string"],
                    "paragraphs": ["type": "array", "items": ["type": "string"]],
                    "mood": ["type": "string", "enum": ["calm", "excited", "serious"]],
                ], "required": ["title", "paragraphs", "mood"]],
            ]]]
            body["tool_choice"] = "required"
        }
        return try! JSONSerialization.data(withJSONObject: body)
    }
}

/// One streamed completion as the client saw it.
struct Stream {
    var firstToken: Duration?
    var end: Duration = .zero
    var tokens = 0
    var madeToolCall = false

    /// Sends `body`, reads the SSE stream to its end. Times are from `start`.
    static func run(_ http: HTTPClient, url: String, body: Data, start: ContinuousClock.Instant = .now) async throws -> Stream {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .seconds(600))
        guard response.status.code == 200 else {
            let text = try await response.body.collect(upTo: 1 << 20)
            throw BenchError("HTTP \(response.status.code): \(String(buffer: text))")
        }
        var result = Stream()
        var chunks = 0
        var usageTokens: Int?
        var pending = Data()
        for try await buffer in response.body {
            pending.append(contentsOf: buffer.readableBytesView)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending.removeSubrange(pending.startIndex...newline)
                guard line.starts(with: Array("data: ".utf8)) else { continue }
                let payload = line.dropFirst(6)
                if payload.starts(with: Array("[DONE]".utf8)) { continue }
                guard let json = try? JSONSerialization.jsonObject(with: payload) as? [String: Any] else { continue }
                if let usage = json["usage"] as? [String: Any], let completion = usage["completion_tokens"] as? Int {
                    usageTokens = completion
                }
                guard let choice = (json["choices"] as? [[String: Any]])?.first,
                      let delta = choice["delta"] as? [String: Any] else { continue }
                let text = (delta["content"] as? String) ?? ""
                if delta["tool_calls"] != nil { result.madeToolCall = true }
                if !text.isEmpty || delta["tool_calls"] != nil {
                    chunks += 1
                    if result.firstToken == nil { result.firstToken = .now - start }
                }
            }
        }
        result.end = .now - start
        result.tokens = usageTokens ?? chunks
        return result
    }
}

/// One run's figures.
struct RunFigures {
    /// All completion tokens over the run's wall time (prompt reading included).
    var tokensPerSecond: Double
    /// Tokens after the first over the time after the first, summed over streams: generation
    /// speed without prompt reading, comparable between requests with different prompts.
    var decodeTokensPerSecond: Double
    var firstTokens: [Double]  // seconds, one per stream
    var toolCalls: Int  // streams that made a tool call
}

func measure(_ http: HTTPClient, _ server: Server, concurrency: Int, tokens: Int, required: Bool, run: Int) async throws -> RunFigures {
    let start = ContinuousClock.now
    let streams = try await withThrowingTaskGroup(of: Stream.self) { group in
        for i in 0..<concurrency {
            let body = Workload.body(prompt: Workload.prompt(i, run: run), tokens: tokens, required: required)
            group.addTask { try await Stream.run(http, url: server.url, body: body, start: start) }
        }
        var all: [Stream] = []
        for try await stream in group { all.append(stream) }
        return all
    }
    let wall = streams.map(\.end).max()!
    let total = streams.map(\.tokens).reduce(0, +)
    let decode = streams.map { stream -> Double in
        guard let first = stream.firstToken, stream.tokens > 1, stream.end > first else { return 0 }
        return Double(stream.tokens - 1) / (stream.end - first).seconds
    }.reduce(0, +)
    return RunFigures(tokensPerSecond: Double(total) / wall.seconds, decodeTokensPerSecond: decode,
                      firstTokens: streams.map { ($0.firstToken ?? $0.end).seconds },
                      toolCalls: streams.filter(\.madeToolCall).count)
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)]
}

let options = Options(CommandLine.arguments)
let http = HTTPClient(eventLoopGroupProvider: .singleton,
                      configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
let sides = [
    try Server(name: "switchboard", port: 18921, executable: options.switchboard, arguments: [
        "serve", "--model", options.model, "--alias", "bench", "--port", "18921", "--threads", "\(options.threads)",
        "--ctx-size", "\(options.context)", "--parallel", "\(options.parallel)"]),
    try Server(name: "llama-server", port: 18922, executable: options.llamaServer, arguments: [
        "-m", options.model, "--port", "18922", "-t", "\(options.threads)", "-tb", "\(options.threads)",
        "-c", "\(options.context * options.parallel)", "-np", "\(options.parallel)", "--jinja", "--no-webui"]),
]
do {
    for side in sides { try await side.waitUntilReady(http) }
    try await benchmark()
} catch {
    FileHandle.standardError.write(Data("ThroughputBench: \(error)\n".utf8))
}
for side in sides { side.stop() }
try await http.shutdown().get()

@MainActor func benchmark() async throws {

let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
print("model: \(options.model)")
print("machine: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores; threads \(options.threads); "
      + "\(options.parallel) sequences of \(options.context) tokens on both sides")
print("\(options.rounds) rounds, sides alternating; \(options.tokens) tokens per stream, greedy; medians over rounds\n")

// figures[mode][C][side] = runs
var figures: [String: [Int: [String: [RunFigures]]]] = [:]
var runCount = 0  // both sides get the same prompts in a run
// Modes run one after the other, so the prompts of one never sit in the other's caches.
for mode in options.modes {
    for round in 0..<options.rounds {
        for concurrency in options.concurrency {
            let order = (round + concurrency) % 2 == 0 ? sides : sides.reversed()
            runCount += 1
            for side in order {
                try await Task.sleep(for: .seconds(1))  // the other side's threads go idle
                let run = try await measure(http, side, concurrency: concurrency, tokens: options.tokens,
                                            required: mode == "required", run: runCount)
                figures[mode, default: [:]][concurrency, default: [:]][side.name, default: []].append(run)
                FileHandle.standardError.write(Data(String(format: "round %d %@ C=%d %@: %.1f tok/s, slowest first token %.2f s\n",
                                                           round + 1, mode, concurrency, side.name, run.tokensPerSecond,
                                                           run.firstTokens.max() ?? 0).utf8))
            }
        }
    }
}

for mode in options.modes {
    print("\(mode == "required" ? "tool_choice: \"required\" (grammar-constrained on both sides)" : "unconstrained")")
    print("  C   side            tok/s (wall)  decode tok/s  first token p50  p99 (s)   switchboard/llama-server (wall, decode)")
    for concurrency in options.concurrency {
        var rates: [String: (Double, Double)] = [:]
        for side in sides {
            let runs = figures[mode]![concurrency]![side.name]!
            let rate = (median(runs.map(\.tokensPerSecond)), median(runs.map(\.decodeTokensPerSecond)))
            rates[side.name] = rate
            let firsts = runs.flatMap(\.firstTokens)
            let perRun = runs.map { String(format: "%.1f", $0.tokensPerSecond) }.joined(separator: " ")
            let calls = mode == "required" ? "   tool calls: \(runs.map(\.toolCalls).reduce(0, +))/\(concurrency * runs.count)" : ""
            let ratio = side.name == "llama-server"
                ? String(format: "   %5.1f %%  %5.1f %%", 100 * rates["switchboard"]!.0 / rate.0, 100 * rates["switchboard"]!.1 / rate.1) : ""
            print(String(format: "  %-3d %-15@ %8.1f  %10.1f  %12.2f  %8.2f", concurrency, side.name as NSString,
                         rate.0, rate.1, median(firsts), percentile(firsts, 99)) + ratio + "   runs (wall): \(perRun)" + calls)
        }
    }
    print("")
}
if options.modes.contains("free") && options.modes.contains("required") {
    for concurrency in options.concurrency {
        let free = median(figures["free"]![concurrency]!["switchboard"]!.map(\.decodeTokensPerSecond))
        let constrained = median(figures["required"]![concurrency]!["switchboard"]!.map(\.decodeTokensPerSecond))
        print(String(format: "switchboard decode speed, constrained / unconstrained, C=%d: %.1f %%", concurrency, 100 * constrained / free))
    }
}
}
