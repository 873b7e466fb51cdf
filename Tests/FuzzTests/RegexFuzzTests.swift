import ChatAPI
import Grammar
import JSONSchemaKit
import XCTest

/// The two readings of a `pattern`: the validator's (through `JSONSchema`) and the grammar's
/// (through `GrammarCompiler`), both built on JSONSchemaKit's one regex parser. Tested through
/// those public entry points only.
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

    /// Nesting depth the random phase reaches: past the budget's depth limit (256), so the
    /// refusal of deep patterns is exercised too; the regressions nest far deeper.
    static let maxNesting = 1_000

    /// Longest pattern the random phase makes: enough for every compiler to hit its size and
    /// time limits (which it must do within its budget), short enough that a run tries many.
    static let maxPatternSize = 4 << 10

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
            regressions: [
                // Each of these overflowed the stack before the parser stopped at the budget's
                // depth limit and refused stacked quantifiers (`a**`) as JavaScript does.
                ("nested-groups-300000", Array((String(repeating: "(", count: 300_000) + "a" + String(repeating: ")", count: 300_000)).utf8)),
                ("nested-lookaheads-30000", Array((String(repeating: "(?=", count: 30_000) + "a").utf8)),
                ("nested-named-groups-10000", Array(("^." + String(repeating: "(?<name>", count: 10_000) + "a").utf8)),
                ("stacked-quantifiers-30000", Array(("a" + String(repeating: "*", count: 30_000)).utf8)),
            ],
            mutator: ByteMutator(dictionary: Self.tokens.map { Array($0.utf8) },
                                 nestings: Self.nestings.map { (Array($0.0.utf8), Array($0.1.utf8)) }, maxNesting: Self.maxNesting,
                                 maxSize: Self.maxPatternSize),
            hangLimit: .seconds(60),
            check: { input in
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
                    // The validator's backtracking matcher gives up (and rejects) after a step
                    // budget on pathological patterns (238 nested `(…)*`); there it has no answer
                    // to compare, and the grammar's automaton is the one that decided.
                    if !valid, accepted, (try? ECMARegex(pattern))?.search(probe) == .budgetExceeded { continue }
                    if valid != accepted {
                        throw PropertyViolation("pattern \(pattern.debugDescription): the validator \(valid ? "accepts" : "rejects") "
                                                + "\(probe.debugDescription) but the grammar \(accepted ? "accepts" : "rejects") \(text)")
                    }
                }
            })
        try FuzzHarness(target).run()
    }
}
