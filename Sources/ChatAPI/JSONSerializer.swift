/// How `JSONValue.serialized` lays out its text.
public struct JSONFormatting: Sendable {
    /// Separator after `,` between items (`""` compact, `" "` Python's default).
    public var itemSeparator: String
    /// Separator between a key and its value (`":"` compact, `": "` Python's default).
    public var keySeparator: String
    /// Indentation per level; nil puts everything on one line.
    public var indent: Int?
    /// Escape every non-ASCII character as `\uXXXX` (Python's `ensure_ascii`).
    public var asciiOnly: Bool
    /// Sort object keys (Python's `sort_keys`).
    public var sortKeys: Bool

    public init(itemSeparator: String = "", keySeparator: String = ":", indent: Int? = nil,
                asciiOnly: Bool = false, sortKeys: Bool = false) {
        self.itemSeparator = itemSeparator
        self.keySeparator = keySeparator
        self.indent = indent
        self.asciiOnly = asciiOnly
        self.sortKeys = sortKeys
    }

    /// No insignificant whitespace: the canonical form for the wire and for constrained output.
    public static let compact = JSONFormatting()
}

extension JSONValue {
    /// The value as JSON text. Compact by default; numbers keep their literal text.
    public func serialized(_ formatting: JSONFormatting = .compact) -> String {
        var out = ""
        _ = write(to: &out, formatting, level: 0, maxBytes: .max)
        return out
    }

    /// The value as JSON text, or nil once the text would pass `maxBytes`: stops early, so a
    /// value built with shared subtrees (exponentially large when written) costs at most
    /// about `maxBytes` of work.
    public func serialized(_ formatting: JSONFormatting = .compact, maxBytes: Int) -> String? {
        var out = ""
        return write(to: &out, formatting, level: 0, maxBytes: maxBytes) ? out : nil
    }

    /// Appends the value; false (and a partial text) once `out` passed `maxBytes`.
    private func write(to out: inout String, _ f: JSONFormatting, level: Int, maxBytes: Int) -> Bool {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.text
        case .string(let s): JSONValue.writeString(s, to: &out, asciiOnly: f.asciiOnly)
        case .array(let items):
            if items.isEmpty { out += "[]"; break }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ","; if f.indent == nil { out += f.itemSeparator } }
                newline(&out, f, level + 1)
                guard item.write(to: &out, f, level: level + 1, maxBytes: maxBytes) else { return false }
            }
            newline(&out, f, level)
            out += "]"
        case .object(let object):
            if object.isEmpty { out += "{}"; break }
            out += "{"
            let keys = f.sortKeys ? object.keys.sorted() : Array(object.keys)
            for (i, key) in keys.enumerated() {
                if i > 0 { out += ","; if f.indent == nil { out += f.itemSeparator } }
                newline(&out, f, level + 1)
                JSONValue.writeString(key, to: &out, asciiOnly: f.asciiOnly)
                out += f.keySeparator
                guard object[key]!.write(to: &out, f, level: level + 1, maxBytes: maxBytes) else { return false }
            }
            newline(&out, f, level)
            out += "}"
        }
        return out.utf8.count <= maxBytes
    }

    private func newline(_ out: inout String, _ f: JSONFormatting, _ level: Int) {
        guard let indent = f.indent else { return }
        out += "\n"
        out += String(repeating: " ", count: indent * level)
    }

    /// Appends `s` as a JSON string literal (quotes included).
    public static func writeString(_ s: String, to out: inout String, asciiOnly: Bool = false) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        appendHex4(0xD800 + (v >> 10), to: &out)
                        appendHex4(0xDC00 + (v & 0x3FF), to: &out)
                    } else {
                        appendHex4(scalar.value, to: &out)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private static func appendHex4(_ v: UInt32, to out: inout String) {
        let hex = String(v, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    /// `s` as a JSON string literal.
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, to: &out)
        return out
    }
}
