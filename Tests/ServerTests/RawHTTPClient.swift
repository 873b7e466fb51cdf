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

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket() failed") }
        var timeout = timeval(tv_sec: 300, tv_usec: 0)
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

    /// Sends one request; with `keepAlive` it asks to reuse the connection afterwards, as
    /// pooling clients (the openai SDK) do.
    func send(method: String, path: String, headers: [String: String] = [:], body: Data? = nil, keepAlive: Bool = false) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (keepAlive ? "" : "Connection: close\r\n")
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var data = Data(head.utf8)
        if let body { data.append(body) }
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

    /// Reads the status line and headers.
    func readHead() throws -> (status: Int, headers: [String: String]) {
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
