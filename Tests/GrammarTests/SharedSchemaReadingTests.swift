import ChatAPI
import JSONSchemaKit
import XCTest
@testable import Grammar

/// The grammar reads patterns with the validator's regex parser and resolves `$ref`s with the
/// validator's resolver; these check that the two agree where they used to differ.
final class SharedSchemaReadingTests: XCTestCase {
    /// For each pattern, every probe is accepted by the grammar exactly when the validator
    /// accepts it.
    func testGrammarAndValidatorAgreeOnTrickyPatterns() throws {
        let cases: [(String, [String])] = [
            ("^[a-z]+(?:-[a-z]+)*$", ["kebab-case", "Kebab", "a--b", ""]),
            ("(?i)^ab[c-e]$", ["ABC", "aBe", "abf", "ABF"]),
            // Simple case folding reaches beyond ASCII: U+212A KELVIN SIGN lowercases to k.
            ("(?i)^[k]$", ["k", "K", "\u{212A}", "x"]),
            ("(?s)^a.b$", ["a\nb", "axb", "ab"]),
            ("^a.b$", ["a\nb", "a\u{2028}b", "a😀b"]),
            (#"\A(?:ab|cd)\Z"#, ["ab", "cd", "abcd", "Aab"]),
            ("^a{,2}$", ["a{,2}", "aa", "a"]),
            (#"^[\w-.]+$"#, ["a-b.c", "a b"]),
            (#"^[^\d\s]+$"#, ["abc", "a1", "a b", "é"]),
            (#"^\x41\u0042\u{43}\cJ$"#, ["ABC\n", "ABC"]),
            (#"^\0[\b]$"#, ["\u{0}\u{8}", "0b"]),
            (#"^\1$"#, ["\u{1}", "1"]),  // no group 1: Annex B reads an octal escape
            ("^(?:x|[]a])$", ["x", "a]", "]"]),  // ECMA `[]` is the empty class
            (#"^.{3}$"#, ["é😀x", "ab", "abcd"]),
            (#"^(?<year>\d{4})-(?:0[1-9]|1[0-2])$"#, ["2024-12", "2024-13", "24-01"]),
            ("^$|^x+?$", ["", "xxx", "y"]),
        ]
        for (pattern, probes) in cases {
            let schemaValue: JSONValue = .object(["type": "string", "pattern": .string(pattern)])
            let validator = try JSONSchema(json: schemaValue)
            let grammar = try compile(schemaValue)
            for probe in probes {
                XCTAssertEqual(run(grammar, JSONValue.quoted(probe)), validator.isValid(.string(probe)),
                               "\(pattern) on \(probe.debugDescription)")
            }
        }
    }

    func testConstructsNoAutomatonExpressesAreRejectedByName() {
        let cases = [
            ("(a)\\1", "backreference"), ("(?<n>a)\\k<n>", "backreference"), ("a(?=b)", "lookahead"),
            ("a(?<!b)", "lookbehind"), ("\\Bx", "word-boundary"), ("a^b", "anchor"), ("(?m)^a$", "multiline"),
            ("\\p{L}", "Unicode property"),
        ]
        for (pattern, construct) in cases {
            XCTAssertThrowsError(try compile(.object(["type": "string", "pattern": .string(pattern)])), pattern) { error in
                guard case .unsupportedRegex(let c, let p)? = error as? GrammarError else { return XCTFail("\(pattern): \(error)") }
                XCTAssertTrue(c.contains(construct), c)
                XCTAssertEqual(p, pattern)
            }
        }
        XCTAssertThrowsError(try compile(.object(["type": "string", "pattern": "a{3,1}"]))) { error in
            guard case .invalidRegex? = error as? GrammarError else { return XCTFail("\(error)") }
        }
    }

    /// 300,000 nested groups used to overflow the stack in the grammar's own parser.
    func testDeeplyNestedGroupsThrowInsteadOfOverflowingTheStack() {
        let pattern = String(repeating: "(", count: 300_000) + "a" + String(repeating: ")", count: 300_000)
        for schemaValue: JSONValue in [
            .object(["type": "string", "pattern": .string(pattern)]),
            .object(["type": "object", "patternProperties": .object([pattern: .bool(true)])]),
        ] {
            XCTAssertThrowsError(try compile(schemaValue)) { error in
                XCTAssertEqual((error as? WorkBudgetExceeded)?.reason, .depth, "\(error)")
            }
        }
    }

    /// `$id` bases, draft-07 `$id` anchors and `$ref` replacing its siblings, resolved by the
    /// validator's resolver. The `inner` reference is relative to `item.json`: the root's own
    /// `inner` (a string) must not be taken.
    func testReferencesResolveAgainstIdBasesAndAnchors() throws {
        let document = schema(##"""
        {"$schema":"http://json-schema.org/draft-07/schema#","$id":"http://example.com/root.json",
         "type":"object",
         "properties":{"a":{"$ref":"item.json"},"b":{"$ref":"#num"},"c":{"$ref":"#/definitions/str","type":"integer"},
                       "d":{"$ref":"http://example.com/item.json#/definitions/inner"}},
         "required":["a","b","c"],"additionalProperties":false,
         "definitions":{
           "item":{"$id":"item.json","type":"object","properties":{"x":{"$ref":"#/definitions/inner"}},
                   "required":["x"],"additionalProperties":false,"definitions":{"inner":{"type":"boolean"}}},
           "num":{"$id":"#num","type":"integer"},
           "str":{"type":"string"},
           "inner":{"type":"string"}}}
        """##)
        let grammar = try compile(document)
        let validator = try JSONSchema(json: document)
        let probes = [
            (#"{"a":{"x":true},"b":3,"c":"s"}"#, true),
            (#"{"a":{"x":true},"b":3,"c":"s","d":false}"#, true),
            (#"{"a":{"x":"s"},"b":3,"c":"s"}"#, false),
            (#"{"a":{"x":true},"b":"3","c":"s"}"#, false),
            (#"{"a":{"x":true},"b":3,"c":3}"#, false),
            (#"{"a":{"x":true},"b":3,"c":"s","d":"s"}"#, false),
        ]
        for (text, valid) in probes {
            XCTAssertEqual(validator.isValid(try JSONValue(parsing: text)), valid, text)
            XCTAssertEqual(run(grammar, text), valid, text)
        }
        XCTAssertThrowsError(try compile(schema(#"{"properties":{"a":{"$ref":"other.json"}}}"#))) { error in
            guard case .unresolvedReference? = error as? GrammarError else { return XCTFail("\(error)") }
        }
    }
}

final class PatternAutomatonBudgetTests: XCTestCase {
    /// A chain of optional copies has quadratic epsilon closures (about 40 million entries
    /// here); building them spends from the budget instead of running unchecked.
    func testQuadraticClosuresSpendFromTheBudget() {
        let budget = WorkBudget(time: nil, maxSteps: 2_000_000)
        let schemaValue: JSONValue = .object(["type": "string", "pattern": "^(?:a?){9000}$"])
        XCTAssertThrowsError(try GrammarCompiler(vocabulary: SyntheticVocab.shared).compile(schema: schemaValue, budget: budget)) { error in
            XCTAssertEqual((error as? WorkBudgetExceeded)?.reason, .steps, "\(error)")
        }
    }
}
