import Foundation
import Synchronization
import XCTest
import TestSupport

/// A property an input broke (a wrong error type, a failed differential check, a budget overrun).
/// Crashes need no type: the process dies and the input mirrored on disk survives it.
struct PropertyViolation: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One fuzz target: how to mutate its inputs and the properties one input must satisfy.
struct FuzzTarget {
    /// Names the corpus folder (`Tests/FuzzTests/Corpus/<name>`) and the temporary files.
    let name: String
    /// Starting inputs besides the committed corpus (real templates, MaskBench schemas, ...).
    var seeds: [[UInt8]] = []
    /// Inputs generated in code that crash the process or fail a property today, in code being
    /// rewritten elsewhere; replayed only with `FUZZ_KNOWN_FAILURES=1` (see `Corpus/README.md`).
    var knownFailures: [(name: String, input: [UInt8])] = []
    /// Inputs generated in code, too big to commit, replayed after the corpus on every run:
    /// former known failures, fixed since.
    var regressions: [(name: String, input: [UInt8])] = []
    var mutator: ByteMutator
    /// Structure-aware mutation, used for about half the inputs when present.
    var structuredMutation: (([UInt8], [UInt8], inout SplitMix64) -> [UInt8])? = nil
    /// Extra fresh inputs from a generator, used for some inputs when present.
    var generator: ((inout SplitMix64) -> [UInt8])? = nil
    /// The longest one input may run before the watchdog declares a hang and stops the process.
    var hangLimit: Duration = .seconds(60)
    /// Why this target's random phase is off unless `FUZZ_SECONDS` is set explicitly: its code
    /// still fails on new inputs the fuzzer finds within seconds (see the corpus's
    /// `KNOWN_FAILURES`), so in `make test` it only replays the corpus. nil: on.
    var randomPhaseOffBecause: String? = nil
    /// Runs one input; throws `PropertyViolation` when a property fails. Expected, typed errors of
    /// the code under test are caught inside and are not failures.
    let check: ([UInt8]) throws -> Void
}

/// Runs a `FuzzTarget`: replays its committed regression corpus, then mutates for
/// `FUZZ_SECONDS` (default 10) from seed `FUZZ_SEED` (default: random, printed).
///
/// Before each input runs, its bytes are written to `$TMPDIR/switchboard-fuzz-<target>-current`,
/// so when an input crashes or hangs the process the culprit is on disk. To keep it as a
/// regression input:
///
///     cp $TMPDIR/switchboard-fuzz-<target>-current Tests/FuzzTests/Corpus/<target>/<what-it-breaks>
///
/// (and, while the code that fails on it is being rewritten elsewhere, list the file in that folder's
/// `KNOWN_FAILURES`). Inputs that break a property without crashing are saved the same way, to
/// `...-failure-<n>`, and named in the test failure.
struct FuzzHarness {
    static let environment = ProcessInfo.processInfo.environment
    static var seconds: Double { environment["FUZZ_SECONDS"].flatMap(Double.init) ?? 10 }
    static var includeKnownFailures: Bool { environment["FUZZ_KNOWN_FAILURES"] == "1" }
    static var temporaryDirectory: String {
        (environment["TMPDIR"].map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }) ?? "/tmp"
    }
    static let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")
    /// The directory beside the repository holding shared data (`../shared/data`).
    static let sharedData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")

    let target: FuzzTarget
    private let maxReportedFailures = 10

    init(_ target: FuzzTarget) { self.target = target }

    /// The committed corpus of `target`: every file but the README and `KNOWN_FAILURES`, minus
    /// the known failures unless asked for.
    func corpus() throws -> [(name: String, input: [UInt8])] {
        let dir = Self.corpusRoot.appendingPathComponent(target.name)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        let known = Self.knownFailureNames(in: dir)
        var out: [(String, [UInt8])] = []
        for name in names.sorted() where name != "KNOWN_FAILURES" && name != "README.md" && !name.hasPrefix(".") {
            if known.contains(name) && !Self.includeKnownFailures { continue }
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            out.append((name, [UInt8](data)))
        }
        return out
    }

    /// File names listed in a corpus folder's `KNOWN_FAILURES` (one per line, `#` comments).
    static func knownFailureNames(in dir: URL) -> Set<String> {
        guard let text = try? String(contentsOf: dir.appendingPathComponent("KNOWN_FAILURES"), encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").compactMap { line in
            let name = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .trimmingCharacters(in: .whitespaces) ?? ""
            return name.isEmpty ? nil : name
        })
    }

    func run(file: StaticString = #filePath, line: UInt = #line) throws {
        let seed = Self.environment["FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let currentPath = "\(Self.temporaryDirectory)/switchboard-fuzz-\(target.name)-current"
        let mirror = try InputMirror(path: currentPath)
        let watchdog = Watchdog(target: target.name, inputPath: currentPath, limit: target.hangLimit)
        CrashReporter.install(message: "\n[fuzz] \(target.name): the process died on the input saved at \(currentPath) "
                              + "(FUZZ_SEED=\(seed)); see Tests/FuzzTests/FuzzHarness.swift to add it to the corpus.\n")
        defer { watchdog.stop() }
        // To stderr, unbuffered: a crash must not swallow the seed.
        FileHandle.standardError.write(Data("[fuzz] \(target.name): seed \(seed) (FUZZ_SEED to replay), current input mirrored to \(currentPath)\n".utf8))

        var failures = 0
        func runOne(_ input: [UInt8], origin: String) {
            mirror.write(input)
            watchdog.begin()
            defer { watchdog.end() }
            do {
                try target.check(input)
            } catch {
                failures += 1
                guard failures <= maxReportedFailures else { return }
                let saved = "\(Self.temporaryDirectory)/switchboard-fuzz-\(target.name)-failure-\(failures)"
                let kept = FileManager.default.createFile(atPath: saved, contents: Data(input))
                XCTFail("[fuzz] \(target.name) (\(origin), FUZZ_SEED=\(seed)): \(error); input (\(input.count) bytes) \(kept ? "saved at \(saved)" : "not saved"): "
                        + preview(input), file: file, line: line)
            }
        }

        // 1. The regression corpus (and, when asked, the known failures) first, every run.
        let committed = try corpus()
        for (name, input) in committed { runOne(input, origin: "corpus \(name)") }
        for (name, input) in target.regressions { runOne(input, origin: "regression \(name)") }
        if Self.includeKnownFailures {
            for (name, input) in target.knownFailures { runOne(input, origin: "known failure \(name)") }
        }

        // 2. Mutation from the corpus and seeds, for the time budget.
        var pool = committed.map(\.input) + target.seeds
        if pool.isEmpty { pool = [[]] }
        var rng = SplitMix64(seed: seed)
        var seconds = Self.seconds
        if let reason = target.randomPhaseOffBecause, Self.environment["FUZZ_SECONDS"] == nil {
            print("fuzz \(target.name): corpus only (\(reason)); set FUZZ_SECONDS to mutate")
            seconds = 0
        }
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        let start = ContinuousClock.now
        var executed = 0
        while ContinuousClock.now < deadline {
            let base = rng.pick(pool), other = rng.pick(pool)
            let input: [UInt8]
            if let generator = target.generator, rng.oneIn(4) {
                input = generator(&rng)
            } else if let structured = target.structuredMutation, rng.oneIn(2) {
                input = structured(base, other, &rng)
            } else {
                input = target.mutator.mutate(base, other: other, rng: &rng)
            }
            runOne(input, origin: "mutation #\(executed)")
            executed += 1
            // Keep a few small mutants as parents: mutations of mutations go further from the seeds.
            if input.count < 64 << 10, rng.oneIn(16) { pool.append(input) }
        }
        let elapsed = ContinuousClock.now - start
        let perSecond = Double(executed) / max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        print("[fuzz] \(target.name): \(committed.count) corpus inputs replayed, \(executed) mutated inputs in "
              + "\(elapsed) (\(Int(perSecond))/s), \(failures) failing")
    }

    private func preview(_ input: [UInt8]) -> String {
        let text = String(decoding: input.prefix(300), as: UTF8.self)
        return text.debugDescription + (input.count > 300 ? "…" : "")
    }
}

/// Keeps the bytes of the input being run in a file, rewritten in place for each input (an open
/// descriptor and one `pwrite`, so it costs microseconds). The kernel keeps the data when the
/// process dies.
final class InputMirror {
    private let fd: Int32

    init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw PropertyViolation("cannot open \(path)") }
    }

    deinit { close(fd) }

    func write(_ input: [UInt8]) {
        _ = ftruncate(fd, 0)
        _ = input.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
}

/// A thread that stops the process when one input runs past its limit: a hang would otherwise
/// stall `make test` with no word of which input did it.
final class Watchdog: Sendable {
    private let startedAt = Atomic<Int64>(0)  // monotonic ns when the current input began; 0 = idle
    private let stopped = Atomic<Bool>(false)

    init(target: String, inputPath: String, limit: Duration) {
        let limitNanoseconds = limit.components.seconds * 1_000_000_000
        let thread = Thread { [self] in
            while !self.stopped.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: 0.25)
                let began = self.startedAt.load(ordering: .relaxed)
                if began != 0, Self.now() - began > limitNanoseconds {
                    FileHandle.standardError.write(Data(
                        "\n[fuzz] \(target): one input ran for more than \(limit) (hang); it is saved at \(inputPath)\n".utf8))
                    abort()
                }
            }
        }
        thread.start()
    }

    static func now() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds) }
    func begin() { startedAt.store(Self.now(), ordering: .relaxed) }
    func end() { startedAt.store(0, ordering: .relaxed) }
    func stop() { stopped.store(true, ordering: .relaxed) }
}

/// On a fatal signal (trap, stack overflow, abort), prints where the input that caused it is,
/// then hands the signal back to whoever handled it before (Swift's backtracer) so the stack
/// still gets printed.
enum CrashReporter {
    nonisolated(unsafe) private static var message: [CChar] = []
    /// The handlers replaced, by signal number (a raw buffer: the handler must not allocate).
    nonisolated(unsafe) private static let previous: UnsafeMutableRawPointer = {
        let size = 65 * MemoryLayout<sigaction>.stride
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return buffer
    }()
    private static func previousAction(_ signal: Int32) -> UnsafeMutablePointer<sigaction> {
        (previous + Int(signal) * MemoryLayout<sigaction>.stride).assumingMemoryBound(to: sigaction.self)
    }
    nonisolated(unsafe) private static var installed = false
    private static let signals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE]

    static func install(message text: String) {
        message = Array(text.utf8CString)
        guard !installed else { return }
        installed = true
        // Stack overflow leaves no stack to run a handler on: give it its own.
        let size = 1 << 16
        var altStack = stack_t()
        altStack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        altStack.ss_size = size
        sigaltstack(&altStack, nil)
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signo in
                CrashReporter.message.withUnsafeBufferPointer { _ = Glibc.write(2, $0.baseAddress, $0.count - 1) }
                // Restore the previous handler; returning re-runs the faulting instruction (or
                // abort() re-raises), which now reaches it.
                _ = sigaction(signo, CrashReporter.previousAction(signo), nil)
            }
            action.sa_flags = Int32(SA_ONSTACK)
            sigaction(signal, &action, previousAction(signal))
        }
    }
}
