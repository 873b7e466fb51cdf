import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A deliberately small HTTP/1.1 client over a POSIX socket, for tests that need what URLSession
/// hides: reading an SSE stream chunk by chunk, and hanging up mid-response.
final class RawHTTPConnection {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> Any { try JSONSerialization.jsonObject(with: body) }
    }

    private let fd: Int32
    private var buffer = Data()

    /// `timeout`: seconds a single send or receive may block before failing the test.
    init(port: Int, timeout: Int = 300) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket() failed") }
        var timeout = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A server that stops reading a large body must fail the test, not hang it.
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw TestError("connect to port \(port) failed") }
    }

    deinit { close(fd) }

    /// Closes the connection now (a client hanging up).
    func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Closes only the sending side (a client that is done sending but still reading).
    func halfClose() { shutdown(fd, Int32(SHUT_WR)) }

    /// Sends bytes as they are: partial requests, malformed ones.
    func sendRaw(_ text: String) throws {
        try sendAll(Data(text.utf8))
    }

    /// True if the server has closed the connection: end of stream with nothing left unread
    /// (waits up to the receive timeout).
    func isClosedByServer() throws -> Bool {
        guard buffer.isEmpty else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        if n == 0 { return true }
        if n < 0 { return errno == ECONNRESET }
        buffer.append(byte)
        return false
    }

    /// Sends one request; with `keepAlive` it asks to reuse the connection afterwards, as
    /// pooling clients (the openai SDK) do.
    func send(method: String, path: String, headers: [String: String] = [:], body: Data? = nil, keepAlive: Bool = false) throws {
        var head = "\(method) \(path) HTTP/1.1\r\n" + (keepAlive ? "" : "Connection: close\r\n")
        if !headers.keys.contains(where: { $0.lowercased() == "host" }) { head += "Host: 127.0.0.1\r\n" }
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var data = Data(head.utf8)
        if let body { data.append(body) }
        try sendAll(data)
    }

    private func sendAll(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n <= 0 { throw TestError("send failed after \(sent) bytes") }
                sent += n
            }
        }
    }

    /// Reads more bytes; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n < 0 { throw TestError("recv failed (errno \(errno))") }
        if n == 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Reads the status line and headers of the final response, skipping interim (1xx) ones as
    /// RFC 9110 §15.2 requires of every client.
    func readHead() throws -> (status: Int, headers: [String: String]) {
        while true {
            let head = try readAnyHead()
            if !(100..<200).contains(head.status) || head.status == 101 { return head }
        }
    }

    private func readAnyHead() throws -> (status: Int, headers: [String: String]) {
        let separator = Data("\r\n\r\n".utf8)
        while buffer.range(of: separator) == nil {
            guard try fill() else { throw TestError("connection closed before headers") }
        }
        let end = buffer.range(of: separator)!
        let head = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
        buffer = Data(buffer[end.upperBound...])
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (Int(statusLine[1]) ?? 0, headers)
    }

    /// Reads the next piece of a chunked body; nil at its end.
    func readChunk() throws -> Data? {
        let crlf = Data("\r\n".utf8)
        while buffer.range(of: crlf) == nil { guard try fill() else { return nil } }
        let lineEnd = buffer.range(of: crlf)!
        let sizeText = String(decoding: buffer[buffer.startIndex..<lineEnd.lowerBound], as: UTF8.self)
        guard let size = Int(sizeText.split(separator: ";")[0], radix: 16) else { throw TestError("bad chunk size '\(sizeText)'") }
        buffer = Data(buffer[lineEnd.upperBound...])
        while buffer.count < size + 2 { guard try fill() else { throw TestError("truncated chunk") } }
        let data = Data(buffer.prefix(size))
        buffer = Data(buffer.dropFirst(size + 2))
        return size == 0 ? nil : data
    }

    func readResponse() throws -> Response {
        let (status, headers) = try readHead()
        var body = Data()
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while let chunk = try readChunk() { body.append(chunk) }
        } else if let length = headers["content-length"].flatMap(Int.init) {
            while buffer.count < length { guard try fill() else { throw TestError("truncated body") } }
            body = Data(buffer.prefix(length))
            buffer = Data(buffer.dropFirst(length))
        } else {
            while try fill() {}
            body = buffer
        }
        return Response(status: status, headers: headers, body: body)
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
