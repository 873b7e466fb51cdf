import ArgumentParser
import ChatAPI
import ChatTemplates
import Foundation
import GGUF

/// `switchboard template …`: render and time chat templates.
struct TemplateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template", abstract: "Render and benchmark Jinja chat templates, and name their tool-call format.",
        subcommands: [Render.self, Format.self, Bench.self])

    /// Where the template comes from: a .jinja file or a GGUF's `tokenizer.chat_template`.
    struct Source: ParsableArguments {
        @Option(name: .long, help: "A Jinja chat template file.")
        var template: String?

        @Option(name: .long, help: "A GGUF model whose embedded chat template (tokenizer.chat_template) is used.")
        var model: String?

        func validate() throws {
            if (template == nil) == (model == nil) { throw ValidationError("pass exactly one of --template or --model") }
        }

        /// The GGUF metadata tool-call format detection reads (none for a template file).
        func metadata() throws -> [String: String] {
            guard let model else { return [:] }
            let file = try GGUFFile(path: model)
            return ["general.architecture": file.architecture ?? "", "general.name": file.string("general.name") ?? ""]
        }

        func load() throws -> String {
            if let template { return try String(contentsOfFile: template, encoding: .utf8) }
            guard let text = try GGUFFile(path: model!).chatTemplate else {
                throw ValidationError("\(model!) has no embedded chat template (tokenizer.chat_template)")
            }
            return text
        }
    }

    struct Render: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render a chat template with the variables in a JSON file and print the text.")

        @OptionGroup var source: Source

        @Option(name: .long, help: "JSON object of template variables: messages, tools, add_generation_prompt, bos_token, eos_token, extra kwargs.")
        var input: String

        func run() async throws {
            let text = try source.load()
            let context = try loadContext(input)
            do {
                let template = try ChatTemplate(source: text)
                FileHandle.standardOutput.write(Data(try template.render(context: context).utf8))
            } catch let error as TemplateError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Format: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the name of the tool-call format detected for a chat template (`generic`: no tool support).")

        @OptionGroup var source: Source

        func run() async throws {
            print(ToolCallFormat.detect(template: try source.load(), metadata: try source.metadata()).rawValue)
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time parsing and rendering of a chat template (build with -c release for real figures).")

        @OptionGroup var source: Source

        @Option(name: .long, help: "JSON object of template variables.")
        var input: String

        @Option(name: .long, help: "Number of timed renders.")
        var iterations: Int = 1000

        func run() async throws {
            let text = try source.load()
            let context = try loadContext(input)
            var template: ChatTemplate? = nil
            let parseCPU = try cpuMicroseconds { for _ in 0..<20 { template = try ChatTemplate(source: text) } } / 20
            guard let template else { return }
            var bytes = 0
            _ = try template.render(context: context)  // warm-up
            let renderCPU = try cpuMicroseconds {
                for _ in 0..<iterations { bytes = try template.render(context: context).utf8.count }
            } / Double(iterations)
            print(String(format: "parse: %.1f µs CPU per template; render: %.1f µs CPU per render (%d renders, %d bytes of output)",
                         parseCPU, renderCPU, iterations, bytes))
        }

        /// Thread CPU time of `body`: on a shared machine wall-clock time measures the other jobs.
        private func cpuMicroseconds(_ body: () throws -> Void) rethrows -> Double {
            func now() -> Double {
                var t = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
                return Double(t.tv_sec) * 1e6 + Double(t.tv_nsec) / 1e3
            }
            let start = now()
            try body()
            return now() - start
        }
    }
}

private func loadContext(_ path: String) throws -> [String: JSONValue] {
    let value = try JSONValue(parsing: String(contentsOfFile: path, encoding: .utf8))
    guard let object = value.objectValue else { throw ValidationError("\(path): expected a JSON object of template variables") }
    var context: [String: JSONValue] = [:]
    for (k, v) in object { context[k] = v }
    return context
}
