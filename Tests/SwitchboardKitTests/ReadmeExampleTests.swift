import Foundation
import XCTest

/// The README's SwitchboardKit example is compiled: it is word for word
/// `Examples/weather/Sources/ReadmeExample/main.swift`, which scripts/conformance builds.
final class ReadmeExampleTests: XCTestCase {
    func testTheReadmeExampleIsTheCompiledOne() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try XCTUnwrap(readme.range(of: "```swift\nimport SwitchboardKit"))
        let end = try XCTUnwrap(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        let example = String(readme[readme.index(start.lowerBound, offsetBy: "```swift\n".count)..<end.lowerBound])
        let compiled = try String(contentsOf: root.appendingPathComponent("Examples/weather/Sources/ReadmeExample/main.swift"), encoding: .utf8)
        XCTAssertEqual(example, compiled)
    }
}
