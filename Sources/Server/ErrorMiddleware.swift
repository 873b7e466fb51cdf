import ChatAPI
import Hummingbird
import Logging

/// Turns every error into OpenAI's error object, so clients never see Hummingbird's own error
/// format or an empty body: `APIError` as is, framework errors (404, 405, …) mapped by status,
/// anything else a 500 whose details go to the log, not the client.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return .apiError(error)
        } catch let error as HTTPError {
            return .apiError(Self.apiError(for: error, request: request))
        } catch is CancellationError {
            // The client went away; nobody reads this response.
            return .apiError(APIError(status: 499, message: "Request cancelled.", type: "invalid_request_error"))
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)"])
            return .apiError(.server("The server had an error while processing your request."))
        }
    }

    static func apiError(for error: HTTPError, request: Request) -> APIError {
        switch error.status {
        case .notFound:
            return .notFound("Unknown request URL: \(request.method) \(request.uri.path).", code: "unknown_url")
        case .methodNotAllowed:
            return APIError(status: 405, message: "Method \(request.method) is not allowed for \(request.uri.path).",
                            type: "invalid_request_error", code: "method_not_allowed")
        default:
            let code = Int(error.status.code)
            return APIError(status: code, message: error.body ?? error.status.reasonPhrase,
                            type: code >= 500 ? "server_error" : "invalid_request_error")
        }
    }
}
