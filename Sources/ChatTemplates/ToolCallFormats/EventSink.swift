/// Collects a feed's output, merging adjacent deltas of the same kind, and turns byte runs into
/// strings only at the end (so a multi-byte character is never split between two events).
struct EventSink {
    private enum Item {
        case text([UInt8])
        case reasoning([UInt8])
        case arguments(index: Int, [UInt8])
        case event(ParsedEvent)
    }
    private var items: [Item] = []

    mutating func text<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard !bytes.isEmpty else { return }
        if case .text(var existing)? = items.last {
            items.removeLast(); existing.append(contentsOf: bytes); items.append(.text(existing))
        } else { items.append(.text(Array(bytes))) }
    }

    mutating func reasoning<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard !bytes.isEmpty else { return }
        if case .reasoning(var existing)? = items.last {
            items.removeLast(); existing.append(contentsOf: bytes); items.append(.reasoning(existing))
        } else { items.append(.reasoning(Array(bytes))) }
    }

    mutating func arguments<C: Collection>(_ index: Int, _ bytes: C) where C.Element == UInt8 {
        guard !bytes.isEmpty else { return }
        if case .arguments(let i, var existing)? = items.last, i == index {
            items.removeLast(); existing.append(contentsOf: bytes); items.append(.arguments(index: index, existing))
        } else { items.append(.arguments(index: index, Array(bytes))) }
    }

    mutating func arguments(_ index: Int, _ text: String) { arguments(index, Array(text.utf8)) }

    mutating func event(_ e: ParsedEvent) { items.append(.event(e)) }

    mutating func drain() -> [ParsedEvent] {
        defer { items.removeAll(keepingCapacity: true) }
        return items.map { item in
            switch item {
            case .text(let b): return .text(String(decoding: b, as: UTF8.self))
            case .reasoning(let b): return .reasoning(String(decoding: b, as: UTF8.self))
            case .arguments(let i, let b): return .argumentsDelta(index: i, fragment: String(decoding: b, as: UTF8.self))
            case .event(let e): return e
            }
        }
    }
}

/// Appends `bytes` as the body of a JSON string (no quotes), escaping what JSON requires.
/// Multi-byte UTF-8 passes through unchanged.
func appendJSONEscaped<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
    for b in bytes {
        switch b {
        case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), b]
        case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), b]
        case 0x0A: out += Array("\\n".utf8)
        case 0x0D: out += Array("\\r".utf8)
        case 0x09: out += Array("\\t".utf8)
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
        default: out.append(b)
        }
    }
}
