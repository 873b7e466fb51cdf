import ArgumentParser

/// `switchboard bench`: generation speed of the local engine against a bare llama.cpp loop.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark local generation (not implemented yet).")
    func run() async throws { throw ValidationError("not implemented yet") }
}
