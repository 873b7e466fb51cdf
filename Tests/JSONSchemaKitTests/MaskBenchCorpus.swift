import ChatAPI
import Foundation
import JSONSchemaKit

/// Runs the validator over the MaskBench corpus (schemas with labelled test instances) and
/// compares each verdict with the label.
struct MaskBenchCorpus {
    struct Disagreement {
        let split: String
        let schemaID: String
        let test: String
        let expected: Bool
        /// Why we disagree: our first validation error, or the schema's compile error.
        let reason: String
    }

    struct SplitResult {
        let name: String
        var schemas = 0
        var compileFailures = 0
        var instances = 0
        var agreements = 0
    }

    var splits: [SplitResult] = []
    var disagreements: [Disagreement] = []
    var totalInstances: Int { splits.reduce(0) { $0 + $1.instances } }
    var totalAgreements: Int { splits.reduce(0) { $0 + $1.agreements } }
    var agreement: Double { totalInstances == 0 ? 0 : Double(totalAgreements) / Double(totalInstances) }

    /// Reads every `*.jsonl.gz` in `directory` (decompressed with `gzip -dc`).
    static func run(directory: URL) throws -> MaskBenchCorpus {
        var result = MaskBenchCorpus()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".jsonl.gz") }.sorted()
        for file in files {
            let name = String(file.dropLast(".jsonl.gz".count))
            var split = SplitResult(name: name)
            let bytes = try gunzip(directory.appendingPathComponent(file))
            for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                let record = try JSONValue(parsing: String(decoding: line, as: UTF8.self))
                split.schemas += 1
                let id = record["id"]?.stringValue ?? "?"
                let tests = record["tests"]?.arrayValue ?? []
                let schema: JSONSchema
                do {
                    schema = try JSONSchema(json: record["schema"] ?? .null)
                } catch {
                    split.compileFailures += 1
                    for test in tests {
                        split.instances += 1
                        result.disagreements.append(Disagreement(
                            split: name, schemaID: id, test: test["description"]?.stringValue ?? "",
                            expected: test["valid"]?.boolValue ?? false, reason: "schema does not compile: \(error)"))
                    }
                    continue
                }
                for test in tests {
                    split.instances += 1
                    let expected = test["valid"]?.boolValue ?? false
                    let data = test["data"] ?? .null
                    let verdict = schema.isValid(data)
                    if verdict == expected {
                        split.agreements += 1
                    } else {
                        let reason = verdict
                            ? "we accept; label says invalid"
                            : "we reject: " + (schema.validate(data).first.map { "\($0) at \($0.schemaPath)" } ?? "?")
                        result.disagreements.append(Disagreement(
                            split: name, schemaID: id, test: test["description"]?.stringValue ?? "",
                            expected: expected, reason: reason))
                    }
                }
            }
            result.splits.append(split)
        }
        return result
    }

    private static func gunzip(_ file: URL) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }

    /// Per-split table plus the total, as printed by the test and written to the markdown record.
    var summary: String {
        var out = "| split | schemas | not compiled | instances | agree | % |\n|---|---:|---:|---:|---:|---:|\n"
        for s in splits {
            let pct = s.instances == 0 ? 100 : Double(s.agreements) * 100 / Double(s.instances)
            out += "| \(s.name) | \(s.schemas) | \(s.compileFailures) | \(s.instances) | \(s.agreements) | \(String(format: "%.2f", pct)) |\n"
        }
        let schemas = splits.reduce(0) { $0 + $1.schemas }
        let failures = splits.reduce(0) { $0 + $1.compileFailures }
        out += "| **total** | \(schemas) | \(failures) | \(totalInstances) | \(totalAgreements) | \(String(format: "%.3f", agreement * 100)) |\n"
        return out
    }
}
