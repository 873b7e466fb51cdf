import ChatAPI

/// Turns the bytes of a `chat.completion.chunk` SSE stream, as they arrive, into
/// `ChatStreamChunk`s. Bytes may be split anywhere (inside a line, inside a UTF-8 sequence);
/// the quirks of servers' chunks are `ChunkDecoder`'s to absorb.
public struct ChatStreamReader: Sendable {
    private var sse = SSEDecoder()
    private var decoder = ChunkDecoder()
    private var id: String?
    private var model: String?
    private var created: Int?
    /// `[DONE]` has arrived; later bytes are ignored.
    public private(set) var isDone = false

    public init() {}

    /// The chunks the bytes complete. Throws an `APIError` for a chunk that is not JSON or
    /// breaks the format, and the server's own error for an error event.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws -> [ChatStreamChunk] where Bytes.Element == UInt8 {
        guard !isDone else { return [] }
        var chunks: [ChatStreamChunk] = []
        for data in try sse.feed(bytes) {
            if data == "[DONE]" {
                isDone = true
                break
            }
            let json: JSONValue
            do {
                json = try JSONParser.parse(data)
            } catch {
                throw APIError.badUpstream("A stream chunk is not JSON: \(error).")
            }
            let events = try decoder.events(for: json)
            id = id ?? json["id"]?.stringValue
            model = model ?? json["model"]?.stringValue
            created = created ?? json["created"]?.intValue
            if !events.isEmpty { chunks.append(ChatStreamChunk(id: id, model: model, created: created, events: events)) }
        }
        return chunks
    }

    /// The last chunk, with the `.finished` event, once the stream has ended. Throws when the
    /// server never said why it stopped: the stream was cut.
    public func finish() throws -> ChatStreamChunk {
        ChatStreamChunk(id: id, model: model, created: created, events: [try decoder.finish()])
    }
}
