import ChatAPI
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Per-connection deadlines and HTTP-layer errors, on the channel pipeline after HTTP decoding.
///
/// - Deadlines: once the first byte of a request arrives, its head must be complete within the
///   header timeout; once the head is in, the body within the body timeout; a connection with no
///   request in progress is closed after the idle timeout. No deadline runs while a response is
///   being produced: a long generation is bounded by `max_tokens`, not by the clock, and a
///   client that leaves ends it (see below). A slow-header or slow-body client gets a JSON 408
///   and the connection is closed.
/// - HTTP-layer errors: a malformed request line, bad framing or too-large headers are answered
///   with OpenAI's error object (400, or 431 for headers) before the connection is closed,
///   instead of Hummingbird's empty 400.
/// - Hang-ups: a client's FIN alone cannot tell "I am done sending" (half-close, legal in
///   HTTP/1.1, and the client still reads) from "I am gone". So it does not cancel anything.
///   Instead, if a request is waiting for its response when the FIN comes, an interim
///   `100 Continue` is written: a client that is still reading ignores it (RFC 9110 §15.2
///   requires clients to accept 1xx responses), while a closed socket answers it with a reset,
///   which closes the channel. The channel closing is what cancels generation
///   (`ConnectionCloseSignals`), and while streaming every token is a write that fails at once
///   on a closed socket.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Timeouts {
        var header: TimeAmount
        var body: TimeAmount
        var idle: TimeAmount
    }

    private enum Reading { case nothing, head, body }
    private enum Deadline: Equatable { case header, body, idle }

    private let timeouts: Timeouts
    /// What part of a request the connection is reading now.
    private var reading = Reading.nothing
    /// Requests whose head has arrived and whose response has not ended.
    private var openRequests = 0
    /// The current response's (final) head has been written, so no other response can be.
    private var responseStarted = false
    /// A `100 Continue` probe was sent for the current request.
    private var probed = false
    /// The server itself closed the input (Hummingbird does on shutdown): the FIN that follows
    /// is ours, not the client's, and needs no probe.
    private var inputClosedLocally = false
    /// This handler has answered the connection itself and is closing it; the application's
    /// own writes are dropped from then on.
    private var closing = false
    private var armed: (deadline: Deadline, task: Scheduled<Void>)?

    init(timeouts: Timeouts) {
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { rearm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        rearm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is RequestBytesArrived {
            if reading == .nothing, !closing {
                reading = .head
                rearm(context)
            }
            return
        }
        if let event = event as? ChannelEvent, event == .inputClosed, openRequests > 0, !responseStarted, !probed, !closing,
           !inputClosedLocally {
            probed = true
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head:
            reading = .body
            openRequests += 1
            probed = false
            rearm(context)
        case .body:
            break
        case .end:
            reading = .nothing
            rearm(context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closing else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.status.kind != .informational { responseStarted = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            openRequests = max(openRequests - 1, 0)
            responseStarted = false
            context.write(data, promise: promise)
            rearm(context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .input { inputClosedLocally = true }
        context.close(mode: mode, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !closing else { return }
        switch error {
        case is IOError, is ChannelError:
            // The socket failed; NIO closes the channel. Nothing can be answered.
            context.fireErrorCaught(error)
        case HTTPParserError.headerOverflow:
            answerAndClose(context, APIError(
                status: 431, message: "The request headers are too large.", type: "invalid_request_error", code: "request_header_fields_too_large"))
        default:
            // HTTPParserError and failed head conversions: the request cannot be read.
            answerAndClose(context, .invalidRequest("The request is not valid HTTP/1.1 (\(error)).", param: nil, code: "invalid_http_request"))
        }
    }

    // MARK: Deadlines

    private var currentDeadline: Deadline? {
        switch reading {
        case .head: return .header
        case .body: return .body
        case .nothing: return openRequests == 0 ? .idle : nil
        }
    }

    /// Starts the deadline of the current phase, keeping a running one of the same kind (the
    /// header deadline runs from the first byte, not from the last).
    private func rearm(_ context: ChannelHandlerContext) {
        let wanted = closing ? nil : currentDeadline
        if armed?.deadline == wanted { return }
        disarm()
        guard let wanted else { return }
        let amount: TimeAmount
        switch wanted {
        case .header: amount = timeouts.header
        case .body: amount = timeouts.body
        case .idle: amount = timeouts.idle
        }
        let task = context.eventLoop.assumeIsolated().scheduleTask(in: amount) { [self] in
            armed = nil
            expired(wanted, context)
        }
        armed = (wanted, task)
    }

    private func disarm() {
        armed?.task.cancel()
        armed = nil
    }

    private func expired(_ deadline: Deadline, _ context: ChannelHandlerContext) {
        switch deadline {
        case .idle:
            closing = true
            context.close(promise: nil)
        case .header:
            answerAndClose(context, APIError(
                status: 408, message: "The request headers were not received within \(Self.describe(timeouts.header)).",
                type: "invalid_request_error", code: "request_timeout"))
        case .body:
            answerAndClose(context, APIError(
                status: 408, message: "The request body was not received within \(Self.describe(timeouts.body)).",
                type: "invalid_request_error", code: "request_timeout"))
        }
    }

    /// Writes `error` as the response (unless one has begun) and closes the connection.
    private func answerAndClose(_ context: ChannelHandlerContext, _ error: APIError) {
        closing = true
        disarm()
        guard !responseStarted else {
            context.close(promise: nil)
            return
        }
        var body = ByteBuffer()
        body.writeString(error.json.serialized())
        let head = HTTPResponse(
            status: .init(code: error.status),
            headerFields: [.contentType: "application/json", .contentLength: String(body.readableBytes), .connection: "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        // Closing a socket with unread input makes the kernel send a reset, which can destroy
        // the answer before the client reads it (a client still sending a too-large header is
        // the usual case). So: end our side, keep reading (and dropping) the client's bytes
        // until it closes too, for at most `lingerAfterAnswer`.
        written.futureResult.assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerAfterAnswer) { context.close(promise: nil) }
        }
    }

    static let lingerAfterAnswer = TimeAmount.seconds(1)

    private static func describe(_ amount: TimeAmount) -> String {
        let ms = amount.nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms"
    }
}

/// Sent up the pipeline by `RequestBytesMarker` before each read it passes on, so
/// `ConnectionGuard` knows a request has begun before its head is complete.
struct RequestBytesArrived {}

/// Sits in front of the HTTP decoder and marks every inbound read with `RequestBytesArrived`.
final class RequestBytesMarker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireUserInboundEventTriggered(RequestBytesArrived())
        context.fireChannelRead(data)
    }
}
