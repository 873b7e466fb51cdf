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
        String(decoding: serializedBytes(formatting), as: UTF8.self)
    }

    /// The value as UTF-8 JSON text: what goes on the wire, without building a `String` first.
    public func serializedBytes(_ formatting: JSONFormatting = .compact) -> [UInt8] {
        var out: [UInt8] = []
        _ = write(to: &out, formatting, level: 0, maxBytes: .max)
        return out
    }

    /// The value as JSON text, or nil once the text would pass `maxBytes`: stops early, so a
    /// value built with shared subtrees (exponentially large when written) costs at most
    /// about `maxBytes` of work.
    public func serialized(_ formatting: JSONFormatting = .compact, maxBytes: Int) -> String? {
        var out: [UInt8] = []
        return write(to: &out, formatting, level: 0, maxBytes: maxBytes) ? String(decoding: out, as: UTF8.self) : nil
    }

    /// Appends the value as UTF-8; false (and a partial text) once `out` passed `maxBytes`.
    /// Bytes rather than a `String`: appending to a String checks and re-encodes every piece,
    /// which made serialization the largest single cost of a routed request.
    private func write(to out: inout [UInt8], _ f: JSONFormatting, level: Int, maxBytes: Int) -> Bool {
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .number(let n): out += n.text.utf8
        case .string(let s): JSONValue.writeString(s, to: &out, asciiOnly: f.asciiOnly)
        case .array(let items):
            if items.isEmpty { out += "[]".utf8; break }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")); if f.indent == nil { out += f.itemSeparator.utf8 } }
                newline(&out, f, level + 1)
                guard item.write(to: &out, f, level: level + 1, maxBytes: maxBytes) else { return false }
            }
            newline(&out, f, level)
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty { out += "{}".utf8; break }
            out.append(UInt8(ascii: "{"))
            let keys = f.sortKeys ? object.keys.sorted() : Array(object.keys)
            for (i, key) in keys.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")); if f.indent == nil { out += f.itemSeparator.utf8 } }
                newline(&out, f, level + 1)
                JSONValue.writeString(key, to: &out, asciiOnly: f.asciiOnly)
                out += f.keySeparator.utf8
                guard object[key]!.write(to: &out, f, level: level + 1, maxBytes: maxBytes) else { return false }
            }
            newline(&out, f, level)
            out.append(UInt8(ascii: "}"))
        }
        return out.count <= maxBytes
    }

    private func newline(_ out: inout [UInt8], _ f: JSONFormatting, _ level: Int) {
        guard let indent = f.indent else { return }
        out.append(UInt8(ascii: "\n"))
        out += repeatElement(UInt8(ascii: " "), count: indent * level)
    }

    /// Appends `s` as a JSON string literal (quotes included).
    public static func writeString(_ s: String, to out: inout String, asciiOnly: Bool = false) {
        var bytes: [UInt8] = []
        writeString(s, to: &bytes, asciiOnly: asciiOnly)
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal (quotes included), as UTF-8.
    public static func writeString(_ s: String, to out: inout [UInt8], asciiOnly: Bool = false) {
        out.append(UInt8(ascii: "\""))
        if asciiOnly {
            for scalar in s.unicodeScalars { writeEscaped(scalar, to: &out, asciiOnly: true) }
        } else {
            // Every byte that needs an escape is ASCII, so the UTF-8 can be copied in runs
            // between escapes without decoding it.
            var s = s
            s.withUTF8 { bytes in
                var runStart = 0
                for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    out += bytes[runStart..<i]
                    writeEscaped(Unicode.Scalar(byte), to: &out, asciiOnly: false)
                    runStart = i + 1
                }
                out += bytes[runStart...]
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func writeEscaped(_ scalar: Unicode.Scalar, to out: inout [UInt8], asciiOnly: Bool) {
        switch scalar {
        case "\"": out += #"\""#.utf8
        case "\\": out += #"\\"#.utf8
        case "\n": out += #"\n"#.utf8
        case "\r": out += #"\r"#.utf8
        case "\t": out += #"\t"#.utf8
        case "\u{08}": out += #"\b"#.utf8
        case "\u{0C}": out += #"\f"#.utf8
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
                out += String(scalar).utf8
            }
        }
    }

    private static func appendHex4(_ v: UInt32, to out: inout [UInt8]) {
        out += #"\u"#.utf8
        for shift in stride(from: 12, through: 0, by: -4) {
            let digit = UInt8((v >> UInt32(shift)) & 0xF)
            out.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        }
    }

    /// `s` as a JSON string literal.
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        writeString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
