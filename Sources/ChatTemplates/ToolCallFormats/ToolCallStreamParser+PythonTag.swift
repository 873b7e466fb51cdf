import ChatAPI
import Foundation

// Llama 3.1's `<|python_tag|>` payloads. Its template renders a call of a built-in tool
// (`builtin_tools` such as brave_search, wolfram_alpha) as
//   <|python_tag|>brave_search.call(query="…")<|eom_id|>
// and Meta's model card has the model write raw Python after the tag for its code interpreter;
// a JSON call object after the tag is read as usual. As in llama.cpp, code becomes a call of the
// `python` tool with arguments {"code": "…"}.

extension ToolCallStreamParser {
    /// Per-call state of the built-in call reader: how far the closing parenthesis search got.
    struct PythonCallState {
        var scanned = 0
        var quote: UInt8?
        var escaped = false
    }

    private static let callOpen = Array(".call(".utf8)
    private static let codeEnds = [Array("<|eom_id|>".utf8), Array("<|eot_id|>".utf8)]
    /// Longest argument list read for a built-in call.
    private static let maxCallBytes = 65_536

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
                c.layout.steps[c.step] = .pythonCall
                return readPythonCall(&c)
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

    /// Reads `key="value", key=1)` once the closing parenthesis has arrived and streams the
    /// arguments as one JSON object.
    mutating func readPythonCall(_ c: inout CallState) -> StepResult {
        var s: PythonCallState
        if case .python(let existing) = c.takeSub() { s = existing } else { s = PythonCallState() }
        var i = pos + s.scanned
        var close: Int?
        while i < buffer.count {
            let b = buffer[i]
            if let q = s.quote {
                if s.escaped { s.escaped = false } else if b == UInt8(ascii: "\\") { s.escaped = true } else if b == q { s.quote = nil }
            } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                s.quote = b
            } else if b == UInt8(ascii: ")") {
                close = i
                break
            }
            i += 1
        }
        guard let close else {
            s.scanned = i - pos
            if s.scanned > Self.maxCallBytes { return .fail("built-in tool call arguments too long") }
            c.sub = .python(s)
            return .needMore
        }
        let text = String(decoding: buffer[pos..<close], as: UTF8.self)
        take(close + 1 - pos, &c)
        guard let arguments = parsePythonKeywordArguments(text, types: { c.name.flatMap { tools[$0] }?.declaredTypes(of: $0) ?? [] })
        else { return .fail("built-in tool call arguments are not key=value pairs") }
        sink.arguments(nextIndex, Array(JSONValue.object(arguments).serialized().utf8))
        return .done
    }
}

private func isIdentifierByte(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
        || isDigit(b) || b == UInt8(ascii: "_")
}

private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

/// `query="x", count=3` as a JSON object: quoted values are strings (backslash escapes of quotes,
/// backslashes and newlines undone, and JSON's), others Python/JSON literals converted per the
/// declared types. Reads Unicode scalars, not characters: a quote followed by a combining mark
/// is one character but still a quote.
func parsePythonKeywordArguments(_ text: String, types: (String) -> [String]) -> JSONObject? {
    var result: JSONObject = [:]
    var chars = Substring(text).unicodeScalars
    func skipSpace() { chars = chars.drop(while: \.properties.isWhitespace) }
    func string(_ scalars: Substring.UnicodeScalarView) -> String { String(String.UnicodeScalarView(scalars)) }
    skipSpace()
    while !chars.isEmpty {
        guard let eq = chars.firstIndex(of: "=") else { return nil }
        let key = string(chars[..<eq]).trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        chars = chars[chars.index(after: eq)...]
        skipSpace()
        if let q = chars.first, q == "\"" || q == "'" {
            var value = String.UnicodeScalarView(), escaped = false, closed = false
            var i = chars.index(after: chars.startIndex)
            while i < chars.endIndex {
                let ch = chars[i]
                i = chars.index(after: i)
                if escaped {
                    switch ch {
                    case "n": value.append("\n")
                    case "t": value.append("\t")
                    case "r": value.append("\r")
                    case "b": value.append("\u{08}")
                    case "f": value.append("\u{0C}")
                    case "\\", "\"", "'", "/": value.append(ch)
                    case "u":
                        // JSON's \uXXXX (a grammar writes string values as JSON strings).
                        let hex = chars[i...].prefix(4)
                        guard hex.count == 4, let code = UInt32(string(hex), radix: 16) else { return nil }
                        i = chars.index(i, offsetBy: 4)
                        value.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    default: value.append("\\"); value.append(ch)
                    }
                    escaped = false
                } else if ch == "\\" {
                    escaped = true
                } else if ch == q {
                    closed = true
                    break
                } else {
                    value.append(ch)
                }
            }
            guard closed else { return nil }
            result[key] = .string(String(value))
            chars = chars[i...]
        } else {
            let end = topLevelComma(in: chars) ?? chars.endIndex
            let raw = string(chars[..<end]).trimmingCharacters(in: .whitespaces)
            guard !raw.isEmpty else { return nil }
            result[key] = convertTextValue(raw, types: types(key))
            chars = chars[end...]
        }
        skipSpace()
        if chars.first == "," { chars = chars.dropFirst(); skipSpace() } else if !chars.isEmpty { return nil }
    }
    return result
}

/// The first comma outside brackets and quotes: where an unquoted value such as
/// `{"a": 1, "b": [2, 3]}` ends.
private func topLevelComma(in text: Substring.UnicodeScalarView) -> Substring.UnicodeScalarView.Index? {
    var depth = 0
    var quote: Unicode.Scalar?
    var escaped = false
    for index in text.indices {
        let ch = text[index]
        if let q = quote {
            if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == q { quote = nil }
            continue
        }
        switch ch {
        case "\"", "'": quote = ch
        case "[", "{", "(": depth += 1
        case "]", "}", ")": depth -= 1
        case "," where depth == 0: return index
        default: break
        }
    }
    return nil
}
