/// Splits template source into text and tag tokens, applying jinja2's whitespace rules:
/// `{%-`/`-%}` strip all adjacent whitespace, `trim_blocks` drops the newline after a block or
/// comment tag, `lstrip_blocks` drops spaces/tabs between a line start and a block/comment tag.
struct Token {
    enum Kind: Equatable {
        case text(String)
        case blockBegin, blockEnd, variableBegin, variableEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case eof
    }
    var kind: Kind
    var offset: Int
}

struct LexerOptions {
    var trimBlocks = true
    var lstripBlocks = true
    var keepTrailingNewline = false
}

struct JinjaLexer {
    private let bytes: [UInt8]
    private let options: LexerOptions
    private var pos = 0
    private var tokens: [Token] = []
    private var lineStarting = true
    let lineMap: LineMap

    init(source: String, options: LexerOptions) {
        var b = Array(source.utf8)
        // jinja2 normalizes newlines to \n and, without keep_trailing_newline, drops one final newline.
        if b.contains(UInt8(ascii: "\r")) {
            var n: [UInt8] = []
            n.reserveCapacity(b.count)
            var i = 0
            while i < b.count {
                if b[i] == UInt8(ascii: "\r") {
                    n.append(UInt8(ascii: "\n"))
                    if i + 1 < b.count, b[i + 1] == UInt8(ascii: "\n") { i += 1 }
                } else {
                    n.append(b[i])
                }
                i += 1
            }
            b = n
        }
        if !options.keepTrailingNewline, b.last == UInt8(ascii: "\n") { b.removeLast() }
        bytes = b
        self.options = options
        lineMap = LineMap(b)
    }

    mutating func tokenize() throws -> [Token] {
        while pos < bytes.count {
            guard let open = findTagStart(from: pos) else {
                emitText(pos, bytes.count)
                pos = bytes.count
                break
            }
            let kind = bytes[open + 1]  // '{', '%' or '#'
            var after = open + 2
            var sign: UInt8 = 0
            if after < bytes.count, bytes[after] == UInt8(ascii: "-") || bytes[after] == UInt8(ascii: "+") {
                sign = bytes[after]
                after += 1
            }
            var textEnd = open
            let textStart = pos
            if sign == UInt8(ascii: "-") {
                while textEnd > textStart, isSpace(bytes[textEnd - 1]) { textEnd -= 1 }
            } else if sign != UInt8(ascii: "+"), options.lstripBlocks, kind != UInt8(ascii: "{") {
                var lineStart = textEnd
                while lineStart > textStart, bytes[lineStart - 1] != UInt8(ascii: "\n") { lineStart -= 1 }
                let atLineStart = lineStart > textStart || (lineStart == textStart && (lineStarting || textStart == 0))
                if atLineStart, lineStart < textEnd,
                    bytes[lineStart..<textEnd].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
                {
                    textEnd = lineStart
                }
            }
            emitText(textStart, textEnd)
            switch kind {
            case UInt8(ascii: "#"):
                try skipComment(open, after)
            case UInt8(ascii: "%"):
                if let rawEnd = try rawBlock(open, after) {
                    pos = rawEnd
                } else {
                    tokens.append(Token(kind: .blockBegin, offset: open))
                    pos = after
                    try lexTag(isBlock: true, openedAt: open)
                }
            default:
                tokens.append(Token(kind: .variableBegin, offset: open))
                pos = after
                try lexTag(isBlock: false, openedAt: open)
            }
        }
        tokens.append(Token(kind: .eof, offset: bytes.count))
        return tokens
    }

    private func findTagStart(from start: Int) -> Int? {
        var i = start
        let n = bytes.count
        while i + 1 < n {
            if bytes[i] == UInt8(ascii: "{") {
                let c = bytes[i + 1]
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "%") || c == UInt8(ascii: "#") { return i }
            }
            i += 1
        }
        return nil
    }

    private mutating func emitText(_ start: Int, _ end: Int) {
        guard end > start else { return }
        tokens.append(Token(kind: .text(String(decoding: bytes[start..<end], as: UTF8.self)), offset: start))
    }

    /// After a tag closer at `end` (exclusive), applies `-` / trim_blocks and updates lineStarting.
    private mutating func finishTag(closerStart: Int, afterCloser: Int, minus: Bool, plus: Bool, trims: Bool) {
        var p = afterCloser
        if minus {
            while p < bytes.count, isSpace(bytes[p]) { p += 1 }
        } else if trims, !plus, options.trimBlocks, p < bytes.count, bytes[p] == UInt8(ascii: "\n") {
            p += 1
        }
        lineStarting = p > 0 && bytes[p - 1] == UInt8(ascii: "\n")
        pos = p
    }

    private mutating func skipComment(_ open: Int, _ after: Int) throws {
        var i = after
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "#"), bytes[i + 1] == UInt8(ascii: "}") {
                let minus = i > after && bytes[i - 1] == UInt8(ascii: "-")
                let plus = i > after && bytes[i - 1] == UInt8(ascii: "+")
                finishTag(closerStart: i, afterCloser: i + 2, minus: minus, plus: plus, trims: true)
                return
            }
            i += 1
        }
        throw TemplateError(.syntax, "missing end of comment tag", at: lineMap.position(open))
    }

    /// Handles `{% raw %}…{% endraw %}`; returns the position after it, or nil when the tag is not raw.
    private mutating func rawBlock(_ open: Int, _ after: Int) throws -> Int? {
        var i = after
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        guard matchWord("raw", at: i) else { return nil }
        i += 3
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        var minus = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { minus = true; i += 1 }
        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "%"), bytes[i + 1] == UInt8(ascii: "}") else { return nil }
        i += 2
        if minus { while i < bytes.count, isSpace(bytes[i]) { i += 1 } }
        // Find {% endraw %} (with optional whitespace control).
        var j = i
        while let tag = findTagStart(from: j) {
            if bytes[tag + 1] == UInt8(ascii: "%") {
                var k = tag + 2
                var sign: UInt8 = 0
                if k < bytes.count, bytes[k] == UInt8(ascii: "-") || bytes[k] == UInt8(ascii: "+") { sign = bytes[k]; k += 1 }
                while k < bytes.count, isSpace(bytes[k]) { k += 1 }
                if matchWord("endraw", at: k) {
                    k += 6
                    while k < bytes.count, isSpace(bytes[k]) { k += 1 }
                    var endMinus = false
                    if k < bytes.count, bytes[k] == UInt8(ascii: "-") { endMinus = true; k += 1 }
                    guard k + 1 < bytes.count, bytes[k] == UInt8(ascii: "%"), bytes[k + 1] == UInt8(ascii: "}") else {
                        throw TemplateError(.syntax, "malformed endraw tag", at: lineMap.position(tag))
                    }
                    var textEnd = tag
                    if sign == UInt8(ascii: "-") { while textEnd > i, isSpace(bytes[textEnd - 1]) { textEnd -= 1 } }
                    emitText(i, textEnd)
                    finishTag(closerStart: k, afterCloser: k + 2, minus: endMinus, plus: false, trims: true)
                    return pos
                }
            }
            j = tag + 2
        }
        throw TemplateError(.syntax, "missing endraw for raw block", at: lineMap.position(open))
    }

    private func matchWord(_ word: String, at i: Int) -> Bool {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { return false }
        let end = i + w.count
        return end >= bytes.count || !isNameByte(bytes[end])
    }

    /// Lexes expression tokens until the tag's closer (`%}` or `}}`) at bracket depth zero.
    private mutating func lexTag(isBlock: Bool, openedAt: Int) throws {
        var depth = 0
        let n = bytes.count
        while true {
            while pos < n, isSpace(bytes[pos]) { pos += 1 }
            guard pos < n else {
                throw TemplateError(.syntax, "unexpected end of template inside a \(isBlock ? "block" : "variable") tag", at: lineMap.position(openedAt))
            }
            let c = bytes[pos]
            if depth == 0 {
                // Closers, optionally preceded by - or +.
                var k = pos
                var minus = false, plus = false
                if c == UInt8(ascii: "-") { minus = true; k += 1 } else if c == UInt8(ascii: "+"), isBlock { plus = true; k += 1 }
                if k + 1 < n {
                    if isBlock, bytes[k] == UInt8(ascii: "%"), bytes[k + 1] == UInt8(ascii: "}") {
                        tokens.append(Token(kind: .blockEnd, offset: pos))
                        finishTag(closerStart: k, afterCloser: k + 2, minus: minus, plus: plus, trims: true)
                        return
                    }
                    if !isBlock, bytes[k] == UInt8(ascii: "}"), bytes[k + 1] == UInt8(ascii: "}"), !plus {
                        tokens.append(Token(kind: .variableEnd, offset: pos))
                        finishTag(closerStart: k, afterCloser: k + 2, minus: minus, plus: false, trims: false)
                        return
                    }
                }
            }
            let start = pos
            if isNameStart(c) {
                while pos < n, isNameByte(bytes[pos]) { pos += 1 }
                tokens.append(Token(kind: .name(String(decoding: bytes[start..<pos], as: UTF8.self)), offset: start))
            } else if isDigit(c) {
                try lexNumber()
            } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                try lexString(quote: c)
            } else {
                let next: UInt8 = pos + 1 < n ? bytes[pos + 1] : 0
                if let two = JinjaLexer.twoCharOperator(c, next) {
                    tokens.append(Token(kind: .op(two), offset: pos))
                    pos += 2
                } else {
                    guard let one = JinjaLexer.oneCharOperators[c] else {
                        throw TemplateError(.syntax, "unexpected character '\(Character(Unicode.Scalar(c)))'", at: lineMap.position(pos))
                    }
                    switch c {
                    case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                    case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                    default: break
                    }
                    tokens.append(Token(kind: .op(one), offset: pos))
                    pos += 1
                }
            }
        }
    }

    private static let oneCharOperators: [UInt8: String] = {
        var table: [UInt8: String] = [:]
        for c in "+-*/%~<>=()[]{},.:|".utf8 { table[c] = String(Unicode.Scalar(c)) }
        return table
    }()

    private static func twoCharOperator(_ a: UInt8, _ b: UInt8) -> String? {
        switch (a, b) {
        case (UInt8(ascii: "/"), UInt8(ascii: "/")): return "//"
        case (UInt8(ascii: "*"), UInt8(ascii: "*")): return "**"
        case (UInt8(ascii: "="), UInt8(ascii: "=")): return "=="
        case (UInt8(ascii: "!"), UInt8(ascii: "=")): return "!="
        case (UInt8(ascii: "<"), UInt8(ascii: "=")): return "<="
        case (UInt8(ascii: ">"), UInt8(ascii: "=")): return ">="
        default: return nil
        }
    }

    private mutating func lexNumber() throws {
        let start = pos
        let n = bytes.count
        while pos < n, isDigit(bytes[pos]) || bytes[pos] == UInt8(ascii: "_") { pos += 1 }
        var isFloat = false
        if pos + 1 < n, bytes[pos] == UInt8(ascii: "."), isDigit(bytes[pos + 1]),
            !(start > 0 && bytes[start - 1] == UInt8(ascii: "."))
        {
            isFloat = true
            pos += 1
            while pos < n, isDigit(bytes[pos]) || bytes[pos] == UInt8(ascii: "_") { pos += 1 }
        }
        if pos < n, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            var k = pos + 1
            if k < n, bytes[k] == UInt8(ascii: "+") || bytes[k] == UInt8(ascii: "-") { k += 1 }
            if k < n, isDigit(bytes[k]) {
                isFloat = true
                pos = k
                while pos < n, isDigit(bytes[pos]) { pos += 1 }
            }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self).replacingOccurrences(of: "_", with: "")
        if isFloat {
            guard let d = Double(text) else { throw TemplateError(.syntax, "bad number \(text)", at: lineMap.position(start)) }
            tokens.append(Token(kind: .float(d), offset: start))
        } else {
            guard let i = Int(text) else { throw TemplateError(.syntax, "integer too large: \(text)", at: lineMap.position(start)) }
            tokens.append(Token(kind: .integer(i), offset: start))
        }
    }

    /// String literal with Python `unicode-escape` semantics (unknown escapes keep the backslash).
    private mutating func lexString(quote: UInt8) throws {
        let start = pos
        pos += 1
        var raw: [UInt8] = []
        let n = bytes.count
        while true {
            guard pos < n else { throw TemplateError(.syntax, "unterminated string literal", at: lineMap.position(start)) }
            let c = bytes[pos]
            if c == quote { pos += 1; break }
            if c == UInt8(ascii: "\\"), pos + 1 < n {
                raw.append(c)
                raw.append(bytes[pos + 1])
                pos += 2
                continue
            }
            raw.append(c)
            pos += 1
        }
        tokens.append(Token(kind: .string(unescapePython(raw)), offset: start))
    }

    private func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C
    }
    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private func isNameStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
    }
    private func isNameByte(_ b: UInt8) -> Bool { isNameStart(b) || isDigit(b) }
}

/// Decodes Python escapes in a string literal's body.
func unescapePython(_ raw: [UInt8]) -> String {
    guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
    var out = String.UnicodeScalarView()
    let s = Array(String(decoding: raw, as: UTF8.self).unicodeScalars)
    var i = 0
    func hexValue(_ start: Int, _ count: Int) -> UInt32? {
        guard start + count <= s.count else { return nil }
        var v: UInt32 = 0
        for k in start..<start + count {
            guard let d = Int(String(s[k]), radix: 16) else { return nil }
            v = v * 16 + UInt32(d)
        }
        return v
    }
    while i < s.count {
        let c = s[i]
        guard c == "\\", i + 1 < s.count else { out.append(c); i += 1; continue }
        let e = s[i + 1]
        switch e {
        case "n": out.append("\n"); i += 2
        case "t": out.append("\t"); i += 2
        case "r": out.append("\r"); i += 2
        case "\\": out.append("\\"); i += 2
        case "'": out.append("'"); i += 2
        case "\"": out.append("\""); i += 2
        case "a": out.append("\u{07}"); i += 2
        case "b": out.append("\u{08}"); i += 2
        case "f": out.append("\u{0C}"); i += 2
        case "v": out.append("\u{0B}"); i += 2
        case "\n": i += 2
        case "x", "u", "U":
            let count = e == "x" ? 2 : (e == "u" ? 4 : 8)
            if let v = hexValue(i + 2, count), let scalar = Unicode.Scalar(v) {
                out.append(scalar)
                i += 2 + count
            } else {
                out.append(c); i += 1
            }
        case "0"..."7":
            var v: UInt32 = 0
            var k = i + 1
            while k < s.count, k < i + 4, ("0"..."7").contains(s[k]) { v = v * 8 + (s[k].value - 48); k += 1 }
            out.append(Unicode.Scalar(v) ?? "?")
            i = k
        default:
            out.append(c); i += 1
        }
    }
    return String(out)
}

/// Maps byte offsets to 1-based line/column for error messages.
struct LineMap {
    private var lineStarts: [Int] = [0]
    init(_ bytes: [UInt8]) {
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { lineStarts.append(i + 1) }
    }
    func position(_ offset: Int) -> SourcePosition {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return SourcePosition(line: lo + 1, column: offset - lineStarts[lo] + 1)
    }
}
