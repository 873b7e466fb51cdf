import ArgumentParser
import Foundation
import Gateway
import Hummingbird
import LocalEngine
import Logging
import Server

/// `switchboard serve`: serve a local GGUF model over the OpenAI-compatible HTTP API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a GGUF model on an OpenAI-compatible /v1/chat/completions endpoint.")

    @Option(help: "Path of a GGUF model. Default: the embedded SmolLM2-135M-Instruct from scripts/bootstrap.")
    var model: String?

    @Option(help: "Model id clients send as `model`. Default: the GGUF file name without extension.")
    var alias: String?

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(name: .customLong("api-key"), help: "Require `Authorization: Bearer KEY` on /v1 routes. Also read from SWITCHBOARD_API_KEY.")
    var apiKey: String?

    @Option(name: .customLong("ctx-size"), help: "Context size in tokens (default: 4096, capped at the model's training context).")
    var contextSize: Int?

    @Option(help: "CPU threads for generation (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("max-body-mb"), help: "Largest accepted request body, in MiB.")
    var maxBodyMB = 4

    @Option(name: .customLong("compile-timeout"),
            help: "Seconds one request's schema or grammar compilation may take; beyond it the request gets a 400 schema_too_complex.")
    var compileTimeout = 2.0

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "switchboard")
        let modelPath = try model ?? BootstrapCache.requireDefaultModel()
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw CLIError("No model file at \(modelPath).")
        }
        let modelID = alias ?? URL(fileURLWithPath: modelPath).deletingPathExtension().lastPathComponent

        var engineConfiguration = LocalEngineConfiguration(modelPath: modelPath)
        if let contextSize { engineConfiguration.contextSize = contextSize }
        if let threads { engineConfiguration.threads = threads }
        let engine = try LocalEngine(configuration: engineConfiguration)
        let compileExecutor = CompileExecutor(timeLimit: .milliseconds(Int(compileTimeout * 1000)))
        let models = ModelRouter(
            models: [
                ServedModel(id: modelID, ownedBy: "switchboard", created: Int(Date().timeIntervalSince1970),
                            backend: LocalChatBackend(engine: engine, modelID: modelID, compileExecutor: compileExecutor))
            ],
            schemaValidators: SchemaValidators(executor: compileExecutor))

        var serverConfiguration = ServerConfiguration()
        serverConfiguration.host = host
        serverConfiguration.port = port
        serverConfiguration.apiKey = apiKey ?? ProcessInfo.processInfo.environment["SWITCHBOARD_API_KEY"]
        serverConfiguration.maxBodyBytes = maxBodyMB * 1024 * 1024
        serverConfiguration.systemFingerprint = "switchboard-local"

        logger.info("serving", metadata: ["model": "\(modelID)", "path": "\(modelPath)", "address": "\(host):\(port)"])
        let app = SwitchboardServer.makeApplication(models: models, configuration: serverConfiguration, logger: logger)
        try await app.runService()
    }
}
