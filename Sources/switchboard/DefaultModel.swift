import Foundation

/// Where `scripts/bootstrap` puts things: `$SWITCHBOARD_CACHE`, else `~/.cache/switchboard`.
enum BootstrapCache {
    static var root: String {
        ProcessInfo.processInfo.environment["SWITCHBOARD_CACHE"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/switchboard").path
    }

    /// The embedded default model (SmolLM2-135M-Instruct, Q4_1), fetched and verified by bootstrap.
    static var defaultModelPath: String { root + "/models/SmolLM2-135M-Instruct.Q4_1.gguf" }

    /// The default model path, or an error telling how to get it.
    static func requireDefaultModel() throws -> String {
        let path = defaultModelPath
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("The default model is not at \(path). Run `scripts/bootstrap` (or `make serve`) first, or pass --model PATH.")
        }
        return path
    }
}

/// A command-line failure with a message for the user (printed without a stack trace).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
