import ChatAPI

/// Reads a Python literal — what a template's `value | string` writes for a non-string
/// argument (`{'tags': ['x', 'y'], 'on': True, 'n': None}`) — as the JSON value it stands for.
///
/// Only literals: dicts with string keys, lists, tuples, strings in either quote, integers,
/// floats, `True`, `False`, `None`. Anything else, or nesting deeper than `maxDepth`, is nil.
enum PythonLiteral {
    static let maxDepth = 64

    static func parse(_ text: String) -> JSONValue? {
        var reader = Reader(bytes: Array(text.utf8))
        guard let value = reader.value(depth: 0) else { return nil }
        reader.skipSpace()
        // Not a ternary: JSONValue is nil-literal expressible, so `nil` there would mean `.null`.
        guard reader.index == reader.bytes.count else { return nil }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) -> JSONValue? {
            guard depth < PythonLiteral.maxDepth else { return nil }
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"): return dict(depth: depth)
            case UInt8(ascii: "["): return list(close: UInt8(ascii: "]"), depth: depth)
            case UInt8(ascii: "("): return list(close: UInt8(ascii: ")"), depth: depth)
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return string().map(JSONValue.string)
            default: return bare()
            }
        }

        private mutating func dict(depth: Int) -> JSONValue? {
            index += 1
            var object = JSONObject()
            while true {
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
                guard case .string(let key)? = value(depth: depth + 1) else { return nil }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let item = value(depth: depth + 1) else { return nil }
                object[key] = item
                guard separator(close: UInt8(ascii: "}")) else { return nil }
            }
        }

        private mutating func list(close: UInt8, depth: Int) -> JSONValue? {
            index += 1
            var items: [JSONValue] = []
            while true {
                skipSpace()
                if index < bytes.count, bytes[index] == close { index += 1; return .array(items) }
                guard let item = value(depth: depth + 1) else { return nil }
                items.append(item)
                guard separator(close: close) else { return nil }
            }
        }

        /// After an item: a comma (consumed), or the closing bracket (left for the caller).
        private mutating func separator(close: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count else { return false }
            if bytes[index] == UInt8(ascii: ",") { index += 1; return true }
            return bytes[index] == close
        }

        private mutating func string() -> String? {
            let quote = bytes[index]
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == quote { return String(decoding: out, as: UTF8.self) }
                guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(escaped)
                default: out += [UInt8(ascii: "\\"), escaped]
                }
            }
            return nil
        }

        /// `True`, `False`, `None` or a number.
        private mutating func bare() -> JSONValue? {
            let start = index
            while index < bytes.count, !",:]})".utf8.contains(bytes[index]), ![0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) {
                index += 1
            }
            let word = String(decoding: bytes[start..<index], as: UTF8.self)
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .null
            default:
                guard let number = try? JSONValue(parsing: word), case .number = number else { return nil }
                return number
            }
        }
    }
}
