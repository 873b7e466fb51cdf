/// A model id, or a pattern of ids with `*` wildcards (`grok-*`, `*`), that a route serves.
public struct ModelPattern: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    private let pieces: [Substring]

    public init(_ text: String) {
        self.text = text
        self.pieces = text.split(separator: "*", omittingEmptySubsequences: false)
    }

    /// True when the pattern has no wildcard: it names exactly one id.
    public var isExact: Bool { pieces.count == 1 }

    /// Whether `id` matches: the literal pieces appear in order, the first at the start and the
    /// last at the end. Linear in the id's length times the pieces, with no backtracking blow-up.
    public func matches(_ id: String) -> Bool {
        guard pieces.count > 1 else { return id == text }
        var rest = Substring(id)
        guard rest.hasPrefix(pieces[0]) else { return false }
        rest = rest.dropFirst(pieces[0].count)
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let found = rest.firstRange(of: piece) else { return false }
            rest = rest[found.upperBound...]
        }
        return rest.hasSuffix(pieces[pieces.count - 1])
    }

    public var description: String { text }
}
