/// Refuses schemas whose validation could take exponential time.
///
/// Subschemas applied in place (`$ref`, `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`,
/// `dependentSchemas`) all validate the same instance. A chain of them that reuses its
/// subschemas — `a0: allOf [a1, a1]`, `a1: allOf [a2, a2]`, … — is a few hundred bytes, compiles
/// in linear time, and makes every validation walk 2ⁿ paths. Validation runs on every tool call
/// the server checks, so such a schema is refused up front: the number of in-place paths below
/// any node must stay under `maxInPlacePaths`. An in-place cycle (a schema that applies itself
/// to the same instance) never ends and is refused too.
enum ValidationCost {
    /// Most in-place paths one node may expand to. Validation then costs at most this many node
    /// visits per instance location; real schemas stay in the hundreds.
    static let maxInPlacePaths = 10_000

    /// Throws `WorkBudgetExceeded` when some node of `nodes` expands beyond `maxInPlacePaths`
    /// or sits on an in-place cycle. Iterative, so a long `$ref` chain cannot exhaust the stack.
    static func check(_ nodes: [SchemaNode], budget: WorkBudget) throws(WorkBudgetExceeded) {
        enum Mark: UInt8 { case unvisited, inProgress, done }
        var marks = [Mark](repeating: .unvisited, count: nodes.count)
        var paths = [Int](repeating: 0, count: nodes.count)
        for root in nodes.indices where marks[root] == .unvisited {
            // Each frame: a node and how many of its in-place children were already pushed.
            var stack: [(node: Int, next: Int)] = [(root, 0)]
            marks[root] = .inProgress
            while let top = stack.last {
                try budget.spend()
                let children = inPlaceChildren(nodes[top.node])
                if top.next < children.count {
                    stack[stack.count - 1].next += 1
                    let child = children[top.next]
                    switch marks[child] {
                    case .inProgress:
                        throw tooComplex(nodes[child], "applies itself to the same value (an in-place $ref cycle)")
                    case .unvisited:
                        marks[child] = .inProgress
                        stack.append((child, 0))
                    case .done:
                        break
                    }
                    continue
                }
                var total = 1
                for child in children {
                    total += paths[child]
                    if total > maxInPlacePaths {
                        throw tooComplex(nodes[top.node], "expands to more than \(maxInPlacePaths) subschemas applied to the same value (allOf/anyOf/oneOf/not/$ref)")
                    }
                }
                paths[top.node] = total
                marks[top.node] = .done
                stack.removeLast()
            }
        }
    }

    private static func inPlaceChildren(_ node: SchemaNode) -> [Int] {
        var out: [Int] = []
        if let ref = node.ref { out.append(ref) }
        out += node.allOf
        out += node.anyOf
        out += node.oneOf
        for sub in [node.not, node.ifSchema, node.thenSchema, node.elseSchema] { if let sub { out.append(sub) } }
        out += node.dependentSchemas.map(\.1)
        return out
    }

    private static func tooComplex(_ node: SchemaNode, _ what: String) -> WorkBudgetExceeded {
        WorkBudgetExceeded(reason: .steps, detail: "the schema at \(node.path.isEmpty ? "/" : node.path) \(what)")
    }
}
