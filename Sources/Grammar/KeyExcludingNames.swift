import ChatAPI

extension Terminals {
    /// A JSON string (quotes included) that is none of `names`: the key of an additional
    /// property next to declared ones.
    ///
    /// Built directly, without subset construction, as a byte trie of the names' canonical
    /// spellings whose every character boundary may branch off (a different raw character) into
    /// `stringRest`, whose states are copied in. Trie states are an `Overlay` on `stringRest`:
    /// they step like its start state except on their children's bytes, the quote and the
    /// backslash, so the expensive token walk (nearly the whole vocabulary is string content) is
    /// done once per vocabulary for `stringRest` and each schema only walks the tokens that start
    /// with one of those few bytes.
    ///
    /// Narrowing, never widening: at a trie node the key may not branch off with a `\uXXXX`
    /// escape (which could spell a name's character) nor in the middle of a character or escape;
    /// such keys are refused.
    func keyExcluding(names: [String]) throws -> ByteDFA {
        let key = "keys|" + names.joined(separator: "\u{0}")
        guard let dfa = try cached(key, { Self.keyExcludingDFA(names, key: key) }) else {
            throw GrammarError.tooLarge("no key differs from the declared names")  // unreachable
        }
        return dfa
    }

    /// The rest of a JSON string after its opening quote: any characters, then the closing
    /// quote. State 0 is inside the string.
    static let stringRest: ByteDFA = {
        var nfa = ByteNFA()
        let start = nfa.addState()
        let done = nfa.addState()
        nfa.accepting[Int(done)] = true
        addCharacter(&nfa, from: start, to: start)
        nfa.byte(start, 0x22, done)
        return try! ByteDFA.determinize(nfa, start: start, key: "string-rest")!
    }()

    private static func keyExcludingDFA(_ names: [String], key: String) -> ByteDFA {
        let rest = stringRest
        let trie = NameTrie(names)
        // States: 0 before the opening quote, 1... trie nodes (preorder, root first), two escape
        // states, then `rest`'s states at `offset`.
        var nodes: [NameTrie.Node] = []
        var order = [trie.root]
        while let n = order.popLast() {
            nodes.append(n)
            order += n.children.keys.sorted(by: >).map { n.children[$0]! }
        }
        var id: [ObjectIdentifier: Int32] = [:]
        for (i, n) in nodes.enumerated() { id[ObjectIdentifier(n)] = Int32(1 + i) }
        let escapeWithSlash = Int32(1 + nodes.count), escapeNoSlash = escapeWithSlash + 1
        let offset = escapeNoSlash + 1
        let stateCount = Int(offset) + rest.stateCount

        // Byte classes: `rest`'s, split further so every trie byte and escape letter is alone.
        var own = [Bool](repeating: false, count: 256)
        for n in nodes { for b in n.children.keys { own[Int(b)] = true } }
        for b in Array(#""\/bfnrtu"#.utf8) { own[Int(b)] = true }
        var classOf = [UInt8](repeating: 0, count: 256)
        var classIDs: [Int: UInt8] = [:]
        var representative: [UInt8] = []
        for b in 0..<256 {
            let signature = own[b] ? 1_000 + b : Int(rest.classOf[b])
            if let c = classIDs[signature] { classOf[b] = c; continue }
            let c = UInt8(representative.count)
            classIDs[signature] = c
            representative.append(UInt8(b))
            classOf[b] = c
        }
        let classCount = representative.count
        var next = [Int32](repeating: -1, count: stateCount * classCount)
        var accepting = [Bool](repeating: false, count: stateCount)
        func restStep(_ r: Int32, _ b: UInt8) -> Int32 {
            let t = rest.step(r, b)
            return t >= 0 ? offset + t : -1
        }
        next[0 * classCount + Int(classOf[0x22])] = 1
        for (i, n) in nodes.enumerated() {
            let s = 1 + i
            for c in 0..<classCount {
                let b = representative[c]
                let t: Int32
                if let child = n.children[b] { t = id[ObjectIdentifier(child)]! }
                else if !n.boundary { t = -1 }
                else if b == 0x22 { t = n.isName ? -1 : restStep(0, b) }
                else if b == 0x5C { t = n.children[0x2F] == nil ? escapeWithSlash : escapeNoSlash }
                else { t = restStep(0, b) }
                next[s * classCount + c] = t
            }
        }
        // Short escapes (\" \\ \/ \b \f \n \r \t) where no name continues with a backslash:
        // the decoded character then differs from every name's next one (names are spelled
        // canonically, so their quote, backslash and controls are escapes).
        for (state, slash) in [(escapeWithSlash, true), (escapeNoSlash, false)] {
            for b in Array(#""\bfnrt"#.utf8) + (slash ? [UInt8(ascii: "/")] : []) {
                next[Int(state) * classCount + Int(classOf[Int(b)])] = offset
            }
        }
        for r in 0..<rest.stateCount {
            let s = Int(offset) + r
            accepting[s] = rest.accepting[r]
            for c in 0..<classCount { next[s * classCount + c] = restStep(Int32(r), representative[c]) }
        }
        // Trie states at character boundaries mimic `rest`'s start; record where they differ.
        var mimics = [Int32](repeating: -1, count: stateCount)
        var differing = [[UInt8]](repeating: [], count: stateCount)
        for (i, n) in nodes.enumerated() where n.boundary {
            let s = 1 + i
            mimics[s] = 0
            for b in 0..<256 where next[s * classCount + Int(classOf[b])] != restStep(0, UInt8(b)) {
                differing[s].append(UInt8(b))
            }
        }
        for r in 0..<rest.stateCount { mimics[Int(offset) + r] = Int32(r) }
        return ByteDFA(classOf: classOf, classCount: classCount, next: next, accepting: accepting, key: key,
                       overlay: .init(base: rest, mimics: mimics, differing: differing,
                                      capacity: [Int32](repeating: .max, count: stateCount)))
    }
}

/// The canonical JSON spellings of some names (without quotes) as a byte trie. A node is a
/// `boundary` when it ends a whole character (not inside a UTF-8 sequence or an escape).
private struct NameTrie {
    final class Node {
        var children: [UInt8: Node] = [:]
        var isName = false
        var boundary = true
    }
    let root = Node()

    init(_ names: [String]) {
        for name in names {
            let body = Array(JSONValue.quoted(name).utf8.dropFirst().dropLast())
            var cur = root
            var escape = 0  // -1: just after a backslash; n > 0: hex digits of \uXXXX left
            var continuation = 0  // UTF-8 continuation bytes left
            for byte in body {
                if escape == -1 { escape = byte == 0x75 ? 4 : 0 }
                else if escape > 0 { escape -= 1 }
                else if byte == 0x5C { escape = -1 }
                else if continuation > 0 { continuation -= 1 }
                else if byte >= 0xF0 { continuation = 3 } else if byte >= 0xE0 { continuation = 2 } else if byte >= 0xC0 { continuation = 1 }
                let next = cur.children[byte] ?? Node()
                cur.children[byte] = next
                cur = next
                cur.boundary = escape == 0 && continuation == 0
            }
            cur.isName = true
        }
    }
}
