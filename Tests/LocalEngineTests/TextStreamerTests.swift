import LocalEngine
import XCTest

final class TextStreamerTests: XCTestCase {
    /// Feeds `text`'s bytes in the given chunk sizes (cycled) and returns the deltas.
    private func stream(_ text: String, stops: [String], chunks: [Int]) -> (deltas: [String], stopped: Bool) {
        var streamer = TextStreamer(stops: stops)
        let bytes = Array(text.utf8)
        var deltas: [String] = []
        var i = 0, c = 0
        while i < bytes.count && !streamer.stopped {
            let n = min(chunks[c % chunks.count], bytes.count - i)
            deltas.append(streamer.append(bytes[i..<(i + n)]))
            i += n
            c += 1
        }
        deltas.append(streamer.finish())
        return (deltas.filter { !$0.isEmpty }, streamer.stopped)
    }

    func testMultiByteCharactersSplitAcrossPiecesAreHeldBackWhole() {
        let text = "héllo 🌍 世界 — ok"
        for chunks in [[1], [2], [3], [1, 2], [5, 1]] {
            let (deltas, stopped) = stream(text, stops: [], chunks: chunks)
            XCTAssertFalse(stopped)
            XCTAssertEqual(deltas.joined(), text, "chunks \(chunks)")
            for delta in deltas { XCTAssertFalse(delta.contains("\u{FFFD}"), "split character in \(delta)") }
        }
    }

    func testStopStringIsCutAndNeverEmittedEvenInPieces() {
        let text = "The answer is 42.\nUser: more"
        for chunks in [[1], [2], [3], [7]] {
            let (deltas, stopped) = stream(text, stops: ["\nUser:"], chunks: chunks)
            XCTAssertTrue(stopped)
            XCTAssertEqual(deltas.joined(), "The answer is 42.", "chunks \(chunks)")
            for delta in deltas { XCTAssertFalse(delta.contains("\n"), "stop prefix leaked in \(delta)") }
        }
    }

    func testHeldBackPrefixIsReleasedWhenItDoesNotComplete() {
        var streamer = TextStreamer(stops: ["STOP"])
        XCTAssertEqual(streamer.append(Array("abc ST".utf8)), "abc ")
        XCTAssertEqual(streamer.append(Array("O".utf8)), "")
        XCTAssertEqual(streamer.append(Array("x".utf8)), "STOx")
        XCTAssertEqual(streamer.append(Array(" ST".utf8)), " ")
        XCTAssertEqual(streamer.finish(), "ST", "held-back text is released at the end")
        XCTAssertFalse(streamer.stopped)
    }

    func testEarliestOfSeveralStopsWinsAndLaterInputIsIgnored() {
        var streamer = TextStreamer(stops: ["zz", "b c", ""])
        XCTAssertEqual(streamer.append(Array("a b czz".utf8)), "a ")
        XCTAssertTrue(streamer.stopped)
        XCTAssertEqual(streamer.append(Array("more".utf8)), "")
        XCTAssertEqual(streamer.finish(), "")
    }

    func testMultiByteStopString() {
        let (deltas, stopped) = stream("日本語の文章。終わり", stops: ["。終"], chunks: [1])
        XCTAssertTrue(stopped)
        XCTAssertEqual(deltas.joined(), "日本語の文章")
    }

    func testInvalidBytesBecomeReplacementCharactersWithoutStalling() {
        var streamer = TextStreamer(stops: [])
        XCTAssertEqual(streamer.append([0x41, 0xF0, 0x9F]), "A", "incomplete sequence held back")
        XCTAssertEqual(streamer.append([0x42]), "\u{FFFD}B", "it never completed")
        XCTAssertEqual(streamer.append([0x80, 0x43]), "\u{FFFD}C", "stray continuation byte")
        XCTAssertEqual(streamer.append([0xE4, 0xB8]), "")
        XCTAssertEqual(streamer.finish(), "\u{FFFD}", "truncated at the end")
    }
}
