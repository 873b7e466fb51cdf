import ChatAPI
import ChatTemplates
import Foundation
import XCTest

/// Compares our renders with Python jinja2 configured as Hugging Face's `apply_chat_template`
/// (goldens written by `scripts/make-template-goldens`; Python is not needed to run these tests).
final class JinjaGoldenTests: XCTestCase {
    /// Template × conversation pairs allowed to differ from jinja2, with the reason. Keep empty
    /// unless a difference is understood and accepted.
    static let allowedDifferences: [String: String] = [:]

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let goldens = repoRoot.appendingPathComponent("Tests/ChatTemplatesTests/Goldens")
    static let templates = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/chat-templates")

    /// The same fixed clock the golden script uses (2025-03-14 09:26:53, UTC).
    static var options: ChatTemplateOptions {
        var o = ChatTemplateOptions()
        o.now = { Date(timeIntervalSince1970: 1_741_944_413) }
        o.timeZone = TimeZone(identifier: "UTC")!
        return o
    }

    static func loadJSON(_ url: URL) throws -> JSONValue {
        try JSONValue(parsing: String(contentsOf: url, encoding: .utf8))
    }

    static func variables(_ v: JSONValue) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (k, x) in v.objectValue ?? [:] { out[k] = x }
        return out
    }

    func testAllChatTemplatesMatchJinja2() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.templates.path).filter { $0.hasSuffix(".jinja") }.sorted()
        XCTAssertEqual(files.count, 72, "expected the 72 shared chat templates in \(Self.templates.path)")
        let conversations = try XCTUnwrap(Self.loadJSON(Self.goldens.appendingPathComponent("conversations.json")).arrayValue)
        var matched = 0, raisedAsExpected = 0, failures: [String] = []
        for file in files {
            let name = String(file.dropLast(".jinja".count))
            let golden = try Self.loadJSON(Self.goldens.appendingPathComponent("\(name).json"))
            let source = try String(contentsOf: Self.templates.appendingPathComponent(file), encoding: .utf8)
            let template: Result<ChatTemplate, Error> = Result { try ChatTemplate(source: source, options: Self.options) }
            for conversation in conversations {
                let conv = conversation["name"]!.stringValue!
                let key = "\(name)/\(conv)"
                let expected = try XCTUnwrap(golden["results"]?[conv], key)
                let rendered = Result { try template.get().render(context: Self.variables(conversation["context"]!)) }
                let ok: Bool
                switch (rendered, expected["output"]?.stringValue) {
                case (.success(let text), .some(let want)):
                    ok = text == want
                    if ok { matched += 1 }
                case (.failure(let error), .none):
                    // A raise_exception message must match exactly; other errors just have to happen.
                    if expected["error"]?["type"]?.stringValue == "TemplateError", let e = error as? TemplateError {
                        ok = e.kind == .raised && e.message == expected["error"]?["message"]?.stringValue
                    } else {
                        ok = true
                    }
                    if ok { raisedAsExpected += 1 }
                case (.success, .none):
                    ok = false
                case (.failure(let error), .some):
                    ok = false
                    failures.append("\(key): unexpected error \(error)")
                    continue
                }
                if !ok, Self.allowedDifferences[key] == nil { failures.append("\(key): differs from jinja2") }
            }
        }
        print("golden chat templates: \(files.count) templates × \(conversations.count) conversations: \(matched) outputs identical, \(raisedAsExpected) raised as jinja2 does, \(failures.count) failures")
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    func testFeatureSnippetsMatchJinja2() throws {
        let file = try Self.loadJSON(Self.goldens.appendingPathComponent("snippets.json"))
        let context = Self.variables(file["context"]!)
        let snippets = try XCTUnwrap(file["snippets"]?.arrayValue)
        XCTAssertGreaterThan(snippets.count, 100)
        for snippet in snippets {
            let name = snippet["name"]!.stringValue!
            let result = Result { try ChatTemplate(source: snippet["source"]!.stringValue!, options: Self.options).render(context: context) }
            switch (result, snippet["output"]?.stringValue) {
            case (.success(let text), .some(let want)):
                XCTAssertEqual(text, want, name)
            case (.failure(let error), .some):
                XCTFail("\(name): unexpected error \(error)")
            case (.success(let text), .none):
                XCTFail("\(name): jinja2 raises \(snippet["error"]!) but we rendered \(text.debugDescription)")
            case (.failure, .none):
                break
            }
        }
    }
}
