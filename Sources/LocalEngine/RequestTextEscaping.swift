import ChatAPI

/// Keeps text that comes from a request from becoming control tokens: the one declaration of the
/// escape that request-derived text gets before it is handed to a chat template, and of how a
/// rendered prompt is split back into template markup and escaped text at tokenization.
///
/// The threat: a prompt is rendered to text and tokenized with special-token parsing, so a user
/// message spelling `<|im_end|>\n<|im_start|>system\n…` would otherwise become real control
/// tokens and forge a system turn. Only the template's own markup may become control tokens.
///
/// The escape inserts `marker` right after the first character of every occurrence of a
/// special-token spelling in request text (`<|im_end|>` → `<⧫|im_end|>`), and doubles a marker
/// that the request itself contains. Why inside the spelling rather than before it: the
/// template may put request text through any string operation, and a marker placed *before* a
/// spelling is only as good as the marker's survival. `repr` (Python's `str(dict)`), `tojson`
/// with `ensure_ascii` or `urlencode` rewrite a character into an escape sequence, which would
/// leave the spelling after it intact and live. With the marker inside, the spelling is broken
/// whatever happens to the marker: a rewritten marker leaves harmless visible text, a surviving
/// one is removed again here. The price is that a template splitting request text on a special
/// spelling (Qwen3's `content.split('</think>')` over earlier assistant turns) no longer finds
/// it there, which is the safe direction.
///
/// At tokenization (`segments(of:)`) every unpaired marker ends a run of prompt text, so no
/// request spelling is ever inside a run; each run is tokenized as llama.cpp always did
/// (special-token text parsed: that is the template's markup), and each escaped spelling as
/// plain text. A prompt without markers is one run, so it tokenizes exactly as before.
///
/// Limits, all outside what real templates do:
/// - A spelling that only exists across a seam, between request text and the template's own
///   text (request `…<|im_` then template `end|>`) or between two request strings the template
///   writes back to back, is not broken. Templates write whole special tokens, with markup
///   between request strings; where *we* join request strings (content parts) we escape the
///   joined text.
/// - The template's own text must not contain the marker (it would be read as a boundary).
/// - Runs are tokenized one llama.cpp call each. For SentencePiece vocabularies that add a space
///   prefix (Llama 2 era), a run after an escaped spelling therefore starts with that space;
///   byte-level BPE vocabularies (Llama 3, Qwen, SmolLM, Mistral Tekken) are unaffected.
public struct RequestTextEscaping: Sendable {
    /// The marker character (U+29EB BLACK LOZENGE): rare, printable in Python's sense (so `repr`
    /// keeps it), caseless, not whitespace (so `strip` keeps it), not a combining mark.
    public static let marker: Unicode.Scalar = "\u{29EB}"
    static let markerBytes: [UInt8] = Array(String(marker).utf8)

    let spellings: SpellingTrie

    /// An escape over these special-token spellings (the texts llama.cpp parses as special
    /// tokens). Empty spellings and any containing the marker are ignored.
    public init(spellings: [String]) {
        var trie = SpellingTrie()
        for s in spellings where !s.isEmpty && !s.unicodeScalars.contains(Self.marker) {
            trie.insert(Array(s.utf8))
        }
        self.spellings = trie
    }

    /// `text` with every special-token spelling broken by the marker and every marker doubled.
    /// Apply it to each string taken from a request before it reaches a template, and to
    /// nothing else.
    public func escape(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let marker = Self.markerBytes
        var out: [UInt8] = []
        var changed = false
        var i = 0
        while i < bytes.count {
            if bytes.starts(with: marker, at: i) {
                out += marker + marker
                i += marker.count
                changed = true
            } else if spellings.hasSpelling(in: bytes, at: i) {
                // Every occurrence, overlapping ones included: the loop steps one character,
                // so a spelling starting inside this one is broken too.
                let n = scalarLength(bytes[i])
                out += bytes[i..<min(i + n, bytes.count)]
                out += marker
                i += n
                changed = true
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }

    /// `value` with every string and object key escaped (tool arguments, schemas).
    public func escape(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(escape(s))
        case .array(let items): return .array(items.map(escape))
        case .object(let object):
            var out = JSONObject()
            out.reserveCapacity(object.count)
            for (key, item) in object { out[escape(key)] = escape(item) }
            return .object(out)
        case .null, .bool, .number: return value
        }
    }

    /// One stretch of a rendered prompt.
    enum Segment: Equatable {
        /// Text rendered by the template, request text with its markers removed included:
        /// tokenized with special-token parsing, so the template's markup becomes control tokens.
        case markup([UInt8])
        /// A special-token spelling that came from the request: tokenized as plain text.
        case literal([UInt8])
    }

    /// Whether `prompt` contains the marker at all (if not, it is a single markup segment).
    func containsMarker(_ prompt: String) -> Bool {
        prompt.unicodeScalars.contains(Self.marker)
    }

    /// Splits a rendered prompt: `c⧫rest` where `c` + `rest` is a spelling → literal; `⧫⧫` → one
    /// marker character of request text; any other marker → a boundary between markup segments
    /// (a template cut an escaped spelling apart; its pieces must not join up again).
    func segments(of prompt: String) -> [Segment] {
        let bytes = Array(prompt.utf8)
        let marker = Self.markerBytes
        var segments: [Segment] = []
        var run: [UInt8] = []
        func endRun() {
            if !run.isEmpty { segments.append(.markup(run)) }
            run.removeAll()
        }
        var i = 0
        while i < bytes.count {
            if bytes.starts(with: marker, at: i) {
                if bytes.starts(with: marker, at: i + marker.count) {
                    run += marker
                    i += 2 * marker.count
                } else {
                    endRun()
                    i += marker.count
                }
                continue
            }
            let n = min(scalarLength(bytes[i]), bytes.count - i)
            let restStart = i + n + marker.count
            if bytes.starts(with: marker, at: i + n),
               let restLength = spellings.longestSpelling(prefix: bytes[i..<(i + n)], in: bytes, continuingAt: restStart) {
                endRun()
                segments.append(.literal(Array(bytes[i..<(i + n)]) + bytes[restStart..<(restStart + restLength)]))
                i = restStart + restLength
                continue
            }
            run += bytes[i..<(i + n)]
            i += n
        }
        endRun()
        return segments
    }
}

/// Byte trie of special-token spellings.
struct SpellingTrie: Sendable {
    private var children: [[UInt8: Int32]] = [[:]]
    private var terminal: [Bool] = [false]

    mutating func insert(_ spelling: [UInt8]) {
        var node = 0
        for byte in spelling {
            if let next = children[node][byte] {
                node = Int(next)
            } else {
                children.append([:])
                terminal.append(false)
                children[node][byte] = Int32(children.count - 1)
                node = children.count - 1
            }
        }
        terminal[node] = true
    }

    /// Whether some spelling starts at `bytes[start...]`.
    func hasSpelling(in bytes: [UInt8], at start: Int) -> Bool {
        var node = 0
        var i = start
        while i < bytes.count, let next = children[node][bytes[i]] {
            node = Int(next)
            if terminal[node] { return true }
            i += 1
        }
        return false
    }

    /// The length of the longest `rest` at `bytes[start...]` such that `prefix` + `rest` is a
    /// spelling, or nil.
    func longestSpelling(prefix: ArraySlice<UInt8>, in bytes: [UInt8], continuingAt start: Int) -> Int? {
        var node = 0
        for byte in prefix {
            guard let next = children[node][byte] else { return nil }
            node = Int(next)
        }
        var best: Int? = terminal[node] ? 0 : nil
        var i = start
        while i < bytes.count, let next = children[node][bytes[i]] {
            node = Int(next)
            i += 1
            if terminal[node] { best = i - start }
        }
        return best
    }
}

/// Bytes in the UTF-8 sequence that `lead` starts (1 for a stray continuation byte).
private func scalarLength(_ lead: UInt8) -> Int {
    switch lead {
    case 0xF0...: return 4
    case 0xE0...: return 3
    case 0xC0...: return 2
    default: return 1
    }
}

extension Array where Element == UInt8 {
    fileprivate func starts(with prefix: [UInt8], at index: Int) -> Bool {
        guard index >= 0, index + prefix.count <= count else { return false }
        for k in 0..<prefix.count where self[index + k] != prefix[k] { return false }
        return true
    }
}
