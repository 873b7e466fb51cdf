import ChatAPI
import JSONSchemaKit
import XCTest

final class RegexTests: XCTestCase {
    private func check(_ pattern: String, matches: [String] = [], rejects: [String] = [],
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            let re = try ECMARegex(pattern)
            for s in matches { XCTAssertTrue(re.matches(s), "\(pattern) should match \(s.debugDescription)", file: file, line: line) }
            for s in rejects { XCTAssertFalse(re.matches(s), "\(pattern) should not match \(s.debugDescription)", file: file, line: line) }
        } catch {
            XCTFail("\(pattern) did not compile: \(error)", file: file, line: line)
        }
    }

    func testUnanchoredSearchAndAnchors() {
        check("abc", matches: ["xxabcxx"], rejects: ["ab"])
        check("^abc$", matches: ["abc"], rejects: ["abcd", "xabc", "abc\n"])
        check("^$", matches: [""], rejects: ["a"])
    }

    func testClassesAndEscapes() {
        check(#"^\d+$"#, matches: ["0123"], rejects: ["١٢", "12a"])  // ECMA \d is ASCII only
        check(#"^\w+$"#, matches: ["a_Z9"], rejects: ["é", "a-b"])
        check(#"^\s$"#, matches: [" ", "\t", "\u{00A0}", "\u{2028}"], rejects: ["x"])
        check(#"^\D\W\S$"#, matches: ["a-b"], rejects: ["1-b"])
        check("^[a-c-]+$", matches: ["a-b"], rejects: ["d"])
        check("^[^0-9]$", matches: ["x"], rejects: ["5"])
        check(#"^[\d.]+$"#, matches: ["1.5"], rejects: ["1,5"])
        check(#"^[\w-.]+$"#, matches: ["a-b.c"])
        check(#"^\u00e9\x41\t$"#, matches: ["éA\t"])
        check(#"^\u{1F600}$"#, matches: ["😀"])
        check(#"^\uD83D\uDE00$"#, matches: ["😀"])
        check(#"^\/\.\*$"#, matches: ["/.*"])
        check("^.$", matches: ["😀", "a"], rejects: ["\n", ""])
        check("]", matches: ["a]"])  // Annex B: lone ] is literal
        check("^a{,2}$", matches: ["a{,2}"])  // not a quantifier: literal braces
    }

    func testWordBoundaries() {
        check(#"\bcat\b"#, matches: ["a cat sat", "cat"], rejects: ["concatenate"])
        check(#"\Bcat"#, matches: ["concat"], rejects: ["cat"])
    }

    func testUnicodeProperties() {
        check(#"^\p{L}+$"#, matches: ["héllo", "Ωμέγα", "日本"], rejects: ["a1"])
        check(#"^\p{Lu}\p{Ll}+$"#, matches: ["Hello"], rejects: ["hello"])
        check(#"^\P{N}+$"#, matches: ["abc"], rejects: ["a1"])
        check(#"^[\p{Zs}A-Z]+$"#, matches: ["A B"], rejects: ["a"])
        XCTAssertThrowsError(try ECMARegex(#"\p{NoSuchProperty}"#))
    }

    func testGroupsAlternationAndBackreferences() {
        check("^(?:ab|cd)+$", matches: ["abcdab"], rejects: ["abc"])
        check("^(a|ab)(c|bcd)(d*)$", matches: ["abcd"])
        check(#"^(\w)\1$"#, matches: ["aa"], rejects: ["ab"])
        check(#"^(?<q>['"]).*\k<q>$"#, matches: ["'x'", "\"y\""], rejects: ["'x\""])
        check(#"^(?P<word>\w+) (?P=word)$"#, matches: ["hey hey"], rejects: ["hey you"])
        check(#"^\s*<([A-Za-z]+).+?(\/>|\/\1>)\s*$"#, matches: ["<div class=x/div>", "<br />"])
    }

    func testQuantifiers() {
        check("^a{2,3}$", matches: ["aa", "aaa"], rejects: ["a", "aaaa"])
        check("^a{2}$", matches: ["aa"], rejects: ["aaa"])
        check("^a{2,}$", matches: ["aaaaa"], rejects: ["a"])
        check("^(ab){1,2}$", matches: ["ab", "abab"], rejects: ["ababab"])
        check("^a+?b$", matches: ["aaab"])
        check("^<.+?>$", matches: ["<a><b>"])
        check("^(a*)*$", matches: ["", "aaa"], rejects: ["b"])  // empty-loop guard
        check("^(a|)+b$", matches: ["aab", "b"])
        check("^x(?:y?)*z$", matches: ["xz", "xyyz"])
    }

    func testLookaround() {
        check("^(?=.*[A-Z])(?=.*\\d).{8,}$", matches: ["Passw0rdX"], rejects: ["password1", "Sh0rt"])
        check("^(?!foo).*$", matches: ["bar"], rejects: ["foobar"])
        check("(?<=\\$)\\d+", matches: ["cost $42"], rejects: ["cost 42"])
        check("(?<!-)\\b\\d+", matches: ["x 42"], rejects: ["-42"])
    }

    func testPythonSpellingsFoundInRealSchemas() {
        check("(?i)^abc$", matches: ["ABC", "aBc"], rejects: ["abd"])
        check(#"\Aab\Z"#, matches: ["ab"], rejects: ["abc"])
    }

    func testInvalidPatternsThrow() {
        for bad in ["(", "a)", "[a", "*a", "a**", "[z-a]", "a{3,1}", #"\"#, "(?<n>a)(?<n>b)", #"\k<missing>(?<x>a)"#] {
            XCTAssertThrowsError(try ECMARegex(bad), bad)
        }
    }

    func testCatastrophicPatternStopsOnBudget() {
        let re = try! ECMARegex("^(a+)+$")
        let input = String(repeating: "a", count: 40) + "b"
        XCTAssertEqual(re.search(input, stepBudget: 100_000), .budgetExceeded)
        XCTAssertEqual(re.search("aaaa"), .match)
    }
}

/// Patterns come from requests: parsing and compiling them is bounded by the `WorkBudget`.
final class RegexBudgetTests: XCTestCase {
    private func nested(_ depth: Int) -> String {
        String(repeating: "(", count: depth) + "a" + String(repeating: ")", count: depth)
    }

    /// Each group is one level of recursion in the parser and the compiler: 300,000 of them
    /// used to overflow the stack and kill the process.
    func testDeeplyNestedGroupsThrowInsteadOfOverflowingTheStack() {
        let schema: JSONValue = .object(["type": "string", "pattern": .string(nested(300_000))])
        XCTAssertThrowsError(try JSONSchema(json: schema)) { error in
            XCTAssertEqual((error as? WorkBudgetExceeded)?.reason, .depth, "\(error)")
        }
        let properties: JSONValue = .object(["patternProperties": .object([nested(300_000): .bool(true)])])
        XCTAssertThrowsError(try JSONSchema(json: properties)) { error in
            XCTAssertEqual((error as? WorkBudgetExceeded)?.reason, .depth, "\(error)")
        }
        XCTAssertThrowsError(try ECMARegex("(?=" + nested(300_000) + ")"))
    }

    func testNestingUpToMaxDepthCompilesAndMatches() throws {
        let budget = WorkBudget(time: nil, maxDepth: 40)
        let re = try ECMARegex("^" + nested(40) + "$", budget: budget)
        XCTAssertTrue(re.matches("a"))
        XCTAssertThrowsError(try ECMARegex(nested(41), budget: WorkBudget(time: nil, maxDepth: 40)))
    }

    func testRegexCompilationSpendsFromTheBudget() {
        let budget = WorkBudget(time: nil, maxSteps: 1_000)
        XCTAssertThrowsError(try ECMARegex(String(repeating: "ab|", count: 2_000) + "c", budget: budget)) { error in
            XCTAssertEqual((error as? WorkBudgetExceeded)?.reason, .steps, "\(error)")
        }
    }
}
