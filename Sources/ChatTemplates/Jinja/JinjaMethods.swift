/// Python methods on str, list and dict reached by attribute (`s.strip()`, `d.get('k')`).
///
/// Hugging Face renders in jinja2's ImmutableSandboxedEnvironment, where methods that mutate
/// lists and dicts (`append`, `pop`, `update`, ...) are "unsafe": reaching them yields an undefined
/// whose call raises a SecurityError. We do the same unless mutation is explicitly allowed.
enum Methods {
    private static let mutatingListMethods: Set<String> = ["append", "pop", "extend", "insert", "remove", "sort", "reverse", "clear"]
    private static let mutatingDictMethods: Set<String> = ["pop", "popitem", "update", "setdefault", "clear"]

    static func bound(_ value: JinjaValue, _ name: String, _ interp: Interpreter) -> JinjaValue? {
        switch value {
        case .string(let s), .markup(let s): return stringMethod(s, name)
        case .list(let l):
            if mutatingListMethods.contains(name), !interp.allowsMutation { return unsafe(name, "list") }
            return listMethod(l, name)
        case .dict(let d):
            if mutatingDictMethods.contains(name), !interp.allowsMutation { return unsafe(name, "dict") }
            return dictMethod(d, name)
        case .tuple(let t):
            return tupleMethod(t, name)
        default: return nil
        }
    }

    private static func unsafe(_ name: String, _ type: String) -> JinjaValue {
        .undefined(JinjaUndefined(message: "access to attribute '\(name)' of '\(type)' object is unsafe.", isSecurity: true))
    }

    private static func method(_ name: String, _ body: @escaping (Interpreter, JinjaArguments) throws -> JinjaValue) -> JinjaValue {
        .callable(JinjaCallable(name, body))
    }

    private static func optionalString(_ a: JinjaArguments, _ i: Int, _ name: String) throws -> String? {
        guard let v = a.value(i, name), !v.isNone else { return nil }
        guard case .string(let s) = v else { throw typeError("\(name) arg must be None or str") }
        return s
    }

    private static func requiredString(_ a: JinjaArguments, _ i: Int, _ name: String, _ method: String) throws -> String {
        guard let v = a.value(i, name) else { throw typeError("\(method)() missing required argument '\(name)'") }
        guard case .string(let s) = v else { throw typeError("\(method)() argument must be str, not \(v.typeName)") }
        return s
    }

    static func stringMethod(_ s: String, _ name: String) -> JinjaValue? {
        switch name {
        case "strip", "lstrip", "rstrip":
            return method(name) { _, a in
                .string(pythonStrip(s, chars: try optionalString(a, 0, "chars"), left: name != "rstrip", right: name != "lstrip"))
            }
        case "split", "rsplit":
            return method(name) { _, a in
                let sep = try optionalString(a, 0, "sep")
                let maxsplit = a.value(1, "maxsplit").flatMap(integerValue) ?? -1
                if sep == "" { throw runtimeError("empty separator") }
                let parts = name == "split" ? pythonSplit(s, sep, maxsplit) : pythonRSplit(s, sep, maxsplit)
                return .list(JinjaList(parts.map { .string($0) }))
            }
        case "splitlines":
            return method(name) { _, a in
                let keep = a.value(0, "keepends")?.isTruthy ?? false
                return .list(JinjaList(pythonSplitLines(s, keepEnds: keep).map { .string($0) }))
            }
        case "startswith", "endswith":
            return method(name) { interp, a in
                guard let p = a.positional.first else { throw typeError("\(name)() takes at least 1 argument") }
                let candidates: [JinjaValue]
                if case .tuple(let t) = p { candidates = t } else { candidates = [p] }
                for c in candidates {
                    guard case .string(let x) = c else { throw typeError("\(name) first arg must be str or a tuple of str, not \(c.typeName)") }
                    let hit = name == "startswith"
                        ? s.utf8.starts(with: x.utf8)
                        : (s.utf8.count >= x.utf8.count && s.utf8.suffix(x.utf8.count).elementsEqual(x.utf8))
                    if hit { return .bool(true) }
                }
                _ = interp
                return .bool(false)
            }
        case "lower": return method(name) { _, _ in .string(pythonLower(s)) }
        case "upper": return method(name) { _, _ in .string(pythonUpper(s)) }
        case "title": return method(name) { _, _ in .string(pythonTitle(s)) }
        case "capitalize": return method(name) { _, _ in .string(pythonCapitalize(s)) }
        case "swapcase":
            return method(name) { _, _ in
                .string(String(s.map { c in c.isUppercase ? Character(c.lowercased()) : Character(c.uppercased()) }))
            }
        case "replace":
            return method(name) { interp, a in
                let old = try requiredString(a, 0, "old", name)
                let new = try requiredString(a, 1, "new", name)
                let count = a.value(2, "count").flatMap(integerValue)
                return .string(try interp.checkedSize(pythonReplace(s, old, new, count: count.map { $0 < 0 ? nil : $0 } ?? nil, interp)))
            }
        case "find", "rfind", "index", "rindex":
            return method(name) { _, a in
                let sub = try requiredString(a, 0, "sub", name)
                let hay = Array(s.unicodeScalars), needle = Array(sub.unicodeScalars)
                var found = -1
                if needle.count <= hay.count {
                    let range = Array(0...(hay.count - needle.count))
                    for i in (name.hasPrefix("r") ? range.reversed() : range) where Array(hay[i..<i + needle.count]) == needle {
                        found = i
                        break
                    }
                }
                if found < 0, name.hasSuffix("index") { throw runtimeError("substring not found") }
                return .int(found)
            }
        case "count":
            return method(name) { _, a in
                let sub = try requiredString(a, 0, "sub", name)
                if sub.isEmpty { return .int(s.unicodeScalars.count + 1) }
                return .int(pythonSplit(s, sub, -1).count - 1)
            }
        case "join":
            return method(name) { interp, a in
                guard let iterable = a.positional.first else { throw typeError("join() takes exactly one argument") }
                var parts: [String] = []
                for item in try interp.iterate(iterable) {
                    guard case .string(let x) = item else { throw typeError("sequence item \(parts.count): expected str instance, \(item.typeName) found") }
                    parts.append(x)
                }
                try interp.checkGrowth(1, parts.reduce(s.utf8.count * parts.count) { $0 + $1.utf8.count })
                return .string(parts.joined(separator: s))
            }
        case "format":
            return method(name) { interp, a in .string(try pythonStrFormat(s, a, interp)) }
        case "isdigit", "isnumeric", "isdecimal":
            return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil }) }
        case "isalpha":
            return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }) }
        case "isalnum":
            return method(name) { _, _ in
                .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
            }
        case "isspace":
            return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(pythonIsSpace)) }
        case "islower":
            return method(name) { _, _ in .bool(pythonLower(s) == s && pythonUpper(s) != s) }
        case "isupper":
            return method(name) { _, _ in .bool(pythonUpper(s) == s && pythonLower(s) != s) }
        case "removeprefix", "removesuffix":
            return method(name) { _, a in
                let x = try requiredString(a, 0, "prefix", name)
                if name == "removeprefix", s.unicodeScalars.starts(with: x.unicodeScalars) {
                    return .string(String(String.UnicodeScalarView(s.unicodeScalars.dropFirst(x.unicodeScalars.count))))
                }
                if name == "removesuffix", !x.isEmpty, s.unicodeScalars.reversed().starts(with: x.unicodeScalars.reversed()) {
                    return .string(String(String.UnicodeScalarView(s.unicodeScalars.dropLast(x.unicodeScalars.count))))
                }
                return .string(s)
            }
        case "center":
            return method(name) { _, a in .string(pythonCenter(s, try checkedPadding(a.value(0, "width").flatMap(integerValue) ?? 0, "center width"))) }
        case "ljust", "rjust":
            return method(name) { _, a in
                let width = try checkedPadding(a.value(0, "width").flatMap(integerValue) ?? 0, "\(name) width")
                let fill = a.value(1, "fillchar")?.pythonString ?? " "
                let pad = String(repeating: fill, count: max(0, width - s.unicodeScalars.count))
                return .string(name == "ljust" ? s + pad : pad + s)
            }
        case "zfill":
            return method(name) { _, a in
                let width = try checkedPadding(a.value(0, "width").flatMap(integerValue) ?? 0, "zfill width")
                let n = s.unicodeScalars.count
                guard width > n else { return .string(s) }
                var body = s
                var sign = ""
                if let f = s.first, f == "-" || f == "+" { sign = String(f); body.removeFirst() }
                return .string(sign + String(repeating: "0", count: width - n) + body)
            }
        case "partition", "rpartition":
            return method(name) { _, a in
                let sep = try requiredString(a, 0, "sep", name)
                let parts = name == "partition" ? pythonSplit(s, sep, 1) : pythonRSplit(s, sep, 1)
                if parts.count == 2 { return .tuple([.string(parts[0]), .string(sep), .string(parts[1])]) }
                return name == "partition" ? .tuple([.string(s), "", ""]) : .tuple(["", "", .string(s)])
            }
        default: return nil
        }
    }

    static func listMethod(_ l: JinjaList, _ name: String) -> JinjaValue? {
        switch name {
        case "append":
            return method(name) { _, a in
                guard let v = a.positional.first else { throw typeError("append() takes exactly one argument") }
                l.items.append(v)
                return .none
            }
        case "extend":
            return method(name) { interp, a in
                guard let v = a.positional.first else { throw typeError("extend() takes exactly one argument") }
                l.items += try interp.iterate(v)
                return .none
            }
        case "insert":
            return method(name) { _, a in
                guard a.positional.count == 2, let i = integerValue(a.positional[0]) else { throw typeError("insert expected 2 arguments") }
                let n = l.items.count
                let j = i < 0 ? max(0, i + n) : min(i, n)
                l.items.insert(a.positional[1], at: j)
                return .none
            }
        case "pop":
            return method(name) { _, a in
                guard !l.items.isEmpty else { throw runtimeError("pop from empty list") }
                let i = a.positional.first.flatMap(integerValue) ?? -1
                let j = i < 0 ? i + l.items.count : i
                guard j >= 0, j < l.items.count else { throw runtimeError("pop index out of range") }
                return l.items.remove(at: j)
            }
        case "remove":
            return method(name) { _, a in
                guard let v = a.positional.first, let i = l.items.firstIndex(where: { pythonEquals($0, v) }) else {
                    throw runtimeError("list.remove(x): x not in list")
                }
                l.items.remove(at: i)
                return .none
            }
        case "reverse":
            return method(name) { _, _ in l.items.reverse(); return .none }
        case "clear":
            return method(name) { _, _ in l.items.removeAll(); return .none }
        case "sort":
            return method(name) { _, a in
                let reverse = a.value(1, "reverse")?.isTruthy ?? false
                l.items = try stableSort(l.items, reverse: reverse) { $0 }
                return .none
            }
        case "copy":
            return method(name) { _, _ in .list(JinjaList(l.items)) }
        case "index", "count":
            return tupleMethod(l.items, name)
        default: return nil
        }
    }

    static func tupleMethod(_ items: [JinjaValue], _ name: String) -> JinjaValue? {
        switch name {
        case "index":
            return method(name) { _, a in
                guard let v = a.positional.first, let i = items.firstIndex(where: { pythonEquals($0, v) }) else {
                    throw runtimeError("value is not in list")
                }
                return .int(i)
            }
        case "count":
            return method(name) { _, a in
                guard let v = a.positional.first else { throw typeError("count() takes exactly one argument") }
                return .int(items.filter { pythonEquals($0, v) }.count)
            }
        default: return nil
        }
    }

    static func dictMethod(_ d: JinjaDict, _ name: String) -> JinjaValue? {
        switch name {
        case "get":
            return method(name) { _, a in
                guard let k = a.positional.first else { throw typeError("get expected at least 1 argument, got 0") }
                if JinjaKey(k) == nil { throw typeError("unhashable type: '\(k.typeName)'") }
                return d[k] ?? (a.positional.count > 1 ? a.positional[1] : .none)
            }
        case "items":
            return method(name) { _, _ in .list(JinjaList(d.pairs.map { .tuple([$0, $1]) })) }
        case "keys":
            return method(name) { _, _ in .list(JinjaList(d.keys)) }
        case "values":
            return method(name) { _, _ in .list(JinjaList(d.values)) }
        case "copy":
            return method(name) { _, _ in .dict(d.copy()) }
        case "pop":
            return method(name) { _, a in
                guard let k = a.positional.first else { throw typeError("pop expected at least 1 argument, got 0") }
                if let v = d.remove(k) { return v }
                if a.positional.count > 1 { return a.positional[1] }
                throw runtimeError("KeyError: \(k.pythonRepr)")
            }
        case "setdefault":
            return method(name) { _, a in
                guard let k = a.positional.first else { throw typeError("setdefault expected at least 1 argument") }
                if let v = d[k] { return v }
                let v = a.positional.count > 1 ? a.positional[1] : .none
                guard d.set(k, v) else { throw typeError("unhashable type: '\(k.typeName)'") }
                return v
            }
        case "update":
            return method(name) { interp, a in
                if let other = a.positional.first {
                    if case .dict(let o) = other {
                        for (k, v) in o.pairs { d.set(k, v) }
                    } else {
                        for pair in try interp.iterate(other) {
                            let kv = try interp.iterate(pair)
                            guard kv.count == 2 else { throw runtimeError("dictionary update sequence element has wrong length") }
                            d.set(kv[0], kv[1])
                        }
                    }
                }
                for (k, v) in a.keyword { d.set(k, v) }
                return .none
            }
        case "clear":
            return method(name) { _, _ in d.removeAll(); return .none }
        default: return nil
        }
    }
}
