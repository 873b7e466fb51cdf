import ArgumentParser
import Foundation
import Synchronization
import SwitchboardKit

/// `switchboard chat`: an interactive chat in the terminal, through SwitchboardKit. Replies
/// stream as they arrive; the model may call the demo tools (`/tools`), and each call and its
/// result show as they happen. `/reset` starts over; Ctrl-C stops a reply without leaving;
/// `/exit` or Ctrl-D leaves.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a model in the terminal; it can call a clock, a calculator and a file reader.")

    @Option(name: .customLong("base-url"), help: "The OpenAI-compatible API to talk to (default: `make serve`'s).")
    var baseURL = "http://127.0.0.1:8080/v1"

    @Option(help: "Model id (default: the first the server lists).")
    var model: String?

    @Option(name: .customLong("api-key"), help: "Sent as `Authorization: Bearer`. Also read from SWITCHBOARD_API_KEY.")
    var apiKey: String?

    @Option(name: .customLong("tool-choice"),
            help: "auto, required or none: the tool_choice of each reply's first round (later rounds use auto).")
    var toolChoice = "auto"

    @Option(name: .customLong("max-tokens"), help: "Most tokens per model answer.")
    var maxTokens = 512

    func validate() throws {
        guard ["auto", "required", "none"].contains(toolChoice) else { throw ValidationError("--tool-choice is auto, required or none.") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1.") }
    }

    func run() async throws {
        let client = ChatClient(baseURL: baseURL, apiKey: apiKey ?? ProcessInfo.processInfo.environment["SWITCHBOARD_API_KEY"])
        var model = self.model ?? ""
        if model.isEmpty {
            do {
                model = try await client.models().first ?? ""
            } catch {
                throw CLIError("Cannot reach \(baseURL) (start a server with `make serve`): \(error)")
            }
            guard !model.isEmpty else { throw CLIError("\(baseURL) serves no models.") }
        }
        let terminal = Terminal()
        let replies = Interruptible()
        let runner = ToolRunner(client: client, tools: DemoTools.all, maxRounds: 4)
        terminal.write("Chatting with \(model) at \(baseURL). /tools lists the tools, /reset starts over, /exit leaves; Ctrl-C stops a reply.\n")
        var conversation: [ChatMessage] = []
        terminal.write("> ")
        for await line in Terminal.lines(interrupts: replies) {
            switch line.trimmingCharacters(in: .whitespaces) {
            case "":
                break
            case "/exit", "/quit":
                return
            case "/reset":
                conversation = []
                terminal.write("(conversation cleared)\n")
            case "/tools":
                for tool in DemoTools.all { terminal.write("  \(tool.name): \(tool.description)\n") }
            case let text:
                var request = ChatCompletionRequest(model: model, messages: conversation + [.user(text)])
                request.tools = DemoTools.all.map(\.definition)
                request.toolChoice = toolChoice == "required" ? .required : toolChoice == "none" ? .none : .auto
                request.maxCompletionTokens = maxTokens
                if var messages = await reply(request, runner: runner, terminal: terminal, replies: replies) {
                    // Out of rounds with calls still asked for: those were not run, and a turn
                    // of calls without results would make every later request invalid.
                    if let last = messages.last, last.role == .assistant, !last.toolCalls.isEmpty {
                        messages.removeLast()
                        terminal.write("(stopped after \(runner.maxRounds) rounds of tool calls)\n")
                    }
                    conversation = messages
                }
            }
            terminal.write("> ")
        }
        terminal.write("\n")
    }

    /// One reply, shown as it streams; the conversation after it, or nil when it was stopped
    /// (Ctrl-C) or failed (the turn is then dropped).
    private func reply(_ request: ChatCompletionRequest, runner: ToolRunner, terminal: Terminal, replies: Interruptible) async -> [ChatMessage]? {
        let task = Task { () -> [ChatMessage]? in
            terminal.startSpinner()
            defer { terminal.stopSpinner() }
            var messages: [ChatMessage]?
            for try await event in runner.stream(request) {
                switch event {
                case .textDelta(let text):
                    terminal.stopSpinner()
                    terminal.write(text)
                case .callStarted(let call):
                    terminal.stopSpinner()
                    terminal.write("\n⚙ \(call.name)(\(call.arguments))\n")
                    terminal.startSpinner()
                case .callFinished(_, let output, let isError):
                    terminal.stopSpinner()
                    let line = output.split(whereSeparator: \.isNewline).joined(separator: " ")
                    terminal.write("  \(isError ? "✗" : "→") \(line.prefix(300))\n")
                    terminal.startSpinner()
                case .roundFinished:
                    break
                case .finished(let result):
                    messages = result.messages
                }
            }
            // A cancelled stream just ends; that is a stopped reply, not a finished one.
            try Task.checkCancellation()
            return messages
        }
        replies.current = task
        defer { replies.current = nil }
        do {
            let messages = try await task.value
            terminal.write("\n")
            return messages
        } catch is CancellationError {
            terminal.write("\n[stopped]\n")
        } catch {
            terminal.write("\n[error: \(error)]\n")
        }
        return nil
    }
}

/// The reply being generated, which Ctrl-C cancels; at the prompt Ctrl-C only says how to leave.
final class Interruptible: Sendable {
    private let task = Mutex<Task<[ChatMessage]?, Error>?>(nil)

    var current: Task<[ChatMessage]?, Error>? {
        get { task.withLock { $0 } }
        set { task.withLock { $0 = newValue } }
    }
}

/// Terminal output (unbuffered), the spinner, and input lines read on a thread of their own.
final class Terminal: Sendable {
    private let spinner = Mutex<Task<Void, Never>?>(nil)
    private let isTTY = isatty(STDOUT_FILENO) == 1

    func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Frames on one line until `stopSpinner()`, while the model or a tool is busy.
    func startSpinner() {
        guard isTTY else { return }
        let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
        let task = Task { [self] in
            var frame = 0
            while !Task.isCancelled {
                write(frames[frame % frames.count] + "\u{8}")
                frame += 1
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        spinner.withLock { $0?.cancel(); $0 = task }
    }

    func stopSpinner() {
        guard let task = spinner.withLock({ old -> Task<Void, Never>? in defer { old = nil }; return old }) else { return }
        task.cancel()
        write(" \u{8}")
    }

    /// Standard input's lines, read by a thread (a blocking read must not hold one of Swift's
    /// few concurrency threads). Ctrl-C cancels the reply in `interrupts`, or reminds at the
    /// prompt how to leave.
    static func lines(interrupts: Interruptible) -> AsyncStream<String> {
        signal(SIGINT, SIG_IGN)
        let signals = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "switchboard.chat.sigint"))
        signals.setEventHandler {
            if let reply = interrupts.current {
                reply.cancel()
            } else {
                FileHandle.standardOutput.write(Data("\n(/exit or Ctrl-D leaves)\n> ".utf8))
            }
        }
        signals.resume()
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let reader = Thread {
            while let line = readLine() { continuation.yield(line) }
            continuation.finish()
        }
        reader.start()
        continuation.onTermination = { _ in signals.cancel() }
        return lines
    }
}
