import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the request's connection, which the
/// chat handler watches so a client that hangs up stops its generation.
public struct SwitchboardRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
