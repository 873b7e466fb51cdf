/// Python's `str()`, `repr()` and `json.dumps` text for template values. Chat templates print
/// dicts, booleans and floats directly, so byte-exact output depends on these rules.
extension JinjaValue {
    /// `str(value)` as Python prints it (`{{ value }}`); undefined prints as "".
    public var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s), .markup(let s): return s
        default: return pythonRepr
        }
    }

    /// `repr(value)`.
    public var pythonRepr: String {
        var out = ""
        writeRepr(to: &out)
        return out
    }

    /// Containers nested deeper than this print as `...`: only a self-containing structure gets
    /// there, and Python prints those with an ellipsis too.
    static let maxReprDepth = 200

    func writeRepr(to out: inout String, depth: Int = 0) {
        if depth > JinjaValue.maxReprDepth { out += "..."; return }
        switch self {
        case .undefined: out += "Undefined"
        case .none: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .float(let d): out += pythonFloatRepr(d)
        case .string(let s): writePythonStringRepr(s, to: &out)
        case .markup(let s): out += "Markup("; writePythonStringRepr(s, to: &out); out += ")"
        case .list(let l):
            out += "["
            for (i, item) in l.items.enumerated() {
                if i > 0 { out += ", " }
                item.writeRepr(to: &out, depth: depth + 1)
            }
            out += "]"
        case .tuple(let t):
            out += "("
            for (i, item) in t.enumerated() {
                if i > 0 { out += ", " }
                item.writeRepr(to: &out, depth: depth + 1)
            }
            if t.count == 1 { out += "," }
            out += ")"
        case .dict(let d):
            out += "{"
            var first = true
            for (k, v) in d.pairs {
                if !first { out += ", " }
                first = false
                k.writeRepr(to: &out, depth: depth + 1)
                out += ": "
                v.writeRepr(to: &out, depth: depth + 1)
            }
            out += "}"
        case .callable(let c): out += "<function \(c.name)>"
        case .object(let ns as JinjaNamespace):
            out += "<Namespace "
            JinjaValue.dict(ns.attributes).writeRepr(to: &out, depth: depth + 1)
            out += ">"
        case .object(let o): out += o.repr()
        }
    }
}

/// Python's `repr(str)`: single quotes unless the text has a single quote and no double quote.
func writePythonStringRepr(_ s: String, to out: inout String) {
    let quote: Character = (s.contains("'") && !s.contains("\"")) ? "\"" : "'"
    out.append(quote)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(scalar) == quote {
                out += "\\"; out.unicodeScalars.append(scalar)
            } else if isPythonPrintable(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                let v = scalar.value
                if v < 0x100 { out += "\\x" + hex(v, 2) } else if v < 0x10000 { out += "\\u" + hex(v, 4) } else { out += "\\U" + hex(v, 8) }
            }
        }
    }
    out.append(quote)
}

private func hex(_ v: UInt32, _ width: Int) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}

/// Approximates Python's `str.isprintable` per code point: control, format, separator (other than
/// the ASCII space), surrogate, private-use and unassigned characters are escaped by `repr`.
private func isPythonPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == " " { return true }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default:
        return true
    }
}

/// Python's `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16,
/// otherwise `d.ddde+XX`.
func pythonFloatRepr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description is also shortest round-trip; extract its digits and exponent.
    let (negative, digits, exponent) = decimalDigits(d)
    var out = negative ? "-" : ""
    // exponent: value = 0.d1d2d3... * 10^exponent  → scientific exponent is exponent - 1
    let sci = exponent - 1
    if sci >= -4 && sci < 16 {
        if exponent <= 0 {
            out += "0." + String(repeating: "0", count: -exponent) + digits
        } else if exponent >= digits.count {
            out += digits + String(repeating: "0", count: exponent - digits.count) + ".0"
        } else {
            let i = digits.index(digits.startIndex, offsetBy: exponent)
            out += digits[..<i] + "." + digits[i...]
        }
    } else {
        out += String(digits.first!)
        if digits.count > 1 { out += "." + digits.dropFirst() }
        out += sci < 0 ? "e-" : "e+"
        let e = abs(sci)
        out += e < 10 ? "0\(e)" : "\(e)"
    }
    return out
}

/// Shortest round-trip decimal digits of a finite nonzero double: (sign, digits, exponent) with
/// value = 0.DIGITS × 10^exponent.
private func decimalDigits(_ d: Double) -> (Bool, String, Int) {
    let text = "\(abs(d))"  // e.g. "1.5", "1e-05", "1.2345e+20", "100.0"
    var mantissa = Substring(text)
    var exp = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = text[..<e]
        exp = Int(text[text.index(after: e)...]) ?? 0
    }
    var intPart = mantissa
    var fracPart: Substring = ""
    if let dot = mantissa.firstIndex(of: ".") {
        intPart = mantissa[..<dot]
        fracPart = mantissa[mantissa.index(after: dot)...]
    }
    var digits = String(intPart) + fracPart
    var exponent = intPart.count + exp
    // strip leading zeros
    while digits.first == "0" { digits.removeFirst(); exponent -= 1 }
    while digits.last == "0" { digits.removeLast() }
    if digits.isEmpty { digits = "0"; exponent = 1 }
    return (d < 0, digits, exponent)
}

// MARK: - json.dumps

/// Options of Python's `json.dumps` that Hugging Face's `tojson` filter exposes.
struct PythonJSONOptions {
    var indent: String? = nil
    var itemSeparator = ", "
    var keySeparator = ": "
    var ensureASCII = false
    var sortKeys = false
}

enum PythonJSONError: Error { case notSerializable(String), unsortableKeys }

/// `json.dumps(value, ...)` byte for byte. Writes UTF-8 bytes: tool schemas are the largest
/// thing templates print, so this path is kept allocation-light.
func pythonJSONDumps(_ value: JinjaValue, _ options: PythonJSONOptions) throws -> String {
    var out: [UInt8] = []
    out.reserveCapacity(256)
    try writeJSON(value, &out, options, level: 0)
    return String(decoding: out, as: UTF8.self)
}

private func writeJSON(_ value: JinjaValue, _ out: inout [UInt8], _ o: PythonJSONOptions, level: Int) throws {
    if level > 512 { throw PythonJSONError.notSerializable("Circular reference detected") }
    switch value {
    case .none: out += Array("null".utf8)
    case .bool(let b): out += Array((b ? "true" : "false").utf8)
    case .int(let i): out += Array(String(i).utf8)
    case .float(let d):
        let text = d.isNaN ? "NaN" : (d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : pythonFloatRepr(d))
        out += Array(text.utf8)
    case .string(let s), .markup(let s): writeJSONString(s, &out, ascii: o.ensureASCII)
    case .list(let l): try writeJSONArray(l.items, &out, o, level: level)
    case .tuple(let t): try writeJSONArray(t, &out, o, level: level)
    case .dict(let d):
        if d.count == 0 { out += Array("{}".utf8); return }
        var pairs: [(String, JinjaValue)] = []
        pairs.reserveCapacity(d.count)
        for (k, v) in d.pairs {
            let key: String
            switch k {
            case .string(let s), .markup(let s): key = s
            case .int(let i): key = String(i)
            case .float(let f): key = pythonFloatRepr(f)
            case .bool(let b): key = b ? "true" : "false"
            case .none: key = "null"
            default: throw PythonJSONError.notSerializable("keys must be str, int, float, bool or None, not \(k.typeName)")
            }
            pairs.append((key, v))
        }
        if o.sortKeys { pairs.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } }
        out.append(UInt8(ascii: "{"))
        for (i, (k, v)) in pairs.enumerated() {
            if i > 0 { out += o.itemSeparator.utf8 }
            newline(&out, o, level + 1)
            writeJSONString(k, &out, ascii: o.ensureASCII)
            out += o.keySeparator.utf8
            try writeJSON(v, &out, o, level: level + 1)
        }
        newline(&out, o, level)
        out.append(UInt8(ascii: "}"))
    case .undefined: throw PythonJSONError.notSerializable("Object of type Undefined is not JSON serializable")
    case .callable: throw PythonJSONError.notSerializable("Object of type function is not JSON serializable")
    case .object(let obj): throw PythonJSONError.notSerializable("Object of type \(obj.typeName) is not JSON serializable")
    }
}

private func writeJSONArray(_ items: [JinjaValue], _ out: inout [UInt8], _ o: PythonJSONOptions, level: Int) throws {
    if items.isEmpty { out += Array("[]".utf8); return }
    out.append(UInt8(ascii: "["))
    for (i, item) in items.enumerated() {
        if i > 0 { out += o.itemSeparator.utf8 }
        newline(&out, o, level + 1)
        try writeJSON(item, &out, o, level: level + 1)
    }
    newline(&out, o, level)
    out.append(UInt8(ascii: "]"))
}

private func newline(_ out: inout [UInt8], _ o: PythonJSONOptions, _ level: Int) {
    guard let indent = o.indent else { return }
    out.append(UInt8(ascii: "\n"))
    for _ in 0..<level { out += indent.utf8 }
}

private let hexDigits = Array("0123456789abcdef".utf8)

private func appendUnicodeEscape(_ v: UInt32, _ out: inout [UInt8]) {
    out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), hexDigits[Int(v >> 12 & 0xF)], hexDigits[Int(v >> 8 & 0xF)],
            hexDigits[Int(v >> 4 & 0xF)], hexDigits[Int(v & 0xF)]]
}

/// A JSON string literal as Python's json module writes it (ensure_ascii on or off).
func writeJSONString(_ s: String, _ out: inout [UInt8], ascii: Bool) {
    out.append(UInt8(ascii: "\""))
    if !ascii {
        // Bytes >= 0x80 are copied verbatim; only ASCII controls, quote and backslash are escaped.
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20: appendUnicodeEscape(UInt32(b), &out)
            default: out.append(b)
            }
        }
    } else {
        for scalar in s.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case 0x5C: out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x20...0x7E: out.append(UInt8(v))
            case 0x10000...:
                let w = v - 0x10000
                appendUnicodeEscape(0xD800 + (w >> 10), &out)
                appendUnicodeEscape(0xDC00 + (w & 0x3FF), &out)
            default: appendUnicodeEscape(v, &out)
            }
        }
    }
    out.append(UInt8(ascii: "\""))
}
