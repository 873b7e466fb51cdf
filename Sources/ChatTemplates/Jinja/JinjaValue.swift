import ChatAPI

/// A value inside a Jinja template, modelled on the Python objects jinja2 works with.
///
/// Lists and dicts are reference types (`JinjaList`, `JinjaDict`) because Python's are: a template
/// that mutates a list it got from a dict sees the change everywhere.
public enum JinjaValue {
    /// jinja2's default `Undefined`: prints as "", iterates as empty, is falsy; most other uses fail.
    case undefined(JinjaUndefined)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    /// A string marked safe (`|safe`, `|escape`): Python's `markupsafe.Markup`. Adding a plain
    /// string to it HTML-escapes the plain string, as jinja2 does even without autoescaping.
    case markup(String)
    case list(JinjaList)
    case tuple([JinjaValue])
    case dict(JinjaDict)
    /// A function, macro, bound method or global.
    case callable(JinjaCallable)
    /// Attribute-bearing objects without item access: `namespace()`, `loop`, cyclers.
    case object(JinjaObject)

    public static func undefinedName(_ name: String) -> JinjaValue {
        .undefined(JinjaUndefined(message: "'\(name)' is undefined"))
    }

    /// Python truthiness.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s), .markup(let s): return !s.isEmpty
        case .list(let l): return !l.items.isEmpty
        case .tuple(let t): return !t.isEmpty
        case .dict(let d): return d.count > 0
        case .callable, .object: return true
        }
    }

    /// True for `Markup` (and for numbers, which markupsafe never escapes).
    var isMarkupSafe: Bool {
        switch self {
        case .markup, .int, .float, .bool: return true
        default: return false
        }
    }

    public var isUndefined: Bool { if case .undefined = self { return true } else { return false } }
    public var isNone: Bool { if case .none = self { return true } else { return false } }
    var stringValue: String? {
        switch self {
        case .string(let s), .markup(let s): return s
        default: return nil
        }
    }

    /// The value with `Markup` turned into a plain string (for operations where they behave alike).
    var demarked: JinjaValue { if case .markup(let s) = self { return .string(s) } else { return self } }

    /// Python's type name, used in error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .markup: return "Markup"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .callable: return "function"
        case .object(let o): return o.typeName
        }
    }
}

/// The payload of an undefined value: the message used when something tries to use it.
public struct JinjaUndefined {
    public var message: String
    /// True for jinja2's "unsafe attribute" undefined (calling it is a SecurityError).
    public var isSecurity: Bool = false
    public init(message: String, isSecurity: Bool = false) {
        self.message = message
        self.isSecurity = isSecurity
    }
}

/// A Python list: ordered, mutable, shared by reference.
public final class JinjaList {
    public var items: [JinjaValue]
    public init(_ items: [JinjaValue] = []) { self.items = items }
}

/// A hashable projection of a Python dict key (numbers compare numerically, `True == 1`).
struct JinjaKey: Hashable {
    static func isHashable(_ value: JinjaValue) -> Bool {
        switch value {
        case .none, .bool, .int, .float, .string, .markup: return true
        case .tuple: return JinjaKey(value) != nil
        default: return false
        }
    }

    enum Kind: Hashable { case none, int(Int), float(Double), string(String), tuple([JinjaKey]) }
    let kind: Kind
    init?(_ value: JinjaValue) {
        switch value {
        case .none: kind = .none
        case .bool(let b): kind = .int(b ? 1 : 0)
        case .int(let i): kind = .int(i)
        case .float(let d):
            if d.isFinite, d == d.rounded(), abs(d) < 9e18 { kind = .int(Int(d)) } else { kind = .float(d) }
        case .string(let s), .markup(let s): kind = .string(s)
        case .tuple(let items):
            var keys: [JinjaKey] = []
            for item in items { guard let k = JinjaKey(item) else { return nil }; keys.append(k) }
            kind = .tuple(keys)
        default: return nil
        }
    }
}

/// A Python dict: insertion-ordered, mutable, shared by reference. Keys are strings, numbers,
/// None, booleans or tuples of those.
///
/// Chat-template dicts are small (a message, a tool schema), so lookups scan linearly; a hash
/// index is built only once a dict grows past `indexThreshold` keys.
public final class JinjaDict {
    public private(set) var keys: [JinjaValue] = []
    public private(set) var values: [JinjaValue] = []
    private var index: [JinjaKey: Int]? = nil
    private static let indexThreshold = 16

    public init() {}

    public var count: Int { keys.count }

    public subscript(key: String) -> JinjaValue? {
        get { self[.string(key)] }
    }

    public subscript(key: JinjaValue) -> JinjaValue? {
        guard let i = position(of: key) else { return nil }
        return values[i]
    }

    private func position(of key: JinjaValue) -> Int? {
        if let index {
            guard let k = JinjaKey(key) else { return nil }
            return index[k]
        }
        if case .string(let s) = key {
            for (i, k) in keys.enumerated() {
                if case .string(let t) = k, s.utf8.count == t.utf8.count, s.utf8.elementsEqual(t.utf8) { return i }
                if case .markup(let t) = k, s.utf8.elementsEqual(t.utf8) { return i }
            }
            return nil
        }
        guard let k = JinjaKey(key) else { return nil }
        for (i, other) in keys.enumerated() where JinjaKey(other) == k { return i }
        return nil
    }

    /// Inserts or replaces; returns false when the key is unhashable.
    @discardableResult
    public func set(_ key: JinjaValue, _ value: JinjaValue) -> Bool {
        guard JinjaKey.isHashable(key) else { return false }
        if let i = position(of: key) { values[i] = value; return true }
        keys.append(key)
        values.append(value)
        if index != nil {
            index![JinjaKey(key)!] = keys.count - 1
        } else if keys.count > JinjaDict.indexThreshold {
            rebuildIndex()
        }
        return true
    }

    public func set(_ key: String, _ value: JinjaValue) { set(.string(key), value) }

    private func rebuildIndex() {
        var idx: [JinjaKey: Int] = [:]
        for (j, key) in keys.enumerated() { idx[JinjaKey(key)!] = j }
        index = idx
    }

    /// Removes a key, returning its value.
    func remove(_ key: JinjaValue) -> JinjaValue? {
        guard let i = position(of: key) else { return nil }
        let v = values[i]
        keys.remove(at: i)
        values.remove(at: i)
        if index != nil { rebuildIndex() }
        return v
    }

    func removeAll() { keys = []; values = []; index = nil }

    func copy() -> JinjaDict {
        let d = JinjaDict()
        d.keys = keys; d.values = values; d.index = index
        return d
    }

    var pairs: Zip2Sequence<[JinjaValue], [JinjaValue]> { zip(keys, values) }
}

/// Positional and keyword arguments of a call, as Python passes them.
public struct JinjaArguments {
    public var positional: [JinjaValue]
    public var keyword: [(String, JinjaValue)]
    public init(_ positional: [JinjaValue] = [], keyword: [(String, JinjaValue)] = []) {
        self.positional = positional
        self.keyword = keyword
    }

    /// The argument at `position`, or the keyword `name`, or nil.
    func value(_ position: Int, _ name: String) -> JinjaValue? {
        if let kw = keyword.first(where: { $0.0 == name }) { return kw.1 }
        return position < positional.count ? positional[position] : nil
    }
}

/// Anything callable from a template. The body gets the interpreter for callbacks (filters that
/// call tests, macros that render).
public final class JinjaCallable {
    public let name: String
    let body: (Interpreter, JinjaArguments) throws -> JinjaValue
    init(_ name: String, _ body: @escaping (Interpreter, JinjaArguments) throws -> JinjaValue) {
        self.name = name
        self.body = body
    }
}

/// Objects reached by attribute only (`namespace`, `loop`, `cycler`).
public class JinjaObject {
    var typeName: String { "object" }
    func attribute(_ name: String) -> JinjaValue? { nil }
    /// Assigning attributes is allowed only on namespaces (as in jinja2).
    func setAttribute(_ name: String, _ value: JinjaValue) -> Bool { false }
    func repr() -> String { "<\(typeName) object>" }
}

/// jinja2's `namespace()`: the one object a template may assign attributes on.
final class JinjaNamespace: JinjaObject {
    let attributes = JinjaDict()
    override var typeName: String { "Namespace" }
    override func attribute(_ name: String) -> JinjaValue? { attributes[name] }
    override func setAttribute(_ name: String, _ value: JinjaValue) -> Bool {
        attributes.set(name, value)
        return true
    }
    override func repr() -> String { "<Namespace \(JinjaValue.dict(attributes).pythonRepr)>" }
}

/// A Python generator/iterator (what `map`, `select`, `selectattr`, `unique`, `items`, `reverse`
/// return in jinja2): iterable once, truthy, without `len()`, not JSON serializable.
final class JinjaGenerator: JinjaObject {
    private var pending: [JinjaValue]?
    private let failure: TemplateError?
    private let kind: String
    init(_ items: [JinjaValue], kind: String = "generator") {
        pending = items
        failure = nil
        self.kind = kind
    }
    /// A generator whose first iteration raises (jinja2 filters that check lazily).
    init(failing error: TemplateError) {
        pending = nil
        failure = error
        kind = "generator"
    }
    override var typeName: String { kind }
    /// Yields the remaining items and exhausts the generator, as Python iteration does.
    func consume() throws -> [JinjaValue] {
        if let failure { throw failure }
        defer { pending = [] }
        return pending ?? []
    }
    override func repr() -> String { "<\(kind) object>" }
}

// MARK: - Conversions from and to JSON

extension JinjaValue {
    /// Converts a JSON value the way Python's `json.loads` would: integers without fraction or
    /// exponent become `int`, other numbers `float`; arrays become fresh lists, objects fresh dicts.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .number(let n):
            let t = n.text
            if !t.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let i = Int(t) {
                self = .int(i)
            } else {
                self = .float(n.double)
            }
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(JinjaList(items.map { JinjaValue(json: $0) }))
        case .object(let object):
            let d = JinjaDict()
            for (k, v) in object { d.set(k, JinjaValue(json: v)) }
            self = .dict(d)
        }
    }

    /// The value as JSON, or nil for values JSON cannot hold (undefined, callables, objects).
    public func toJSON() -> JSONValue? {
        switch self {
        case .undefined, .callable, .object: return nil
        case .none: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return d.isFinite ? .number(JSONNumber(text: pythonFloatRepr(d)) ?? JSONNumber(d)) : nil
        case .string(let s), .markup(let s): return .string(s)
        case .list(let l): return JinjaValue.arrayJSON(l.items)
        case .tuple(let t): return JinjaValue.arrayJSON(t)
        case .dict(let d):
            var o = JSONObject()
            for (k, v) in d.pairs {
                guard let key = k.stringValue, let jv = v.toJSON() else { return nil }
                o[key] = jv
            }
            return .object(o)
        }
    }

    private static func arrayJSON(_ items: [JinjaValue]) -> JSONValue? {
        var out: [JSONValue] = []
        for item in items { guard let j = item.toJSON() else { return nil }; out.append(j) }
        return .array(out)
    }
}

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
