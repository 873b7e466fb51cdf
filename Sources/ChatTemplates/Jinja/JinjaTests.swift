typealias TestFunction = (Interpreter, JinjaValue, JinjaArguments) throws -> Bool

/// jinja2's built-in tests (`x is defined`, `x is mapping`, ...).
enum Tests {
    static let table: [String: TestFunction] = {
        var t: [String: TestFunction] = [:]
        t["defined"] = { _, v, _ in !v.isUndefined }
        t["undefined"] = { _, v, _ in v.isUndefined }
        t["none"] = { _, v, _ in v.isNone }
        t["string"] = { _, v, _ in v.stringValue != nil }
        t["number"] = { _, v, _ in
            switch v { case .int, .float, .bool: return true; default: return false }
        }
        t["integer"] = { _, v, _ in if case .int = v { return true }; return false }
        t["float"] = { _, v, _ in if case .float = v { return true }; return false }
        t["boolean"] = { _, v, _ in if case .bool = v { return true }; return false }
        t["true"] = { _, v, _ in if case .bool(true) = v { return true }; return false }
        t["false"] = { _, v, _ in if case .bool(false) = v { return true }; return false }
        t["mapping"] = { _, v, _ in if case .dict = v { return true }; return false }
        t["iterable"] = { _, v, _ in
            switch v {
            case .string, .markup, .list, .tuple, .dict, .undefined: return true
            case .object(let o): return o is JinjaGenerator
            default: return false
            }
        }
        t["sequence"] = { _, v, _ in
            switch v { case .string, .markup, .list, .tuple, .dict, .undefined: return true; default: return false }
        }
        t["callable"] = { _, v, _ in
            switch v { case .callable: return true; default: return false }
        }
        t["equalto"] = { _, v, a in pythonEquals(v, try arg(a)) }
        t["eq"] = t["equalto"]
        t["=="] = t["equalto"]
        t["ne"] = { _, v, a in !pythonEquals(v, try arg(a)) }
        t["!="] = t["ne"]
        t["lt"] = { _, v, a in try pythonLess(v, try arg(a)) }
        t["<"] = t["lt"]
        t["lessthan"] = t["lt"]
        t["gt"] = { _, v, a in try pythonLess(try arg(a), v) }
        t[">"] = t["gt"]
        t["greaterthan"] = t["gt"]
        t["le"] = { _, v, a in let o = try arg(a); return try pythonLess(v, o) || pythonEquals(v, o) }
        t["<="] = t["le"]
        t["ge"] = { _, v, a in let o = try arg(a); return try pythonLess(o, v) || pythonEquals(v, o) }
        t[">="] = t["ge"]
        t["in"] = { interp, v, a in try interp.contains(try arg(a), v) }
        t["sameas"] = { _, v, a in
            let o = try arg(a)
            switch (v, o) {
            case (.none, .none): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.list(let x), .list(let y)): return x === y
            case (.dict(let x), .dict(let y)): return x === y
            default: return false
            }
        }
        t["odd"] = { _, v, _ in
            guard let i = integerValue(v) else { throw typeError("odd needs an integer") }
            return i % 2 != 0
        }
        t["even"] = { _, v, _ in
            guard let i = integerValue(v) else { throw typeError("even needs an integer") }
            return i % 2 == 0
        }
        t["divisibleby"] = { _, v, a in
            guard let i = integerValue(v), let n = integerValue(try arg(a)), n != 0 else { throw typeError("divisibleby needs integers") }
            return i % n == 0
        }
        t["lower"] = { _, v, _ in let s = v.pythonString; return pythonLower(s) == s }
        t["upper"] = { _, v, _ in let s = v.pythonString; return pythonUpper(s) == s }
        t["escaped"] = { _, _, _ in false }
        t["filter"] = { _, v, _ in if case .string(let s) = v { return Filters.table[s] != nil }; return false }
        t["test"] = { _, v, _ in if case .string(let s) = v { return table[s] != nil }; return false }
        return t
    }()

    private static func arg(_ a: JinjaArguments) throws -> JinjaValue {
        guard let v = a.positional.first ?? a.keyword.first?.1 else { throw typeError("test needs an argument") }
        return v
    }
}
