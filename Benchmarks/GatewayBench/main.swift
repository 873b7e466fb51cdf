// GatewayBench: the loopback mock upstream for scripts/bench-gateway (issue 9, "Benchmark").
//
//   GatewayBench mock --port N [--host 127.0.0.1] [--threads 1]
//   GatewayBench client URL CONCURRENCY BODY   (AsyncHTTPClient alone: see ClientFloor.swift)
//
// Answers `POST /v1/chat/completions` at once with one fixed `chat.completion` carrying a
// get_weather tool call, and `GET /v1/models` with a fixed list; keep-alive throughout.
//
// The mock must cost far less than the gateway it is measured against, or the benchmark measures
// the mock. So it is a bare NIO HTTP/1 decoder plus one handler that writes response bytes built
// once at start-up (status line, headers and body in one buffer): no encoder, no JSON, no
// allocation per request beyond what the decoder does. One event-loop thread by default, since on
// a small machine the mock, the gateway and wrk share the cores.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Dispatch
import NIOCore
import NIOHTTP1
import NIOPosix

/// One precomputed HTTP/1.1 response, ready to write as is.
func response(status: String, contentType: String, body: String) -> ByteBuffer {
    let bytes = Array(body.utf8)
    let head = "HTTP/1.1 \(status)\r\n"
        + "Content-Type: \(contentType)\r\n"
        + "Content-Length: \(bytes.count)\r\n"
        + "\r\n"
    var buffer = ByteBuffer()
    buffer.writeString(head)
    buffer.writeBytes(bytes)
    return buffer
}

// A complete, valid non-streaming answer: the assistant calls get_weather, as a model given the
// benchmark's request would. Small, like a real tool-call reply.
let completionBody = #"""
{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model",\#
"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_0",\#
"type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},\#
"logprobs":null,"finish_reason":"tool_calls"}],\#
"usage":{"prompt_tokens":42,"completion_tokens":9,"total_tokens":51}}
"""#
let modelsBody = #"""
{"object":"list","data":[{"id":"bench-model","object":"model","created":1700000000,"owned_by":"mock"},\#
{"id":"bench-model-2","object":"model","created":1700000000,"owned_by":"mock"}]}
"""#

struct Responses: Sendable {
    let completion = response(status: "200 OK", contentType: "application/json", body: completionBody)
    let models = response(status: "200 OK", contentType: "application/json", body: modelsBody)
    let notFound = response(
        status: "404 Not Found", contentType: "application/json",
        body: #"{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}"#)
}

/// Reads decoded requests and writes the matching precomputed response when each one ends.
/// Request bodies are ignored (the decoder still reads them off the wire). Writes are flushed once
/// per read burst, so pipelined requests go out together.
final class MockHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    let responses: Responses
    var pending: ByteBuffer?
    var keepAlive = true

    init(responses: Responses) { self.responses = responses }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            switch (head.method, head.uri) {
            case (.POST, "/v1/chat/completions"): pending = responses.completion
            case (.GET, "/v1/models"): pending = responses.models
            default: pending = responses.notFound
            }
        case .body:
            break
        case .end:
            // Copying a ByteBuffer shares its storage: no bytes are copied here.
            let bytes = wrapOutboundOut(pending ?? responses.notFound)
            pending = nil
            if keepAlive {
                context.write(bytes, promise: nil)
            } else {
                let channel = context.channel
                context.writeAndFlush(bytes).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

func usage() -> Never {
    print("usage: GatewayBench mock --port N [--host 127.0.0.1] [--threads 1]")
    print("       GatewayBench client URL CONCURRENCY BODY")
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "client", args.count == 4, let concurrency = Int(args[2]) {
    let finished = DispatchSemaphore(value: 0)
    // Detached: top-level code is main-actor isolated, and the main thread waits below; so
    // the task must not touch top-level variables (reading `args` in it would wait for the
    // main actor forever).
    let (url, body) = (args[1], args[3])
    Task.detached {
        do { try await runClientFloor(url: url, body: body, concurrency: concurrency, seconds: 6) } catch { print("client: \(error)") }
        finished.signal()
    }
    finished.wait()
    exit(0)
}
guard args.first == "mock" else { usage() }
args.removeFirst()
var host = "127.0.0.1"
var port: Int? = nil
var threads = 1
while !args.isEmpty {
    let flag = args.removeFirst()
    guard let value = args.first else { usage() }
    args.removeFirst()
    switch flag {
    case "--port": port = Int(value)
    case "--host": host = value
    case "--threads": threads = Int(value) ?? 1
    default: usage()
    }
}
guard let port else { usage() }

let responses = Responses()
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
                MockHandler(responses: responses),
            ])
        }
    }
    .bind(host: host, port: port)
    .wait()
print("GatewayBench mock listening on http://\(host):\(channel.localAddress?.port ?? port)/v1")
try channel.closeFuture.wait()
