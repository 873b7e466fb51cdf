import ChatAPI

/// String values written as bare text (`GrammarSpec.rawString`): XML-style tool-call formats
/// put a string parameter's characters between markers, unquoted and unescaped, so the value
/// may hold any text (`<` and quotes included) except the marker that closes it.
extension SchemaCompiler {
    /// The keywords a raw string value can honour: string assertions and annotations.
    static let rawStringKeys: Set<String> = annotationKeys.union(["type", "enum", "const"]).union(stringKeys)

    /// A rule for one value of this compiler's document, a string schema, spelled raw and never
    /// containing `terminator`. Keywords a bare string cannot honour are refused by name.
    func rawStringRule(excluding terminator: String) throws -> Int32 {
        let o: JSONObject
        switch document {
        case .bool(true): o = [:]
        case .object(let object): o = object
        default: throw GrammarError.invalidSchema("a string parameter's schema must be an object")
        }
        if let key = o.keys.sorted().first(where: { !Self.rawStringKeys.contains($0) }) {
            throw GrammarError.unsupportedKeyword(key, detail: "not supported on a string parameter this model writes as bare text")
        }
        if let type = o["type"], type != .string("string") {
            throw GrammarError.invalidSchema("a parameter written as bare text must have type \"string\"")
        }
        if o["enum"] != nil || o["const"] != nil {
            var values = o["enum"]?.arrayValue ?? []
            if let constant = o["const"] { values = o["enum"] == nil ? [constant] : values.filter { $0 == constant } }
            var admitted: [[UInt8]] = []
            for value in values {
                guard let text = value.stringValue, !text.contains(terminator), try admitsEnumValue(value, o) else { continue }
                admitted.append(Array(text.utf8))
            }
            let (rule, start) = try b.newRule()
            for end in try b.literalTrie(start, admitted) { b.accept(end) }
            return rule
        }
        guard let dfa = try stringDFA(o, rawExcluding: terminator) else { return try b.newRule().rule }
        return b.terminalRule(dfa)
    }

    /// An ECMA-262 pattern that finds `literal` anywhere in a string.
    static func regexMatchingLiteral(_ literal: String) -> String {
        var out = ""
        for c in literal {
            if "\\^$.|?*+()[]{}".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
