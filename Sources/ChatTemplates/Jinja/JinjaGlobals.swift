import Foundation

/// Global functions available to every template: jinja2's defaults (`range`, `dict`,
/// `namespace`, `joiner`, `cycler`) plus Hugging Face's `raise_exception` and `strftime_now`.
enum Globals {
    static let values: [String: JinjaValue] = {
        var g: [String: JinjaValue] = [:]
        func add(_ name: String, _ body: @escaping (Interpreter, JinjaArguments) throws -> JinjaValue) {
            g[name] = .callable(JinjaCallable(name, body))
        }
        add("range") { interp, a in
            let ints = try a.positional.map { v -> Int in
                guard let i = integerValue(v) else { throw typeError("'\(v.typeName)' object cannot be interpreted as an integer") }
                return i
            }
            var start = 0, stop = 0, step = 1
            switch ints.count {
            case 1: stop = ints[0]
            case 2: start = ints[0]; stop = ints[1]
            case 3: start = ints[0]; stop = ints[1]; step = ints[2]
            default: throw typeError("range expected 1 to 3 arguments, got \(ints.count)")
            }
            guard step != 0 else { throw runtimeError("range() arg 3 must not be zero") }
            // In unsigned arithmetic: `range(-9223372036854775807 - 1, 9223372036854775807)` spans
            // more than Int holds, and must be refused as too big rather than trap.
            let (low, high) = step > 0 ? (start, stop) : (stop, start)
            let span = high > low ? UInt(bitPattern: high &- low) : 0
            let quotient = span / step.magnitude, remainder = span % step.magnitude
            let count = quotient > UInt(interp.limits.maxRange) ? interp.limits.maxRange + 1 : Int(quotient) + (remainder == 0 ? 0 : 1)
            guard count <= interp.limits.maxRange else {
                throw TemplateError(.limit, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(interp.limits.maxRange)).")
            }
            // Every element lies between start and stop, so wrapping arithmetic lands exactly on it.
            return .list(JinjaList((0..<count).map { .int(start &+ $0 &* step) }))
        }
        add("dict") { interp, a in
            let d = JinjaDict()
            if let first = a.positional.first {
                if case .dict(let o) = first {
                    for (k, v) in o.pairs { d.set(k, v) }
                } else {
                    for pair in try interp.iterate(first) {
                        let kv = try interp.iterate(pair)
                        guard kv.count == 2 else { throw runtimeError("dictionary update sequence element has wrong length") }
                        guard d.set(kv[0], kv[1]) else { throw typeError("unhashable type: '\(kv[0].typeName)'") }
                    }
                }
            }
            for (k, v) in a.keyword { d.set(k, v) }
            return .dict(d)
        }
        add("namespace") { _, a in
            let ns = JinjaNamespace()
            if let first = a.positional.first, case .dict(let o) = first {
                for (k, v) in o.pairs { ns.attributes.set(k, v) }
            }
            for (k, v) in a.keyword { ns.attributes.set(k, v) }
            return .object(ns)
        }
        add("joiner") { _, a in
            let sep = a.value(0, "sep")?.pythonString ?? ", "
            var used = false
            return .callable(JinjaCallable("joiner") { _, _ in
                if used { return .string(sep) }
                used = true
                return .string("")
            })
        }
        add("cycler") { _, a in .object(Cycler(items: a.positional)) }
        add("raise_exception") { _, a in
            throw TemplateError(.raised, a.positional.first?.pythonString ?? "")
        }
        add("strftime_now") { interp, a in
            guard let fmt = a.positional.first?.stringValue else { throw typeError("strftime_now needs a format string") }
            return .string(strftime(fmt, interp.now(), interp.timeZone))
        }
        return g
    }()
}

/// jinja2's `cycler(...)`: `.next()`, `.current`, `.reset()`.
final class Cycler: JinjaObject {
    let items: [JinjaValue]
    var position = 0
    init(items: [JinjaValue]) { self.items = items }
    override var typeName: String { "Cycler" }
    override func attribute(_ name: String) -> JinjaValue? {
        switch name {
        case "current": return items.isEmpty ? .none : items[position]
        case "next":
            return .callable(JinjaCallable("next") { [self] _, _ in
                guard !items.isEmpty else { return .none }
                let v = items[position]
                position = (position + 1) % items.count
                return v
            })
        case "reset":
            return .callable(JinjaCallable("reset") { [self] _, _ in position = 0; return .none })
        default: return nil
        }
    }
}

/// C `strftime` on the given instant in the given time zone (C locale month/day names, as Python
/// prints them on Linux).
func strftime(_ format: String, _ date: Date, _ zone: TimeZone) -> String {
    var t = time_t(date.timeIntervalSince1970.rounded(.down))
    t += time_t(zone.secondsFromGMT(for: date))
    var parts = tm()
    gmtime_r(&t, &parts)
    var buffer = [Int8](repeating: 0, count: 512)
    let n = strftime(&buffer, buffer.count, format, &parts)
    if n == 0 && !format.isEmpty { return "" }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
