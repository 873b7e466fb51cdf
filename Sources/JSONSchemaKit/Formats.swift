/// The `format` values this validator asserts. Any other format name is an annotation only.
enum FormatKind: String, CaseIterable {
    case dateTime = "date-time"
    case date
    case time
    case duration
    case email
    case idnEmail = "idn-email"
    case hostname
    case idnHostname = "idn-hostname"
    case ipv4
    case ipv6
    case uri
    case uriReference = "uri-reference"
    case iri
    case iriReference = "iri-reference"
    case uuid
    case regex
    case jsonPointer = "json-pointer"
    case relativeJSONPointer = "relative-json-pointer"
    case uriTemplate = "uri-template"

    /// Whether `string` conforms; only strings are checked (other types pass, as the spec says).
    func check(_ string: String) -> Bool {
        let s = Array(string.utf8)
        switch self {
        case .dateTime: return FormatCheck.dateTime(s)
        case .date: return FormatCheck.date(s[...])
        case .time: return FormatCheck.time(s[...])
        case .duration: return FormatCheck.duration(s)
        case .email, .idnEmail: return FormatCheck.email(string, allowUnicode: self == .idnEmail)
        case .hostname: return FormatCheck.hostname(s, allowUnicode: false)
        case .idnHostname: return FormatCheck.hostname(s, allowUnicode: true)
        case .ipv4: return FormatCheck.ipv4(s[...])
        case .ipv6: return FormatCheck.ipv6(s[...])
        case .uri: return URICheck.isURI(string, requireScheme: true, allowUnicode: false)
        case .uriReference: return URICheck.isURI(string, requireScheme: false, allowUnicode: false)
        case .iri: return URICheck.isURI(string, requireScheme: true, allowUnicode: true)
        case .iriReference: return URICheck.isURI(string, requireScheme: false, allowUnicode: true)
        case .uuid: return FormatCheck.uuid(s)
        case .regex: return (try? ECMARegex(string)) != nil
        case .jsonPointer: return FormatCheck.jsonPointer(s[...])
        case .relativeJSONPointer: return FormatCheck.relativeJSONPointer(s)
        case .uriTemplate: return FormatCheck.uriTemplate(s)
        }
    }
}

/// Format checks over UTF-8 bytes, following the RFCs JSON Schema cites (RFC 3339 for dates and
/// times, RFC 1123 host names, RFC 4291 IPv6, RFC 4122 UUIDs, RFC 6901 pointers).
enum FormatCheck {
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool {
        isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x66)
    }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { b | 0x20 >= 0x61 && b | 0x20 <= 0x7A }

    private static func number(_ s: ArraySlice<UInt8>, _ from: Int, _ count: Int) -> Int? {
        guard from + count <= s.endIndex else { return nil }
        var value = 0
        for i in from..<(from + count) {
            guard isDigit(s[i]) else { return nil }
            value = value * 10 + Int(s[i] - 0x30)
        }
        return value
    }

    /// RFC 3339 `full-date`, with the day checked against the month (and leap years).
    static func date(_ s: ArraySlice<UInt8>) -> Bool {
        let b = s.startIndex
        guard s.count == 10, s[b + 4] == UInt8(ascii: "-"), s[b + 7] == UInt8(ascii: "-"),
            let year = number(s, b, 4), let month = number(s, b + 5, 2), let day = number(s, b + 8, 2),
            (1...12).contains(month), day >= 1
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    /// RFC 3339 `full-time`: `hh:mm:ss(.frac)?(Z|±hh:mm)`; a leap second only at 23:59:60 UTC.
    static func time(_ s: ArraySlice<UInt8>) -> Bool {
        let b = s.startIndex
        guard s.count >= 9, s[b + 2] == UInt8(ascii: ":"), s[b + 5] == UInt8(ascii: ":"),
            let hour = number(s, b, 2), let minute = number(s, b + 3, 2), let second = number(s, b + 6, 2),
            hour <= 23, minute <= 59, second <= 60
        else { return false }
        var i = b + 8
        if i < s.endIndex, s[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < s.endIndex, isDigit(s[i]) { i += 1 }
            guard i > start else { return false }
        }
        guard i < s.endIndex else { return false }
        var offsetMinutes = 0
        switch s[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard i + 1 == s.endIndex else { return false }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard s.endIndex - i == 6, s[i + 3] == UInt8(ascii: ":"),
                let oh = number(s, i + 1, 2), let om = number(s, i + 4, 2), oh <= 23, om <= 59
            else { return false }
            offsetMinutes = (oh * 60 + om) * (s[i] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return false
        }
        if second == 60 {
            // Leap seconds happen at 23:59:60 UTC only.
            var utc = (hour * 60 + minute - offsetMinutes) % 1440
            if utc < 0 { utc += 1440 }
            return utc == 23 * 60 + 59
        }
        return true
    }

    static func dateTime(_ s: [UInt8]) -> Bool {
        guard s.count >= 20, s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t") else { return false }
        return date(s[0..<10]) && time(s[11...])
    }

    /// RFC 3339 Appendix A `duration`: `P` then date parts and/or `T` time parts, or weeks alone.
    static func duration(_ s: [UInt8]) -> Bool {
        guard s.count >= 2, s[0] == UInt8(ascii: "P") else { return false }
        var i = 1
        func component() -> UInt8? {
            let start = i
            while i < s.count, isDigit(s[i]) { i += 1 }
            guard i > start, i < s.count else { return nil }
            defer { i += 1 }
            return s[i]
        }
        if s.last == UInt8(ascii: "W") {
            return component() == UInt8(ascii: "W") && i == s.count
        }
        let dateOrder: [UInt8] = [UInt8(ascii: "Y"), UInt8(ascii: "M"), UInt8(ascii: "D")]
        let timeOrder: [UInt8] = [UInt8(ascii: "H"), UInt8(ascii: "M"), UInt8(ascii: "S")]
        var next = 0
        var any = false
        while i < s.count, s[i] != UInt8(ascii: "T") {
            guard let unit = component(), let k = dateOrder[next...].firstIndex(of: unit) else { return false }
            next = k + 1
            any = true
        }
        if i < s.count {
            i += 1  // T
            next = 0
            var anyTime = false
            while i < s.count {
                guard let unit = component(), let k = timeOrder[next...].firstIndex(of: unit) else { return false }
                next = k + 1
                anyTime = true
            }
            guard anyTime else { return false }
            any = true
        }
        return any
    }

    static func email(_ string: String, allowUnicode: Bool) -> Bool {
        guard let at = string.lastIndex(of: "@") else { return false }
        let local = string[..<at]
        let domain = string[string.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty else { return false }
        if !allowUnicode, !string.unicodeScalars.allSatisfy(\.isASCII) { return false }
        // Local part: dot-atom or quoted string.
        if local.hasPrefix("\""), local.hasSuffix("\""), local.count >= 2 {
            // quoted: anything printable
        } else {
            guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { return false }
            let allowed = Set("!#$%&'*+-/=?^_`{|}~.".utf8)
            for b in local.utf8 where !(isAlpha(b) || isDigit(b) || allowed.contains(b) || b >= 0x80) { return false }
        }
        if domain.hasPrefix("["), domain.hasSuffix("]") {
            let inner = domain.dropFirst().dropLast()
            if inner.hasPrefix("IPv6:") { return ipv6(Array(inner.dropFirst(5).utf8)[...]) }
            return ipv4(Array(inner.utf8)[...])
        }
        return hostname(Array(domain.utf8), allowUnicode: allowUnicode)
    }

    /// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, ≤ 63 bytes
    /// each, ≤ 253 in all; a trailing dot is allowed.
    static func hostname(_ s: [UInt8], allowUnicode: Bool) -> Bool {
        var bytes = s[...]
        if bytes.last == UInt8(ascii: ".") { bytes = bytes.dropLast() }
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"),
                label.last != UInt8(ascii: "-")
            else { return false }
            for b in label where !(isAlpha(b) || isDigit(b) || b == UInt8(ascii: "-") || (allowUnicode && b >= 0x80)) {
                return false
            }
        }
        return true
    }

    /// Dotted quad, decimal octets 0–255 without leading zeros.
    static func ipv4(_ s: ArraySlice<UInt8>) -> Bool {
        let parts = s.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(isDigit),
                part.count == 1 || part.first != UInt8(ascii: "0")
            else { return false }
            var value = 0
            for b in part { value = value * 10 + Int(b - 0x30) }
            guard value <= 255 else { return false }
        }
        return true
    }

    /// RFC 4291 text form: eight hex groups, or fewer around one `::`; the last 32 bits may be
    /// written as a dotted quad. No zone index (`%eth0`).
    static func ipv6(_ s: ArraySlice<UInt8>) -> Bool {
        guard s.count >= 2, s.count <= 45 else { return false }
        let text = Array(s)
        // Returns the number of 16-bit pieces, or nil if a group is malformed.
        func pieces(_ part: ArraySlice<UInt8>, tailAllowed: Bool) -> Int? {
            if part.isEmpty { return 0 }
            let groups = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            var count = 0
            for (index, group) in groups.enumerated() {
                if tailAllowed, index == groups.count - 1, group.contains(UInt8(ascii: ".")) {
                    guard ipv4(group) else { return nil }
                    count += 2
                    continue
                }
                guard (1...4).contains(group.count), group.allSatisfy(isHex) else { return nil }
                count += 1
            }
            return count
        }
        var doubleColon: Int?
        for i in 0..<(text.count - 1) where text[i] == UInt8(ascii: ":") && text[i + 1] == UInt8(ascii: ":") {
            if doubleColon != nil { return false }
            doubleColon = i
        }
        guard let split = doubleColon else { return pieces(text[...], tailAllowed: true) == 8 }
        let left = text[..<split]
        let right = text[(split + 2)...]
        if right.first == UInt8(ascii: ":") { return false }  // ":::"
        guard let l = pieces(left, tailAllowed: false), let r = pieces(right, tailAllowed: true) else { return false }
        return l + r <= 7
    }

    /// 8-4-4-4-12 hexadecimal digits.
    static func uuid(_ s: [UInt8]) -> Bool {
        guard s.count == 36 else { return false }
        for (i, b) in s.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard b == UInt8(ascii: "-") else { return false }
            } else if !isHex(b) {
                return false
            }
        }
        return true
    }

    static func jsonPointer(_ s: ArraySlice<UInt8>) -> Bool {
        guard !s.isEmpty else { return true }
        guard s.first == UInt8(ascii: "/") else { return false }
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == UInt8(ascii: "~") {
                guard i + 1 < s.endIndex, s[i + 1] == UInt8(ascii: "0") || s[i + 1] == UInt8(ascii: "1") else { return false }
                i += 1
            }
            i += 1
        }
        return true
    }

    static func relativeJSONPointer(_ s: [UInt8]) -> Bool {
        var i = 0
        while i < s.count, isDigit(s[i]) { i += 1 }
        guard i > 0, i == 1 || s[0] != UInt8(ascii: "0") else { return false }
        if i == s.count { return true }
        if s[i] == UInt8(ascii: "#") { return i + 1 == s.count }
        return jsonPointer(s[i...])
    }

    /// RFC 6570: balanced, non-nested braces.
    static func uriTemplate(_ s: [UInt8]) -> Bool {
        var open = false
        for b in s {
            if b == UInt8(ascii: "{") {
                if open { return false }
                open = true
            } else if b == UInt8(ascii: "}") {
                if !open { return false }
                open = false
            }
        }
        return !open
    }
}

/// RFC 3986 (and RFC 3987 for IRIs) syntax check.
enum URICheck {
    private static let unreserved = Set("-._~".utf8)
    private static let subDelims = Set("!$&'()*+,;=".utf8)

    static func isURI(_ string: String, requireScheme: Bool, allowUnicode: Bool) -> Bool {
        let s = Array(string.utf8)
        var i = 0
        // scheme ":" — a scheme is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) before the first ':'.
        var hasScheme = false
        if let colon = s.firstIndex(of: UInt8(ascii: ":")),
            colon > 0, FormatCheck.isAlpha(s[0]),
            s[..<colon].allSatisfy({ FormatCheck.isAlpha($0) || FormatCheck.isDigit($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }),
            !s[..<colon].contains(UInt8(ascii: "/")), !s[..<colon].contains(UInt8(ascii: "?")),
            !s[..<colon].contains(UInt8(ascii: "#"))
        {
            hasScheme = true
            i = colon + 1
        }
        if requireScheme && !hasScheme { return false }
        if !hasScheme {
            // A relative reference's first segment may not contain ':' (it would read as a scheme).
            let end = s.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) ?? s.count
            if s[..<end].contains(UInt8(ascii: ":")) { return false }
        }
        // authority
        if i + 1 < s.count, s[i] == UInt8(ascii: "/"), s[i + 1] == UInt8(ascii: "/") {
            i += 2
            let start = i
            while i < s.count, s[i] != UInt8(ascii: "/"), s[i] != UInt8(ascii: "?"), s[i] != UInt8(ascii: "#") { i += 1 }
            guard authority(s[start..<i], allowUnicode: allowUnicode) else { return false }
        }
        // path, query, fragment
        var section = 0  // 0 path, 1 query, 2 fragment
        while i < s.count {
            let b = s[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < s.count, FormatCheck.isHex(s[i + 1]), FormatCheck.isHex(s[i + 2]) else { return false }
                i += 3
                continue
            }
            if b == UInt8(ascii: "?") && section == 0 {
                section = 1
            } else if b == UInt8(ascii: "#") && section < 2 {
                section = 2
            } else if !(pchar(b, allowUnicode: allowUnicode) || b == UInt8(ascii: "/") || (section > 0 && b == UInt8(ascii: "?"))) {
                return false
            }
            i += 1
        }
        return true
    }

    private static func pchar(_ b: UInt8, allowUnicode: Bool) -> Bool {
        FormatCheck.isAlpha(b) || FormatCheck.isDigit(b) || unreserved.contains(b) || subDelims.contains(b)
            || b == UInt8(ascii: ":") || b == UInt8(ascii: "@") || (allowUnicode && b >= 0x80)
    }

    private static func authority(_ s: ArraySlice<UInt8>, allowUnicode: Bool) -> Bool {
        var host = s
        if let at = s.lastIndex(of: UInt8(ascii: "@")) {
            for b in s[..<at] where !(pchar(b, allowUnicode: allowUnicode) || b == UInt8(ascii: "%")) { return false }
            host = s[(at + 1)...]
        }
        if host.first == UInt8(ascii: "[") {
            guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let literal = host[(host.startIndex + 1)..<close]
            guard FormatCheck.ipv6(literal) || literal.first == UInt8(ascii: "v") else { return false }
            let rest = host[(close + 1)...]
            if rest.isEmpty { return true }
            return rest.first == UInt8(ascii: ":") && rest.dropFirst().allSatisfy(FormatCheck.isDigit)
        }
        if let colon = host.lastIndex(of: UInt8(ascii: ":")) {
            guard host[(colon + 1)...].allSatisfy(FormatCheck.isDigit) else { return false }
            host = host[..<colon]
        }
        for b in host where !(FormatCheck.isAlpha(b) || FormatCheck.isDigit(b) || unreserved.contains(b)
            || subDelims.contains(b) || b == UInt8(ascii: "%") || (allowUnicode && b >= 0x80))
        {
            return false
        }
        return true
    }
}
