import ChatAPI
import Foundation
import Grammar
import JSONSchemaKit

/// Seed material read from `../shared/data` at test time (never copied into the repo).
enum FuzzData {
    /// The real chat templates of `../shared/data/chat-templates`, as bytes.
    static func chatTemplates() -> [[UInt8]] {
        let dir = FuzzHarness.sharedData.appendingPathComponent("chat-templates")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".jinja") }.sorted().compactMap { name in
            (try? Data(contentsOf: dir.appendingPathComponent(name))).map { [UInt8]($0) }
        }
    }

    /// MaskBench records (`{"id", "schema", "tests": [{"data", "valid"}]}`): the first
    /// `perSplit` of every split. Only those lines are decompressed (`gzip -dc | head`): the
    /// whole corpus is 89 MB of JSON, slow to even split in a debug build.
    static func maskBench(perSplit: Int) -> [JSONValue] {
        let dir = FuzzHarness.sharedData.appendingPathComponent("maskbench")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        var records: [JSONValue] = []
        for name in names.sorted() where name.hasSuffix(".jsonl.gz") {
            let path = dir.appendingPathComponent(name).path
            let text = String(decoding: run("gzip -dc '\(path)' | head -n \(perSplit)"), as: UTF8.self)
            for line in text.split(separator: "\n") {
                if let record = try? JSONValue(parsing: String(line)) { records.append(record) }
            }
        }
        return records
    }

    private static func run(_ shellCommand: String) -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", shellCommand]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return [] }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }

    /// A small synthetic vocabulary (every byte, a few JSON-ish merges, an end token): compiling
    /// against it exercises the same compiler as a real one at a fraction of the cost.
    static let vocabulary: GrammarVocabulary = {
        var tokens: [[UInt8]] = [Array("<eos>".utf8)]
        for b in 0..<256 { tokens.append([UInt8(b)]) }
        for merge in ["{\"", "\":", "\",", "\"}", "true", "false", "null", "12", "ab", "\\u", "é", "😀", ",\""] {
            tokens.append(Array(merge.utf8))
        }
        return GrammarVocabulary(tokenBytes: tokens, specialIDs: [0], endOfGenerationIDs: [0])
    }()

    /// Serialized JSON as bytes.
    static func bytes(_ value: JSONValue) -> [UInt8] { Array(value.serialized().utf8) }
}

/// Checks shared by the schema and regex targets.
enum CompileChecks {
    /// How long a compile given `WorkBudget(time: .seconds(2))` may take before it counts as
    /// ignoring its budget. Generous: the machine running the tests may be loaded, and the
    /// budget reads the clock only every few thousand steps.
    static let budgetOverrun: Duration = .seconds(5)

    /// Compiles for the validator under a 2 s budget; nil when the schema is refused with a typed
    /// error. Anything else breaks a property.
    static func validator(_ schema: JSONValue) throws -> JSONSchema? {
        let start = ContinuousClock.now
        do {
            let compiled = try JSONSchema(json: schema, budget: WorkBudget(time: .seconds(2)))
            try checkDuration(since: start, what: "JSONSchema(json:budget:)")
            return compiled
        } catch let error as PropertyViolation {
            throw error
        } catch is SchemaError, is WorkBudgetExceeded {
            try checkDuration(since: start, what: "JSONSchema(json:budget:)")
            return nil
        } catch {
            throw PropertyViolation("JSONSchema(json:) threw an untyped error \(type(of: error)): \(error)")
        }
    }

    /// Compiles a grammar under a 2 s budget; nil when refused with a typed error.
    static func grammar(_ schema: JSONValue) throws -> CompiledGrammar? {
        let start = ContinuousClock.now
        do {
            let compiled = try GrammarCompiler(vocabulary: FuzzData.vocabulary).compile(schema: schema, budget: WorkBudget(time: .seconds(2)))
            try checkDuration(since: start, what: "GrammarCompiler.compile(schema:budget:)")
            return compiled
        } catch let error as PropertyViolation {
            throw error
        } catch is GrammarError, is WorkBudgetExceeded, is SchemaError {
            try checkDuration(since: start, what: "GrammarCompiler.compile(schema:budget:)")
            return nil
        } catch {
            throw PropertyViolation("GrammarCompiler.compile threw an untyped error \(type(of: error)): \(error)")
        }
    }

    private static func checkDuration(since start: ContinuousClock.Instant, what: String) throws {
        let took = ContinuousClock.now - start
        if took > budgetOverrun { throw PropertyViolation("\(what) ran \(took) under a 2 s WorkBudget") }
    }

    /// Whether the grammar accepts `text` (bytes fed one at a time, then complete).
    static func grammarAccepts(_ grammar: CompiledGrammar, _ text: String) -> Bool {
        var matcher = grammar.makeMatcher()
        for byte in text.utf8 where !matcher.accept(bytes: [byte]) { return false }
        return matcher.isComplete
    }
}
