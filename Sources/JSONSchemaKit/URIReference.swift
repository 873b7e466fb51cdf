/// Just enough RFC 3986 reference resolution for `$id` and `$ref`: resolving a reference
/// against a base URI and splitting off the fragment.
enum URIReference {
    /// The default base URI of a schema without `$id`.
    static let defaultBase = "urn:switchboard:schema"

    /// Splits `uri` into the part before `#` and the fragment (without `#`).
    static func split(_ uri: String) -> (document: String, fragment: String) {
        guard let hash = uri.firstIndex(of: "#") else { return (uri, "") }
        return (String(uri[..<hash]), String(uri[uri.index(after: hash)...]))
    }

    /// The scheme of `uri`, if it has one (`http`, `urn`, …).
    static func scheme(_ uri: String) -> String? {
        guard let colon = uri.firstIndex(of: ":") else { return nil }
        let candidate = uri[..<colon]
        guard let first = candidate.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII,
            candidate.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "+" || $0 == "-" || $0 == ".") })
        else { return nil }
        return String(candidate)
    }

    /// Resolves `reference` against `base` (RFC 3986 §5.2, without query subtleties).
    static func resolve(_ reference: String, against base: String) -> String {
        if scheme(reference) != nil { return removeDotSegments(inAbsolute: reference) }
        let baseDocument = split(base).document
        if reference.isEmpty { return baseDocument }
        if reference.hasPrefix("#") { return baseDocument + reference }
        guard let baseScheme = scheme(baseDocument) else { return reference }
        let afterScheme = baseDocument.dropFirst(baseScheme.count + 1)
        if reference.hasPrefix("//") { return baseScheme + ":" + reference }
        var authority = ""
        var path = Substring(afterScheme)
        if afterScheme.hasPrefix("//") {
            let rest = afterScheme.dropFirst(2)
            let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            authority = "//" + rest[..<end]
            path = rest[end...]
        }
        if let query = path.firstIndex(of: "?") { path = path[..<query] }
        let prefix = baseScheme + ":" + authority
        if reference.hasPrefix("?") { return prefix + path + reference }
        if reference.hasPrefix("/") { return prefix + removeDots(reference) }
        let merged: String
        if !authority.isEmpty && path.isEmpty {
            merged = "/" + reference
        } else if let slash = path.lastIndex(of: "/") {
            merged = path[...slash] + reference
        } else {
            merged = reference
        }
        return prefix + (merged.hasPrefix("/") ? removeDots(merged) : merged)
    }

    private static func removeDotSegments(inAbsolute uri: String) -> String {
        guard uri.contains("/.") else { return uri }
        let (document, fragment) = split(uri)
        guard let scheme = scheme(document) else { return uri }
        var rest = Substring(document.dropFirst(scheme.count + 1))
        var authority = ""
        if rest.hasPrefix("//") {
            let afterSlashes = rest.dropFirst(2)
            let end = afterSlashes.firstIndex(of: "/") ?? afterSlashes.endIndex
            authority = "//" + afterSlashes[..<end]
            rest = afterSlashes[end...]
        }
        let path = rest.hasPrefix("/") ? removeDots(String(rest)) : String(rest)
        return scheme + ":" + authority + path + (uri.contains("#") ? "#" + fragment : "")
    }

    /// RFC 3986 §5.2.4 for an absolute path.
    private static func removeDots(_ path: String) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (i, segment) in segments.enumerated() {
            let isLast = i == segments.count - 1
            if segment == "." {
                if isLast { output.append("") }
            } else if segment == ".." {
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append("") }
            } else {
                output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/")
    }

    /// Decodes `%XX` escapes (JSON Pointer fragments in `$ref` are URI-encoded).
    static func percentDecode(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var bytes: [UInt8] = []
        let utf8 = Array(s.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count,
                let value = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
