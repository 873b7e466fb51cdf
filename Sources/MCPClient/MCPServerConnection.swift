import ChatAPI
import Foundation
import Logging
import MCP
import Synchronization
@preconcurrency import SystemPackage

/// A session with one configured MCP server, opened on first use and opened again after it
/// fails. It lists the server's tools (cached for a while, as tools rarely change) and calls
/// them under the configured time limit.
actor MCPServerConnection {
    let settings: MCPServerSettings
    private let logger: Logger
    private var session: Session?
    private var opening: Task<Session, Error>?
    private var listed: (tools: [MCP.Tool], at: ContinuousClock.Instant)?
    /// Counts `close()`s, so an open that finishes after one is not kept.
    private var generation = 0
    /// How long a tool list is reused before it is asked for again.
    static let toolListLifetime: Duration = .seconds(60)
    /// Pages of `tools/list` read at most: a server that keeps paging is not listed forever.
    static let maxToolPages = 20

    private struct Session {
        let client: Client
        let process: Process?
        /// Ends when the process does (stdio servers only).
        let exit: ProcessExit?
    }

    init(settings: MCPServerSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// The server's tools (all of them; the caller filters what it offers). Each page is asked
    /// for under the call time limit.
    func tools() async throws -> [MCP.Tool] {
        if let listed, ContinuousClock.now - listed.at < Self.toolListLifetime { return listed.tools }
        let session = try await openSession()
        var tools: [MCP.Tool] = []
        var cursor: String?
        for _ in 0..<Self.maxToolPages {
            let page = try await failing(session) {
                try await Self.race(settings.callTimeout, what: "The MCP server '\(settings.name)'", exit: session.exit) { [cursor] in
                    try await session.client.listTools(cursor: cursor)
                }
            }
            tools += page.tools
            cursor = page.nextCursor
            if cursor == nil { break }
        }
        listed = (tools, ContinuousClock.now)
        return tools
    }

    /// Calls `tool`. A tool that reports an error (`isError`) is a result, not a throw: the
    /// model reads it. Throws only when the server cannot be reached or the call times out.
    func call(_ tool: String, arguments: JSONObject) async throws -> MCPToolOutput {
        let session = try await openSession()
        let mcpArguments = Dictionary(arguments.map { ($0.key, MCP.Value($0.value)) }, uniquingKeysWith: { _, last in last })
        let context: RequestContext<CallTool.Result> = try await session.client.callTool(name: tool, arguments: mcpArguments)
        let result = try await failing(session) {
            do {
                return try await Self.race(settings.callTimeout, what: "The MCP tool '\(tool)'", exit: session.exit) {
                    try await context.value
                }
            } catch {
                // Timed out, the process exited, or the caller left: the server may stop working on it.
                try? await session.client.cancelRequest(context.requestID, reason: "\(error)")
                throw error
            }
        }
        return MCPToolOutput(result)
    }

    /// `body`'s value, unless `limit` passes first, the server process exits first, or the
    /// caller is cancelled. The SDK's requests wait on continuations that ignore cancellation,
    /// so the loser is not waited for: `body` is cancelled and left to end on its own (the
    /// session is dropped after such a failure, which ends its pending requests).
    @discardableResult
    private static func race<T: Sendable>(_ limit: Duration, what: String, exit: ProcessExit?,
                                          _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = FirstOutcome<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.start(continuation, tasks: [
                    Task {
                        do { outcome.finish(.success(try await body())) } catch { outcome.finish(.failure(error)) }
                    },
                    Task {
                        guard (try? await Task.sleep(for: limit)) != nil else { return }
                        outcome.finish(.failure(MCPError.internalError("\(what) did not answer within \(limit).")))
                    },
                    Task {
                        guard let status = try? await exit?.status() else { return }
                        outcome.finish(.failure(MCPError.internalError("\(what) cannot answer: its process exited with status \(status).")))
                    },
                ])
            }
        } onCancel: {
            outcome.finish(.failure(CancellationError()))
        }
    }

    /// Ends the session and stops the server process.
    func close() async {
        generation += 1
        opening?.cancel()
        opening = nil
        guard let session else { return }
        self.session = nil
        listed = nil
        await Self.end(session)
    }

    private static func end(_ session: Session) async {
        await session.client.disconnect()
        if let process = session.process, process.isRunning { process.terminate() }
    }

    /// Runs `body` on `session`. A failure drops that session (if it is still the current one),
    /// so the next use starts a fresh one: the process may have died, the HTTP session expired.
    /// A cancelled caller (its client left) is no failure of the server: the session stays.
    private func failing<T: Sendable>(_ session: Session, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.warning("MCP server failed", metadata: ["server": "\(settings.name)", "error": "\(error)"])
            if self.session?.client === session.client { await close() }
            throw error
        }
    }

    /// The process of the current session exited: the session is dropped at once (an idle
    /// dead session would otherwise be found only by the next call, and the SDK's reader
    /// spins on the closed pipe meanwhile).
    private func processExited(_ exit: ProcessExit) async {
        guard let session, session.exit === exit else { return }
        logger.warning("MCP server process exited", metadata: ["server": "\(settings.name)"])
        await close()
    }

    private func openSession() async throws -> Session {
        if let session { return session }
        if let opening { return try await opening.value }
        let started = generation
        let task = Task { [settings, logger] in try await Self.connect(settings, logger: logger) }
        opening = task
        let opened: Session
        do {
            opened = try await task.value
        } catch {
            if generation == started { opening = nil }
            throw error
        }
        // Closed meanwhile (shutdown, or a failure of the session before): this one is not wanted.
        guard generation == started else {
            await Self.end(opened)
            throw CancellationError()
        }
        opening = nil
        session = opened
        opened.exit?.onExit { [weak self] exit in Task { await self?.processExited(exit) } }
        return opened
    }

    private static func connect(_ settings: MCPServerSettings, logger: Logger) async throws -> Session {
        let client = Client(name: "switchboard", version: "0.1.0")
        switch settings.endpoint {
        case .http(let url, let bearerToken):
            let transport = StreamableHTTPClientTransport(url: url, bearerToken: bearerToken,
                                                          requestTimeout: settings.callTimeout + .seconds(5), logger: logger)
            do {
                try await race(settings.callTimeout, what: "The MCP server '\(settings.name)'", exit: nil) {
                    try await client.connect(transport: transport)
                }
            } catch {
                await client.disconnect()
                throw error
            }
            return Session(client: client, process: nil, exit: nil)
        case .stdio(let command):
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = command
            let toServer = Pipe(), fromServer = Pipe()
            process.standardInput = toServer
            process.standardOutput = fromServer
            // The server's own log lines join ours.
            process.standardError = FileHandle.standardError
            let exit = ProcessExit(process)
            try process.run()
            let transport = StdioTransport(
                input: FileDescriptor(rawValue: fromServer.fileHandleForReading.fileDescriptor),
                output: FileDescriptor(rawValue: toServer.fileHandleForWriting.fileDescriptor),
                logger: logger)
            do {
                try await race(settings.callTimeout, what: "The MCP server '\(settings.name)'", exit: exit) {
                    try await client.connect(transport: transport)
                }
            } catch {
                if process.isRunning { process.terminate() }
                await client.disconnect()
                throw error
            }
            return Session(client: client, process: process, exit: exit)
        }
    }
}

/// The first of several racing outcomes, delivered once; the other racers are cancelled.
private final class FirstOutcome<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, Error>?, tasks: [Task<Void, Never>], early: Result<T, Error>?)>(
        (nil, [], nil))

    func start(_ continuation: CheckedContinuation<T, Error>, tasks: [Task<Void, Never>]) {
        let early: Result<T, Error>? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            state.tasks = tasks
            return nil
        }
        if let early {
            for task in tasks { task.cancel() }
            continuation.resume(with: early)
        }
    }

    func finish(_ result: Result<T, Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, Error>?, [Task<Void, Never>]) in
            guard let continuation = state.continuation else {
                // Cancelled before the race began: remembered for `start`.
                if state.early == nil && state.tasks.isEmpty { state.early = result }
                return (nil, [])
            }
            state.continuation = nil
            defer { state.tasks = [] }
            return (continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}

/// A process's exit status, awaitable, and a callback when it comes (a stdio server that
/// dies answers nothing more).
final class ProcessExit: Sendable {
    private let state = Mutex<(status: Int32?, onExit: (@Sendable (ProcessExit) -> Void)?)>((nil, nil))

    /// Install before `process.run()`.
    init(_ process: Process) {
        process.terminationHandler = { ended in
            let onExit = self.state.withLock { state in
                state.status = ended.terminationStatus
                return state.onExit
            }
            onExit?(self)
        }
    }

    /// Calls `handler` when the process exits (at once if it has).
    func onExit(_ handler: @escaping @Sendable (ProcessExit) -> Void) {
        let exited = state.withLock { state in
            state.onExit = handler
            return state.status != nil
        }
        if exited { handler(self) }
    }

    /// The exit status, once the process has exited. Checks a few times a second, and throws
    /// `CancellationError` when cancelled (the races it takes part in cancel their losers).
    func status() async throws -> Int32 {
        while true {
            if let status = state.withLock({ $0.status }) { return status }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// What a tool call gave back, as the model will read it.
public struct MCPToolOutput: Sendable, Equatable {
    /// The result as text: the text parts joined, or the structured content as JSON.
    public let text: String
    /// The tool reported a failure (`isError`).
    public let isError: Bool

    public init(text: String, isError: Bool) {
        self.text = text
        self.isError = isError
    }

    init(_ result: CallTool.Result) {
        var parts: [String] = []
        for content in result.content {
            switch content {
            case .text(let text, _, _): parts.append(text)
            case .resource(let resource, _, _): parts.append(resource.text ?? "[binary resource \(resource.uri)]")
            case .resourceLink(let uri, let name, _, _, _, _): parts.append("[resource \(name): \(uri)]")
            case .image(_, let mimeType, _, _): parts.append("[\(mimeType) image]")
            case .audio(_, let mimeType, _, _): parts.append("[\(mimeType) audio]")
            }
        }
        if parts.isEmpty, let structured = result.structuredContent { parts.append(JSONValue(structured).serialized()) }
        self.init(text: parts.joined(separator: "\n"), isError: result.isError ?? false)
    }
}
