/// Recursive-descent parser following jinja2's grammar and operator precedence
/// (or < and < not < comparisons < + - < ~ < * / // % < ** < unary < postfix/filters/tests).
struct JinjaParser {
    private let tokens: [Token]
    private let lineMap: LineMap
    private var index = 0
    private var depth = 0
    /// Inside an `if` (or inline if) jinja2 defers unknown filters/tests to render time; elsewhere
    /// they are compile errors.
    private var soft = false
    /// Unknown filters/tests seen outside soft contexts. They become an error at the end of
    /// parsing unless an inline `if` turns out to enclose them (`x|f if c else y` is soft too).
    private var unknownNames: [TemplateError] = []
    /// Names read inside each macro body being parsed (innermost last).
    private var macroNames: [Set<String>] = []
    private static let maxDepth = 200

    init(tokens: [Token], lineMap: LineMap) {
        self.tokens = tokens
        self.lineMap = lineMap
    }

    mutating func parseTemplate() throws -> [Node] {
        let (body, end) = try parseBody(until: [])
        if let end { throw fail("unexpected '\(end)' tag", at: tokens[index].offset) }
        if let first = unknownNames.first { throw first }
        return body
    }

    // MARK: - Token helpers

    private var current: Token { tokens[index] }
    private var position: SourcePosition { lineMap.position(current.offset) }

    private func fail(_ message: String, at offset: Int? = nil) -> TemplateError {
        TemplateError(.syntax, message, at: lineMap.position(offset ?? tokens[index].offset))
    }

    private func describe(_ kind: Token.Kind) -> String {
        switch kind {
        case .text: return "text"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .name(let n): return n
        case .string(let s): return "'\(s)'"
        case .integer(let i): return String(i)
        case .float(let d): return String(d)
        case .op(let o): return o
        case .eof: return "end of template"
        }
    }

    private func isOp(_ op: String) -> Bool { if case .op(let o) = current.kind, o == op { return true } else { return false } }
    private func isName(_ name: String) -> Bool { if case .name(let n) = current.kind, n == name { return true } else { return false } }
    private func peekIsName(_ name: String, _ ahead: Int = 1) -> Bool {
        guard index + ahead < tokens.count, case .name(let n) = tokens[index + ahead].kind else { return false }
        return n == name
    }

    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private mutating func skipOp(_ op: String) -> Bool { if isOp(op) { advance(); return true }; return false }
    private mutating func skipName(_ name: String) -> Bool { if isName(name) { advance(); return true }; return false }

    private mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw fail("expected '\(op)', got '\(describe(current.kind))'") }
    }

    private mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else { throw fail("expected a name, got '\(describe(current.kind))'") }
        advance()
        return n
    }

    private mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else { throw fail("expected end of statement block, got '\(describe(current.kind))'") }
        advance()
    }

    // MARK: - Statements

    /// Parses nodes until a block tag whose keyword is in `until`; returns the keyword found (the
    /// parser stands just after it), or nil at end of template.
    private mutating func parseBody(until endings: Set<String>) throws -> ([Node], String?) {
        var nodes: [Node] = []
        while true {
            switch current.kind {
            case .eof:
                return (nodes, nil)
            case .text(let s):
                nodes.append(.text(s))
                advance()
            case .variableBegin:
                let pos = position
                advance()
                let e = try parseTuple()
                guard current.kind == .variableEnd else { throw fail("expected end of print statement, got '\(describe(current.kind))'") }
                advance()
                nodes.append(.output(e, pos))
            case .blockBegin:
                let beginOffset = current.offset
                advance()
                guard case .name(let keyword) = current.kind else { throw fail("expected a statement name") }
                if endings.contains(keyword) {
                    advance()
                    return (nodes, keyword)
                }
                if let node = try parseStatement(keyword, beginOffset) { nodes.append(node) }
            default:
                throw fail("unexpected '\(describe(current.kind))'")
            }
        }
    }

    private mutating func parseStatement(_ keyword: String, _ begin: Int) throws -> Node? {
        let pos = lineMap.position(begin)
        depth += 1
        defer { depth -= 1 }
        guard depth < JinjaParser.maxDepth else { throw fail("statements nested too deeply") }
        advance()  // keyword
        switch keyword {
        case "for": return try parseFor(pos)
        case "if": return try parseIf()
        case "set": return try parseSet(pos)
        case "macro": return try parseMacro(pos)
        case "call": return try parseCallBlock(pos)
        case "filter": return try parseFilterBlock(pos)
        case "generation":
            // Hugging Face's assistant-mask marker: render the body unchanged.
            try expectBlockEnd()
            let (body, end) = try withSoft(false) { try $0.parseBody(until: ["endgeneration"]) }
            guard end != nil else { throw fail("missing endgeneration for generation block", at: begin) }
            try expectBlockEnd()
            return .filterBlock([], body, pos)
        case "break":
            try expectBlockEnd()
            return .breakLoop(pos)
        case "continue":
            try expectBlockEnd()
            return .continueLoop(pos)
        case "endfor", "endif", "endmacro", "endset", "endcall", "endfilter", "endgeneration", "else", "elif":
            throw fail("unexpected '\(keyword)' tag", at: begin)
        default:
            throw fail("unsupported template construct '\(keyword)'", at: begin)
        }
    }

    private mutating func withSoft<T>(_ value: Bool, _ body: (inout JinjaParser) throws -> T) rethrows -> T {
        let saved = soft
        soft = value
        defer { soft = saved }
        return try body(&self)
    }

    private mutating func parseFor(_ pos: SourcePosition) throws -> Node {
        let target = try parseAssignTarget(allowAttribute: false, endName: "in")
        guard skipName("in") else { throw fail("expected 'in' in for loop") }
        let iterable = try parseTuple(withCondition: false, endNames: ["recursive", "if"])
        var condition: Expr? = nil
        if skipName("if") { condition = try parseExpression() }
        if isName("recursive") { throw fail("recursive for loops are not supported") }
        try expectBlockEnd()
        let (body, end) = try withSoft(false) { try $0.parseBody(until: ["endfor", "else"]) }
        var elseBody: [Node] = []
        if end == "else" {
            try expectBlockEnd()
            let (e, end2) = try withSoft(false) { try $0.parseBody(until: ["endfor"]) }
            guard end2 != nil else { throw fail("missing endfor") }
            elseBody = e
        } else if end == nil {
            throw fail("missing endfor for for loop opened at \(pos)")
        }
        try expectBlockEnd()
        return .forLoop(ForNode(target: target, iterable: iterable, condition: condition, body: body, elseBody: elseBody, position: pos))
    }

    private mutating func parseIf() throws -> Node {
        try withSoft(true) { p in
            var branches: [(Expr, [Node])] = []
            var test = try p.parseTuple()
            while true {
                try p.expectBlockEnd()
                let (body, end) = try p.parseBody(until: ["elif", "else", "endif"])
                branches.append((test, body))
                switch end {
                case "elif":
                    test = try p.parseTuple()
                case "else":
                    try p.expectBlockEnd()
                    let (e, end2) = try p.parseBody(until: ["endif"])
                    guard end2 != nil else { throw p.fail("missing endif") }
                    try p.expectBlockEnd()
                    return .ifChain(branches, otherwise: e)
                case "endif":
                    try p.expectBlockEnd()
                    return .ifChain(branches, otherwise: [])
                default:
                    throw p.fail("missing endif")
                }
            }
        }
    }

    private mutating func parseSet(_ pos: SourcePosition) throws -> Node {
        let target = try parseAssignTarget(allowAttribute: true, endName: nil)
        if skipOp("=") {
            let value = try parseTuple()
            try expectBlockEnd()
            return .set(target, value, pos)
        }
        let filters = try parseFilterChain(inline: false)
        try expectBlockEnd()
        let (body, end) = try withSoft(false) { try $0.parseBody(until: ["endset"]) }
        guard end != nil else { throw fail("missing endset") }
        try expectBlockEnd()
        return .setBlock(target, body, filters, pos)
    }

    private mutating func parseMacro(_ pos: SourcePosition) throws -> Node {
        let name = try expectName()
        let params = try parseSignature()
        try expectBlockEnd()
        macroNames.append([])
        let (body, end) = try withSoft(false) { try $0.parseBody(until: ["endmacro"]) }
        let names = macroNames.removeLast()
        if !macroNames.isEmpty { macroNames[macroNames.count - 1].formUnion(names) }
        guard end != nil else { throw fail("missing endmacro for macro '\(name)'") }
        if case .name = current.kind { advance() }  // {% endmacro name %}
        try expectBlockEnd()
        return .macro(MacroNode(name: name, parameters: params, body: body, position: pos,
                                usesVarargs: names.contains("varargs"), usesKwargs: names.contains("kwargs")))
    }

    private mutating func parseSignature() throws -> [MacroParameter] {
        var params: [MacroParameter] = []
        guard isOp("(") else { return params }
        try expectOp("(")
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            var def: Expr? = nil
            if skipOp("=") { def = try parseExpression() }
            params.append(MacroParameter(name: name, defaultValue: def))
        }
        try expectOp(")")
        return params
    }

    private mutating func parseCallBlock(_ pos: SourcePosition) throws -> Node {
        let params = isOp("(") ? try parseSignature() : []
        let call = try parseExpression()
        guard case .call = call else { throw fail("expected a call expression in call block") }
        try expectBlockEnd()
        let (body, end) = try withSoft(false) { try $0.parseBody(until: ["endcall"]) }
        guard end != nil else { throw fail("missing endcall") }
        try expectBlockEnd()
        return .callBlock(call: call, callerParameters: params, body: body, pos)
    }

    private mutating func parseFilterBlock(_ pos: SourcePosition) throws -> Node {
        let filters = try parseFilterChain(inline: true)
        try expectBlockEnd()
        let (body, end) = try withSoft(false) { try $0.parseBody(until: ["endfilter"]) }
        guard end != nil else { throw fail("missing endfilter") }
        try expectBlockEnd()
        return .filterBlock(filters, body, pos)
    }

    /// `name(args) | name2 ...`; with `inline` the first filter has no leading pipe.
    private mutating func parseFilterChain(inline: Bool) throws -> [FilterCall] {
        var filters: [FilterCall] = []
        var first = inline
        while first || isOp("|") {
            if !first { advance() }
            first = false
            let pos = position
            let name = try expectName()
            try checkKnown(name, isFilter: true)
            let args = isOp("(") ? try parseCallArguments() : []
            filters.append(FilterCall(name: name, arguments: args, position: pos))
        }
        return filters
    }

    private mutating func parseAssignTarget(allowAttribute: Bool, endName: String?) throws -> AssignTarget {
        var targets: [AssignTarget] = []
        var isTuple = false
        let parenthesized = skipOp("(")
        while true {
            let pos = position
            let name = try expectName()
            if allowAttribute, skipOp(".") {
                let attr = try expectName()
                targets.append(.attribute(.name(name, pos), attr, pos))
            } else {
                targets.append(.name(name))
            }
            if isOp(",") {
                isTuple = true
                advance()
                if let endName, isName(endName) { break }
                if parenthesized, isOp(")") { break }
                continue
            }
            break
        }
        if parenthesized { try expectOp(")"); isTuple = true }
        return isTuple ? .tuple(targets) : targets[0]
    }

    // MARK: - Expressions

    /// A possibly comma-separated expression list (a tuple without parentheses).
    private mutating func parseTuple(withCondition: Bool = true, endNames: Set<String> = [], explicitParens: Bool = false) throws -> Expr {
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(endNames) { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let first = items.first { return first }
            if !explicitParens { throw fail("expected an expression, got '\(describe(current.kind))'") }
        }
        return .tuple(items)
    }

    private func isTupleEnd(_ endNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case .op(let o): return o == ")" || o == "]" || o == "}"
        case .name(let n): return endNames.contains(n)
        default: return false
        }
    }

    mutating func parseExpression() throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        guard depth < JinjaParser.maxDepth else { throw fail("expression nested too deeply") }
        let unknownBefore = unknownNames.count
        var expr = try parseOr()
        if isName("if") { unknownNames.removeSubrange(unknownBefore...) }
        while skipName("if") {
            let savedSoft = soft
            soft = true
            defer { soft = savedSoft }
            let test = try parseOr()
            var otherwise: Expr? = nil
            if skipName("else") { otherwise = try parseExpression() }
            expr = .conditional(test: test, then: expr, otherwise: otherwise)
        }
        return expr
    }

    private mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while skipName("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while skipName("and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        if skipName("not") { return .not(try nested { try $0.parseNot() }) }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        let pos = position
        let first = try parseMath1()
        var ops: [(CompareOperator, Expr)] = []
        while true {
            if case .op(let o) = current.kind, let op = CompareOperator(rawValue: o), op != .isIn, op != .notIn {
                advance()
                ops.append((op, try parseMath1()))
            } else if skipName("in") {
                ops.append((.isIn, try parseMath1()))
            } else if isName("not"), peekIsName("in") {
                advance(); advance()
                ops.append((.notIn, try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? first : .compare(first, ops, pos)
    }

    private mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        while case .op(let o) = current.kind, o == "+" || o == "-" {
            let pos = position
            advance()
            left = .binary(o == "+" ? .add : .subtract, left, try parseConcat(), pos)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        let pos = position
        var items = [try parseMath2()]
        while skipOp("~") { items.append(try parseMath2()) }
        return items.count == 1 ? items[0] : .concat(items, pos)
    }

    private mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        while case .op(let o) = current.kind, let op = BinaryOperator(rawValue: o), [.multiply, .divide, .floorDivide, .modulo].contains(op) {
            let pos = position
            advance()
            left = .binary(op, left, try parsePow(), pos)
        }
        return left
    }

    private mutating func parsePow() throws -> Expr {
        var left = try parseUnary(withFilter: true)
        while isOp("**") {
            let pos = position
            advance()
            left = .binary(.power, left, try parseUnary(withFilter: true), pos)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws -> Expr {
        let pos = position
        var node: Expr
        if skipOp("-") {
            node = .unary(.negate, try nested { try $0.parseUnary(withFilter: false) }, pos)
        } else if skipOp("+") {
            node = .unary(.plus, try nested { try $0.parseUnary(withFilter: false) }, pos)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpression(node) }
        return node
    }

    /// Parses one prefix operator's operand a level deeper: runs of `not` or `-` recurse once
    /// per operator, so they count toward `maxDepth` like brackets do.
    private mutating func nested(_ operand: (inout JinjaParser) throws -> Expr) throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        guard depth < JinjaParser.maxDepth else { throw fail("expression nested too deeply") }
        return try operand(&self)
    }

    private mutating func parsePrimary() throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        guard depth < JinjaParser.maxDepth else { throw fail("expression nested too deeply") }
        let pos = position
        switch current.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .constant(.bool(true))
            case "false", "False": return .constant(.bool(false))
            case "none", "None": return .constant(.none)
            default:
                if !macroNames.isEmpty { macroNames[macroNames.count - 1].insert(n) }
                return .name(n, pos)
            }
        case .string(let s):
            advance()
            var text = s
            while case .string(let more) = current.kind { text += more; advance() }
            return .constant(.string(text))
        case .integer(let i):
            advance()
            return .constant(.int(i))
        case .float(let d):
            advance()
            return .constant(.float(d))
        case .op("("):
            advance()
            let e = try parseTuple(explicitParens: true)
            try expectOp(")")
            return e
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            advance()
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let k = try parseExpression()
                try expectOp(":")
                pairs.append((k, try parseExpression()))
            }
            try expectOp("}")
            return .dict(pairs)
        default:
            throw fail("unexpected '\(describe(current.kind))'")
        }
    }

    private mutating func parsePostfix(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            let pos = position
            if skipOp(".") {
                switch current.kind {
                case .name(let n): advance(); node = .attribute(node, n, pos)
                case .integer(let i): advance(); node = .item(node, .constant(.int(i)), pos)
                default: throw fail("expected name or number after '.'")
                }
            } else if skipOp("[") {
                var args: [Expr] = []
                while !isOp("]") {
                    if !args.isEmpty { try expectOp(",") }
                    args.append(try parseSubscribed(node, pos))
                }
                try expectOp("]")
                guard !args.isEmpty else { throw fail("expected subscript expression") }
                if args.count == 1 {
                    if case .slice = args[0] { node = args[0] } else { node = .item(node, args[0], pos) }
                } else {
                    node = .item(node, .tuple(args), pos)
                }
            } else if isOp("(") {
                node = .call(node, try parseCallArguments(), pos)
            } else {
                return node
            }
        }
    }

    /// One subscript: an expression or a slice `a:b:c` (returned as `.slice` on `target`).
    private mutating func parseSubscribed(_ target: Expr, _ pos: SourcePosition) throws -> Expr {
        var start: Expr? = nil
        if !isOp(":") {
            let e = try parseExpression()
            if !isOp(":") { return e }
            start = e
        }
        advance()  // ':'
        var stop: Expr? = nil
        if !isOp(":"), !isOp("]"), !isOp(",") { stop = try parseExpression() }
        var step: Expr? = nil
        if skipOp(":") {
            if !isOp("]"), !isOp(",") { step = try parseExpression() }
        }
        return .slice(target, start: start, stop: stop, step: step, pos)
    }

    private mutating func parseCallArguments() throws -> [Argument] {
        try expectOp("(")
        var args: [Argument] = []
        while !isOp(")") {
            if !args.isEmpty {
                try expectOp(",")
                if isOp(")") { break }
            }
            if skipOp("*") {
                args.append(.star(try parseExpression()))
            } else if skipOp("**") {
                args.append(.doubleStar(try parseExpression()))
            } else if case .name(let n) = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .op("=") {
                advance(); advance()
                args.append(.keyword(n, try parseExpression()))
            } else {
                args.append(.positional(try parseExpression()))
            }
        }
        try expectOp(")")
        return args
    }

    private mutating func parseFilterExpression(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            let pos = position
            if skipOp("|") {
                let name = try expectName()
                try checkKnown(name, isFilter: true)
                let args = isOp("(") ? try parseCallArguments() : []
                node = .filter(node, name: name, args, pos)
            } else if skipName("is") {
                let negated = skipName("not")
                let name = try expectName()
                try checkKnown(name, isFilter: false)
                var args: [Argument] = []
                if isOp("(") {
                    args = try parseCallArguments()
                } else if startsTestArgument() {
                    if isName("is") { throw fail("You cannot chain multiple tests with is") }
                    args = [.positional(try parsePostfix(try parsePrimary()))]
                }
                node = .test(node, name: name, args, negated: negated, pos)
            } else if isOp("(") {
                node = .call(node, try parseCallArguments(), pos)
            } else {
                return node
            }
        }
    }

    private func startsTestArgument() -> Bool {
        switch current.kind {
        case .name(let n): return n != "else" && n != "or" && n != "and"
        case .string, .integer, .float: return true
        case .op(let o): return o == "(" || o == "[" || o == "{"
        default: return false
        }
    }

    private mutating func checkKnown(_ name: String, isFilter: Bool) throws {
        if soft { return }
        if isFilter ? Filters.table[name] == nil : Tests.table[name] == nil {
            unknownNames.append(fail("No \(isFilter ? "filter" : "test") named '\(name)'.", at: tokens[index - 1].offset))
        }
    }
}
