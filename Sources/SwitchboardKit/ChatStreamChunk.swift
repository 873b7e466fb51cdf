import ChatAPI

/// One chunk of a streamed completion, as `ChatClient.stream(_:)` yields it: the wire chunk's
/// identity and what it carries, already normalized into `ChatEvent`s (call indexes consecutive
/// from 0, every call with an id and a name before its arguments, however the server spelled
/// them). The stream's last chunk carries the one `.finished` event.
public struct ChatStreamChunk: Sendable, Equatable {
    /// The completion's id (`chatcmpl-…`), when the server sent one.
    public let id: String?
    /// The model that answered, when the server said.
    public let model: String?
    /// Unix seconds, when the server said.
    public let created: Int?
    public let events: [ChatEvent]

    public init(id: String?, model: String?, created: Int? = nil, events: [ChatEvent]) {
        self.id = id
        self.model = model
        self.created = created
        self.events = events
    }

    /// The answer text this chunk adds.
    public var text: String {
        events.reduce(into: "") { text, event in if case .textDelta(let delta) = event { text += delta } }
    }

    /// Why generation ended and what it used, on the last chunk.
    public var finish: (reason: FinishReason, usage: TokenUsage)? {
        for case .finished(let reason, let usage) in events { return (reason, usage) }
        return nil
    }
}

/// Folds a stream's chunks into the final completion, as the non-streaming endpoint would have
/// answered: text and reasoning joined, each call's argument fragments joined, and the usage.
public struct StreamAggregator: Sendable {
    private var assembler = CompletionAssembler()
    private var id: String?
    private var model: String?
    private var created: Int?

    public init() {}

    public mutating func add(_ chunk: ChatStreamChunk) {
        id = id ?? chunk.id
        model = model ?? chunk.model
        created = created ?? chunk.created
        for event in chunk.events { assembler.add(event) }
    }

    /// The completion, once the last chunk is in; nil before.
    public var completion: ChatCompletion? {
        assembler.completion(identity: CompletionIdentity(id: id ?? "", created: created ?? 0, model: model ?? ""))
    }
}
