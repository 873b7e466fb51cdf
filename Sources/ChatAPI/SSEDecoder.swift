/// Splits a server-sent-events byte stream into the `data` of each event (the WHATWG
/// event-stream format, as OpenAI-compatible servers use it).
///
/// Bytes arrive in arbitrary pieces, so lines and events may be split anywhere, even inside a
/// UTF-8 sequence; lines end in LF, CRLF or CR; several `data:` lines of one event join with a
/// newline; comments (`: keep-alive`) and other fields (`event`, `id`, `retry`) are skipped. An
/// event larger than `maxEventBytes` is an error rather than unbounded memory.
public struct SSEDecoder: Sendable {
    public let maxEventBytes: Int
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    /// A CR ended the last line; an LF right after it belongs to the same line break.
    private var afterCR = false

    public struct EventTooLarge: Error, Sendable {
        public let limit: Int
    }

    public init(maxEventBytes: Int = 16 * 1024 * 1024) {
        self.maxEventBytes = maxEventBytes
    }

    /// The data of every event completed by `bytes`, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws -> [String] where Bytes.Element == UInt8 {
        var events: [String] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                afterCR = byte == UInt8(ascii: "\r")
                if let event = endLine() { events.append(event) }
            default:
                line.append(byte)
                guard line.count + data.count <= maxEventBytes else { throw EventTooLarge(limit: maxEventBytes) }
            }
        }
        return events
    }

    /// Handles one complete line; a blank line dispatches the event.
    private mutating func endLine() -> String? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard hasData else { return nil }
            defer { data.removeAll(keepingCapacity: true); hasData = false }
            return String(decoding: data, as: UTF8.self)
        }
        guard line.starts(with: Array("data".utf8)) else { return nil }
        var value = line.dropFirst(4)
        if let colon = value.first {
            guard colon == UInt8(ascii: ":") else { return nil }  // a field named `data…`, not `data`
            value = value.dropFirst()
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        }
        if hasData { data.append(UInt8(ascii: "\n")) }
        data += value
        hasData = true
        return nil
    }
}
