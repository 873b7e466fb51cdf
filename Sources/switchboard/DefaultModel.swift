import Foundation
import LocalEngine

/// The embedded default model that `scripts/bootstrap` fetches and verifies.
enum BootstrapCache {
    static var defaultModelPath: String { LocalEngineConfiguration.defaultModelPath }

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
