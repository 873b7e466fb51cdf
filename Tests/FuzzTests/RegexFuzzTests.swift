import ChatAPI
import Grammar
import JSONSchemaKit
import XCTest

/// The regex parsers behind `pattern`: the validator's (through `JSONSchema`) and the grammar's
/// (through `GrammarCompiler`). Tested through those public entry points only, so the tests
/// outlive the merge of the two parsers into one (issue 8, item 1).
final class RegexFuzzTests: XCTestCase {
    static let tokens: [String] = [
        "(", ")", "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?<name>", "\\k<name>", "\\1", "\\2", "[", "]", "[^", "-", "{", "}", "{2,}",
        "{0,1000}", "{3}", "{99999999999}", "{2,1}", "*", "+", "?", "*?", "+?", "??", "|", "^", "$", ".", "\\d", "\\D", "\\w", "\\W",
        "\\s", "\\S", "\\b", "\\B", "\\p{L}", "\\P{Lu}", "\\p{Script=Greek}", "\\p{Bogus}", "\\u{1F600}", "\\uD83D\\uDE00", "\\uD800",
        "\\u0041", "\\x41", "\\cJ", "\\c", "\\0", "\\/", "\\", "\\-", "\\]", "a", "z", "0", "9", "é", "😀", "[a-z]", "[z-a]", "[\\d-x]",
        "[\\w-]", "a{2}", "(a|b)", "(a*)*", "(a+)+$", "[\\s\\S]", "\\n", "\\t", "\\f", "\\v",
    ]
    static let nestings: [(String, String)] = [("(", ")"), ("(?:", ")"), ("(a|", ")"), ("(", ")*"), ("(", "){2}"), ("(?:", ")?"), ("(?=", ")")]

    static let seeds = ["^[a-z]+$", "\\d{3}-\\d{4}", "^(\\([0-9]{3}\\))?[0-9]{3}-[0-9]{4}$", "^[A-Z][a-z]*( [A-Z][a-z]*)*$",
                        "^\\p{Lu}\\p{Ll}+$", "^(?:[01]\\d|2[0-3]):[0-5]\\d$", "[^@\\s]+@[^@\\s]+\\.[a-z]{2,}", "^https?://", "(ab|cd)*e?",
                        "^[\\u0000-\\u007F]*$", "😀+", "^.{0,20}$", "a|b|c|", "(a)\\1", "(?=x)x", "^$", "", "[]", "[^]", "\\w+\\b"]

    /// Nesting depth the random phase reaches. Today both regex parsers recurse once per group
    /// with no depth limit (see `knownFailures`), so deeper nests would only rediscover that.
    /// `FUZZ_KNOWN_FAILURES=1` lifts it.
    static var maxNesting: Int { FuzzHarness.includeKnownFailures ? 300_000 : 100 }

    /// Nesting beyond which the parsers overflow the stack today (Grammar's at a few thousand
    /// levels in a debug build): the random phase skips such patterns, since runs of `(` or `*`
    /// tokens reach them without the nesting mutation. Lifted by `FUZZ_KNOWN_FAILURES=1`.
    static let skippedNesting = 300

    /// Longest pattern the random phase makes. Today Grammar's regex compiler overruns its 2 s
    /// budget by seconds to tens of seconds on some unanchored patterns of a few hundred bytes (see `KNOWN_FAILURES`),
    /// which would make every run rediscover that and blow the test's time; real patterns are
    /// far shorter. Lifted by `FUZZ_KNOWN_FAILURES=1`.
    static var maxPatternSize: Int { FuzzHarness.includeKnownFailures ? 64 << 10 : 64 }

    /// The deeper of: group nesting, and the longest run of stacked quantifiers (`a*****`, which
    /// Grammar's parser nests one node per quantifier).
    static func nesting(_ pattern: [UInt8]) -> Int {
        var depth = 0, deepest = 0, run = 0, escaped = false
        for byte in pattern {
            if escaped { escaped = false; run = 0; continue }
            switch byte {
            case UInt8(ascii: "\\"): escaped = true; run = 0
            case UInt8(ascii: "("): depth += 1; deepest = max(deepest, depth); run = 0
            case UInt8(ascii: ")"): depth -= 1; run = 0
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "}"): run += 1; deepest = max(deepest, run)
            default: run = 0
            }
        }
        return deepest
    }

    /// Strings to match a pattern against: bits of the pattern itself (so that literal patterns
    /// match sometimes) and a few fixed ones. Derived from the pattern, so a replay is exact.
    static func probes(for pattern: String) -> [String] {
        let literal = String(pattern.unicodeScalars.filter { !"\\^$.|?*+()[]{}".unicodeScalars.contains($0) }.prefix(40).map(Character.init))
        return ["", "a", "ab", "0", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", literal, String(literal.prefix(3)),
                literal + literal, String(pattern.prefix(40)), "é😀\u{0}\n"]
    }

    /// Compiling a pattern returns or throws a typed error, within its budget, for both
    /// compilers; matching returns; and where both compile, the grammar accepts a string's
    /// canonical JSON exactly when the validator accepts the string.
    func testRegexParsers() throws {
        let target = FuzzTarget(
            name: "regex",
            seeds: Self.seeds.map { Array($0.utf8) },
            knownFailures: [
                // Issue 8: both parsers recurse once per group; the process dies of a stack overflow.
                ("nested-groups-300000", Array((String(repeating: "(", count: 300_000) + "a" + String(repeating: ")", count: 300_000)).utf8)),
                // Found by this target: the same through lookaheads (JSONSchemaKit RegexParser.parseGroup)
                // and named groups (Grammar Regex.swift).
                ("nested-lookaheads-30000", Array((String(repeating: "(?=", count: 30_000) + "a").utf8)),
                ("nested-named-groups-10000", Array(("^." + String(repeating: "(?<name>", count: 10_000) + "a").utf8)),
                // Found by this target: Grammar accepts stacked quantifiers (JavaScript refuses `a**`),
                // nests one node each, and CodePointNFA.containsAnchor recurses through them.
                ("stacked-quantifiers-30000", Array(("a" + String(repeating: "*", count: 30_000)).utf8)),
            ],
            mutator: ByteMutator(dictionary: Self.tokens.map { Array($0.utf8) },
                                 nestings: Self.nestings.map { (Array($0.0.utf8), Array($0.1.utf8)) }, maxNesting: Self.maxNesting,
                                 maxSize: Self.maxPatternSize),
            hangLimit: .seconds(60),
            randomPhaseOffBecause: "the regex and schema compilers still fail on fresh fuzz finds (issue 8, open)",
            check: { input in
                if !FuzzHarness.includeKnownFailures, Self.nesting(input) > Self.skippedNesting { return }
                let pattern = String(decoding: input, as: UTF8.self)
                let schema: JSONValue = ["type": "string", "pattern": .string(pattern)]
                let validator = try CompileChecks.validator(schema)
                let grammar = try CompileChecks.grammar(schema)
                guard let validator else { return }
                for probe in Self.probes(for: pattern) {
                    let valid = validator.isValid(.string(probe))
                    guard let grammar else { continue }
                    let text = CanonicalJSON.serialize(.string(probe), schema: schema)
                    let accepted = CompileChecks.grammarAccepts(grammar, text)
                    if valid != accepted {
                        throw PropertyViolation("pattern \(pattern.debugDescription): the validator \(valid ? "accepts" : "rejects") "
                                                + "\(probe.debugDescription) but the grammar \(accepted ? "accepts" : "rejects") \(text)")
                    }
                }
            })
        try FuzzHarness(target).run()
    }
}
