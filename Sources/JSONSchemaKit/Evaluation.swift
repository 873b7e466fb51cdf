import ChatAPI

/// Computes which members of an instance were "evaluated" by a schema's other keywords, for
/// `unevaluatedProperties` and `unevaluatedItems` (JSON Schema 2020-12 annotation collection).
/// Runs only for schemas that use those keywords.
struct Evaluation {
    let nodes: [SchemaNode]
    var integerLiteralsOnly = false
    private static let maxDepth = 64

    init(nodes: [SchemaNode]) { self.nodes = nodes }

    private func isValid(_ index: Int, _ instance: JSONValue) -> Bool {
        var validator = SchemaValidator(nodes: nodes, collecting: false, integerLiteralsOnly: integerLiteralsOnly)
        return validator.validate(index, instance)
    }

    /// Property names evaluated by node `nodeIndex` (excluding its own `unevaluatedProperties`).
    func evaluatedProperties(nodeIndex: Int, _ object: JSONObject) -> Set<String> {
        var seen: Set<String> = []
        collectProperties(nodeIndex, object, isRoot: true, depth: 0, into: &seen)
        return seen
    }

    private func collectProperties(_ index: Int, _ object: JSONObject, isRoot: Bool, depth: Int, into seen: inout Set<String>) {
        let node = nodes[index]
        guard node.constant == nil, depth < Evaluation.maxDepth else { return }
        let instance = JSONValue.object(object)
        if let ref = node.ref { collectProperties(ref, object, isRoot: false, depth: depth + 1, into: &seen) }
        if node.additionalProperties != nil || (!isRoot && node.unevaluatedProperties != nil) {
            seen.formUnion(object.keys)
            return
        }
        for name in object.keys {
            if node.properties[name] != nil || node.patternProperties.contains(where: { $0.0.matches(name) }) {
                seen.insert(name)
            }
        }
        for sub in node.allOf { collectProperties(sub, object, isRoot: false, depth: depth + 1, into: &seen) }
        for sub in node.anyOf + node.oneOf where isValid(sub, instance) {
            collectProperties(sub, object, isRoot: false, depth: depth + 1, into: &seen)
        }
        if let condition = node.ifSchema {
            if isValid(condition, instance) {
                collectProperties(condition, object, isRoot: false, depth: depth + 1, into: &seen)
                if let then = node.thenSchema { collectProperties(then, object, isRoot: false, depth: depth + 1, into: &seen) }
            } else if let otherwise = node.elseSchema {
                collectProperties(otherwise, object, isRoot: false, depth: depth + 1, into: &seen)
            }
        }
        for (name, sub) in node.dependentSchemas where object[name] != nil {
            collectProperties(sub, object, isRoot: false, depth: depth + 1, into: &seen)
        }
    }

    /// Item indices evaluated by node `nodeIndex` (excluding its own `unevaluatedItems`).
    func evaluatedItems(nodeIndex: Int, _ items: [JSONValue]) -> Set<Int> {
        var seen: Set<Int> = []
        collectItems(nodeIndex, items, isRoot: true, depth: 0, into: &seen)
        return seen
    }

    private func collectItems(_ index: Int, _ items: [JSONValue], isRoot: Bool, depth: Int, into seen: inout Set<Int>) {
        let node = nodes[index]
        guard node.constant == nil, depth < Evaluation.maxDepth else { return }
        let instance = JSONValue.array(items)
        if let ref = node.ref { collectItems(ref, items, isRoot: false, depth: depth + 1, into: &seen) }
        if node.items != nil || (!isRoot && node.unevaluatedItems != nil) {
            seen.formUnion(items.indices)
            return
        }
        seen.formUnion(0..<min(node.prefixItems.count, items.count))
        if let contains = node.contains {
            for (i, item) in items.enumerated() where isValid(contains, item) { seen.insert(i) }
        }
        for sub in node.allOf { collectItems(sub, items, isRoot: false, depth: depth + 1, into: &seen) }
        for sub in node.anyOf + node.oneOf where isValid(sub, instance) {
            collectItems(sub, items, isRoot: false, depth: depth + 1, into: &seen)
        }
        if let condition = node.ifSchema {
            if isValid(condition, instance) {
                collectItems(condition, items, isRoot: false, depth: depth + 1, into: &seen)
                if let then = node.thenSchema { collectItems(then, items, isRoot: false, depth: depth + 1, into: &seen) }
            } else if let otherwise = node.elseSchema {
                collectItems(otherwise, items, isRoot: false, depth: depth + 1, into: &seen)
            }
        }
    }
}
