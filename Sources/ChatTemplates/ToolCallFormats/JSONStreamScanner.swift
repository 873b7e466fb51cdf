import ChatAPI

/// A byte-at-a-time JSON scanner that validates one top-level object or array while it streams,
/// re-emitting it without insignificant whitespace.
///
/// Tool-call parsers need to know where a JSON value ends and which key each nested value sits
/// under *before* the whole value has arrived, so that argument fragments can be forwarded as
/// the model writes them. The scanner reports that structure as a flat list of `Item`s per byte:
/// compact output bytes interleaved with value begin/end marks and completed keys.
///
/// Leniency (documented, deliberate): raw control characters inside strings (a literal newline
/// written by a small model) are re-emitted escaped, so the compact output is always valid JSON.
struct JSONStreamScanner {
    enum Item: Equatable {
        /// A value starts whose enclosing-container depth is `depth` (0 = the top-level value).
        case begin(depth: Int)
        /// The value that began at `depth` is complete.
        case end(depth: Int)
        /// An object key was read; its value (next `begin`) sits at `depth`.
        case key(String, depth: Int)
        /// Compact output text.
        case output(UInt8)
    }

    struct ScanError: Error, Equatable { let message: String }

    private enum Container { case object, array }
    private enum State {
        case start
        case value              // a value must follow (after `:` or `,` in an array)
        case valueOrClose       // just after `[`
        case keyOrClose         // just after `{`
        case key                // after `,` in an object
        case colon
        case commaOrClose
        case string(isKey: Bool)
        case escape(isKey: Bool)
        case unicodeEscape(isKey: Bool, remaining: Int)
        case number
        case literal(expected: [UInt8], matched: Int)
        case done
    }

    private var stack: [Container] = []
    private var state: State = .start
    private var keyBytes: [UInt8] = []
    private var numberBytes: [UInt8] = []

    /// True once the top-level value has closed.
    var isComplete: Bool { if case .done = state { return true } else { return false } }
    /// Current container depth (number of open objects/arrays).
    var depth: Int { stack.count }

    /// Consumes one byte, appending what it produced to `items`.
    mutating func consume(_ b: UInt8, into items: inout [Item]) throws {
        switch state {
        case .done:
            throw ScanError(message: "text after the end of the JSON value")
        case .start:
            if isSpace(b) { return }
            guard b == UInt8(ascii: "{") || b == UInt8(ascii: "[") else {
                throw ScanError(message: "expected '{' or '['")
            }
            try beginValue(b, into: &items)
        case .value:
            if isSpace(b) { return }
            try beginValue(b, into: &items)
        case .valueOrClose:
            if isSpace(b) { return }
            if b == UInt8(ascii: "]") { try close(.array, b, into: &items) } else { try beginValue(b, into: &items) }
        case .keyOrClose, .key:
            if isSpace(b) { return }
            if b == UInt8(ascii: "}"), case .keyOrClose = state { try close(.object, b, into: &items); return }
            guard b == UInt8(ascii: "\"") else { throw ScanError(message: "expected an object key") }
            keyBytes.removeAll(keepingCapacity: true)
            items.append(.output(b))
            state = .string(isKey: true)
        case .colon:
            if isSpace(b) { return }
            guard b == UInt8(ascii: ":") else { throw ScanError(message: "expected ':'") }
            items.append(.output(b))
            state = .value
        case .commaOrClose:
            if isSpace(b) { return }
            try afterValue(b, into: &items)
        case .string(let isKey):
            if b == UInt8(ascii: "\"") {
                items.append(.output(b))
                if isKey {
                    items.append(.key(decodeJSONStringBody(keyBytes), depth: stack.count))
                    state = .colon
                } else {
                    finishValue(into: &items)
                }
            } else if b == UInt8(ascii: "\\") {
                items.append(.output(b))
                state = .escape(isKey: isKey)
            } else if b < 0x20 {
                // Lenient: escape raw control characters instead of rejecting the call.
                for e in escapedControl(b) { items.append(.output(e)) }
                if isKey { keyBytes.append(contentsOf: escapedControl(b)) }
            } else {
                items.append(.output(b))
                if isKey { keyBytes.append(b) }
            }
        case .escape(let isKey):
            items.append(.output(b))
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"),
                 UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                if isKey { keyBytes.append(contentsOf: [UInt8(ascii: "\\"), b]) }
                state = .string(isKey: isKey)
            case UInt8(ascii: "u"):
                if isKey { keyBytes.append(contentsOf: [UInt8(ascii: "\\"), b]) }
                state = .unicodeEscape(isKey: isKey, remaining: 4)
            default:
                throw ScanError(message: "invalid escape '\\\(Character(Unicode.Scalar(b)))'")
            }
        case .unicodeEscape(let isKey, let remaining):
            guard isHex(b) else { throw ScanError(message: "invalid \\u escape") }
            items.append(.output(b))
            if isKey { keyBytes.append(b) }
            state = remaining == 1 ? .string(isKey: isKey) : .unicodeEscape(isKey: isKey, remaining: remaining - 1)
        case .number:
            if isNumberByte(b) {
                numberBytes.append(b)
                items.append(.output(b))
                return
            }
            guard JSONNumber.isValidLiteral(String(decoding: numberBytes, as: UTF8.self)) else {
                throw ScanError(message: "invalid number '\(String(decoding: numberBytes, as: UTF8.self))'")
            }
            finishValue(into: &items)
            if isSpace(b) { return }
            try afterValue(b, into: &items)
        case .literal(let expected, let matched):
            guard b == expected[matched] else { throw ScanError(message: "invalid literal") }
            items.append(.output(b))
            if matched + 1 == expected.count { finishValue(into: &items) } else {
                state = .literal(expected: expected, matched: matched + 1)
            }
        }
    }

    // MARK: - Helpers

    private mutating func beginValue(_ b: UInt8, into items: inout [Item]) throws {
        items.append(.begin(depth: stack.count))
        switch b {
        case UInt8(ascii: "{"):
            guard stack.count < 256 else { throw ScanError(message: "nesting too deep") }
            items.append(.output(b)); stack.append(.object); state = .keyOrClose
        case UInt8(ascii: "["):
            guard stack.count < 256 else { throw ScanError(message: "nesting too deep") }
            items.append(.output(b)); stack.append(.array); state = .valueOrClose
        case UInt8(ascii: "\""):
            items.append(.output(b)); state = .string(isKey: false)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            numberBytes = [b]; items.append(.output(b)); state = .number
        case UInt8(ascii: "t"): items.append(.output(b)); state = .literal(expected: Array("true".utf8), matched: 1)
        case UInt8(ascii: "f"): items.append(.output(b)); state = .literal(expected: Array("false".utf8), matched: 1)
        case UInt8(ascii: "n"): items.append(.output(b)); state = .literal(expected: Array("null".utf8), matched: 1)
        default: throw ScanError(message: "expected a JSON value")
        }
    }

    /// A scalar value just ended: report it and expect what follows it in its container.
    private mutating func finishValue(into items: inout [Item]) {
        items.append(.end(depth: stack.count))
        state = stack.isEmpty ? .done : .commaOrClose
    }

    private mutating func afterValue(_ b: UInt8, into items: inout [Item]) throws {
        guard let top = stack.last else { throw ScanError(message: "text after the end of the JSON value") }
        switch b {
        case UInt8(ascii: ","):
            items.append(.output(b))
            state = top == .object ? .key : .value
        case UInt8(ascii: "}"): try close(.object, b, into: &items)
        case UInt8(ascii: "]"): try close(.array, b, into: &items)
        default: throw ScanError(message: "expected ',' or a closing bracket")
        }
    }

    private mutating func close(_ kind: Container, _ b: UInt8, into items: inout [Item]) throws {
        guard stack.last == kind else { throw ScanError(message: "mismatched closing bracket") }
        stack.removeLast()
        items.append(.output(b))
        finishValue(into: &items)
    }

    private func escapedControl(_ b: UInt8) -> [UInt8] {
        switch b {
        case 0x0A: return Array("\\n".utf8)
        case 0x0D: return Array("\\r".utf8)
        case 0x09: return Array("\\t".utf8)
        default:
            let hex = Array("0123456789abcdef".utf8)
            return Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
        }
    }
}

@inline(__always) func isSpace(_ b: UInt8) -> Bool {
    b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
}
@inline(__always) private func isHex(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
}
@inline(__always) private func isNumberByte(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
        || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
}

/// Decodes the body of a JSON string literal (escapes included, quotes excluded).
func decodeJSONStringBody(_ body: [UInt8]) -> String {
    let literal = [UInt8(ascii: "\"")] + body + [UInt8(ascii: "\"")]
    if let value = try? JSONParser.parse(literal), let s = value.stringValue { return s }
    return String(decoding: body, as: UTF8.self)
}
