import ChatAPI
import NIOCore
import Synchronization

/// Counts the server's open connections; shared by every connection's `ConnectionCap`.
final class OpenConnections: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot, or returns false when all `limit` are taken.
    func admit() -> Bool {
        var current = count.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = count.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() {
        count.subtract(1, ordering: .relaxed)
    }
}

/// First handler of every connection: admits it under the connection cap, or answers a JSON 503
/// and closes it. Over the cap a connection is never left waiting in the accept queue for a
/// slot that a slow client may hold: the client learns at once that the server is full.
final class ConnectionCap: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connections: OpenConnections
    private var state = State.new
    private enum State { case new, admitted, refused, released }

    /// How long a refused connection stays open after its 503 is written. Closing a socket with
    /// unread request bytes makes the kernel send a reset, which can destroy the 503 before
    /// the client reads it; reading (and dropping) the request for a moment avoids that.
    static let lingerAfterRefusal = TimeAmount.milliseconds(250)

    init(connections: OpenConnections) {
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { decide(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        decide(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if state == .admitted {
            state = .released
            connections.release()
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused connection's request is read and dropped; it never reaches the HTTP layer.
        if state == .refused { return }
        context.fireChannelRead(data)
    }

    private func decide(_ context: ChannelHandlerContext) {
        guard state == .new else { return }
        guard connections.admit() else {
            state = .refused
            refuse(context)
            return
        }
        state = .admitted
    }

    private func refuse(_ context: ChannelHandlerContext) {
        let error = APIError(status: 503, message: "The server has reached its limit of \(connections.limit) open connections. Please retry shortly.",
                             type: "server_error", code: "too_many_connections")
        let body = error.json.serialized()
        let response = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n\(body)"
        context.writeAndFlush(NIOAny(ByteBuffer(string: response)), promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerAfterRefusal) {
            context.close(promise: nil)
        }
    }
}
