/// The one spelling of a request path that the gate decides on and the router routes on.
///
/// Clients (and attackers) can spell one resource many ways: `//v1/models`, `/v1/./models`,
/// `/x/../v1/models`, `/v1%2Fmodels`. If the key check looked at one spelling and the router
/// matched another, some spelling would reach a handler unauthenticated. So the path is
/// canonicalized once, before either looks at it: percent-escapes decoded, empty and `.`
/// segments dropped, `..` resolved (never above the root), no trailing slash.
struct RequestPath: Equatable {
    /// The canonical path: `/` followed by segments joined by `/`; each segment is
    /// percent-encoded again where needed, so a decoded `?`, `#`, `%` or `/` cannot change how
    /// the router parses it.
    let path: String
    /// The query string, unchanged (without the `?`), or nil.
    let query: String?

    /// What the router is given: the canonical path, then the query.
    var target: String { query.map { "\(path)?\($0)" } ?? path }

    struct Invalid: Error, Equatable {
        let reason: String
    }

    /// Longest request target accepted; the HTTP decoder bounds it too, this keeps the segment
    /// work below proportional to a small input.
    static let maxLength = 8 * 1024

    init(target: String) throws(Invalid) {
        guard target.utf8.count <= Self.maxLength else { throw Invalid(reason: "the request path is too long") }
        let rawPath: Substring
        if let mark = target.firstIndex(of: "?") {
            rawPath = target[..<mark]
            query = String(target[target.index(after: mark)...])
        } else {
            rawPath = target[...]
            query = nil
        }
        // Origin-form only: absolute-form (`http://host/…`) is for proxies, `*` for OPTIONS to
        // the server as a whole; neither names a route here.
        guard rawPath.hasPrefix("/") else { throw Invalid(reason: "the request path must start with '/'") }

        var segments: [String] = []
        for raw in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            // A decoded segment may contain `/` (from %2F): it separates segments just like a
            // literal one, so `/v1%2Fmodels` and `/v1/models` are the same resource.
            for piece in try Self.percentDecoded(raw).split(separator: "/", omittingEmptySubsequences: true) {
                switch piece {
                case ".": continue
                case "..": if !segments.isEmpty { segments.removeLast() }
                default: segments.append(String(piece))
                }
            }
        }
        path = "/" + segments.map(Self.percentEncoded).joined(separator: "/")
    }

    /// Decodes `%XX` escapes; refuses a malformed escape, bytes that are not UTF-8, and control
    /// characters (NUL and friends have no business in a path and confuse logs).
    private static func percentDecoded(_ segment: Substring) throws(Invalid) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segment.utf8.count)
        var iterator = segment.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw Invalid(reason: "the request path has a malformed percent-escape")
            }
            bytes.append(high << 4 | low)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Invalid(reason: "the request path is not valid UTF-8")
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw Invalid(reason: "the request path contains control characters")
        }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Escapes everything but RFC 3986 `pchar`s, so the joined path parses back into the same
    /// segments.
    private static func percentEncoded(_ segment: String) -> String {
        var out = ""
        for byte in segment.utf8 {
            if isPathCharacter(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return out
    }

    private static func isPathCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~!$&'()*+,;=:@".utf8.contains(byte)
        }
    }
}
