/// An ECMA-262 regular expression as JSON Schema's `pattern` and `patternProperties` use it:
/// code-point semantics, unanchored search, a bounded number of backtracking steps.
///
/// ```swift
/// let re = try ECMARegex("^[a-z]+(?:-[a-z]+)*$")
/// re.matches("kebab-case")   // true
/// ```
public struct ECMARegex: Sendable {
    /// The pattern as written.
    public let pattern: String
    let program: RegexProgram
    /// A scalar every match must start with, when the pattern begins with a literal.
    private let firstChar: UInt32?
    private let anchoredAtStart: Bool

    /// The result of a search that may give up.
    public enum SearchResult: Sendable, Equatable {
        case match
        case noMatch
        /// The step budget ran out before an answer (a pathological pattern/input pair).
        case budgetExceeded
    }

    /// Backtracking steps allowed per search, across all start positions.
    public static let defaultStepBudget = 1_000_000

    /// Parses and compiles `pattern`; throws `RegexSyntaxError` for invalid syntax, and
    /// `WorkBudgetExceeded` when the pattern nests groups deeper than `budget.maxDepth` or costs
    /// more work than `budget` allows.
    public init(_ pattern: String, budget: WorkBudget = .offline()) throws {
        self.pattern = pattern
        program = try RegexProgram.compile(try RegexParser.parse(pattern, budget: budget), budget: budget)
        switch program.instructions.first {
        case .char(let c)?: firstChar = c
        default: firstChar = nil
        }
        if case .lineStart? = program.instructions.first, !program.multiline {
            anchoredAtStart = true
        } else if case .inputStart? = program.instructions.first {
            anchoredAtStart = true
        } else {
            anchoredAtStart = false
        }
    }

    /// True when the pattern matches somewhere in `string` (a budget overrun counts as no match).
    public func matches(_ string: String) -> Bool { search(string) == .match }

    /// Searches `string` for a match anywhere, as ECMA-262 `RegExp.prototype.test` does.
    public func search(_ string: String, stepBudget: Int = ECMARegex.defaultStepBudget) -> SearchResult {
        let input = Array(string.unicodeScalars.lazy.map(\.value))
        return input.withUnsafeBufferPointer { buffer in
            var machine = RegexMachine(program: program, input: buffer, budget: stepBudget)
            let lastStart = anchoredAtStart ? 0 : buffer.count
            for start in 0...lastStart {
                if let firstChar, start >= buffer.count || buffer[start] != firstChar { continue }
                machine.resetCaptures()
                if machine.run(pc: 0, pos: start, target: -1) != nil { return .match }
                if machine.budget <= 0 { return .budgetExceeded }
            }
            return .noMatch
        }
    }
}

extension RegexProgram: @unchecked Sendable {}

/// The backtracking machine that runs a `RegexProgram` over code points.
struct RegexMachine {
    private enum Backtrack {
        case resume(pc: Int, pos: Int)
        case restoreCapture(slot: Int, old: Int)
        case restoreRegister(register: Int, old: Int)
        /// A greedy repeat that may give back scalars: next try `count` at `base`.
        case greedyRepeat(next: Int, base: Int, count: Int, min: Int)
        /// A lazy repeat that may take one more scalar than `count`.
        case lazyRepeat(instruction: Int, base: Int, count: Int)
    }

    let program: RegexProgram
    let input: UnsafeBufferPointer<UInt32>
    var budget: Int
    private var captures: [Int]
    private var registers: [Int]

    init(program: RegexProgram, input: UnsafeBufferPointer<UInt32>, budget: Int) {
        self.program = program
        self.input = input
        self.budget = budget
        captures = Array(repeating: -1, count: (program.captureCount + 1) * 2)
        registers = Array(repeating: -1, count: program.registerCount)
    }

    mutating func resetCaptures() {
        for i in captures.indices { captures[i] = -1 }
    }

    @inline(__always) private func atomMatches(_ atom: RegexAtom, _ c: UInt32) -> Bool {
        switch atom {
        case .char(let x): return c == x
        case .set(let i): return program.sets[i].contains(c)
        case .anyButNewline: return !RegexCase.isLineTerminator(c)
        case .anyScalar: return true
        }
    }

    private func isWordAt(_ i: Int) -> Bool { i >= 0 && i < input.count && RegexCase.isWord(input[i]) }

    /// Runs from `pc` at `pos`; returns the end position of a match, or nil. With `target >= 0`
    /// the match must end exactly there (lookbehind).
    ///
    /// Recurses only into lookaround bodies, so its depth is the pattern's lookaround nesting,
    /// which parsing bounded by `WorkBudget.maxDepth` groups.
    mutating func run(pc startPC: Int, pos startPos: Int, target: Int) -> Int? {
        var stack: [Backtrack] = []
        var pc = startPC
        var pos = startPos
        let n = input.count
        let code = program.instructions

        while true {
            budget -= 1
            if budget <= 0 { return nil }
            var ok = true
            switch code[pc] {
            case .char(let c):
                if pos < n && input[pos] == c { pos += 1; pc += 1 } else { ok = false }
            case .set(let i):
                if pos < n && program.sets[i].contains(input[pos]) { pos += 1; pc += 1 } else { ok = false }
            case .anyButNewline:
                if pos < n && !RegexCase.isLineTerminator(input[pos]) { pos += 1; pc += 1 } else { ok = false }
            case .anyScalar:
                if pos < n { pos += 1; pc += 1 } else { ok = false }
            case .split(let first, let second):
                stack.append(.resume(pc: second, pos: pos))
                pc = first
            case .jump(let to):
                pc = to
            case .save(let slot):
                stack.append(.restoreCapture(slot: slot, old: captures[slot]))
                captures[slot] = pos
                pc += 1
            case .lineStart:
                if pos == 0 || (program.multiline && RegexCase.isLineTerminator(input[pos - 1])) { pc += 1 } else { ok = false }
            case .lineEnd:
                if pos == n || (program.multiline && RegexCase.isLineTerminator(input[pos])) { pc += 1 } else { ok = false }
            case .inputStart:
                if pos == 0 { pc += 1 } else { ok = false }
            case .inputEnd:
                if pos == n { pc += 1 } else { ok = false }
            case .wordBoundary(let negated):
                let boundary = isWordAt(pos - 1) != isWordAt(pos)
                if boundary != negated { pc += 1 } else { ok = false }
            case .lookaround(let next, let ahead, let negated):
                let saved = captures
                var found = false
                if ahead {
                    found = run(pc: pc + 1, pos: pos, target: -1) != nil
                } else {
                    var start = pos
                    while start >= 0 {
                        if run(pc: pc + 1, pos: start, target: pos) != nil {
                            found = true
                            break
                        }
                        start -= 1
                    }
                }
                if budget <= 0 { return nil }
                if found && !negated {
                    // Keep captures set inside a positive lookaround, undoably.
                    for slot in captures.indices where captures[slot] != saved[slot] {
                        stack.append(.restoreCapture(slot: slot, old: saved[slot]))
                    }
                    pc = next
                } else {
                    captures = saved
                    if found == negated { ok = false } else { pc = next }
                }
            case .backreference(let group):
                let start = group * 2 < captures.count ? captures[group * 2] : -1
                let end = group * 2 + 1 < captures.count ? captures[group * 2 + 1] : -1
                if start < 0 || end < start {
                    pc += 1  // an unset group matches the empty string
                } else {
                    let length = end - start
                    if pos + length <= n && (0..<length).allSatisfy({ input[start + $0] == input[pos + $0] }) {
                        pos += length
                        pc += 1
                    } else {
                        ok = false
                    }
                }
            case .repeatAtom(let atom, let min, let max, let greedy):
                var count = 0
                if greedy {
                    while count < max && pos + count < n && atomMatches(atom, input[pos + count]) { count += 1 }
                    budget -= count / 8
                    if count < min {
                        ok = false
                    } else {
                        if count > min { stack.append(.greedyRepeat(next: pc + 1, base: pos, count: count - 1, min: min)) }
                        pos += count
                        pc += 1
                    }
                } else {
                    while count < min && pos + count < n && atomMatches(atom, input[pos + count]) { count += 1 }
                    if count < min {
                        ok = false
                    } else {
                        if count < max { stack.append(.lazyRepeat(instruction: pc, base: pos, count: count)) }
                        pos += count
                        pc += 1
                    }
                }
            case .markPosition(let register):
                stack.append(.restoreRegister(register: register, old: registers[register]))
                registers[register] = pos
                pc += 1
            case .requireProgress(let register):
                if registers[register] == pos { ok = false } else { pc += 1 }
            case .match:
                return pos
            case .matchAtTarget:
                if pos == target { return pos }
                ok = false
            }
            if ok { continue }

            // Backtrack to the most recent alternative, undoing captures and registers.
            var resumed = false
            while !resumed, let entry = stack.popLast() {
                switch entry {
                case .resume(let p, let q):
                    pc = p
                    pos = q
                    resumed = true
                case .restoreCapture(let slot, let old):
                    captures[slot] = old
                case .restoreRegister(let register, let old):
                    registers[register] = old
                case .greedyRepeat(let next, let base, let count, let min):
                    if count > min { stack.append(.greedyRepeat(next: next, base: base, count: count - 1, min: min)) }
                    pos = base + count
                    pc = next
                    resumed = true
                case .lazyRepeat(let instruction, let base, let count):
                    guard case .repeatAtom(let atom, _, let max, _) = code[instruction],
                        base + count < n, atomMatches(atom, input[base + count])
                    else { continue }
                    if count + 1 < max { stack.append(.lazyRepeat(instruction: instruction, base: base, count: count + 1)) }
                    pos = base + count + 1
                    pc = instruction + 1
                    resumed = true
                }
            }
            if !resumed { return nil }
        }
    }
}
