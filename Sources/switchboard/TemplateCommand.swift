import ArgumentParser
import ChatAPI
import ChatTemplates
import Foundation

/// `switchboard template …`: render and time chat templates.
struct TemplateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template", abstract: "Render and benchmark Jinja chat templates.",
        subcommands: [Render.self, Bench.self])

    /// Where the template comes from: a .jinja file or a GGUF's `tokenizer.chat_template`.
    struct Source: ParsableArguments {
        @Option(name: .long, help: "A Jinja chat template file.")
        var template: String?

        @Option(name: .long, help: "A GGUF model whose embedded chat template (tokenizer.chat_template) is used.")
        var model: String?

        func validate() throws {
            if (template == nil) == (model == nil) { throw ValidationError("pass exactly one of --template or --model") }
        }

        func load() throws -> String {
            if let template { return try String(contentsOfFile: template, encoding: .utf8) }
            // TODO(merge): use the GGUF target's GGUFFile once it lands; this is a minimal reader.
            return try EmbeddedChatTemplate.read(fromGGUF: model!)
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

/// Reads `tokenizer.chat_template` from a GGUF file's metadata (header and key/value section only).
enum EmbeddedChatTemplate {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func read(fromGGUF path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        var r = Reader(data: data)
        guard try r.bytes(4) == Array("GGUF".utf8) else { throw Failure(description: "\(path): not a GGUF file") }
        let version = try r.u32()
        guard version >= 2 else { throw Failure(description: "\(path): GGUF version \(version) is not supported") }
        _ = try r.u64()  // tensor count
        let kvCount = try r.u64()
        for _ in 0..<kvCount {
            let key = try r.string()
            let type = try r.u32()
            if key == "tokenizer.chat_template", type == 8 { return try r.string() }
            try r.skipValue(type)
        }
        throw Failure(description: "\(path): the model has no tokenizer.chat_template")
    }

    private struct Reader {
        let data: Data
        var offset = 0

        mutating func bytes(_ n: Int) throws -> [UInt8] {
            guard n >= 0, offset + n <= data.count else { throw Failure(description: "truncated GGUF metadata") }
            defer { offset += n }
            return [UInt8](data[data.startIndex + offset..<data.startIndex + offset + n])
        }

        mutating func u32() throws -> UInt32 {
            try bytes(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func u64() throws -> UInt64 {
            try bytes(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }

        mutating func string() throws -> String {
            let n = try u64()
            guard n < UInt64(data.count) else { throw Failure(description: "corrupt GGUF string length") }
            return String(decoding: try bytes(Int(n)), as: UTF8.self)
        }

        mutating func skipValue(_ type: UInt32) throws {
            switch type {
            case 0, 1, 7: offset += 1
            case 2, 3: offset += 2
            case 4, 5, 6: offset += 4
            case 10, 11, 12: offset += 8
            case 8: _ = try string()
            case 9:
                let elementType = try u32()
                let count = try u64()
                guard count < UInt64(data.count) else { throw Failure(description: "corrupt GGUF array length") }
                for _ in 0..<count { try skipValue(elementType) }
            default: throw Failure(description: "unknown GGUF value type \(type)")
            }
            guard offset <= data.count else { throw Failure(description: "truncated GGUF metadata") }
        }
    }
}
