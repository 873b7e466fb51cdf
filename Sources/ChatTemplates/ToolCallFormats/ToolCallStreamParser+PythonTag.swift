import ChatAPI
import Foundation

// Llama 3.1's `<|python_tag|>` payloads. Its template renders a call of a built-in tool
// (`builtin_tools` such as brave_search, wolfram_alpha) as
//   <|python_tag|>brave_search.call(query="…")<|eom_id|>
// and Meta's model card has the model write raw Python after the tag for its code interpreter;
// a JSON call object after the tag is read as usual. As in llama.cpp, code becomes a call of the
// `python` tool with arguments {"code": "…"}.

extension ToolCallStreamParser {
    private static let callOpen = Array(".call(".utf8)
    private static let codeEnds = [Array("<|eom_id|>".utf8), Array("<|eot_id|>".utf8)]

    /// Decides what follows the tag, rewrites the current step accordingly and reads on.
    mutating func readPythonTag(_ keys: ParsePlan.JSONCallKeys, final: Bool, _ c: inout CallState) -> StepResult {
        let j = skipSpace(from: pos)
        // The tag is a control token, never text: output ending right after it is just dropped.
        if j == buffer.count { return final ? .toText : .needMore }
        if buffer[j] == UInt8(ascii: "{") || buffer[j] == UInt8(ascii: "[") {
            take(j - pos, &c)
            // The tag says "call": any name counts, and a payload that breaks off is a malformed
            // call, not text.
            c.sectionStarted = true
            c.tagged = true
            c.layout.steps[c.step] = .jsonCalls(keys)
            return readJSONCalls(keys, &c)
        }
        var k = j
        while k < buffer.count, isIdentifierByte(buffer[k]) { k += 1 }
        if k == buffer.count, !final { return k - j > 256 ? startCode(at: j, final: final, &c) : .needMore }
        if k > j, k - j <= 256, !isDigit(buffer[j]) {
            switch match(Self.callOpen, at: k) {
            case .partial where !final: return .needMore
            case .full:
                let name = String(decoding: buffer[j..<k], as: UTF8.self)
                take(k + Self.callOpen.count - pos, &c)
                begin(name, &c)
                c.layout.steps[c.step] = .pythonArguments
                return readPythonArguments(&c)
            default: break
            }
        }
        return startCode(at: j, final: final, &c)
    }

    private mutating func begin(_ name: String, _ c: inout CallState) {
        c.name = name
        sink.event(.toolCallStarted(index: nextIndex, name: name, id: nil))
        c.started = true
        c.sectionStarted = true
    }

    private mutating func startCode(at j: Int, final: Bool, _ c: inout CallState) -> StepResult {
        take(j - pos, &c)
        // The request may call its code tool `code_interpreter` (Meta's name) instead of `python`.
        let name = tools["python"] == nil && tools["code_interpreter"] != nil ? "code_interpreter" : "python"
        begin(name, &c)
        sink.arguments(nextIndex, "{\"code\":\"")
        c.layout.steps[c.step] = .pythonCode
        return readPythonCode(final: final, &c)
    }

    /// Streams code as a JSON string up to an end-of-message token (left for text mode to drop)
    /// or the end of the output.
    mutating func readPythonCode(final: Bool, _ c: inout CallState) -> StepResult {
        var end = buffer.count
        var complete = final
        var i = pos
        search: while i < buffer.count {
            if buffer[i] == UInt8(ascii: "<") {
                for marker in Self.codeEnds {
                    switch match(marker, at: i) {
                    case .full: end = i; complete = true; break search
                    case .partial where !final: end = i; break search
                    default: continue
                    }
                }
            }
            i += 1
        }
        var out: [UInt8] = []
        appendJSONEscaped(buffer[pos..<end], to: &out)
        take(end - pos, &c)
        if complete { out += Array("\"}".utf8) }
        sink.arguments(nextIndex, out)
        return complete ? .done : .needMore
    }
}

/// A byte of a Python identifier (ASCII letters, digits, underscore).
func isIdentifierByte(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
        || isDigit(b) || b == UInt8(ascii: "_")
}

private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
