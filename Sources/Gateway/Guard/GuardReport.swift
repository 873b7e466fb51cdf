import Synchronization

/// What the guard did for one request, reported to the client as the `x-switchboard-guard`
/// response header, so enforcement can be seen rather than taken on trust.
public final class GuardReport: Sendable {
    /// One thing the guard did.
    public enum Action: Sendable, Equatable, CustomStringConvertible {
        /// Every tool call was checked against the request (always, when tools were sent).
        case checked
        /// The upstream ignores a named `tool_choice`: only that function was sent.
        case narrowedTools(String)
        /// The upstream ignores `tool_choice: required`: `auto` was sent and a call enforced.
        case requiredEnforced
        /// The upstream does not take `parallel_tool_calls`: at most one call enforced.
        case parallelEnforced
        /// The upstream does not take `strict`: the schemas were enforced here.
        case strictEnforced
        /// The upstream's answer broke the rules and was asked again this many times.
        case repaired(Int)
        /// A streamed call's arguments were held back until they validated.
        case heldArguments(Int)

        /// The action's name without its value, a bounded metrics label.
        public var kind: String { String(description.prefix { $0 != "=" }) }

        public var description: String {
            switch self {
            case .checked: return "checked"
            case .narrowedTools(let name): return "narrowed-tools=\(name)"
            case .requiredEnforced: return "required-enforced"
            case .parallelEnforced: return "parallel-enforced"
            case .strictEnforced: return "strict-enforced"
            case .repaired(let n): return "repaired=\(n)"
            case .heldArguments(let index): return "held-arguments=\(index)"
            }
        }
    }

    private let recorded = Mutex<[Action]>([])
    /// Told of each action as it is taken (the metrics).
    private let observer: (@Sendable (Action) -> Void)?

    public init(observer: (@Sendable (Action) -> Void)? = nil) { self.observer = observer }

    func add(_ action: Action) {
        recorded.withLock { $0.append(action) }
        observer?(action)
    }

    public var actions: [Action] { recorded.withLock { $0 } }

    /// The header value: the actions, `; `-separated, or nil when there were none.
    public var headerValue: String? {
        let actions = self.actions
        return actions.isEmpty ? nil : actions.map(\.description).joined(separator: "; ")
    }

    /// The response header's name.
    public static let headerName = "x-switchboard-guard"
}
