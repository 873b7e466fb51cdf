import Foundation

typealias FilterFunction = (Interpreter, JinjaValue, JinjaArguments) throws -> JinjaValue

/// jinja2's built-in filters (the ones chat templates use), with Hugging Face's `tojson`.
enum Filters {
    static let table: [String: FilterFunction] = {
        var t: [String: FilterFunction] = [:]
        t["tojson"] = tojson
        t["length"] = { _, v, _ in .int(try length(v)) }
        t["count"] = t["length"]
        t["trim"] = { _, v, a in
            .string(pythonStrip(v.pythonString, chars: a.value(0, "chars").flatMap { $0.isNone ? nil : $0.pythonString }, left: true, right: true))
        }
        t["string"] = { _, v, _ in if case .markup = v { return v }; return .string(v.pythonString) }
        t["safe"] = { _, v, _ in if case .markup = v { return v }; return .markup(v.pythonString) }
        t["escape"] = { _, v, _ in if case .markup = v { return v }; return .markup(htmlEscape(v.pythonString)) }
        t["e"] = t["escape"]
        t["forceescape"] = t["escape"]
        t["upper"] = { _, v, _ in .string(pythonUpper(v.pythonString)) }
        t["lower"] = { _, v, _ in .string(pythonLower(v.pythonString)) }
        t["capitalize"] = { _, v, _ in .string(pythonCapitalize(v.pythonString)) }
        t["title"] = { _, v, _ in .string(jinjaTitle(v.pythonString)) }
        t["replace"] = { interp, v, a in
            guard let old = a.value(0, "old"), let new = a.value(1, "new") else { throw typeError("replace() needs old and new") }
            let count = a.value(2, "count").flatMap(integerValue)
            return .string(try interp.checkedSize(pythonReplace(v.pythonString, old.pythonString, new.pythonString, count: count, interp)))
        }
        t["default"] = { _, v, a in
            let def = a.value(0, "default_value") ?? .string("")
            let boolean = a.value(1, "boolean")?.isTruthy ?? false
            if v.isUndefined || (boolean && !v.isTruthy) { return def }
            return v
        }
        t["d"] = t["default"]
        t["join"] = { interp, v, a in
            let sep = a.value(0, "d")?.pythonString ?? ""
            var items = try interp.iterate(v)
            if let attr = a.value(1, "attribute") {
                items = try items.map { try attributeOrItem(interp, $0, attr) }
            }
            let strings = items.map { $0.pythonString }
            try interp.checkGrowth(1, strings.reduce(sep.utf8.count * strings.count) { $0 + $1.utf8.count })
            return .string(strings.joined(separator: sep))
        }
        t["items"] = { _, v, _ in
            switch v {
            case .dict(let d): return .object(JinjaGenerator(d.pairs.map { .tuple([$0, $1]) }))
            case .undefined: return .object(JinjaGenerator([]))
            default: return .object(JinjaGenerator(failing: typeError("Can only get item pairs from a mapping.")))
            }
        }
        t["first"] = { interp, v, _ in
            try interp.iterate(v).first ?? .undefined(JinjaUndefined(message: "No first item, sequence was empty."))
        }
        t["last"] = { interp, v, _ in
            if case .dict = v { throw typeError("'dict' object is not reversible") }
            return try interp.iterate(v).last ?? .undefined(JinjaUndefined(message: "No last item, sequence was empty."))
        }
        t["list"] = { interp, v, _ in .list(JinjaList(try interp.iterate(v))) }
        t["reverse"] = { interp, v, _ in
            if case .string(let s) = v { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .object(JinjaGenerator(try interp.iterate(v).reversed(), kind: "list_reverseiterator"))
        }
        t["map"] = { interp, v, a in
            let items = v.isTruthy ? try interp.iterate(v) : []
            if let attr = a.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let def = a.keyword.first(where: { $0.0 == "default" })?.1
                return .object(JinjaGenerator(try items.map { item in
                    let r = try attributeOrItem(interp, item, attr)
                    if r.isUndefined, let def { return def }
                    return r
                }))
            }
            guard let name = a.positional.first?.stringValue else { throw runtimeError("map requires a filter name or attribute=") }
            let rest = JinjaArguments(Array(a.positional.dropFirst()), keyword: a.keyword)
            guard let f = table[name] else { throw runtimeError("No filter named '\(name)' found.") }
            return .object(JinjaGenerator(try items.map { try f(interp, $0, rest) }))
        }
        t["select"] = { interp, v, a in try selectOrReject(interp, v, a, select: true, byAttribute: false) }
        t["reject"] = { interp, v, a in try selectOrReject(interp, v, a, select: false, byAttribute: false) }
        t["selectattr"] = { interp, v, a in try selectOrReject(interp, v, a, select: true, byAttribute: true) }
        t["rejectattr"] = { interp, v, a in try selectOrReject(interp, v, a, select: false, byAttribute: true) }
        t["int"] = { _, v, a in
            let def = a.value(0, "default") ?? .int(0)
            let base = a.value(1, "base").flatMap(integerValue) ?? 10
            switch v {
            case .int, .bool: return .int(integerValue(v)!)
            case .float(let d): return d.isFinite ? .int(try integerFromFloat(d)) : def
            case .string(let s):
                var trimmed = pythonStrip(s, chars: nil, left: true, right: true).replacingOccurrences(of: "_", with: "")
                let lower = trimmed.lowercased()
                for (prefix, b) in [("0x", 16), ("0o", 8), ("0b", 2)] where base == b && lower.hasPrefix(prefix) {
                    trimmed = String(trimmed.dropFirst(2))
                }
                if let i = Int(trimmed, radix: base) { return .int(i) }
                if base == 10, let d = Double(trimmed), d.isFinite { return .int(try integerFromFloat(d)) }
                return def
            default: return def
            }
        }
        t["float"] = { _, v, a in
            let def = a.value(0, "default") ?? .float(0)
            switch v {
            case .int, .bool, .float: return .float(floatValue(v)!)
            case .string(let s):
                if let d = Double(pythonStrip(s, chars: nil, left: true, right: true)) { return .float(d) }
                return def
            default: return def
            }
        }
        t["abs"] = { interp, v, _ in
            switch v {
            case .int(let i):
                guard i != .min else { throw runtimeError("integer overflow") }  // abs(Int.min) does not fit
                return .int(abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d): return .float(abs(d))
            default: throw typeError("bad operand type for abs(): '\(v.typeName)'")
            }
        }
        t["round"] = { _, v, a in
            guard let x = floatValue(v) else { throw typeError("type \(v.typeName) doesn't define __round__ method") }
            let precision = a.value(0, "precision").flatMap(integerValue) ?? 0
            let method = a.value(1, "method")?.pythonString ?? "common"
            let scale = pow(10.0, Double(precision))
            switch method {
            case "common":
                // Python's round(): exact binary value, ties to even; ints stay ints.
                if let i = integerValue(v), precision >= 0 { return .int(i) }
                if precision == 0 { return .float(x.rounded(.toNearestOrEven)) }
                if precision > 0 { return .float(Double(String(format: "%.\(min(precision, 30))f", x)) ?? x) }
                return .float((x * scale).rounded(.toNearestOrEven) / scale)
            case "ceil": return .float((x * scale).rounded(.up) / scale)
            case "floor": return .float((x * scale).rounded(.down) / scale)
            default: throw runtimeError("method must be common, ceil or floor")
            }
        }
        t["unique"] = { interp, v, a in
            let caseSensitive = a.value(0, "case_sensitive")?.isTruthy ?? false
            let attr = a.value(1, "attribute")
            var seen: [JinjaValue] = []
            var out: [JinjaValue] = []
            for item in try interp.iterate(v) {
                var key = attr != nil ? try attributeOrItem(interp, item, attr!) : item
                if !caseSensitive, case .string(let s) = key { key = .string(pythonLower(s)) }
                if !seen.contains(where: { pythonEquals($0, key) }) { seen.append(key); out.append(item) }
            }
            return .object(JinjaGenerator(out))
        }
        t["indent"] = { _, v, a in
            let widthArg = a.value(0, "width") ?? .int(4)
            let indentation: String
            if case .string(let s) = widthArg {
                indentation = s
            } else {
                indentation = String(repeating: " ", count: try checkedPadding(integerValue(widthArg) ?? 4, "indent width"))
            }
            let first = a.value(1, "first")?.isTruthy ?? false
            let blank = a.value(2, "blank")?.isTruthy ?? false
            let text = v.pythonString + "\n"
            var lines = pythonSplitLines(text)
            var rv: String
            if blank {
                rv = lines.joined(separator: "\n" + indentation)
            } else {
                rv = lines.removeFirst()
                if !lines.isEmpty {
                    rv += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
                }
            }
            if first { rv = indentation + rv }
            return .string(rv)
        }
        t["dictsort"] = { _, v, a in
            guard case .dict(let d) = v else { throw typeError("You can only sort by either \"key\" or \"value\"") }
            let caseSensitive = a.value(0, "case_sensitive")?.isTruthy ?? false
            let by = a.value(1, "by")?.pythonString ?? "key"
            let reverse = a.value(2, "reverse")?.isTruthy ?? false
            guard by == "key" || by == "value" else { throw runtimeError("You can only sort by either \"key\" or \"value\"") }
            let pairs = Array(d.pairs)
            let sorted = try stableSort(pairs, reverse: reverse) { p in
                let k = by == "key" ? p.0 : p.1
                if !caseSensitive, case .string(let s) = k { return .string(pythonLower(s)) }
                return k
            }
            return .list(JinjaList(sorted.map { .tuple([$0.0, $0.1]) }))
        }
        t["sort"] = { interp, v, a in
            let reverse = a.value(0, "reverse")?.isTruthy ?? false
            let caseSensitive = a.value(1, "case_sensitive")?.isTruthy ?? false
            let attr = a.value(2, "attribute")
            let items = try interp.iterate(v)
            let sorted = try stableSort(items, reverse: reverse) { item in
                var k = attr != nil ? try attributeOrItem(interp, item, attr!) : item
                if !caseSensitive, case .string(let s) = k { k = .string(pythonLower(s)) }
                return k
            }
            return .list(JinjaList(sorted))
        }
        t["min"] = { interp, v, a in try minMax(interp, v, a, wantMax: false) }
        t["max"] = { interp, v, a in try minMax(interp, v, a, wantMax: true) }
        t["sum"] = { interp, v, a in
            var items = try interp.iterate(v)
            if let attr = a.value(0, "attribute") { items = try items.map { try attributeOrItem(interp, $0, attr) } }
            var total = a.value(1, "start") ?? .int(0)
            for item in items { total = try interp.binary(.add, total, item) }
            return total
        }
        t["batch"] = { interp, v, a in
            guard let n = a.value(0, "linecount").flatMap(integerValue), n > 0 else { throw runtimeError("batch needs a positive size") }
            // The fill pads the last batch up to `n` items, so `n` is a padding width.
            if a.value(1, "fill_with") != nil { _ = try checkedPadding(n, "batch size") }
            let fill = a.value(1, "fill_with")
            let items = try interp.iterate(v)
            var out: [JinjaValue] = []
            var i = 0
            while i < items.count {
                var chunk = Array(items[i..<(i + min(n, items.count - i))])
                if let fill, chunk.count < n { chunk += Array(repeating: fill, count: n - chunk.count) }
                out.append(.list(JinjaList(chunk)))
                i += min(n, items.count - i)
            }
            return .list(JinjaList(out))
        }
        t["wordcount"] = { _, v, _ in
            .int(v.pythonString.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).count)
        }
        t["center"] = { _, v, a in
            let width = a.value(0, "width").flatMap(integerValue) ?? 80
            return .string(pythonCenter(v.pythonString, try checkedPadding(width, "center width")))
        }
        t["truncate"] = { _, v, a in
            let s = Array(v.pythonString.unicodeScalars)
            let length = a.value(0, "length").flatMap(integerValue) ?? 255
            let killwords = a.value(1, "killwords")?.isTruthy ?? false
            let end = a.value(2, "end")?.pythonString ?? "..."
            let leeway = a.value(3, "leeway").flatMap(integerValue) ?? 5
            // Saturating: `truncate(9223372036854775807)` must not overflow.
            let (limit, overflow) = length.addingReportingOverflow(leeway)
            if overflow || s.count <= limit { return v.isUndefined ? .string("") : .string(v.pythonString) }
            let keep = max(0, length - end.unicodeScalars.count)
            var head = String(String.UnicodeScalarView(s[0..<min(keep, s.count)]))
            if !killwords, let space = head.lastIndex(of: " ") { head = String(head[..<space]) }
            return .string(head + end)
        }
        t["format"] = { _, v, a in
            let args: JinjaValue = a.positional.isEmpty && !a.keyword.isEmpty
                ? .dict({ let d = JinjaDict(); for (k, x) in a.keyword { d.set(k, x) }; return d }())
                : .tuple(a.positional)
            return .string(try percentFormat(v.pythonString, args))
        }
        t["attr"] = { interp, v, a in
            guard let name = a.value(0, "name")?.stringValue else { throw typeError("attr needs a name") }
            return try interp.getAttribute(v, name)
        }
        return t
    }()

    /// HF's tojson: `json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)`.
    static func tojson(_ interp: Interpreter, _ v: JinjaValue, _ a: JinjaArguments) throws -> JinjaValue {
        var o = PythonJSONOptions()
        o.ensureASCII = a.value(0, "ensure_ascii")?.isTruthy ?? false
        switch a.value(1, "indent") {
        case nil, .some(.none): o.indent = nil
        case .some(.string(let s)): o.indent = s
        case .some(let x):
            guard let n = integerValue(x) else { throw typeError("indent must be an int or a string") }
            o.indent = String(repeating: " ", count: try checkedPadding(n, "tojson indent"))
        }
        if let seps = a.value(2, "separators"), !seps.isNone {
            let parts = try interp.iterate(seps)
            guard parts.count == 2 else { throw typeError("separators must be a pair") }
            o.itemSeparator = parts[0].pythonString
            o.keySeparator = parts[1].pythonString
        } else {
            o.itemSeparator = o.indent == nil ? ", " : ","
        }
        o.sortKeys = a.value(3, "sort_keys")?.isTruthy ?? false
        do {
            return .string(try pythonJSONDumps(v, o))
        } catch PythonJSONError.notSerializable(let m) {
            throw typeError(m)
        }
    }

    static func length(_ v: JinjaValue) throws -> Int {
        switch v.demarked {
        case .string(let s): return s.unicodeScalars.count
        case .list(let l): return l.items.count
        case .tuple(let t): return t.count
        case .dict(let d): return d.count
        case .undefined: return 0
        default: throw typeError("object of type '\(v.typeName)' has no len()")
        }
    }
}

/// `attribute=` arguments: dotted paths, integers index.
func attributeOrItem(_ interp: Interpreter, _ item: JinjaValue, _ attr: JinjaValue) throws -> JinjaValue {
    if case .int = attr { return try interp.getItem(item, attr) }
    var v = item
    for part in attr.pythonString.split(separator: ".", omittingEmptySubsequences: false) {
        if let i = Int(part) { v = try interp.getItem(v, .int(i)) } else { v = try interp.getItem(v, .string(String(part))) }
    }
    return v
}

private func selectOrReject(_ interp: Interpreter, _ v: JinjaValue, _ a: JinjaArguments, select: Bool, byAttribute: Bool) throws -> JinjaValue {
    var positional = a.positional
    var attr: JinjaValue? = nil
    if byAttribute {
        guard !positional.isEmpty else { throw typeError("selectattr needs an attribute") }
        attr = positional.removeFirst()
    }
    var testName: String? = nil
    if !positional.isEmpty { testName = positional.removeFirst().pythonString }
    let testArgs = JinjaArguments(positional, keyword: a.keyword)
    var out: [JinjaValue] = []
    // jinja2: `if value:` guards the loop, so a falsy input (None, "") yields nothing.
    for item in v.isTruthy ? try interp.iterate(v) : [] {
        let subject = attr != nil ? try attributeOrItem(interp, item, attr!) : item
        let ok: Bool
        if let testName {
            guard let t = Tests.table[testName] else { throw runtimeError("No test named '\(testName)' found.") }
            ok = try t(interp, subject, testArgs)
        } else {
            ok = subject.isTruthy
        }
        if ok == select { out.append(item) }
    }
    return .object(JinjaGenerator(out))
}

private func minMax(_ interp: Interpreter, _ v: JinjaValue, _ a: JinjaArguments, wantMax: Bool) throws -> JinjaValue {
    let caseSensitive = a.value(0, "case_sensitive")?.isTruthy ?? false
    let attr = a.value(1, "attribute")
    let items = try interp.iterate(v)
    guard var best = items.first else {
        return .undefined(JinjaUndefined(message: "No aggregated item, sequence was empty."))
    }
    func key(_ x: JinjaValue) throws -> JinjaValue {
        var k = attr != nil ? try attributeOrItem(interp, x, attr!) : x
        if !caseSensitive, case .string(let s) = k { k = .string(pythonLower(s)) }
        return k
    }
    var bestKey = try key(best)
    for item in items.dropFirst() {
        let k = try key(item)
        if wantMax ? try pythonLess(bestKey, k) : try pythonLess(k, bestKey) { best = item; bestKey = k }
    }
    return best
}

/// Python's `sorted(key=..., reverse=...)`: stable, and reverse keeps equal items in order.
func stableSort<T>(_ items: [T], reverse: Bool, key: (T) throws -> JinjaValue) throws -> [T] {
    let keyed = try items.enumerated().map { ($0.offset, try key($0.element), $0.element) }
    var failure: Error? = nil
    let sorted = keyed.sorted { x, y in
        do {
            if reverse ? try pythonLess(y.1, x.1) : try pythonLess(x.1, y.1) { return true }
            if reverse ? try pythonLess(x.1, y.1) : try pythonLess(y.1, x.1) { return false }
        } catch {
            failure = error
        }
        return x.0 < y.0
    }
    if let failure { throw failure }
    return sorted.map { $0.2 }
}

func htmlEscape(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// jinja2's `title`: capitalize each word, where words start after spaces, dashes and brackets.
func jinjaTitle(_ s: String) -> String {
    var out = ""
    var atStart = true
    for c in s.unicodeScalars {
        let isBoundary = pythonIsSpace(c) || "-({[<".unicodeScalars.contains(c)
        if isBoundary {
            out.unicodeScalars.append(c)
            atStart = true
        } else if atStart {
            out += pythonUpper(String(c))
            atStart = false
        } else {
            out += pythonLower(String(c))
        }
    }
    return out
}

func pythonCenter(_ s: String, _ width: Int) -> String {
    let n = s.unicodeScalars.count
    guard width > n else { return s }
    let marg = width - n
    let left = marg / 2 + (marg & width & 1)
    return String(repeating: " ", count: left) + s + String(repeating: " ", count: marg - left)
}
