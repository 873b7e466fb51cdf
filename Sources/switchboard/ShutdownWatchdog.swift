import Foundation
import Logging
import ServiceLifecycle

/// A service that does nothing until shutdown begins, then ends the process `deadline` seconds
/// later if it is still running. Cancellation is cooperative: work that never checks it (a bug)
/// would otherwise keep a stopped server alive forever.
struct ShutdownWatchdog: Service {
    let deadline: Double
    let logger: Logger

    func run() async throws {
        // Wait for the signal; graceful shutdown or cancellation ends this wait.
        try? await gracefulShutdown()
        let deadline = deadline
        let logger = logger
        // A plain thread, not a task: it must fire even if the cooperative pool is stuck.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: deadline)
            logger.error("shutdown watchdog: in-flight work did not stop within \(deadline) s; exiting now")
            // `_exit`, not `exit`: the stuck work may be inside llama.cpp, whose globals `exit`
            // would destroy under it.
            _exit(0)
        }
    }
}
