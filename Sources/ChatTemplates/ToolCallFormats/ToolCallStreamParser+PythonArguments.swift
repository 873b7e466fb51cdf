import ChatAPI

// Python keyword arguments, `key='text', n=1, flag=True)`, as LFM2 writes a call's arguments,
// streamed as one JSON object while they are generated: a quoted value goes out byte by byte
// as a JSON string, any other value once it ends (at a comma or the closing parenthesis outside
// brackets and quotes) as the JSON it stands for.

extension ToolCallStreamParser {
    struct PythonArgumentsState {
        enum Phase { case key, value, quoted, unquoted, afterValue }
        var phase = Phase.key
        var count = 0
        var quote: UInt8 = 0
        /// The unquoted value so far, and its bracket depth and quoting.
        var bare: [UInt8] = []
        var depth = 0
        var innerQuote: UInt8?
        var innerEscaped = false
        var types: [String] = []
    }

    /// Longest argument list read (as the whole-list reader this replaced allowed).
    private static let maxArgumentBytes = 65_536

    mutating func readPythonArguments(_ c: inout CallState) -> StepResult {
        var s: PythonArgumentsState
        if case .pythonArguments(let existing) = c.takeSub() { s = existing } else { s = PythonArgumentsState() }
        var out: [UInt8] = []
        defer { sink.arguments(nextIndex, out) }
        func wait() -> StepResult { c.sub = .pythonArguments(s); return .needMore }
        while true {
            if c.raw.count > Self.maxArgumentBytes { return .fail("call arguments too long") }
            switch s.phase {
            case .key:
                let j = skipSpace(from: pos)
                if j == buffer.count { return wait() }
                if buffer[j] == UInt8(ascii: ")"), s.count == 0 {
                    take(j + 1 - pos, &c); out += Array("{}".utf8); return .done
                }
                guard let equals = buffer[j...].firstIndex(of: UInt8(ascii: "=")) else {
                    return buffer.count - j > 256 ? .fail("argument name too long") : wait()
                }
                let key = String(decoding: buffer[j..<equals], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty, key.utf8.allSatisfy(isIdentifierByte) else { return .fail("invalid argument name") }
                take(equals + 1 - pos, &c)
                out += Array((s.count == 0 ? "{" : ",").utf8)
                var quoted = ""
                JSONValue.writeString(key, to: &quoted)
                out += Array((quoted + ":").utf8)
                s.count += 1
                s.types = c.name.flatMap { tools[$0] }?.declaredTypes(of: key) ?? []
                s.phase = .value
            case .value:
                let j = skipSpace(from: pos)
                if j == buffer.count { return wait() }
                take(j - pos, &c)
                if buffer[pos] == UInt8(ascii: "'") || buffer[pos] == UInt8(ascii: "\"") {
                    s.quote = buffer[pos]
                    take(1, &c)
                    out.append(UInt8(ascii: "\""))
                    s.phase = .quoted
                } else {
                    s.bare = []; s.depth = 0; s.innerQuote = nil; s.innerEscaped = false
                    s.phase = .unquoted
                }
            case .quoted:
                var i = pos
                while i < buffer.count, buffer[i] != s.quote, buffer[i] != UInt8(ascii: "\\") { i += 1 }
                appendJSONEscaped(buffer[pos..<i], to: &out)
                take(i - pos, &c)
                if pos == buffer.count { return wait() }
                if buffer[pos] == s.quote {
                    take(1, &c); out.append(UInt8(ascii: "\"")); s.phase = .afterValue
                    continue
                }
                // A backslash escape: wait for all of it.
                guard pos + 1 < buffer.count else { return wait() }
                let escaped = buffer[pos + 1]
                switch escaped {
                case UInt8(ascii: "n"): out += Array("\\n".utf8); take(2, &c)
                case UInt8(ascii: "t"): out += Array("\\t".utf8); take(2, &c)
                case UInt8(ascii: "r"): out += Array("\\r".utf8); take(2, &c)
                case UInt8(ascii: "b"): out += Array("\\b".utf8); take(2, &c)
                case UInt8(ascii: "f"): out += Array("\\f".utf8); take(2, &c)
                case UInt8(ascii: "\\"): out += Array("\\\\".utf8); take(2, &c)
                case UInt8(ascii: "\""): out += Array("\\\"".utf8); take(2, &c)
                case UInt8(ascii: "'"), UInt8(ascii: "/"): out.append(escaped); take(2, &c)
                case UInt8(ascii: "u"):
                    guard pos + 6 <= buffer.count else { return wait() }
                    let hex = buffer[(pos + 2)..<(pos + 6)]
                    guard hex.allSatisfy({ isHexDigit($0) }) else { return .fail("invalid \\u escape") }
                    out += Array("\\u".utf8) + hex
                    take(6, &c)
                default:
                    // Python keeps an unknown escape as written.
                    out += Array("\\\\".utf8); appendJSONEscaped([escaped], to: &out); take(2, &c)
                }
            case .unquoted:
                var i = pos
                var ended = false
                while i < buffer.count {
                    let b = buffer[i]
                    if let q = s.innerQuote {
                        if s.innerEscaped { s.innerEscaped = false } else if b == UInt8(ascii: "\\") { s.innerEscaped = true } else if b == q { s.innerQuote = nil }
                    } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                        s.innerQuote = b
                    } else if b == UInt8(ascii: "[") || b == UInt8(ascii: "{") || b == UInt8(ascii: "(") {
                        s.depth += 1
                    } else if (b == UInt8(ascii: ",") || b == UInt8(ascii: ")")) && s.depth == 0 {
                        ended = true
                        break
                    } else if b == UInt8(ascii: "]") || b == UInt8(ascii: "}") || b == UInt8(ascii: ")") {
                        s.depth -= 1
                    }
                    i += 1
                }
                s.bare += buffer[pos..<i]
                take(i - pos, &c)
                guard ended else { return wait() }
                let text = String(decoding: s.bare, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !text.isEmpty else { return .fail("missing argument value") }
                out += Array(convertTextValue(text, types: s.types).serialized().utf8)
                s.phase = .afterValue
            case .afterValue:
                let j = skipSpace(from: pos)
                if j == buffer.count { return wait() }
                take(j + 1 - pos, &c)
                switch buffer[j] {
                case UInt8(ascii: ","): s.phase = .key
                case UInt8(ascii: ")"): out.append(UInt8(ascii: "}")); return .done
                default: return .fail("expected ',' or ')' after an argument")
                }
            }
        }
    }
}

private func isHexDigit(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"))
        || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"))
}
