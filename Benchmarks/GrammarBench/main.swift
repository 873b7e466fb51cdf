// GrammarBench: compiles every MaskBench schema against a model vocabulary and walks each test
// instance (canonical form, greedy tokenization) through the matcher, computing the
// full-vocabulary mask before every token. Reports coverage, correctness and timing.
//
//   swift run -c release GrammarBench --maskbench ../shared/data/maskbench --vocab MODEL.gguf \
//       [--splits A,B] [--json OUT] [--limit N] [--declared-only] [--verbose]
//
// By default schemas compile with `additionalProperties: .asSchema` (faithful to JSON Schema), so
// a valid instance the matcher refuses is a real false reject. `--declared-only` uses the
// generation policy instead and counts valid instances with undeclared properties separately
// as policy rejects.
import ChatAPI
import Foundation
import GGUF
import Grammar
import TestSupport

struct Options {
    var maskbench = "../shared/data/maskbench"
    var vocab = FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/switchboard/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    var splits: [String]? = nil
    var json: String? = nil
    var limit: Int? = nil
    var verbose = false
    var declaredOnly = false
}

var opts = Options()
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--maskbench": opts.maskbench = args.removeFirst()
    case "--vocab": opts.vocab = args.removeFirst()
    case "--splits": opts.splits = args.removeFirst().split(separator: ",").map(String.init)
    case "--json": opts.json = args.removeFirst()
    case "--limit": opts.limit = Int(args.removeFirst())
    case "--verbose": opts.verbose = true
    case "--declared-only": opts.declaredOnly = true
    default:
        FileHandle.standardError.write("unknown argument \(a)\n".data(using: .utf8)!)
        exit(2)
    }
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

struct Stats {
    var schemasTotal = 0, schemasCompiled = 0, compileErrors = 0
    var validTests = 0, invalidTests = 0
    var falseRejects = 0, policyRejects = 0, falseAccepts = 0, untokenizable = 0, maskMismatch = 0
    var maskNs: [UInt64] = []
    var compileNs: [UInt64] = []
    var errorKinds: [String: Int] = [:]

    mutating func add(_ o: Stats) {
        schemasTotal += o.schemasTotal; schemasCompiled += o.schemasCompiled; compileErrors += o.compileErrors
        validTests += o.validTests; invalidTests += o.invalidTests
        falseRejects += o.falseRejects; policyRejects += o.policyRejects; falseAccepts += o.falseAccepts; untokenizable += o.untokenizable
        maskMismatch += o.maskMismatch
        maskNs += o.maskNs; compileNs += o.compileNs
        for (k, v) in o.errorKinds { errorKinds[k, default: 0] += v }
    }

    static func pct(_ xs: [UInt64], _ p: Double) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return Double(s[min(s.count - 1, Int(Double(s.count) * p))])
    }

    var summary: [String: Any] {
        [
            "schemas_total": schemasTotal, "schemas_compiled": schemasCompiled, "compile_errors": compileErrors,
            "valid_tests": validTests, "invalid_tests": invalidTests,
            "false_rejects": falseRejects, "policy_rejects": policyRejects, "false_accepts": falseAccepts,
            "untokenizable": untokenizable, "mask_accept_mismatch": maskMismatch,
            "mask_calls": maskNs.count,
            "mask_us_p50": Stats.pct(maskNs, 0.5) / 1000, "mask_us_p99": Stats.pct(maskNs, 0.99) / 1000,
            "compile_ms_p50": Stats.pct(compileNs, 0.5) / 1e6, "compile_ms_p99": Stats.pct(compileNs, 0.99) / 1e6,
        ]
    }

    func line(_ name: String) -> String {
        String(format: "%-18@ schemas %5d compiled %5d errors %4d | valid %5d invalid %5d | false_rejects %3d policy_rejects %3d false_accepts %3d | mask p50 %7.2fµs p99 %8.1fµs | compile p50 %6.2fms p99 %7.1fms",
               name as NSString, schemasTotal, schemasCompiled, compileErrors, validTests, invalidTests, falseRejects, policyRejects, falseAccepts,
               Stats.pct(maskNs, 0.5) / 1000, Stats.pct(maskNs, 0.99) / 1000,
               Stats.pct(compileNs, 0.5) / 1e6, Stats.pct(compileNs, 0.99) / 1e6)
    }
}

let t0 = now()
let gguf = try GGUFFile(path: opts.vocab)
let tokenizer = try TokenizerVocabulary(gguf: gguf)
let vocab = GrammarVocabulary(tokenizer)
print("vocabulary: \(opts.vocab) (\(vocab.count) tokens, loaded in \(Double(now() - t0) / 1e6) ms)")
let compiler = GrammarCompiler(
    vocabulary: vocab, options: GrammarOptions(additionalProperties: opts.declaredOnly ? .declaredOnly : .asSchema))
print("additionalProperties policy: \(opts.declaredOnly ? "declaredOnly (generation)" : "asSchema (faithful)")")

let files = try FileManager.default.contentsOfDirectory(atPath: opts.maskbench).filter { $0.hasSuffix(".jsonl.gz") }.sorted()
var perSplit: [(String, Stats)] = []
var total = Stats()
var mask = vocab.makeMask()
let eog = vocab.endOfGenerationIDs.first!

for file in files {
    let split = String(file.dropLast(".jsonl.gz".count))
    if let s = opts.splits, !s.contains(split) { continue }
    var st = Stats()
    var lines = try Gzip.lines(opts.maskbench + "/" + file)
    if let l = opts.limit { lines = Array(lines.prefix(l)) }
    for line in lines {
        guard let entry = try? JSONValue(parsing: line), let schema = entry["schema"] else { continue }
        st.schemasTotal += 1
        let c0 = now()
        let grammar: CompiledGrammar
        do {
            grammar = try compiler.compile(schema: schema)
        } catch {
            st.compileErrors += 1
            let kind: String
            switch error as? GrammarError {
            case .unsupportedKeyword(let k, _)?: kind = "keyword \(k)"
            case .unsupportedRegex(let c, _)?: kind = "regex \(c)"
            case .invalidRegex?: kind = "invalid regex"
            case .unresolvedReference?: kind = "unresolved $ref"
            case .unsatisfiable?: kind = "unsatisfiable"
            case .invalidSchema?: kind = "invalid schema"
            case .tooLarge?: kind = "too large"
            case nil: kind = "other"
            }
            st.errorKinds[kind, default: 0] += 1
            if opts.verbose { print("  compile error \(entry["id"]?.stringValue ?? "?"): \(error)") }
            continue
        }
        st.compileNs.append(now() - c0)
        if opts.verbose, now() - c0 > 50_000_000 { print("  slow compile \(entry["id"]?.stringValue ?? "?"): \((now() - c0) / 1_000_000) ms, \(grammar.stateCount) states") }
        st.schemasCompiled += 1
        for test in entry["tests"]?.arrayValue ?? [] {
            guard let data = test["data"], let valid = test["valid"]?.boolValue else { continue }
            if valid { st.validTests += 1 } else { st.invalidTests += 1 }
            let (text, undeclared) = CanonicalJSON.serializeReportingPolicy(data, schema: schema)
            guard let tokens = vocab.greedyTokenize(Array(text.utf8)) else { st.untokenizable += 1; continue }
            var m = grammar.makeMatcher()
            var ok = true
            for t in tokens {
                let m0 = now()
                m.fillMask(&mask)
                st.maskNs.append(now() - m0)
                let allowed = mask.contains(t)
                let accepted = m.accept(token: t)
                if allowed != accepted { st.maskMismatch += 1 }
                if !accepted { ok = false; break }
            }
            if ok {
                let m0 = now()
                m.fillMask(&mask)
                st.maskNs.append(now() - m0)
                ok = mask.contains(eog) && m.isComplete
            }
            if valid && !ok && undeclared && opts.declaredOnly {
                st.policyRejects += 1
            } else if valid && !ok {
                st.falseRejects += 1
                if opts.verbose { print("  false reject \(entry["id"]?.stringValue ?? "?"): \(text.prefix(300))") }
            }
            if !valid && ok {
                st.falseAccepts += 1
                if opts.verbose { print("  false accept \(entry["id"]?.stringValue ?? "?"): \(text.prefix(300))") }
            }
        }
    }
    print(st.line(split))
    if !st.errorKinds.isEmpty {
        print("    compile errors: " + st.errorKinds.sorted { $0.value > $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
    }
    fflush(stdout)
    perSplit.append((split, st))
    total.add(st)
}
print(total.line("TOTAL"))
print("    compile errors: " + total.errorKinds.sorted { $0.value > $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
print("    untokenizable \(total.untokenizable), mask/accept mismatches \(total.maskMismatch), elapsed \(Double(now() - t0) / 1e9) s")
if let path = opts.json {
    var splits: [String: Any] = [:]
    for (n, s) in perSplit { splits[n] = s.summary }
    var out = total.summary
    out["splits"] = splits
    out["vocab"] = opts.vocab
    out["vocab_size"] = vocab.count
    out["compile_error_kinds"] = total.errorKinds
    out["additional_properties_policy"] = opts.declaredOnly ? "declaredOnly" : "asSchema"
    let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: path))
}
