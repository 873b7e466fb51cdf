import ChatAPI
import Foundation
import XCTest
import TestSupport
@testable import Grammar

/// Runs the first schemas of a few MaskBench splits: every valid instance the compiled grammar
/// can express must be accepted; invalid ones must not be accepted (allowing the documented
/// unenforced cases would need a validator, so only exact refusals of valid data fail here).
final class MaskBenchSampleTests: XCTestCase {
    static let dataDir: String = {
        // <repo>/Tests/GrammarTests/ThisFile.swift → <repo>/../shared/data/maskbench
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/data/maskbench").path
    }()

    func lines(_ split: String, count: Int) throws -> [JSONValue] {
        let path = Self.dataDir + "/\(split).jsonl.gz"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("MaskBench data not found at \(path)") }
        return try Gzip.lines(path).prefix(count).map { try JSONValue(parsing: $0) }
    }

    func testSampleOfMaskBench() throws {
        var compiled = 0, validAccepted = 0
        for split in ["Github_easy", "Glaiveai2K", "Kubernetes", "JsonSchemaStore"] {
            for entry in try lines(split, count: 25) {
                guard let s = entry["schema"], let g = try? compile(s) else { continue }
                compiled += 1
                for test in entry["tests"]?.arrayValue ?? [] {
                    guard test["valid"]?.boolValue == true, let data = test["data"] else { continue }
                    let (text, undeclared) = CanonicalJSON.serializeReportingPolicy(data, schema: s)
                    if undeclared { continue }
                    XCTAssertTrue(run(g, text, checkMask: false), "\(entry["id"]?.stringValue ?? "?"): \(text)")
                    validAccepted += 1
                }
            }
        }
        XCTAssertGreaterThan(compiled, 60)
        XCTAssertGreaterThan(validAccepted, 60)
    }
}
