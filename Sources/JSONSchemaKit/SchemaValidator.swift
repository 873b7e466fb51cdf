import ChatAPI

/// Walks an instance against compiled nodes. In collecting mode it records every failure with
/// its instance path; in quiet mode (used under `anyOf`, `oneOf`, `not`, `if`, `contains`) it
/// stops at the first failure and records nothing, so those branches cost no allocations.
struct SchemaValidator {
    private enum PathToken {
        case key(String)
        case index(Int)
    }

    static let maxDepth = 400

    let nodes: [SchemaNode]
    /// Draft-04 and earlier: `integer` means an integer literal (`1.0` is a number, not an integer).
    let integerLiteralsOnly: Bool
    private(set) var errors: [ValidationError] = []
    private var collecting: Bool
    private var path: [PathToken] = []
    private var depth = 0

    init(nodes: [SchemaNode], collecting: Bool, integerLiteralsOnly: Bool = false) {
        self.nodes = nodes
        self.integerLiteralsOnly = integerLiteralsOnly
        self.collecting = collecting
    }

    // MARK: - Errors

    private var instancePath: String {
        var out = ""
        for token in path {
            switch token {
            case .key(let k): out += "/" + JSONPointer.escape(k)
            case .index(let i): out += "/\(i)"
            }
        }
        return out
    }

    /// Records a failure (when collecting) and says whether to keep checking this node.
    private mutating func fail(_ node: SchemaNode, _ keyword: String, _ message: @autoclosure () -> String) -> Bool {
        guard collecting else { return false }
        errors.append(ValidationError(instancePath: instancePath, keyword: keyword,
                                      schemaPath: node.path.isEmpty ? "/" + keyword : node.path + "/" + keyword,
                                      message: message()))
        return true
    }

    /// Validates without recording, whatever the current mode.
    private mutating func quietly(_ index: Int, _ instance: JSONValue) -> Bool {
        let saved = collecting
        collecting = false
        defer { collecting = saved }
        return validate(index, instance)
    }

    @inline(__always) private mutating func child(_ token: PathToken, _ index: Int, _ instance: JSONValue) -> Bool {
        guard collecting else { return validate(index, instance) }
        path.append(token)
        defer { path.removeLast() }
        return validate(index, instance)
    }

    // MARK: - Validation

    /// True when `instance` satisfies node `index`.
    mutating func validate(_ index: Int, _ instance: JSONValue) -> Bool {
        let node = nodes[index]
        if let constant = node.constant {
            if !constant { _ = fail(node, "false", "no value is allowed here (false schema)") }
            return constant
        }
        depth += 1
        defer { depth -= 1 }
        if depth > SchemaValidator.maxDepth {
            _ = fail(node, node.refKeyword, "schema recursion too deep (a $ref cycle that does not descend into the instance)")
            return false
        }

        var valid = true
        if let ref = node.ref, !validate(ref, instance) {
            valid = false
            if !collecting { return false }
        }
        if let types = node.types, !TypeCheck.matches(instance, types, integerLiteralsOnly: integerLiteralsOnly) {
            valid = false
            if !fail(node, "type", "expected \(types.names.joined(separator: " or ")), got \(TypeCheck.describe(instance))") { return false }
            // Type-specific keywords do not apply to other types anyway; report just the type.
            return false
        }
        if let values = node.enumValues, !values.contains(where: { JSONEquality.equal($0, instance) }) {
            valid = false
            if !fail(node, "enum", "\(TypeCheck.preview(instance)) is not one of \(TypeCheck.preview(.array(values)))") { return false }
        }
        if let constant = node.constValue, !JSONEquality.equal(constant, instance) {
            valid = false
            if !fail(node, "const", "\(TypeCheck.preview(instance)) is not \(TypeCheck.preview(constant))") { return false }
        }
        switch instance {
        case .number(let n): if !numberKeywords(node, n) { valid = false; if !collecting { return false } }
        case .string(let s): if !stringKeywords(node, s) { valid = false; if !collecting { return false } }
        case .array(let a): if !arrayKeywords(node, index, a) { valid = false; if !collecting { return false } }
        case .object(let o): if !objectKeywords(node, index, o, instance) { valid = false; if !collecting { return false } }
        default: break
        }
        return combinators(node, instance) && valid
    }

    private mutating func combinators(_ node: SchemaNode, _ instance: JSONValue) -> Bool {
        var valid = true
        for sub in node.allOf where !validate(sub, instance) {
            valid = false
            if !collecting { return false }
        }
        if !node.anyOf.isEmpty, !node.anyOf.contains(where: { quietly($0, instance) }) {
            valid = false
            if !fail(node, "anyOf", "\(TypeCheck.preview(instance)) does not match any of the anyOf schemas") { return false }
        }
        if !node.oneOf.isEmpty {
            var matched: [Int] = []
            for (i, sub) in node.oneOf.enumerated() where quietly(sub, instance) {
                matched.append(i)
                if matched.count > 1 { break }
            }
            if matched.count != 1 {
                valid = false
                let message = matched.isEmpty
                    ? "\(TypeCheck.preview(instance)) does not match any of the oneOf schemas"
                    : "\(TypeCheck.preview(instance)) matches more than one oneOf schema (\(matched[0]) and \(matched[1]))"
                if !fail(node, "oneOf", message) { return false }
            }
        }
        if let not = node.not, quietly(not, instance) {
            valid = false
            if !fail(node, "not", "\(TypeCheck.preview(instance)) must not match the \"not\" schema") { return false }
        }
        if let condition = node.ifSchema {
            if quietly(condition, instance) {
                if let then = node.thenSchema, !validate(then, instance) { valid = false }
            } else if let otherwise = node.elseSchema, !validate(otherwise, instance) {
                valid = false
            }
        }
        return valid
    }

    private mutating func numberKeywords(_ node: SchemaNode, _ n: JSONNumber) -> Bool {
        var valid = true
        if let limit = node.minimum, NumberMath.compare(n, limit) < 0 {
            valid = false
            if !fail(node, "minimum", "\(n.text) is less than the minimum \(limit.text)") { return false }
        }
        if let limit = node.maximum, NumberMath.compare(n, limit) > 0 {
            valid = false
            if !fail(node, "maximum", "\(n.text) is greater than the maximum \(limit.text)") { return false }
        }
        if let limit = node.exclusiveMinimum, NumberMath.compare(n, limit) <= 0 {
            valid = false
            if !fail(node, "exclusiveMinimum", "\(n.text) is not greater than \(limit.text)") { return false }
        }
        if let limit = node.exclusiveMaximum, NumberMath.compare(n, limit) >= 0 {
            valid = false
            if !fail(node, "exclusiveMaximum", "\(n.text) is not less than \(limit.text)") { return false }
        }
        if let divisor = node.multipleOf, !NumberMath.isMultiple(n, of: divisor) {
            valid = false
            if !fail(node, "multipleOf", "\(n.text) is not a multiple of \(divisor.text)") { return false }
        }
        return valid
    }

    private mutating func stringKeywords(_ node: SchemaNode, _ s: String) -> Bool {
        var valid = true
        if node.minLength != nil || node.maxLength != nil {
            // Lengths count code points, not UTF-16 units or grapheme clusters.
            let length = s.unicodeScalars.count
            if let limit = node.minLength, length < limit {
                valid = false
                if !fail(node, "minLength", "\(TypeCheck.preview(.string(s))) is shorter than \(limit) characters") { return false }
            }
            if let limit = node.maxLength, length > limit {
                valid = false
                if !fail(node, "maxLength", "\(TypeCheck.preview(.string(s))) is longer than \(limit) characters") { return false }
            }
        }
        if let regex = node.pattern {
            switch regex.search(s) {
            case .match: break
            case .noMatch:
                valid = false
                if !fail(node, "pattern", "\(TypeCheck.preview(.string(s))) does not match \(JSONValue.quoted(regex.pattern))") { return false }
            case .budgetExceeded:
                valid = false
                if !fail(node, "pattern", "matching \(JSONValue.quoted(regex.pattern)) exceeded the step budget") { return false }
            }
        }
        if let format = node.format, !format.check(s) {
            valid = false
            if !fail(node, "format", "\(TypeCheck.preview(.string(s))) is not a valid \(format.rawValue)") { return false }
        }
        return valid
    }

    private mutating func arrayKeywords(_ node: SchemaNode, _ nodeIndex: Int, _ items: [JSONValue]) -> Bool {
        var valid = true
        if let limit = node.minItems, items.count < limit {
            valid = false
            if !fail(node, "minItems", "array has \(items.count) items, fewer than \(limit)") { return false }
        }
        if let limit = node.maxItems, items.count > limit {
            valid = false
            if !fail(node, "maxItems", "array has \(items.count) items, more than \(limit)") { return false }
        }
        if node.uniqueItems, let (i, j) = JSONEquality.firstDuplicate(in: items) {
            valid = false
            if !fail(node, "uniqueItems", "items \(i) and \(j) are equal") { return false }
        }
        let prefixCount = min(node.prefixItems.count, items.count)
        for i in 0..<prefixCount where !child(.index(i), node.prefixItems[i], items[i]) {
            valid = false
            if !collecting { return false }
        }
        if let rest = node.items, items.count > prefixCount {
            if nodes[rest].constant == false {
                valid = false
                if !fail(node, node.itemsKeyword, "array may have at most \(node.prefixItems.count) items") { return false }
            } else {
                for i in prefixCount..<items.count where !child(.index(i), rest, items[i]) {
                    valid = false
                    if !collecting { return false }
                }
            }
        }
        if let contains = node.contains {
            let minimum = node.minContains ?? 1
            var count = 0
            for item in items where quietly(contains, item) { count += 1 }
            if count < minimum {
                valid = false
                let message = minimum == 1 ? "no item matches the contains schema" : "only \(count) items match the contains schema, fewer than \(minimum)"
                if !fail(node, node.minContains == nil ? "contains" : "minContains", message) { return false }
            }
            if let maximum = node.maxContains, count > maximum {
                valid = false
                if !fail(node, "maxContains", "\(count) items match the contains schema, more than \(maximum)") { return false }
            }
        }
        if let unevaluated = node.unevaluatedItems {
            var evaluation = Evaluation(nodes: nodes)
            evaluation.integerLiteralsOnly = integerLiteralsOnly
            let seen = evaluation.evaluatedItems(nodeIndex: nodeIndex, items)
            for i in items.indices where !seen.contains(i) && !child(.index(i), unevaluated, items[i]) {
                valid = false
                if !collecting { return false }
            }
        }
        return valid
    }

    private mutating func objectKeywords(_ node: SchemaNode, _ nodeIndex: Int, _ object: JSONObject, _ instance: JSONValue) -> Bool {
        var valid = true
        for name in node.required where object[name] == nil {
            valid = false
            if !fail(node, "required", "missing required property \(JSONValue.quoted(name))") { return false }
        }
        if let limit = node.minProperties, object.count < limit {
            valid = false
            if !fail(node, "minProperties", "object has \(object.count) properties, fewer than \(limit)") { return false }
        }
        if let limit = node.maxProperties, object.count > limit {
            valid = false
            if !fail(node, "maxProperties", "object has \(object.count) properties, more than \(limit)") { return false }
        }
        for (name, required) in node.dependentRequired where object[name] != nil {
            for other in required where object[other] == nil {
                valid = false
                if !fail(node, "dependentRequired", "property \(JSONValue.quoted(other)) is required when \(JSONValue.quoted(name)) is present") { return false }
            }
        }
        for (name, schema) in node.dependentSchemas where object[name] != nil && !validate(schema, instance) {
            valid = false
            if !collecting { return false }
        }
        let checksMembers = !node.properties.isEmpty || !node.patternProperties.isEmpty
            || node.additionalProperties != nil || node.propertyNames != nil
        if checksMembers {
            for (name, value) in object {
                if let names = node.propertyNames, !quietly(names, .string(name)) {
                    valid = false
                    if !fail(node, "propertyNames", "property name \(JSONValue.quoted(name)) does not match the propertyNames schema") { return false }
                }
                var matched = false
                if let schema = node.properties[name] {
                    matched = true
                    if !child(.key(name), schema, value) {
                        valid = false
                        if !collecting { return false }
                    }
                }
                for (regex, schema) in node.patternProperties where regex.matches(name) {
                    matched = true
                    if !child(.key(name), schema, value) {
                        valid = false
                        if !collecting { return false }
                    }
                }
                if !matched, let additional = node.additionalProperties {
                    if nodes[additional].constant == false {
                        valid = false
                        if !fail(node, "additionalProperties", "additional property \(JSONValue.quoted(name)) is not allowed") { return false }
                    } else if !child(.key(name), additional, value) {
                        valid = false
                        if !collecting { return false }
                    }
                }
            }
        }
        if let unevaluated = node.unevaluatedProperties {
            var evaluation = Evaluation(nodes: nodes)
            evaluation.integerLiteralsOnly = integerLiteralsOnly
            let seen = evaluation.evaluatedProperties(nodeIndex: nodeIndex, object)
            for (name, value) in object where !seen.contains(name) {
                if nodes[unevaluated].constant == false {
                    valid = false
                    if !fail(node, "unevaluatedProperties", "unevaluated property \(JSONValue.quoted(name)) is not allowed") { return false }
                } else if !child(.key(name), unevaluated, value) {
                    valid = false
                    if !collecting { return false }
                }
            }
        }
        return valid
    }
}

/// Type tests and short value previews for messages.
enum TypeCheck {
    static func matches(_ value: JSONValue, _ types: TypeSet, integerLiteralsOnly: Bool = false) -> Bool {
        switch value {
        case .null: return types.contains(.null)
        case .bool: return types.contains(.boolean)
        case .string: return types.contains(.string)
        case .array: return types.contains(.array)
        case .object: return types.contains(.object)
        case .number(let n):
            if types.contains(.number) { return true }
            guard types.contains(.integer) else { return false }
            if integerLiteralsOnly { return !n.text.utf8.contains(where: { $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }) }
            return NumberMath.isInteger(n)
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .number(let n): return NumberMath.isInteger(n) ? "integer \(n.text)" : "number \(n.text)"
        case .string, .bool, .null: return "\(value.typeName) \(preview(value))"
        default: return value.typeName
        }
    }

    /// Compact JSON, cut to a readable length.
    static func preview(_ value: JSONValue) -> String {
        let text = value.serialized()
        guard text.count > 80 else { return text }
        return String(text.prefix(77)) + "..."
    }
}
