import ChatAPI
import Hummingbird

extension Response {
    /// A JSON response with the given status.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let buffer = ByteBuffer(bytes: value.serializedBytes())
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    /// An error response in OpenAI's shape.
    static func apiError(_ error: APIError) -> Response {
        var response = json(error.json, status: HTTPResponse.Status(code: error.status))
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }
}
