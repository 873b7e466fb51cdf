import Foundation

/// Bounds that keep any template, however hostile, from hanging or exhausting memory.
public struct RenderLimits: Sendable {
    /// Total loop iterations (all loops together) per render.
    public var maxLoopIterations: Int
    /// Nesting of macro / caller calls.
    public var maxCallDepth: Int
    /// Size of the rendered text (and of any intermediate block) in UTF-8 bytes.
    public var maxOutputBytes: Int
    /// Largest `range()` (jinja2's sandbox allows 100 000).
    public var maxRange: Int

    public init(maxLoopIterations: Int = 1_000_000, maxCallDepth: Int = 64, maxOutputBytes: Int = 16 << 20, maxRange: Int = 100_000) {
        self.maxLoopIterations = maxLoopIterations
        self.maxCallDepth = maxCallDepth
        self.maxOutputBytes = maxOutputBytes
        self.maxRange = maxRange
    }
}

/// Widths, paddings and indents a template may ask for (`center(w)`, `'%*d'`, `'{:>w}'`,
/// `indent(w)`, `tojson(indent=w)`, `batch(n, fill)`): far above any real prompt, far below
/// what would exhaust memory before the output limit is even checked.
let maxPaddingWidth = 1 << 20

/// `width` when it is at most `maxPaddingWidth` (negative counts as zero, as in Python); a limit
/// error naming `what` otherwise.
func checkedPadding(_ width: Int, _ what: String) throws -> Int {
    guard width <= maxPaddingWidth else { throw TemplateError(.limit, "\(what) \(width) is larger than \(maxPaddingWidth)") }
    return max(0, width)
}

/// One more decimal digit of a width or precision in a format spec, refused once past
/// `maxPaddingWidth` (a long run of digits would otherwise overflow `Int`).
func appendDigit(_ digit: Int, to value: inout Int, _ what: String) throws {
    value = value * 10 + digit
    if value > maxPaddingWidth { throw TemplateError(.limit, "\(what) is larger than \(maxPaddingWidth)") }
}

/// Variables of one scope. Most scopes (a loop iteration, a macro call) hold a handful of names,
/// where a linear scan beats hashing; larger ones switch to a dictionary.
struct Variables {
    private var names: [String] = []
    private var values: [JinjaValue] = []
    private var table: [String: JinjaValue]? = nil
    private static let tableThreshold = 12

    init() {}
    init(_ dictionary: [String: JinjaValue]) {
        if dictionary.count > Variables.tableThreshold { table = dictionary } else { for (k, v) in dictionary { self[k] = v } }
    }

    subscript(name: String) -> JinjaValue? {
        get {
            if let table { return table[name] }
            for i in names.indices where names[i] == name { return values[i] }
            return nil
        }
        set {
            if table != nil { table![name] = newValue; return }
            if let i = names.firstIndex(of: name) {
                if let newValue { values[i] = newValue } else { names.remove(at: i); values.remove(at: i) }
                return
            }
            guard let newValue else { return }
            names.append(name)
            values.append(newValue)
            if names.count > Variables.tableThreshold {
                table = Dictionary(uniqueKeysWithValues: zip(names, values))
                names = []
                values = []
            }
        }
    }
}

/// A variable scope. `for` bodies, macro calls and caller blocks get a child scope; `if` does not.
final class Scope {
    var vars = Variables()
    let parent: Scope?
    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> JinjaValue? {
        var s: Scope? = self
        while let cur = s {
            if let v = cur.vars[name] { return v }
            s = cur.parent
        }
        return nil
    }
}

/// Control flow out of a statement list.
enum Flow { case normal, breakLoop, continueLoop }

/// jinja2's `loop` object.
final class LoopContext: JinjaObject {
    var index0 = 0
    let items: [JinjaValue]
    init(items: [JinjaValue]) { self.items = items }
    override var typeName: String { "LoopContext" }
    override func attribute(_ name: String) -> JinjaValue? {
        let n = items.count
        switch name {
        case "index": return .int(index0 + 1)
        case "index0": return .int(index0)
        case "revindex": return .int(n - index0)
        case "revindex0": return .int(n - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == n - 1)
        case "length": return .int(n)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem":
            return index0 > 0 ? items[index0 - 1] : .undefined(JinjaUndefined(message: "there is no previous item"))
        case "nextitem":
            return index0 + 1 < n ? items[index0 + 1] : .undefined(JinjaUndefined(message: "there is no next item"))
        case "cycle":
            let i = index0
            return .callable(JinjaCallable("cycle") { _, args in
                guard !args.positional.isEmpty else { throw typeError("no items for cycling given") }
                return args.positional[i % args.positional.count]
            })
        default: return nil
        }
    }
    override func repr() -> String { "<LoopContext \(index0 + 1)/\(items.count)>" }
}

/// Renders a parsed template. One interpreter per render: it holds the counters for the limits.
final class Interpreter {
    let limits: RenderLimits
    let allowsMutation: Bool
    let now: () -> Date
    let timeZone: TimeZone
    let root: Scope
    private var iterations = 0
    private var callDepth = 0
    /// Statements and expressions being executed, nested. The parser bounds the nesting it
    /// builds by recursion, but chains it builds in loops (`x|e|e|e…`, `a.b.c…`, `1+1+…`) nest
    /// just as deep when evaluated, and macros stack their bodies on top: this bounds the stack.
    private var nesting = 0
    /// Deep enough for any real template (and for the parser's own 200 levels), shallow enough
    /// for a thread's stack in a debug build.
    static let maxNesting = 1_000

    private func enter(_ pos: SourcePosition?) throws {
        nesting += 1
        if nesting > Interpreter.maxNesting {
            throw TemplateError(.limit, "expressions and statements nested deeper than \(Interpreter.maxNesting)", at: pos)
        }
    }

    init(globals: Scope, limits: RenderLimits, allowsMutation: Bool, now: @escaping () -> Date, timeZone: TimeZone) {
        self.root = Scope(parent: globals)
        self.limits = limits
        self.allowsMutation = allowsMutation
        self.now = now
        self.timeZone = timeZone
    }

    // MARK: - Statements

    func render(_ nodes: [Node], _ scope: Scope, into out: inout String) throws -> Flow {
        for node in nodes {
            let flow = try exec(node, scope, &out)
            if flow != .normal { return flow }
        }
        return .normal
    }

    /// Refuses a string value larger than the output limit. Values are checked where they grow
    /// (`~`, `+`, `join`, `replace`), not only when printed: doubling a string in a loop reaches
    /// gigabytes long before anything is written out.
    func checkedSize(_ s: String) throws -> String {
        guard s.utf8.count <= limits.maxOutputBytes else { throw TemplateError(.limit, "string exceeds \(limits.maxOutputBytes) bytes") }
        return s
    }

    /// Refuses an operation that would build a value of more than the output limit, before it
    /// allocates anything: `parts` items of `each` bytes (or list items).
    func checkGrowth(_ parts: Int, _ each: Int) throws {
        let (total, overflow) = parts.multipliedReportingOverflow(by: each)
        guard !overflow, total <= limits.maxOutputBytes else { throw TemplateError(.limit, "value exceeds \(limits.maxOutputBytes) bytes") }
    }

    private func append(_ text: String, _ out: inout String, _ pos: SourcePosition?) throws {
        out += text
        if out.utf8.count > limits.maxOutputBytes {
            throw TemplateError(.limit, "output exceeds \(limits.maxOutputBytes) bytes", at: pos)
        }
    }

    private func exec(_ node: Node, _ scope: Scope, _ out: inout String) throws -> Flow {
        try enter(nil)
        defer { nesting -= 1 }
        return try execNode(node, scope, &out)
    }

    private func execNode(_ node: Node, _ scope: Scope, _ out: inout String) throws -> Flow {
        switch node {
        case .text(let s):
            try append(s, &out, nil)
        case .output(let e, let pos):
            let v = try located(pos) { try eval(e, scope) }
            try append(v.pythonString, &out, pos)
        case .ifChain(let branches, let otherwise):
            for (test, body) in branches where try eval(test, scope).isTruthy {
                return try render(body, scope, into: &out)
            }
            return try render(otherwise, scope, into: &out)
        case .forLoop(let f):
            try located(f.position) { try execFor(f, scope, &out) }
        case .set(let target, let e, let pos):
            try located(pos) {
                let v = try eval(e, scope)
                try assign(target, v, scope)
            }
        case .setBlock(let target, let body, let filters, let pos):
            var text = ""
            _ = try render(body, Scope(parent: scope), into: &text)
            var v = JinjaValue.string(text)
            for f in filters { v = try applyFilter(f.name, v, try arguments(f.arguments, scope), f.position) }
            try located(pos) { try assign(target, v, scope) }
        case .macro(let m):
            scope.vars[m.name] = .callable(makeMacro(m, scope))
        case .callBlock(let call, let params, let body, let pos):
            try located(pos) {
                guard case .call(let calleeExpr, let argExprs, let callPos) = call else { return }
                let callee = try eval(calleeExpr, scope)
                var args = try arguments(argExprs, scope)
                let caller = MacroNode(name: "caller", parameters: params, body: body, position: pos)
                args.keyword.append(("caller", .callable(makeMacro(caller, scope))))
                let v = try callValue(callee, args, callPos)
                try append(v.pythonString, &out, pos)
            }
        case .filterBlock(let filters, let body, let pos):
            var text = ""
            let flow = try render(body, scope, into: &text)
            var v = JinjaValue.string(text)
            for f in filters { v = try applyFilter(f.name, v, try arguments(f.arguments, scope), f.position) }
            try append(v.pythonString, &out, pos)
            return flow
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    /// Runs `body`, attaching `pos` to errors that do not have a position yet.
    @inline(__always)
    func located<T>(_ pos: SourcePosition, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var e as TemplateError {
            if e.position == nil { e.position = pos }
            throw e
        }
    }

    private func execFor(_ f: ForNode, _ scope: Scope, _ out: inout String) throws {
        let iterable = try eval(f.iterable, scope)
        var items = try iterate(iterable)
        let loopScope = Scope(parent: scope)
        if let cond = f.condition {
            var kept: [JinjaValue] = []
            for item in items {
                try countIteration(f.position)
                try assign(f.target, item, loopScope)
                if try eval(cond, loopScope).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try render(f.elseBody, loopScope, into: &out)
            return
        }
        let loop = LoopContext(items: items)
        for (i, item) in items.enumerated() {
            try countIteration(f.position)
            loop.index0 = i
            // jinja2 starts every iteration from the enclosing values: a `set` in the body does not
            // carry over to the next iteration (that is what `namespace()` is for).
            let iterationScope = Scope(parent: scope)
            iterationScope.vars["loop"] = .object(loop)
            try assign(f.target, item, iterationScope)
            if try render(f.body, iterationScope, into: &out) == .breakLoop { break }
        }
    }

    private func countIteration(_ pos: SourcePosition) throws {
        iterations += 1
        if iterations > limits.maxLoopIterations {
            throw TemplateError(.limit, "more than \(limits.maxLoopIterations) loop iterations", at: pos)
        }
    }

    func assign(_ target: AssignTarget, _ value: JinjaValue, _ scope: Scope) throws {
        switch target {
        case .name(let n):
            scope.vars[n] = value
        case .tuple(let targets):
            let items = try iterate(value)
            guard items.count == targets.count else {
                throw typeError(items.count < targets.count
                    ? "not enough values to unpack (expected \(targets.count), got \(items.count))"
                    : "too many values to unpack (expected \(targets.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, scope) }
        case .attribute(let objExpr, let attr, let pos):
            let obj = try eval(objExpr, scope)
            guard case .object(let o) = obj, o.setAttribute(attr, value) else {
                throw TemplateError(.type, "cannot assign attribute on non-namespace object", at: pos)
            }
        }
    }

    private func makeMacro(_ m: MacroNode, _ scope: Scope) -> JinjaCallable {
        // Weak: the scope holds the macro; a strong capture would leak both after the render.
        JinjaCallable(m.name) { [unowned self, weak scope] _, args in
            try self.callMacro(m, scope ?? self.root, args)
        }
    }

    private func callMacro(_ m: MacroNode, _ defining: Scope, _ args: JinjaArguments) throws -> JinjaValue {
        callDepth += 1
        defer { callDepth -= 1 }
        guard callDepth <= limits.maxCallDepth else {
            throw TemplateError(.limit, "macro calls nested deeper than \(limits.maxCallDepth)", at: m.position)
        }
        let scope = Scope(parent: defining)
        var kwargs = args.keyword
        for (i, p) in m.parameters.enumerated() {
            if i < args.positional.count {
                scope.vars[p.name] = args.positional[i]
            } else if let k = kwargs.firstIndex(where: { $0.0 == p.name }) {
                scope.vars[p.name] = kwargs[k].1
                kwargs.remove(at: k)
            } else if let d = p.defaultValue {
                scope.vars[p.name] = try eval(d, scope)
            } else {
                scope.vars[p.name] = .undefined(JinjaUndefined(message: "parameter '\(p.name)' was not provided"))
            }
        }
        if let k = kwargs.firstIndex(where: { $0.0 == "caller" }) {
            scope.vars["caller"] = kwargs[k].1
            kwargs.remove(at: k)
        }
        let extra = args.positional.count > m.parameters.count ? Array(args.positional[m.parameters.count...]) : []
        if m.usesVarargs {
            scope.vars["varargs"] = .tuple(extra)
        } else if !extra.isEmpty {
            throw typeError("macro '\(m.name)' takes not more than \(m.parameters.count) argument(s)")
        }
        if m.usesKwargs {
            let kw = JinjaDict()
            for (k, v) in kwargs { kw.set(k, v) }
            scope.vars["kwargs"] = .dict(kw)
        } else if let (k, _) = kwargs.first {
            throw typeError("macro '\(m.name)' takes no keyword argument '\(k)'")
        }
        var out = ""
        _ = try render(m.body, scope, into: &out)
        return .string(out)
    }

    // MARK: - Expressions

    func eval(_ e: Expr, _ scope: Scope) throws -> JinjaValue {
        try enter(nil)
        defer { nesting -= 1 }
        return try evalNode(e, scope)
    }

    private func evalNode(_ e: Expr, _ scope: Scope) throws -> JinjaValue {
        switch e {
        case .constant(let v):
            return v
        case .name(let n, _):
            return scope.lookup(n) ?? .undefinedName(n)
        case .list(let items):
            return .list(JinjaList(try items.map { try eval($0, scope) }))
        case .tuple(let items):
            return .tuple(try items.map { try eval($0, scope) })
        case .dict(let pairs):
            let d = JinjaDict()
            for (k, v) in pairs {
                let key = try eval(k, scope)
                guard d.set(key, try eval(v, scope)) else { throw typeError("unhashable type: '\(key.typeName)'") }
            }
            return .dict(d)
        case .attribute(let objExpr, let name, let pos):
            let obj = try eval(objExpr, scope)
            return try located(pos) { try getAttribute(obj, name) }
        case .item(let objExpr, let keyExpr, let pos):
            let obj = try eval(objExpr, scope)
            let key = try eval(keyExpr, scope)
            return try located(pos) { try getItem(obj, key) }
        case .slice(let objExpr, let start, let stop, let step, let pos):
            let obj = try eval(objExpr, scope)
            let a = try start.map { try eval($0, scope) }
            let b = try stop.map { try eval($0, scope) }
            let c = try step.map { try eval($0, scope) }
            return try located(pos) { try slice(obj, a, b, c) }
        case .call(let calleeExpr, let argExprs, let pos):
            let callee = try eval(calleeExpr, scope)
            let args = try arguments(argExprs, scope)
            return try callValue(callee, args, pos)
        case .filter(let valueExpr, let name, let argExprs, let pos):
            let v = try eval(valueExpr, scope)
            return try applyFilter(name, v, try arguments(argExprs, scope), pos)
        case .test(let valueExpr, let name, let argExprs, let negated, let pos):
            let v = try eval(valueExpr, scope)
            let result = try applyTest(name, v, try arguments(argExprs, scope), pos)
            return .bool(result != negated)
        case .unary(let op, let operandExpr, let pos):
            let v = try eval(operandExpr, scope)
            return try located(pos) { try unary(op, v) }
        case .binary(let op, let l, let r, let pos):
            let a = try eval(l, scope)
            let b = try eval(r, scope)
            return try located(pos) { try binary(op, a, b) }
        case .and(let l, let r):
            let a = try eval(l, scope)
            return a.isTruthy ? try eval(r, scope) : a
        case .or(let l, let r):
            let a = try eval(l, scope)
            return a.isTruthy ? a : try eval(r, scope)
        case .not(let x):
            return .bool(!(try eval(x, scope).isTruthy))
        case .compare(let first, let ops, let pos):
            var left = try eval(first, scope)
            for (op, rightExpr) in ops {
                let right = try eval(rightExpr, scope)
                let ok = try located(pos) { try compare(op, left, right) }
                if !ok { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let test, let then, let otherwise):
            if try eval(test, scope).isTruthy { return try eval(then, scope) }
            if let o = otherwise { return try eval(o, scope) }
            return .undefined(JinjaUndefined(message: "the inline if-expression evaluated to false and no else section was defined"))
        case .concat(let items, _):
            var s = ""
            for item in items { s = try checkedSize(s + eval(item, scope).pythonString) }
            return .string(s)
        }
    }

    func arguments(_ exprs: [Argument], _ scope: Scope) throws -> JinjaArguments {
        var args = JinjaArguments()
        for a in exprs {
            switch a {
            case .positional(let e): args.positional.append(try eval(e, scope))
            case .keyword(let k, let e): args.keyword.append((k, try eval(e, scope)))
            case .star(let e): args.positional += try iterate(try eval(e, scope))
            case .doubleStar(let e):
                guard case .dict(let d) = try eval(e, scope) else { throw typeError("argument after ** must be a mapping") }
                for (k, v) in d.pairs { args.keyword.append((k.pythonString, v)) }
            }
        }
        return args
    }

    func callValue(_ callee: JinjaValue, _ args: JinjaArguments, _ pos: SourcePosition) throws -> JinjaValue {
        try located(pos) {
            switch callee {
            case .callable(let c): return try c.body(self, args)
            case .undefined(let u): throw TemplateError(u.isSecurity ? .security : .undefined, u.message)
            default: throw typeError("'\(callee.typeName)' object is not callable")
            }
        }
    }

    func applyFilter(_ name: String, _ value: JinjaValue, _ args: JinjaArguments, _ pos: SourcePosition) throws -> JinjaValue {
        try located(pos) {
            guard let f = Filters.table[name] else { throw runtimeError("No filter named '\(name)' found.") }
            return try f(self, value, args)
        }
    }

    func applyTest(_ name: String, _ value: JinjaValue, _ args: JinjaArguments, _ pos: SourcePosition) throws -> Bool {
        try located(pos) {
            guard let t = Tests.table[name] else { throw runtimeError("No test named '\(name)' found.") }
            return try t(self, value, args)
        }
    }

    // MARK: - Value operations

    /// Python iteration: lists/tuples by item, dicts by key, strings by code point.
    func iterate(_ v: JinjaValue) throws -> [JinjaValue] {
        switch v.demarked {
        case .list(let l): return l.items
        case .tuple(let t): return t
        case .dict(let d): return d.keys
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        case .object(let g as JinjaGenerator): return try g.consume()
        case .object(let o) where o is JinjaNamespace: throw typeError("'Namespace' object is not iterable")
        default: throw typeError("'\(v.typeName)' object is not iterable")
        }
    }

    func getAttribute(_ obj: JinjaValue, _ name: String) throws -> JinjaValue {
        switch obj {
        case .undefined(let u):
            throw TemplateError(.undefined, u.message)
        case .dict(let d):
            if let m = Methods.bound(obj, name, self) { return m }
            return d[name] ?? missingAttribute(obj, name)
        case .object(let o):
            return o.attribute(name) ?? missingAttribute(obj, name)
        default:
            return Methods.bound(obj, name, self) ?? missingAttribute(obj, name)
        }
    }

    func missingAttribute(_ obj: JinjaValue, _ name: String) -> JinjaValue {
        let owner = obj.isNone ? "'None'" : "'\(obj.typeName) object'"
        return .undefined(JinjaUndefined(message: "\(owner) has no attribute '\(name)'"))
    }

    func getItem(_ markedObj: JinjaValue, _ markedKey: JinjaValue) throws -> JinjaValue {
        let obj = markedObj.demarked, key = markedKey.demarked
        switch obj {
        case .undefined(let u):
            throw TemplateError(.undefined, u.message)
        case .dict(let d):
            if let v = d[key] { return v }
        case .list(let l):
            if let i = intIndex(key), let j = normalize(i, l.items.count) { return l.items[j] }
        case .tuple(let t):
            if let i = intIndex(key), let j = normalize(i, t.count) { return t[j] }
        case .string(let s):
            if let i = intIndex(key) {
                let scalars = Array(s.unicodeScalars)
                if let j = normalize(i, scalars.count) { return .string(String(scalars[j])) }
            }
        case .object(let o):
            if case .string(let name) = key, let v = o.attribute(name) { return v }
        default:
            break
        }
        if case .string(let name) = key, let m = Methods.bound(obj, name, self) { return m }
        if case .string(let name) = key { return missingAttribute(obj, name) }
        let owner = obj.isNone ? "None" : "\(obj.typeName) object"
        return .undefined(JinjaUndefined(message: "\(owner) has no element \(key.pythonRepr)"))
    }

    private func intIndex(_ key: JinjaValue) -> Int? {
        switch key {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    private func normalize(_ i: Int, _ count: Int) -> Int? {
        let j = i < 0 ? i + count : i
        return j >= 0 && j < count ? j : nil
    }

    func slice(_ obj: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?) throws -> JinjaValue {
        func bound(_ v: JinjaValue?) throws -> Int? {
            guard let v, !v.isNone else { return nil }
            guard let i = intIndex(v) else { throw typeError("slice indices must be integers or None") }
            return i
        }
        let a = try bound(start), b = try bound(stop), c = try bound(step)
        switch obj.demarked {
        case .list(let l): return .list(JinjaList(try sliceArray(l.items, a, b, c)))
        case .tuple(let t): return .tuple(try sliceArray(t, a, b, c))
        case .string(let s):
            let scalars = try sliceArray(Array(s.unicodeScalars), a, b, c)
            return .string(String(String.UnicodeScalarView(scalars)))
        case .undefined(let u): throw TemplateError(.undefined, u.message)
        default: return .undefined(JinjaUndefined(message: "'\(obj.typeName)' object is not subscriptable"))
        }
    }

    func unary(_ op: UnaryOperator, _ v: JinjaValue) throws -> JinjaValue {
        switch (op, v) {
        case (_, .undefined(let u)): throw TemplateError(.undefined, u.message)
        case (.negate, .int(let i)):
            guard i != .min else { throw runtimeError("integer overflow") }  // -Int.min does not fit
            return .int(-i)
        case (.negate, .bool(let b)): return .int(b ? -1 : 0)
        case (.negate, .float(let d)): return .float(-d)
        case (.plus, .int), (.plus, .float): return v
        case (.plus, .bool(let b)): return .int(b ? 1 : 0)
        default: throw typeError("bad operand type for unary \(op == .negate ? "-" : "+"): '\(v.typeName)'")
        }
    }

    func binary(_ op: BinaryOperator, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        if case .undefined(let u) = a { throw TemplateError(.undefined, u.message) }
        if case .undefined(let u) = b { throw TemplateError(.undefined, u.message) }
        if let marked = try markupArithmetic(op, a, b) { return marked }
        let a = a.demarked, b = b.demarked
        if op == .modulo, case .string(let fmt) = a { return .string(try percentFormat(fmt, b)) }
        switch (op, a, b) {
        case (.add, .string(let x), .string(let y)):
            try checkGrowth(1, x.utf8.count + y.utf8.count)
            return .string(x + y)
        case (.add, .list(let x), .list(let y)):
            try checkGrowth(1, x.items.count + y.items.count)
            return .list(JinjaList(x.items + y.items))
        case (.add, .tuple(let x), .tuple(let y)): return .tuple(x + y)
        case (.multiply, .string(let s), _), (.multiply, _, .string(let s)):
            guard let n = integerValue(op == .multiply && a.stringValue != nil ? b : a) else { break }
            // Overflow-checked: `'ab' * 9223372036854775807` must be a limit error, not a trap.
            let (bytes, overflow) = s.utf8.count.multipliedReportingOverflow(by: n)
            guard n <= 0 || (!overflow && bytes <= limits.maxOutputBytes) else {
                throw TemplateError(.limit, "string repetition too large")
            }
            return .string(n > 0 ? String(repeating: s, count: n) : "")
        case (.multiply, .list(let l), _):
            guard let n = integerValue(b) else { break }
            let (count, overflow) = l.items.count.multipliedReportingOverflow(by: n)
            guard n <= 0 || (!overflow && count <= limits.maxOutputBytes) else {
                throw TemplateError(.limit, "list repetition too large")
            }
            return .list(JinjaList(n > 0 ? Array(repeating: l.items, count: n).flatMap { $0 } : []))
        default: break
        }
        if let x = integerValue(a), let y = integerValue(b) { return try intArithmetic(op, x, y) }
        if let x = floatValue(a), let y = floatValue(b) { return try floatArithmetic(op, x, y) }
        if op == .add, case .string = a {
            throw typeError("can only concatenate str (not \"\(b.typeName)\") to str")
        }
        if op == .add, case .list = a {
            throw typeError("can only concatenate list (not \"\(b.typeName)\") to list")
        }
        throw typeError("unsupported operand type(s) for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'")
    }

    /// `Markup + str` and `str + Markup` escape the plain side (markupsafe semantics).
    private func markupArithmetic(_ op: BinaryOperator, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue? {
        switch (op, a, b) {
        case (.add, .markup(let x), .markup(let y)): return .markup(x + y)
        case (.add, .markup(let x), .string(let y)): return .markup(x + htmlEscape(y))
        case (.add, .string(let x), .markup(let y)): return .markup(htmlEscape(x) + y)
        case (.add, .markup, _): throw typeError("can only concatenate str (not \"\(b.typeName)\") to str")
        case (.modulo, .markup(let fmt), _):
            let escaped: JinjaValue
            switch b {
            case .tuple(let t): escaped = .tuple(t.map { $0.isMarkupSafe ? $0 : .string(htmlEscape($0.pythonString)) })
            default: escaped = b.isMarkupSafe ? b : .string(htmlEscape(b.pythonString))
            }
            return .markup(try percentFormat(fmt, escaped))
        default: return nil
        }
    }

    private func intArithmetic(_ op: BinaryOperator, _ x: Int, _ y: Int) throws -> JinjaValue {
        func checked(_ r: (Int, Bool)) throws -> JinjaValue {
            if r.1 { throw runtimeError("integer overflow") }
            return .int(r.0)
        }
        switch op {
        case .add: return try checked(x.addingReportingOverflow(y))
        case .subtract: return try checked(x.subtractingReportingOverflow(y))
        case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
        case .divide:
            guard y != 0 else { throw runtimeError("division by zero") }
            return .float(Double(x) / Double(y))
        case .floorDivide:
            guard y != 0 else { throw runtimeError("integer division or modulo by zero") }
            // Int.min // -1 is the one quotient that does not fit.
            guard !(x == .min && y == -1) else { throw runtimeError("integer overflow") }
            let q = x / y
            return .int((x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q)
        case .modulo:
            guard y != 0 else { throw runtimeError("integer division or modulo by zero") }
            if y == -1 { return .int(0) }  // Int.min % -1 traps in Swift; the answer is 0 for every x.
            let r = x % y
            return .int(r != 0 && ((r < 0) != (y < 0)) ? r + y : r)
        case .power:
            if y < 0 { return .float(pow(Double(x), Double(y))) }
            var result = 1
            for _ in 0..<min(y, 64) {
                let (r, o) = result.multipliedReportingOverflow(by: x)
                if o { throw runtimeError("integer overflow") }
                result = r
            }
            if y > 64 && abs(x) > 1 { throw runtimeError("integer overflow") }
            return .int(result)
        }
    }

    private func floatArithmetic(_ op: BinaryOperator, _ x: Double, _ y: Double) throws -> JinjaValue {
        switch op {
        case .add: return .float(x + y)
        case .subtract: return .float(x - y)
        case .multiply: return .float(x * y)
        case .divide:
            guard y != 0 else { throw runtimeError("float division by zero") }
            return .float(x / y)
        case .floorDivide:
            guard y != 0 else { throw runtimeError("float floor division by zero") }
            return .float((x / y).rounded(.down))
        case .modulo:
            guard y != 0 else { throw runtimeError("float modulo") }
            let r = x.truncatingRemainder(dividingBy: y)
            return .float(r != 0 && ((r < 0) != (y < 0)) ? r + y : r)
        case .power: return .float(pow(x, y))
        }
    }

    func compare(_ op: CompareOperator, _ a: JinjaValue, _ b: JinjaValue) throws -> Bool {
        switch op {
        case .eq: return pythonEquals(a, b)
        case .ne: return !pythonEquals(a, b)
        case .isIn: return try contains(b, a)
        case .notIn: return !(try contains(b, a))
        case .lt: return try pythonLess(a, b)
        case .gt: return try pythonLess(b, a)
        case .le: return try pythonLess(a, b) || pythonEquals(a, b)
        case .ge: return try pythonLess(b, a) || pythonEquals(a, b)
        }
    }

    func contains(_ markedContainer: JinjaValue, _ markedItem: JinjaValue) throws -> Bool {
        let container = markedContainer.demarked, item = markedItem.demarked
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else {
                if case .undefined(let u) = item { throw TemplateError(.undefined, u.message) }
                throw typeError("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return pythonContains(s, sub)
        case .list(let l): return l.items.contains { pythonEquals($0, item) }
        case .tuple(let t): return t.contains { pythonEquals($0, item) }
        case .dict(let d):
            if JinjaKey(item) == nil, !item.isUndefined { throw typeError("unhashable type: '\(item.typeName)'") }
            return d[item] != nil
        case .undefined: return false
        case .object(let g as JinjaGenerator): return try g.consume().contains { pythonEquals($0, item) }
        default: throw typeError("argument of type '\(container.typeName)' is not iterable")
        }
    }
}

// MARK: - Python value semantics shared by filters and methods

/// Python's `int(x)` for a finite float (truncation toward zero). Python answers with a big
/// integer beyond 64 bits; we refuse instead of trapping.
func integerFromFloat(_ d: Double) throws -> Int {
    guard let i = Int(exactly: d.rounded(.towardZero)) else { throw runtimeError("integer too large: \(d)") }
    return i
}

func integerValue(_ v: JinjaValue) -> Int? {
    switch v {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    default: return nil
    }
}

func floatValue(_ v: JinjaValue) -> Double? {
    switch v {
    case .int(let i): return Double(i)
    case .bool(let b): return b ? 1 : 0
    case .float(let d): return d
    default: return nil
    }
}

/// Python `==`.
func pythonEquals(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
    switch (a.demarked, b.demarked) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
    case (.list(let x), .list(let y)): return x === y || (x.items.count == y.items.count && zip(x.items, y.items).allSatisfy { pythonEquals($0, $1) })
    case (.tuple(let x), .tuple(let y)): return x.count == y.count && zip(x, y).allSatisfy { pythonEquals($0, $1) }
    case (.dict(let x), .dict(let y)):
        guard x.count == y.count else { return false }
        for (k, v) in x.pairs { guard let w = y[k], pythonEquals(v, w) else { return false } }
        return true
    case (.callable(let x), .callable(let y)): return x === y
    case (.object(let x), .object(let y)): return x === y
    default:
        if let x = integerValue(a), let y = integerValue(b) { return x == y }
        if let x = floatValue(a), let y = floatValue(b) { return x == y }
        return false
    }
}

/// Python `<`, raising TypeError for unorderable types.
func pythonLess(_ a: JinjaValue, _ b: JinjaValue) throws -> Bool {
    switch (a.demarked, b.demarked) {
    case (.undefined(let u), _), (_, .undefined(let u)): throw TemplateError(.undefined, u.message)
    case (.string(let x), .string(let y)): return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
    case (.list(let x), .list(let y)): return try sequenceLess(x.items, y.items)
    case (.tuple(let x), .tuple(let y)): return try sequenceLess(x, y)
    default:
        if let x = integerValue(a), let y = integerValue(b) { return x < y }
        if let x = floatValue(a), let y = floatValue(b) { return x < y }
        throw typeError("'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
    }
}

private func sequenceLess(_ x: [JinjaValue], _ y: [JinjaValue]) throws -> Bool {
    for (p, q) in zip(x, y) where !pythonEquals(p, q) { return try pythonLess(p, q) }
    return x.count < y.count
}

/// Python slice semantics (negative indices, negative steps, clamping).
func sliceArray<T>(_ items: [T], _ start: Int?, _ stop: Int?, _ step: Int?) throws -> [T] {
    let n = items.count
    let s = step ?? 1
    guard s != 0 else { throw runtimeError("slice step cannot be zero") }
    func clamp(_ v: Int?, _ def: Int, _ lo: Int, _ hi: Int) -> Int {
        guard var v else { return def }
        if v < 0 { v += n }
        return min(max(v, lo), hi)
    }
    var out: [T] = []
    if s > 0 {
        var i = clamp(start, 0, 0, n)
        let end = clamp(stop, n, 0, n)
        while i < end {
            out.append(items[i])
            let (next, overflow) = i.addingReportingOverflow(s)
            if overflow { break }
            i = next
        }
    } else {
        var i = clamp(start, n - 1, -1, n - 1)
        let end = clamp(stop, -1, -1, n - 1)
        while i > end { out.append(items[i]); i += s }
    }
    return out
}
