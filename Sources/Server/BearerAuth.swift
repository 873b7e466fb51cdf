import ChatAPI

/// The `--api-key` check: `Authorization: Bearer <key>`, the scheme in any letter case (RFC 9110
/// §11.1), the key compared in constant time.
struct BearerAuth: Sendable {
    let apiKey: String

    /// Nil when `authorization` carries the key, else the 401 to send.
    func check(_ authorization: String?) -> APIError? {
        guard let authorization else {
            return .unauthorized(
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
        }
        let trimmed = authorization.drop { $0 == " " || $0 == "\t" }
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }),
              trimmed[..<space].lowercased() == "bearer" else {
            return .unauthorized("Incorrect API key provided. Send it as 'Authorization: Bearer YOUR_KEY'.")
        }
        let token = trimmed[space...].trimmingWhitespace
        guard Self.constantTimeEquals(token, apiKey) else {
            return .unauthorized("Incorrect API key provided.")
        }
        return nil
    }

    /// Compares without an early exit so response timing does not reveal the key.
    static func constantTimeEquals(_ a: some StringProtocol, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}

private extension Substring {
    var trimmingWhitespace: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
