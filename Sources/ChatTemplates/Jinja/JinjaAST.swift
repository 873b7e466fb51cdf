/// The parsed form of a template: statements (`Node`) holding expressions (`Expr`).
/// Every node that can fail at render time carries its source position for error messages.
indirect enum Expr {
    case constant(JinjaValue)  // only immutable values: none, bool, numbers, strings
    case name(String, SourcePosition)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case attribute(Expr, String, SourcePosition)
    case item(Expr, Expr, SourcePosition)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?, SourcePosition)
    case call(Expr, [Argument], SourcePosition)
    case filter(Expr, name: String, [Argument], SourcePosition)
    case test(Expr, name: String, [Argument], negated: Bool, SourcePosition)
    case unary(UnaryOperator, Expr, SourcePosition)
    case binary(BinaryOperator, Expr, Expr, SourcePosition)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case not(Expr)
    case compare(Expr, [(CompareOperator, Expr)], SourcePosition)
    case conditional(test: Expr, then: Expr, otherwise: Expr?)
    case concat([Expr], SourcePosition)
}

enum Argument {
    case positional(Expr)
    case keyword(String, Expr)
    case star(Expr)
    case doubleStar(Expr)
}

enum UnaryOperator { case negate, plus }
enum BinaryOperator: String { case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**" }
enum CompareOperator: String { case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", isIn = "in", notIn = "not in" }

/// Left-hand side of `set` and `for` targets.
indirect enum AssignTarget {
    case name(String)
    case attribute(Expr, String, SourcePosition)  // ns.attr = value
    case tuple([AssignTarget])
}

struct FilterCall {
    var name: String
    var arguments: [Argument]
    var position: SourcePosition
}

final class ForNode {
    let target: AssignTarget
    let iterable: Expr
    let condition: Expr?
    let body: [Node]
    let elseBody: [Node]
    let position: SourcePosition
    init(target: AssignTarget, iterable: Expr, condition: Expr?, body: [Node], elseBody: [Node], position: SourcePosition) {
        self.target = target; self.iterable = iterable; self.condition = condition
        self.body = body; self.elseBody = elseBody; self.position = position
    }
}

struct MacroParameter {
    var name: String
    var defaultValue: Expr?
}

final class MacroNode {
    let name: String
    let parameters: [MacroParameter]
    let body: [Node]
    let position: SourcePosition
    /// Whether the body mentions `varargs` / `kwargs`: as in jinja2, only then may a call pass
    /// extra positional / keyword arguments (and only then are they collected).
    let usesVarargs: Bool
    let usesKwargs: Bool
    init(name: String, parameters: [MacroParameter], body: [Node], position: SourcePosition, usesVarargs: Bool = true, usesKwargs: Bool = true) {
        self.name = name; self.parameters = parameters; self.body = body; self.position = position
        self.usesVarargs = usesVarargs; self.usesKwargs = usesKwargs
    }
}

indirect enum Node {
    case text(String)
    case output(Expr, SourcePosition)
    case forLoop(ForNode)
    case ifChain([(Expr, [Node])], otherwise: [Node])
    case set(AssignTarget, Expr, SourcePosition)
    case setBlock(AssignTarget, [Node], [FilterCall], SourcePosition)
    case macro(MacroNode)
    /// `{% call(params) callee(args) %}body{% endcall %}`: body becomes `caller()`.
    case callBlock(call: Expr, callerParameters: [MacroParameter], body: [Node], SourcePosition)
    case filterBlock([FilterCall], [Node], SourcePosition)
    case breakLoop(SourcePosition)
    case continueLoop(SourcePosition)
}
