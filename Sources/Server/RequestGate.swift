import ChatAPI
import Hummingbird
import Logging

/// Runs before routing and decides whether a request may reach a route at all.
///
/// In order: the path is canonicalized (`RequestPath`) and the router only ever sees that
/// spelling; the `Host` and `Origin` are checked (`BrowserPolicy`); a CORS preflight from an
/// allowed origin is answered; and with `--api-key`, everything except exactly `/health` needs
/// the key, so an unknown or oddly spelled path is a 401, never a way around it. Every refusal
/// is OpenAI's error object.
struct RequestGate<Inner: HTTPResponder>: HTTPResponder where Inner.Context == SwitchboardRequestContext {
    let inner: Inner
    let browser: BrowserPolicy
    let auth: BearerAuth?

    /// The one path served without a key: load balancers and orchestrators probe it.
    static var openPath: String { "/health" }

    func respond(to request: Request, context: SwitchboardRequestContext) async throws -> Response {
        let path: RequestPath
        do {
            path = try RequestPath(target: request.head.path ?? "")
        } catch {
            return refuse(.invalidRequest("Invalid request path: \(error.reason).", param: nil, code: "invalid_path"), request, context)
        }
        guard browser.acceptsHost(request.head.authority) else {
            return refuse(APIError(status: 403, message: "Host '\(request.head.authority ?? "")' is not allowed. Add it with --allowed-host to serve it.",
                                   type: "invalid_request_error", code: "host_not_allowed"), request, context)
        }
        let origin = request.headers[.origin]
        if let origin {
            guard browser.acceptsOrigin(origin) else {
                return refuse(APIError(status: 403, message: "Origin '\(origin)' is not allowed. Add it with --cors-origin to serve it.",
                                       type: "invalid_request_error", code: "origin_not_allowed"), request, context)
            }
            if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
                // Preflights carry no credentials by design, so they are answered before the key check.
                return Response(status: .noContent, headers: browser.preflightHeaders(origin: origin, request: request.headers))
            }
        }
        if let auth, path.path != Self.openPath, let failure = auth.check(request.headers[.authorization]) {
            return withCORS(refuse(failure, request, context), origin: origin)
        }
        var head = request.head
        head.path = path.target
        let response = try await inner.respond(to: Request(head: head, body: request.body), context: context)
        return withCORS(response, origin: origin)
    }

    private func withCORS(_ response: Response, origin: String?) -> Response {
        guard let origin else { return response }
        var response = response
        for field in browser.corsHeaders(origin: origin) { response.headers[field.name] = field.value }
        return response
    }

    private func refuse(_ error: APIError, _ request: Request, _ context: SwitchboardRequestContext) -> Response {
        context.logger.notice("request refused", metadata: [
            "method": "\(request.method)", "path": "\(request.head.path ?? "")", "status": "\(error.status)", "code": "\(error.code ?? "")",
        ])
        return .apiError(error)
    }
}
