import ChatAPI
import Foundation
import HTTPTypes
import Logging
import Hummingbird
import NIOCore
import Synchronization

/// One scripted answer of a fake upstream.
struct FakeReply: Sendable {
    var status = 200
    var headers: [String: String] = [:]
    /// Body pieces, each written as it is (an SSE event, part of one, or a JSON body).
    var pieces: [String]
    /// Wait before the response head.
    var delay: Duration = .zero
    /// After the pieces, close the connection mid-body instead of finishing.
    var cut = false
    /// After the pieces, stall this long before finishing.
    var stall: Duration?
    /// After the pieces, write a one-character text chunk every 50 ms this many times (a slow
    /// upstream that notices when its client goes away).
    var trickle = 0

    /// A JSON body.
    static func json(_ body: JSONValue, status: Int = 200, headers: [String: String] = [:]) -> FakeReply {
        FakeReply(status: status, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
                  pieces: [body.serialized()])
    }

    /// An SSE body of these chunks, then `[DONE]`.
    static func sse(_ chunks: [JSONValue], done: Bool = true) -> FakeReply {
        FakeReply(headers: ["Content-Type": "text/event-stream"],
                  pieces: chunks.map(SSE.event) + (done ? [SSE.done] : []))
    }
}

/// An upstream on loopback that answers from a script and records what it was sent. The last
/// reply repeats once the others are used. It speaks OpenAI's API (`/v1/chat/completions`),
/// Anthropic's (`/v1/messages`) and Gemini's (`/v1beta/models/{model}:generateContent`); for
/// the last two it first checks the request as strictly as the provider does (`AnthropicRules`,
/// `GeminiRules`) and answers a broken one with the provider's 400, as the real API would.
final class FakeUpstream: Sendable {
    let port: Int
    private let script: Mutex<[FakeReply]>
    private let requests = Mutex<[JSONValue]>([])
    private let disconnects = Mutex(0)
    private let task: Task<Void, any Error>

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    /// Anthropic's base URL form: the part before `/v1/messages`.
    var rootURL: String { "http://127.0.0.1:\(port)" }
    /// The request bodies received, in order.
    var received: [JSONValue] { requests.withLock { $0 } }
    /// Answers cut short because the client (the gateway) went away.
    var clientDisconnects: Int { disconnects.withLock { $0 } }

    private init(port: Int, replies: [FakeReply], task: Task<Void, any Error>) {
        self.port = port
        self.script = Mutex(replies)
        self.task = task
    }

    static func start(_ replies: [FakeReply]) async throws -> FakeUpstream {
        let box = Box()
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let upstream = box.upstream!
            upstream.requests.withLock { $0.append((try? JSONParser.parse(body.readableBytesView)) ?? .null) }
            return try await upstream.answer()
        }
        router.post("/v1/messages") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let upstream = box.upstream!
            let json = (try? JSONParser.parse(body.readableBytesView)) ?? .null
            upstream.requests.withLock { $0.append(json) }
            if let (status, type, message) = AnthropicRules.problem(headers: request.headers, body: json) {
                return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(
                    string: (["type": "error", "error": ["type": .string(type), "message": .string(message)]] as JSONValue).serialized())))
            }
            return try await upstream.answer()
        }
        router.post("/v1beta/models/:call") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let upstream = box.upstream!
            let json = (try? JSONParser.parse(body.readableBytesView)) ?? .null
            upstream.requests.withLock { $0.append(json) }
            let call = context.parameters.get("call") ?? ""
            let method = call.split(separator: ":").last.map(String.init) ?? ""
            let streamed = method == "streamGenerateContent" && request.uri.query == "alt=sse"
            let problem: (Int, String, String)? = method == "generateContent" || streamed ? GeminiRules.problem(headers: request.headers, body: json)
                : (404, "NOT_FOUND", "No method \(call).")
            if let (status, name, message) = problem {
                return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(
                    string: (["error": ["code": .int(status), "message": .string(message), "status": .string(name)]] as JSONValue).serialized())))
            }
            return try await upstream.answer()
        }
        router.get("/v1beta/models") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: #"{"models":[{"name":"models/gemini-2.5-flash"},{"name":"models/gemini-2.5-pro"}]}"#)))
        }
        router.get("/v1/models") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: #"{"object":"list","data":[{"id":"grok-4","object":"model"},{"id":"grok-3-mini","object":"model"},{"id":"other","object":"model"}]}"#)))
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
                              logger: quietLogger)
        let task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        let upstream = FakeUpstream(port: port, replies: replies, task: task)
        box.upstream = upstream
        return upstream
    }

    /// The next scripted reply.
    private func answer() async throws -> Response {
        let reply = script.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
        if reply.delay > .zero { try await Task.sleep(for: reply.delay) }
        var headers = HTTPFields()
        for (name, value) in reply.headers { headers[HTTPField.Name(name)!] = value }
        return Response(status: .init(code: reply.status), headers: headers, body: ResponseBody { writer in
            for piece in reply.pieces { try await writer.write(ByteBuffer(string: piece)) }
            if reply.cut {
                // After the pieces have had time to arrive: a cut that also swallowed them
                // would test the client's buffering, not the cut.
                try await Task.sleep(for: .milliseconds(100))
                throw CancellationError()
            }
            for _ in 0..<reply.trickle {
                try await Task.sleep(for: .milliseconds(50))
                do {
                    try await writer.write(ByteBuffer(string: SSE.event(Wire.text("."))))
                } catch {
                    self.disconnects.withLock { $0 += 1 }
                    throw error
                }
            }
            if let stall = reply.stall { try await Task.sleep(for: stall) }
            try await writer.finish(nil)
        })
    }

    func stop() { task.cancel() }

    /// Lets the route handler reach the upstream object created after the router.
    private final class Box: @unchecked Sendable {
        var upstream: FakeUpstream?
    }
}

/// Servers stopped mid-test log their cancellation as errors; the tests check what they need.
let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

/// A loopback port with nothing listening on it.
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

// MARK: - OpenAI wire format, as the fakes replay it

enum Wire {
    static func chunk(_ delta: JSONValue, finish: String? = nil) -> JSONValue {
        ["id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1, "model": "up",
         "choices": [["index": 0, "delta": delta, "finish_reason": finish.map(JSONValue.string) ?? .null]]]
    }
    static let role = chunk(["role": "assistant", "content": ""])
    static func text(_ t: String) -> JSONValue { chunk(["content": .string(t)]) }
    static func callStart(_ index: Int, id: String, name: String, arguments: String = "") -> JSONValue {
        chunk(["tool_calls": [["index": .int(index), "id": .string(id), "type": "function",
                               "function": ["name": .string(name), "arguments": .string(arguments)]]]])
    }
    static func arguments(_ index: Int, _ fragment: String) -> JSONValue {
        chunk(["tool_calls": [["index": .int(index), "function": ["arguments": .string(fragment)]]]])
    }
    static func finish(_ reason: String) -> JSONValue { chunk([:], finish: reason) }
    static let usage: JSONValue = ["id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1, "model": "up", "choices": [],
                                   "usage": ["prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19]]

    /// A whole `chat.completion`.
    static func completion(content: String? = nil, calls: [(String, String)] = [], finish: String? = nil) -> JSONValue {
        var message: JSONObject = ["role": "assistant", "content": content.map(JSONValue.string) ?? .null]
        if !calls.isEmpty {
            message["tool_calls"] = .array(calls.enumerated().map { i, call in
                ["id": .string("call_up\(i)"), "type": "function", "function": ["name": .string(call.0), "arguments": .string(call.1)]]
            })
        }
        return ["id": "chatcmpl-up", "object": "chat.completion", "created": 1, "model": "up",
                "choices": [["index": 0, "message": .object(message), "finish_reason": .string(finish ?? (calls.isEmpty ? "stop" : "tool_calls"))]],
                "usage": ["prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19]]
    }
}

/// A plain TCP client on loopback, for a client that hangs up mid-response.
final class RawSocket {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
    }

    /// What one read returns (the response head and the first events, on loopback).
    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var text = ""
        while !text.contains("Hel") {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            text += String(decoding: buffer[..<n], as: UTF8.self)
        }
        return text
    }

    func close() { _ = Glibc.close(fd) }
}
