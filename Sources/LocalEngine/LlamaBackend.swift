import Foundation
import CLlama
import Logging

/// Where llama.cpp's and ggml's own log lines go: never stdout. They are routed to this
/// swift-log logger at debug level (warnings and errors keep their level), so a server's
/// output stays clean unless the log level asks for them.
let llamaLogger = Logger(label: "switchboard.llama.cpp")

/// One-time process-wide llama.cpp set-up: backend initialisation and log routing.
/// The static build registers the CPU backend itself, so no dynamic backend loading is needed.
enum LlamaBackend {
    private static let initialized: Void = {
        llama_log_set({ level, text, _ in
            guard let text else { return }
            let line = String(cString: text).trimmingCharacters(in: .newlines)
            if line.isEmpty { return }
            switch level {
            case GGML_LOG_LEVEL_ERROR: llamaLogger.error("\(line)")
            case GGML_LOG_LEVEL_WARN: llamaLogger.warning("\(line)")
            case GGML_LOG_LEVEL_DEBUG: llamaLogger.trace("\(line)")
            default: llamaLogger.debug("\(line)")
            }
        }, nil)
        llama_backend_init()
    }()

    /// Idempotent and thread-safe (Swift global/static initialisation runs once).
    static func ensureInitialized() { _ = initialized }
}
