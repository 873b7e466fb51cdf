/// What the grammar does with a `format` value, kept exact with JSONSchemaKit's validator
/// (`Sources/JSONSchemaKit/Formats.swift`): a format the validator asserts is either enforced
/// with patterns that admit exactly the strings it accepts, or refused by name; any other format
/// is an annotation for the validator, so for the grammar too.
enum FormatPatterns {
    enum Treatment: Equatable {
        /// The validator ignores this format.
        case annotation
        /// The value must match every pattern (their intersection is the format).
        case patterns([String])
        /// The validator asserts it and no exact automaton of reasonable size exists.
        case refused(String)
    }

    /// Every format name the validator asserts (`FormatKind`); a test keeps the two lists equal.
    static let asserted: Set<String> = [
        "date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname", "ipv4", "ipv6",
        "uri", "uri-reference", "iri", "iri-reference", "uuid", "regex", "json-pointer", "relative-json-pointer",
        "uri-template",
    ]

    static func treatment(_ name: String) -> Treatment {
        guard asserted.contains(name) else { return .annotation }
        switch name {
        case "date": return .patterns(["^" + date + "$"])
        case "time": return .patterns(["^" + time + "$"])
        case "date-time": return .patterns(["^" + date + "[Tt]" + time + "$"])
        case "duration": return .patterns([duration])
        case "ipv4": return .patterns(["^" + ipv4 + "$"])
        case "ipv6": return .patterns(["^(" + ipv6 + ")$"])
        case "uuid": return .patterns(["^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"])
        case "hostname": return .patterns(["^" + hostname + "$"])
        case "email": return .patterns(email)
        case "uri": return .patterns(["^" + URIPatterns(unicode: false).absolute + "$"])
        case "uri-reference": return .patterns(["^" + URIPatterns(unicode: false).reference + "$"])
        case "iri": return .patterns(["^" + URIPatterns(unicode: true).absolute + "$"])
        case "iri-reference": return .patterns(["^" + URIPatterns(unicode: true).reference + "$"])
        case "json-pointer": return .patterns(["^" + jsonPointer + "$"])
        case "relative-json-pointer": return .patterns(["^(0|[1-9][0-9]*)(#|" + jsonPointer + ")$"])
        case "uri-template": return .patterns([#"^([^{}]|\{[^{}]*\})*$"#])
        case "regex": return .refused("whether a string is a valid ECMA-262 regex is not a regular language")
        case "idn-email", "idn-hostname":
            return .refused("internationalized host-name labels are limited in UTF-8 bytes, which a code-point automaton cannot count exactly")
        default: return .refused("no exact automaton for this format")
        }
    }

    // MARK: dates and times (RFC 3339)

    /// Years divisible by 4, except centuries not divisible by 400 (year 0000 is a leap year).
    private static let leapYear = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[048]|[2468][048]|[13579][26])00)"
    /// `full-date`, with each month's length and February 29 in leap years only.
    static let date = "([0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|"
        + leapYear + "-02-29)"
    private static let offset = "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
    /// `full-time`. A leap second (`:60`) is valid at 23:59 UTC; the grammar admits it written in
    /// UTC (`Z` or a zero offset) only, a narrowing: other offsets would need one branch per
    /// offset, each pairing it with its own local time.
    static let time = "(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?" + offset
        + "|23:59:60(\\.[0-9]+)?([Zz]|[+-]00:00))"

    /// RFC 3339 Appendix A: weeks alone, or date parts in order and/or `T` with time parts in order.
    static let duration: String = {
        let datePart = "[0-9]+Y([0-9]+M)?([0-9]+D)?|[0-9]+M([0-9]+D)?|[0-9]+D"
        let timePart = "[0-9]+H([0-9]+M)?([0-9]+S)?|[0-9]+M([0-9]+S)?|[0-9]+S"
        return "^P([0-9]+W|(" + datePart + ")(T(" + timePart + "))?|T(" + timePart + "))$"
    }()

    // MARK: addresses

    private static let octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    /// Dotted quad, no leading zeros.
    static let ipv4 = "(" + octet + "\\." + octet + "\\." + octet + "\\." + octet + ")"

    /// RFC 4291 text forms: eight groups, or fewer around one `::` (at most seven pieces besides
    /// it); a trailing dotted quad counts as two groups.
    static let ipv6: String = {
        let h = "[0-9A-Fa-f]{1,4}"
        var alternatives = ["(\(h):){7}\(h)", "(\(h):){6}\(ipv4)"]
        for left in 0...7 {
            let l = left == 0 ? "" : "(\(h):){\(left - 1)}\(h)"
            let room = 7 - left
            var right: [String] = []
            if room >= 1 { right.append("(\(h):){0,\(room - 1)}\(h)") }
            if room >= 2 { right.append("(\(h):){0,\(room - 2)}\(ipv4)") }
            alternatives.append(l + "::" + (right.isEmpty ? "" : "(" + right.joined(separator: "|") + ")?"))
        }
        return alternatives.joined(separator: "|")
    }()

    /// RFC 1123 host name: labels of letters, digits and inner hyphens, 1–63 characters, at
    /// most 253 in all, then an optional trailing dot. Both limits at once need one state per
    /// (total, label) length pair, so the grammar admits the union of shapes that keep the total
    /// within 253 by themselves: up to 3 labels of ≤ 63 characters, 4 of ≤ 62, 10 of ≤ 24 or
    /// 50 of ≤ 4
    /// (narrowing: e.g. five labels of 30 characters, or 11 of 5, are refused).
    static let hostname: String = {
        func label(_ max: Int) -> String {
            max == 1 ? "[A-Za-z0-9]" : "[A-Za-z0-9]([A-Za-z0-9-]{0,\(max - 2)}[A-Za-z0-9])?"
        }
        let shapes = [(3, 63), (4, 62), (10, 24), (50, 4)].map { count, max in
            label(max) + "(\\." + label(max) + "){0,\(count - 1)}"
        }
        return "(" + shapes.joined(separator: "|") + ")\\.?"
    }()

    /// ASCII only: a dot-atom or quoted local part of at most 64 bytes, then a host name or an
    /// address literal. The second pattern bounds a dot-atom's length (a quoted local part's is
    /// in the first). Narrowing: a quoted local part may not itself contain `"` (the validator
    /// allows it), which keeps the end of the quote unambiguous and the automaton small.
    static let email: [String] = {
        let atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
        let local = "(" + atom + "(\\." + atom + ")*|\"[\\x00-\\x21\\x23-\\x7F]{0,62}\")"
        let domain = "(" + hostname + "|\\[" + ipv4 + "\\]|\\[IPv6:(" + ipv6 + ")\\])"
        return ["^" + local + "@" + domain + "$", "^([^\"@][^@]{0,63}@|\")"]
    }()

    // MARK: pointers

    /// RFC 6901: `/`-prefixed segments where `~` is followed by `0` or `1`.
    static let jsonPointer = "(/([^~]|~[01])*)*"
}

/// RFC 3986 URIs and references (RFC 3987 IRIs with `unicode`), as `URICheck` reads them: a
/// scheme, an authority after `//` (user info up to its last `@`, then a host with an optional
/// port), then path, query and fragment, with `%` followed by two hex digits there.
struct URIPatterns {
    let unicode: Bool

    private var nonASCII: String { unicode ? "\\x80-\\u{10FFFF}" : "" }
    private var pcharSet: String { "A-Za-z0-9\\-._~!$&'()*+,;=:@" + nonASCII }
    private var pct: String { "%[0-9A-Fa-f]{2}" }
    /// Path characters, `/` included.
    private var path: String { "([" + pcharSet + "/]|" + pct + ")*" }
    /// A path character other than `/`.
    private var segmentChar: String { "([" + pcharSet + "]|" + pct + ")" }
    /// A path character other than `/` and `:` (the first segment of a relative reference).
    private var firstSegmentChar: String { "([A-Za-z0-9\\-._~!$&'()*+,;=@" + nonASCII + "]|" + pct + ")" }
    private var queryAndFragment: String {
        let chars = "([" + pcharSet + "/?]|" + pct + ")*"
        return "(\\?" + chars + ")?(#" + chars + ")?"
    }
    private var authority: String {
        let userinfo = "[" + pcharSet + "%]*@"
        let literal = "\\[(" + FormatPatterns.ipv6 + "|v[^\\]/?#@]*)\\]"
        let host = "[A-Za-z0-9\\-._~!$&'()*+,;=%" + nonASCII + "]*"
        return "(" + userinfo + ")?(" + literal + "|" + host + ")(:[0-9]*)?"
    }
    /// After the scheme: `//` always starts an authority, which ends at the first `/`, `?` or `#`.
    private var rest: String {
        "(//" + authority + "(/" + path + ")?|(/(" + segmentChar + path + ")?|" + segmentChar + path + ")?)" + queryAndFragment
    }
    private var scheme: String { "[A-Za-z][A-Za-z0-9+.\\-]*:" }

    var absolute: String { scheme + rest }

    /// With a scheme, or relative: then no `:` before the first `/`, `?` or `#`.
    var reference: String {
        let relative = "(//" + authority + "(/" + path + ")?|(/(" + segmentChar + path + ")?|" + firstSegmentChar + "+(/" + path + ")?)?)"
            + queryAndFragment
        return "(" + scheme + rest + "|" + relative + ")"
    }
}
