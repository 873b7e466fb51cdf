import Foundation
import XCTest

/// The validator's verdicts against the labelled MaskBench corpus (../shared/data/maskbench).
final class MaskBenchAgreementTests: XCTestCase {
    /// `<repo root>/../shared/data/maskbench`, located from this file's path.
    static var corpusDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/maskbench")
    }

    func testAgreementWithLabelsIsAtLeast99_5Percent() throws {
        let directory = Self.corpusDirectory
        guard FileManager.default.fileExists(atPath: directory.path) else {
            return XCTFail("MaskBench corpus not found at \(directory.path) (the repo must sit beside shared/)")
        }
        let started = Date()
        let result = try MaskBenchCorpus.run(directory: directory)
        let seconds = Date().timeIntervalSince(started)
        print(result.summary)
        print(String(format: "MaskBench: %d/%d instances agree (%.3f%%) in %.1f s", result.totalAgreements,
                     result.totalInstances, result.agreement * 100, seconds))
        for d in result.disagreements {
            print("  disagree [\(d.split)] \(d.schemaID) (label valid=\(d.expected)) \(d.test): \(d.reason)")
        }
        XCTAssertEqual(result.splits.count, 14, "expected the 14 MaskBench splits")
        XCTAssertGreaterThan(result.totalInstances, 35_000)
        XCTAssertGreaterThanOrEqual(result.agreement, 0.995)
        // Refresh the committed record with `MASKBENCH_WRITE_RECORD=1 swift test --filter MaskBench`.
        if ProcessInfo.processInfo.environment["MASKBENCH_WRITE_RECORD"] == "1" {
            let record = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("MASKBENCH_DISAGREEMENTS.md")
            try result.markdown.write(to: record, atomically: true, encoding: .utf8)
        }
    }
}
