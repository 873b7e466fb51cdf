import ChatAPI
import Hummingbird

/// Optional bearer-token check for the API routes (`--api-key`). `/health` stays open.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1") else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized(
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.constantTimeEquals(String(header.dropFirst(prefix.count)), apiKey) else {
            throw APIError.unauthorized("Incorrect API key provided.")
        }
        return try await next(request, context)
    }

    /// Compares without an early exit so response timing does not reveal the key.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}
