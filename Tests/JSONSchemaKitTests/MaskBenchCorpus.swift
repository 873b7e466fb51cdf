import ChatAPI
import Foundation
import JSONSchemaKit
import TestSupport

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

    /// Reads every `*.jsonl.gz` in `directory` (decompressed with `gzip -dc`), two files at a
    /// time: the corpus is 89 MB of JSON and `swift test` runs unoptimised code.
    static func run(directory: URL) throws -> MaskBenchCorpus {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".jsonl.gz") }.sorted()
        let lock = NSLock()
        var outcomes: [String: Result<(SplitResult, [Disagreement]), Error>] = [:]
        DispatchQueue.concurrentPerform(iterations: files.count) { i in
            let outcome = Result { try runSplit(directory.appendingPathComponent(files[i])) }
            lock.lock()
            outcomes[files[i]] = outcome
            lock.unlock()
        }
        var result = MaskBenchCorpus()
        for file in files {
            let (split, disagreements) = try outcomes[file]!.get()
            result.splits.append(split)
            result.disagreements += disagreements
        }
        return result
    }

    private static func runSplit(_ file: URL) throws -> (SplitResult, [Disagreement]) {
        let name = String(file.lastPathComponent.dropLast(".jsonl.gz".count))
        var split = SplitResult(name: name)
        var disagreements: [Disagreement] = []
        let bytes = [UInt8](try Gzip.decompress(file.path))
        let lines: [String] = bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) -> [String] in
            var out: [String] = []
            guard let base = buffer.baseAddress else { return out }
            var start = 0
            while start < buffer.count {
                var end = buffer.count
                if let hit = memchr(base + start, 0x0A, buffer.count - start) {
                    end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                }
                if end > start {
                    out.append(String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self))
                }
                start = end + 1
            }
            return out
        }
        for line in lines {
            let record = try JSONValue(parsing: line)
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
                    disagreements.append(Disagreement(
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
                    disagreements.append(Disagreement(
                        split: name, schemaID: id, test: test["description"]?.stringValue ?? "",
                        expected: expected, reason: reason))
                }
            }
        }
        return (split, disagreements)
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

    /// The committed record: summary table and every disagreement with its reason.
    var markdown: String {
        var out = "# MaskBench agreement record\n\n"
        out += "Generated by `MaskBenchAgreementTests` (JSONSchemaKit validator vs. the `valid` labels of "
        out += "`../shared/data/maskbench`). Refresh with `MASKBENCH_WRITE_RECORD=1 swift test --filter MaskBenchAgreementTests`.\n\n"
        out += summary + "\n## Disagreements (\(disagreements.count))\n\n"
        out += "| split | schema | test | label | reason |\n|---|---|---|---|---|\n"
        for d in disagreements {
            let reason = d.reason.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
            out += "| \(d.split) | \(d.schemaID) | \(d.test) | \(d.expected ? "valid" : "invalid") | \(reason) |\n"
        }
        return out
    }
}
