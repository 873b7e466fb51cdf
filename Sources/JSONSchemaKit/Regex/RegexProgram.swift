/// A compiled regular expression: a flat instruction list for a backtracking machine.
///
/// Why a VM with an explicit stack instead of recursive closures: matching then allocates only
/// its stack arrays, cannot overflow the call stack on long inputs, and is easy to bound with a
/// step budget (catastrophic patterns such as `(a+)+$` stop instead of hanging a request).
enum RegexInstruction {
    case char(UInt32)
    case set(Int)
    /// `.` without the dotAll flag.
    case anyButNewline
    case anyScalar
    /// Try `first`; on failure resume at `second` at the same position.
    case split(first: Int, second: Int)
    case jump(Int)
    case save(slot: Int)
    case lineStart
    case lineEnd
    case inputStart
    case inputEnd
    case wordBoundary(negated: Bool)
    /// A lookaround whose body starts at the next instruction and whose continuation is `next`.
    case lookaround(next: Int, ahead: Bool, negated: Bool)
    case backreference(Int)
    /// A quantified single-scalar atom, matched by scanning instead of by splitting per scalar.
    case repeatAtom(atom: RegexAtom, min: Int, max: Int, greedy: Bool)
    /// Records the position where a loop iteration starts (to reject empty iterations).
    case markPosition(register: Int)
    /// Fails when the loop iteration that started at `register` consumed nothing.
    case requireProgress(register: Int)
    case match
    /// Succeeds only at the position a lookbehind must end at.
    case matchAtTarget
}

enum RegexAtom {
    case char(UInt32)
    case set(Int)
    case anyButNewline
    case anyScalar
}

struct RegexProgram {
    var instructions: [RegexInstruction] = []
    var sets: [CharSet] = []
    var captureCount = 0
    var registerCount = 0
    var multiline = false
    var dotAll = false

    static let maxInstructions = 50_000

    /// Compiles a parsed pattern, spending from `budget` per node and checking group nesting
    /// against `budget.maxDepth` (emission recurses once per group, as parsing does).
    static func compile(_ parsed: RegexParser.Parsed, budget: WorkBudget) throws -> RegexProgram {
        var program = RegexProgram()
        program.captureCount = parsed.captureCount
        program.multiline = parsed.flags.multiline
        program.dotAll = parsed.flags.dotAll
        try program.emit(parsed.tree, depth: 0, budget)
        program.append(.match)
        return program
    }

    @discardableResult
    private mutating func append(_ instruction: RegexInstruction) -> Int {
        instructions.append(instruction)
        return instructions.count - 1
    }

    private mutating func emit(_ node: RegexNode, depth: Int, _ budget: WorkBudget) throws {
        try budget.spend()
        if instructions.count > RegexProgram.maxInstructions {
            throw RegexSyntaxError(message: "pattern too large after expanding repetitions", offset: 0)
        }
        switch node {
        case .empty:
            break
        case .char(let c):
            append(.char(c))
        case .any:
            append(dotAll ? .anyScalar : .anyButNewline)
        case .set(let set):
            sets.append(set)
            append(.set(sets.count - 1))
        case .sequence(let items):
            for item in items { try emit(item, depth: depth, budget) }
        case .alternation(let branches):
            var jumpsToEnd: [Int] = []
            for (i, branch) in branches.enumerated() {
                if i == branches.count - 1 {
                    try emit(branch, depth: depth, budget)
                } else {
                    let split = append(.split(first: 0, second: 0))
                    try emit(branch, depth: depth, budget)
                    jumpsToEnd.append(append(.jump(0)))
                    instructions[split] = .split(first: split + 1, second: instructions.count)
                }
            }
            for j in jumpsToEnd { instructions[j] = .jump(instructions.count) }
        case .group(let body, let capture):
            if let capture { append(.save(slot: capture * 2)) }
            try budget.checkDepth(depth + 1, "regex groups")
            try emit(body, depth: depth + 1, budget)
            if let capture { append(.save(slot: capture * 2 + 1)) }
        case .repetition(let body, let min, let max, let greedy):
            try emitRepetition(body, min: min, max: max, greedy: greedy, depth: depth, budget)
        case .lineStart:
            append(.lineStart)
        case .lineEnd:
            append(.lineEnd)
        case .inputStart:
            append(.inputStart)
        case .inputEnd:
            append(.inputEnd)
        case .wordBoundary(let negated):
            append(.wordBoundary(negated: negated))
        case .lookaround(let body, let ahead, let negated):
            let look = append(.lookaround(next: 0, ahead: ahead, negated: negated))
            try budget.checkDepth(depth + 1, "regex groups")
            try emit(body, depth: depth + 1, budget)
            append(ahead ? .match : .matchAtTarget)
            instructions[look] = .lookaround(next: instructions.count, ahead: ahead, negated: negated)
        case .backreference(let n):
            append(.backreference(n))
        case .namedBackreference:
            preconditionFailure("named backreferences are resolved by the parser")
        }
    }

    private mutating func atom(of node: RegexNode) -> RegexAtom? {
        switch node {
        case .char(let c): return .char(c)
        case .any: return dotAll ? .anyScalar : .anyButNewline
        case .set(let set):
            sets.append(set)
            return .set(sets.count - 1)
        case .group(let body, capture: nil): return atom(of: body)
        default: return nil
        }
    }

    private mutating func emitRepetition(_ body: RegexNode, min: Int, max: Int?, greedy: Bool,
                                         depth: Int, _ budget: WorkBudget) throws {
        if let atom = atom(of: body) {
            append(.repeatAtom(atom: atom, min: min, max: max ?? Int.max, greedy: greedy))
            return
        }
        for _ in 0..<min { try emit(body, depth: depth, budget) }
        if let max {
            // Optional copies: each may exit straight to the end.
            var exits: [Int] = []
            for _ in min..<max {
                let split = append(.split(first: 0, second: 0))
                exits.append(split)
                try emit(body, depth: depth, budget)
            }
            let end = instructions.count
            for split in exits {
                instructions[split] = greedy ? .split(first: split + 1, second: end) : .split(first: end, second: split + 1)
            }
        } else {
            let register = registerCount
            registerCount += 1
            let loop = append(.split(first: 0, second: 0))
            append(.markPosition(register: register))
            try emit(body, depth: depth, budget)
            append(.requireProgress(register: register))
            append(.jump(loop))
            let end = instructions.count
            instructions[loop] = greedy ? .split(first: loop + 1, second: end) : .split(first: end, second: loop + 1)
        }
    }
}
