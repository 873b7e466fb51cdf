import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 connection, with Switchboard's guards installed around it: the
/// connection cap in front of everything, the request-start marker in front of the HTTP
/// decoder, `ConnectionGuard` after it, and the connection registered for close signals.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let connections: OpenConnections
    let closeSignals: ConnectionCloseSignals

    init(responder: @escaping HTTPChannelHandler.Responder, configuration: ServerConfiguration, closeSignals: ConnectionCloseSignals) {
        let timeouts = ConnectionGuard.Timeouts(
            header: TimeAmount(configuration.headerTimeout), body: TimeAmount(configuration.bodyTimeout),
            idle: TimeAmount(configuration.idleTimeout))
        var http1Configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(timeouts: timeouts)],
            idleTimeout: nil,  // ConnectionGuard's idle deadline replaces Hummingbird's
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: configuration.maxHeaderBytes, maxHeaderListSize: configuration.maxHeaderBytes))
        http1Configuration.httpDecoder.maxHeaderFieldCount = 256
        http1 = HTTP1Channel(responder: responder, configuration: http1Configuration)
        connections = OpenConnections(limit: configuration.maxConnections)
        self.closeSignals = closeSignals
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionCap(connections: connections))
            try channel.pipeline.syncOperations.addHandler(RequestBytesMarker())
            closeSignals.register(channel)
        }.flatMap {
            http1.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}
