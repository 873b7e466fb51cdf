import ChatAPI
import XCTest
import TestSupport
@testable import ChatTemplates

/// Chunking independence and truncation robustness across all formats.
final class ToolCallFormatRobustnessTests: XCTestCase {
    /// Random chunk sizes (seeded) give the same folded result as one whole feed.
    func testRandomChunkingMatchesWholeParsing() {
        for format in ToolCallFormat.allCases {
            let text = format.render(calls: [searchCall, weatherCall], content: "Working on it: a < b, [x] {y}.")
            let (whole, _) = parseWhole(format, text)
            XCTAssertEqual(whole.calls.count, 2, "\(format)")
            var rng = SplitMix64(seed: 0x5EED)
            for _ in 0..<8 {
                var parser = format.makeParser(tools: testTools)
                var events: [ParsedEvent] = []
                var bytes = Array(text.utf8)[...]
                while !bytes.isEmpty {
                    let n = min(bytes.count, Int(rng.next() % 12) + 1)
                    events += parser.feed(bytes: Array(bytes.prefix(n)))
                    bytes = bytes.dropFirst(n)
                }
                events += parser.finish()
                XCTAssertEqual(fold(events), whole, "\(format)")
            }
        }
    }

    /// Every prefix of a multi-call output (generation cut off anywhere) parses without
    /// crashing, identically whole and byte-wise, announces no call twice, and never reports
    /// a finished call whose fragments are not one valid JSON object.
    func testEveryTruncationIsHandledConsistently() {
        for format in ToolCallFormat.allCases {
            let text = format.render(calls: [addCall, ToolCallFormat.Call(name: "get_weather", arguments: ["city": "Köln"])],
                                     content: "Ok")
            let characters = Array(text)
            for cut in 0...characters.count {
                let prefix = String(characters[..<cut])
                let (whole, _) = parseWhole(format, prefix)
                if cut % 4 == 0 || cut == characters.count {  // byte-wise on a quarter of the cuts keeps this fast
                    let (streamed, _) = parseBytewise(format, prefix)
                    XCTAssertEqual(streamed, whole, "\(format) cut at \(cut): \(prefix.debugDescription)")
                }
                XCTAssertEqual(Set(whole.structure).count, whole.structure.count, "\(format) \(whole.structure)")
                for call in whole.calls where call.finished {
                    XCTAssertNotNil(canonical(argumentsText: call.argumentsText),
                                    "\(format) cut at \(cut): \(call.argumentsText)")
                }
            }
        }
    }

    /// String parameters of XML-style formats stream character by character.
    func testXMLStringValuesStreamBeforeTheyClose() {
        var p = ToolCallFormat.qwen3Coder.makeParser(tools: testTools)
        var events = p.feed("<tool_call>\n<function=get_weather>\n<parameter=city>\nNew Yo")
        XCTAssertEqual(events.last, .argumentsDelta(index: 0, fragment: "{\"city\":\"New Yo"))
        let more = p.feed("rk")
        XCTAssertEqual(more, [.argumentsDelta(index: 0, fragment: "rk")])
        events += more + p.feed("\n</parameter>\n</function>\n</tool_call>") + p.finish()
        XCTAssertEqual(fold(events).calls.first?.argumentsText, "{\"city\":\"New York\"}")
        XCTAssertEqual(fold(events).structure, ["start0", "end0"])
    }
}

