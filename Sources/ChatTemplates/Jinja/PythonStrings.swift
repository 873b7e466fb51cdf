import Foundation

/// Python `str` operations, which work on code points (Swift's `Character` is a grapheme cluster,
/// so `"\r\n"` would be one character where Python sees two).

func pythonIsSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
    default: return false
    }
}

private func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
    var v = String.UnicodeScalarView()
    v.append(contentsOf: scalars)
    return String(v)
}

/// Byte offsets of non-overlapping occurrences of `needle` in `hay`, left to right, at most
/// `limit` of them (negative: all). Searching UTF-8 bytes finds exactly the code-point matches.
func utf8Occurrences(of needle: String, in hay: String, limit: Int = -1) -> [Int] {
    var found: [Int] = []
    let n = Array(needle.utf8)
    guard !n.isEmpty, limit != 0 else { return found }
    hay.utf8.withContiguousStorageIfAvailable { h in
        let first = n[0]
        var i = 0
        let last = h.count - n.count
        while i <= last {
            if h[i] == first {
                var k = 1
                while k < n.count, h[i + k] == n[k] { k += 1 }
                if k == n.count {
                    found.append(i)
                    if limit > 0, found.count >= limit { return }
                    i += n.count
                    continue
                }
            }
            i += 1
        }
    } ?? {
        // Non-contiguous (bridged) strings: copy once and retry.
        found = utf8Occurrences(of: needle, in: String(decoding: Array(hay.utf8), as: UTF8.self), limit: limit)
    }()
    return found
}

/// Python `sub in s` on code points.
func pythonContains(_ s: String, _ sub: String) -> Bool {
    sub.isEmpty || !utf8Occurrences(of: sub, in: s, limit: 1).isEmpty
}

func pythonStrip(_ s: String, chars: String?, left: Bool, right: Bool) -> String {
    guard let firstScalar = s.unicodeScalars.first, let lastScalar = s.unicodeScalars.last else { return s }
    if chars == nil, !(left && pythonIsSpace(firstScalar)), !(right && pythonIsSpace(lastScalar)) { return s }
    let a = Array(s.unicodeScalars)
    let set = chars.map { Set($0.unicodeScalars) }
    func strippable(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? pythonIsSpace(c) }
    var lo = 0, hi = a.count
    if left { while lo < hi, strippable(a[lo]) { lo += 1 } }
    if right { while hi > lo, strippable(a[hi - 1]) { hi -= 1 } }
    return string(a[lo..<hi])
}

/// `str.split(sep, maxsplit)`; `sep == nil` splits on whitespace runs and drops empty parts.
func pythonSplit(_ s: String, _ sep: String?, _ maxsplit: Int) -> [String] {
    var parts: [String] = []
    guard let sep else {
        let a = Array(s.unicodeScalars)
        var i = 0
        var splits = 0
        while i < a.count {
            while i < a.count, pythonIsSpace(a[i]) { i += 1 }
            if i >= a.count { break }
            if maxsplit >= 0, splits >= maxsplit {
                parts.append(string(a[i...]))
                return parts
            }
            let start = i
            while i < a.count, !pythonIsSpace(a[i]) { i += 1 }
            parts.append(string(a[start..<i]))
            splits += 1
        }
        return parts
    }
    let offsets = utf8Occurrences(of: sep, in: s, limit: maxsplit)
    if offsets.isEmpty { return [s] }
    let bytes = Array(s.utf8)
    let width = sep.utf8.count
    var start = 0
    for o in offsets {
        parts.append(String(decoding: bytes[start..<o], as: UTF8.self))
        start = o + width
    }
    parts.append(String(decoding: bytes[start...], as: UTF8.self))
    return parts
}

func pythonRSplit(_ s: String, _ sep: String?, _ maxsplit: Int) -> [String] {
    if maxsplit < 0 { return pythonSplit(s, sep, maxsplit) }
    // Split the reversed string with the reversed separator, then reverse back.
    let reversed = String(String.UnicodeScalarView(s.unicodeScalars.reversed()))
    let rsep = sep.map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
    return pythonSplit(reversed, rsep, maxsplit).reversed().map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
}

/// `str.splitlines(keepends)`.
func pythonSplitLines(_ s: String, keepEnds: Bool = false) -> [String] {
    let a = Array(s.unicodeScalars)
    var lines: [String] = []
    var start = 0, i = 0
    while i < a.count {
        let c = a[i].value
        let isBreak = c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C || (0x1C...0x1E).contains(c) || c == 0x85 || c == 0x2028 || c == 0x2029
        if isBreak {
            var end = i + 1
            if c == 0x0D, i + 1 < a.count, a[i + 1] == "\n" { end = i + 2 }
            lines.append(string(a[start..<(keepEnds ? end : i)]))
            i = end
            start = end
        } else {
            i += 1
        }
    }
    if start < a.count { lines.append(string(a[start...])) }
    return lines
}

/// `str.replace`. Refuses (via `interp.checkGrowth`) a result over the output limit before
/// building it: replacing "" or a short string with a long one multiplies the size.
func pythonReplace(_ s: String, _ old: String, _ new: String, count: Int?, _ interp: Interpreter) throws -> String {
    let occurrences = old.isEmpty ? s.unicodeScalars.count + 1 : s.utf8.count / old.utf8.count
    try interp.checkGrowth(min(occurrences, count.map { max(0, $0) } ?? occurrences), new.utf8.count)
    if old.isEmpty {
        // Python inserts `new` between every code point (and at both ends).
        var out = new
        var n = 1
        for c in s.unicodeScalars {
            out.unicodeScalars.append(c)
            if count == nil || n < count! { out += new; n += 1 }
        }
        return out
    }
    if count == 0 || utf8Occurrences(of: old, in: s, limit: 1).isEmpty { return s }
    let parts = pythonSplit(s, old, count ?? -1)
    return parts.joined(separator: new)
}

func pythonLower(_ s: String) -> String { s.lowercased() }
func pythonUpper(_ s: String) -> String { s.uppercased() }

func pythonCapitalize(_ s: String) -> String {
    guard let first = s.unicodeScalars.first else { return s }
    return String(first).uppercased() + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
}

/// Python's `str.title`: uppercase after any non-letter, lowercase after a letter.
func pythonTitle(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for c in s.unicodeScalars {
        let isLetter = c.properties.isAlphabetic
        out += previousCased ? String(c).lowercased() : String(c).uppercased()
        previousCased = isLetter
    }
    return out
}

// MARK: - printf-style `%` formatting

/// `fmt % args` with Python semantics for the common conversions (s r d i f F e E g G x X o c %).
func percentFormat(_ fmt: String, _ args: JinjaValue) throws -> String {
    let a = Array(fmt.unicodeScalars)
    var positional: [JinjaValue]
    var mapping: JinjaDict? = nil
    switch args {
    case .tuple(let t): positional = t
    case .dict(let d): positional = [args]; mapping = d
    default: positional = [args]
    }
    var next = 0
    var out = ""
    var i = 0
    func take() throws -> JinjaValue {
        guard next < positional.count else { throw typeError("not enough arguments for format string") }
        defer { next += 1 }
        return positional[next]
    }
    while i < a.count {
        let c = a[i]
        guard c == "%" else { out.unicodeScalars.append(c); i += 1; continue }
        i += 1
        guard i < a.count else { throw runtimeError("incomplete format") }
        var value: JinjaValue? = nil
        if a[i] == "(" {
            guard let close = a[i...].firstIndex(of: ")") else { throw runtimeError("incomplete format key") }
            let key = string(a[(i + 1)..<close])
            guard let m = mapping else { throw typeError("format requires a mapping") }
            guard let v = m[key] else { throw runtimeError("KeyError: '\(key)'") }
            value = v
            i = close + 1
        }
        var flags = Set<Unicode.Scalar>()
        while i < a.count, "-+ 0#".unicodeScalars.contains(a[i]) { flags.insert(a[i]); i += 1 }
        var width: Int? = nil
        if i < a.count, a[i] == "*" { width = try integerValue(try take()).map { try checkedPadding($0, "format width") }; i += 1 }
        while i < a.count, let d = Int(String(a[i])), a[i].isASCII {
            var w = width ?? 0
            try appendDigit(d, to: &w, "format width")
            width = w
            i += 1
        }
        var precision: Int? = nil
        if i < a.count, a[i] == "." {
            i += 1
            precision = 0
            if i < a.count, a[i] == "*" { precision = try integerValue(try take()).map { try checkedPadding($0, "format precision") }; i += 1 }
            while i < a.count, let d = Int(String(a[i])), a[i].isASCII { try appendDigit(d, to: &precision!, "format precision"); i += 1 }
        }
        guard i < a.count else { throw runtimeError("incomplete format") }
        let conv = a[i]
        i += 1
        if conv == "%" { out += "%"; continue }
        let v = try value ?? take()
        var body: String
        var numeric = false
        switch conv {
        case "s": body = v.pythonString
        case "r", "a": body = v.pythonRepr
        case "d", "i", "u":
            numeric = true
            guard let x = floatValue(v) else { throw typeError("%\(conv) format: a real number is required, not \(v.typeName)") }
            body = String(try integerValue(v) ?? integerFromFloat(x))
        case "f", "F", "e", "E", "g", "G":
            numeric = true
            guard let x = floatValue(v) else { throw typeError("must be real number, not \(v.typeName)") }
            body = formatFloat(x, String(conv), precision ?? 6, alternate: flags.contains("#"))
        case "x", "X", "o":
            numeric = true
            guard let x = integerValue(v) else { throw typeError("%\(conv) format: an integer is required, not \(v.typeName)") }
            body = String(x, radix: conv == "o" ? 8 : 16, uppercase: conv == "X")
        case "c":
            if case .string(let s) = v { body = s } else if let x = integerValue(v), let u = UInt32(exactly: x).flatMap(Unicode.Scalar.init) { body = String(u) } else { throw typeError("%c requires int or char") }
        default:
            throw runtimeError("unsupported format character '\(conv)'")
        }
        if let p = precision, !numeric { body = String(String.UnicodeScalarView(body.unicodeScalars.prefix(p))) }
        if numeric {
            if flags.contains("+"), !body.hasPrefix("-") { body = "+" + body } else if flags.contains(" "), !body.hasPrefix("-") { body = " " + body }
        }
        if let w = width, body.unicodeScalars.count < w {
            let pad = w - body.unicodeScalars.count
            if flags.contains("-") {
                body += String(repeating: " ", count: pad)
            } else if flags.contains("0"), numeric {
                var sign = ""
                if let f = body.first, "+- ".contains(f) { sign = String(f); body.removeFirst() }
                body = sign + String(repeating: "0", count: pad) + body
            } else {
                body = String(repeating: " ", count: pad) + body
            }
        }
        out += body
    }
    if mapping == nil, next < positional.count, case .tuple = args {
        throw typeError("not all arguments converted during string formatting")
    }
    return out
}

/// C-style float formatting (`%.2f`, `%e`, `%g`) with Python's output rules.
func formatFloat(_ x: Double, _ conv: String, _ precision: Int, alternate: Bool = false) -> String {
    if x.isNaN { return conv.uppercased() == conv ? "NAN" : "nan" }
    if x.isInfinite { let s = x < 0 ? "-inf" : "inf"; return conv.uppercased() == conv ? s.uppercased() : s }
    let spec = "%" + (alternate ? "#" : "") + ".\(precision)" + conv
    return String(format: spec, x)
}

// MARK: - str.format

/// `str.format(*args, **kwargs)`: auto/explicit field numbering, names, attribute/index lookups,
/// `!r`/`!s` conversions and the common format specs.
func pythonStrFormat(_ fmt: String, _ args: JinjaArguments, _ interp: Interpreter) throws -> String {
    let a = Array(fmt.unicodeScalars)
    var out = ""
    var i = 0
    var auto = 0
    while i < a.count {
        let c = a[i]
        if c == "{" {
            if i + 1 < a.count, a[i + 1] == "{" { out += "{"; i += 2; continue }
            var depth = 1
            var j = i + 1
            while j < a.count, depth > 0 {
                if a[j] == "{" { depth += 1 } else if a[j] == "}" { depth -= 1 }
                if depth > 0 { j += 1 }
            }
            guard j < a.count else { throw runtimeError("Single '{' encountered in format string") }
            let field = string(a[(i + 1)..<j])
            out += try formatField(field, args, interp, &auto)
            i = j + 1
        } else if c == "}" {
            guard i + 1 < a.count, a[i + 1] == "}" else { throw runtimeError("Single '}' encountered in format string") }
            out += "}"
            i += 2
        } else {
            out.unicodeScalars.append(c)
            i += 1
        }
    }
    return out
}

private func formatField(_ field: String, _ args: JinjaArguments, _ interp: Interpreter, _ auto: inout Int) throws -> String {
    var name = field
    var spec = ""
    var conversion: Character? = nil
    if let colon = name.firstIndex(of: ":") {
        spec = String(name[name.index(after: colon)...])
        name = String(name[..<colon])
    }
    if let bang = name.firstIndex(of: "!") {
        conversion = name[name.index(after: bang)...].first
        name = String(name[..<bang])
    }
    // Split "a.b[0]" into the head and lookups.
    var head = name
    var rest = ""
    if let k = name.firstIndex(where: { $0 == "." || $0 == "[" }) {
        head = String(name[..<k])
        rest = String(name[k...])
    }
    var value: JinjaValue
    if head.isEmpty {
        guard auto < args.positional.count else { throw runtimeError("Replacement index \(auto) out of range for positional args tuple") }
        value = args.positional[auto]
        auto += 1
    } else if let idx = Int(head) {
        guard idx < args.positional.count else { throw runtimeError("Replacement index \(idx) out of range for positional args tuple") }
        value = args.positional[idx]
    } else {
        guard let v = args.keyword.first(where: { $0.0 == head })?.1 else { throw runtimeError("KeyError: '\(head)'") }
        value = v
    }
    var r = Substring(rest)
    while let first = r.first {
        if first == "." {
            r = r.dropFirst()
            let end = r.firstIndex(where: { $0 == "." || $0 == "[" }) ?? r.endIndex
            value = try interp.getAttribute(value, String(r[..<end]))
            r = r[end...]
        } else if first == "[" {
            guard let close = r.firstIndex(of: "]") else { throw runtimeError("Missing ']' in format string") }
            let key = String(r[r.index(after: r.startIndex)..<close])
            value = try interp.getItem(value, Int(key).map { .int($0) } ?? .string(key))
            r = r[r.index(after: close)...]
        } else {
            break
        }
    }
    if conversion == "r" { value = .string(value.pythonRepr) } else if conversion == "s" { value = .string(value.pythonString) }
    return try applyFormatSpec(value, spec)
}

/// Format-spec mini-language: [[fill]align][sign][#][0][width][,][.precision][type].
func applyFormatSpec(_ value: JinjaValue, _ spec: String) throws -> String {
    if spec.isEmpty { return value.pythonString }
    var s = Array(spec.unicodeScalars)[...]
    var fill: Unicode.Scalar = " "
    var align: Unicode.Scalar? = nil
    if s.count >= 2, "<>^=".unicodeScalars.contains(s[s.startIndex + 1]) {
        fill = s.first!; align = s[s.startIndex + 1]; s = s.dropFirst(2)
    } else if let f = s.first, "<>^=".unicodeScalars.contains(f) {
        align = f; s = s.dropFirst()
    }
    var sign: Unicode.Scalar? = nil
    if let f = s.first, "+- ".unicodeScalars.contains(f) { sign = f; s = s.dropFirst() }
    if s.first == "#" { s = s.dropFirst() }
    if s.first == "0" { if align == nil { fill = "0"; align = "=" }; s = s.dropFirst() }
    var width = 0
    while let f = s.first, f.isASCII, let d = Int(String(f)) { try appendDigit(d, to: &width, "format width"); s = s.dropFirst() }
    if s.first == "," || s.first == "_" { s = s.dropFirst() }
    var precision: Int? = nil
    if s.first == "." {
        s = s.dropFirst()
        precision = 0
        while let f = s.first, f.isASCII, let d = Int(String(f)) { try appendDigit(d, to: &precision!, "format precision"); s = s.dropFirst() }
    }
    let type = s.first.map { String($0) } ?? ""
    var body: String
    var numeric = false
    switch type {
    case "", "s":
        if type == "", let x = floatValue(value), !(value.stringValue != nil) {
            numeric = true
            if case .float = value, let p = precision { body = formatFloat(x, "g", p) } else { body = value.pythonString }
        } else {
            body = value.pythonString
            if let p = precision { body = String(String.UnicodeScalarView(body.unicodeScalars.prefix(p))) }
        }
    case "d":
        numeric = true
        guard let x = integerValue(value) else { throw runtimeError("Unknown format code 'd' for object of type '\(value.typeName)'") }
        body = String(x)
    case "f", "F", "e", "E", "g", "G", "%":
        numeric = true
        guard var x = floatValue(value) else { throw runtimeError("Unknown format code '\(type)' for object of type '\(value.typeName)'") }
        if type == "%" { x *= 100 }
        body = formatFloat(x, type == "%" ? "f" : type, precision ?? 6) + (type == "%" ? "%" : "")
    case "x", "X", "o", "b":
        numeric = true
        guard let x = integerValue(value) else { throw runtimeError("Unknown format code '\(type)'") }
        body = String(x, radix: type == "o" ? 8 : (type == "b" ? 2 : 16), uppercase: type == "X")
    default:
        throw runtimeError("Unknown format code '\(type)'")
    }
    if numeric, let sign, !body.hasPrefix("-") { if sign == "+" { body = "+" + body } else if sign == " " { body = " " + body } }
    let n = body.unicodeScalars.count
    guard width > n else { return body }
    let pad = width - n
    let fillStr = String(fill)
    switch align ?? (numeric ? ">" : "<") {
    case "<": return body + String(repeating: fillStr, count: pad)
    case ">": return String(repeating: fillStr, count: pad) + body
    case "^": return String(repeating: fillStr, count: pad / 2) + body + String(repeating: fillStr, count: pad - pad / 2)
    default:
        var signPart = ""
        if let f = body.first, "+- ".contains(f) { signPart = String(f); body.removeFirst() }
        return signPart + String(repeating: fillStr, count: pad) + body
    }
}
