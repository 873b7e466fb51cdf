import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The real `switchboard` server binary, started on the real default model on a free port.
///
/// Integration tests talk HTTP to this process, exactly as clients do. `make test` builds the
/// release binary first; the tests refuse to run without it rather than test something else.
final class ServerProcess: @unchecked Sendable {
    let port: Int
    let process: Process
    let logURL: URL

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = repoRoot.appendingPathComponent(".build/release/switchboard")

    /// The shared server on the default model (started once per test run).
    static let shared: Result<ServerProcess, Error> = Result { try ServerProcess(arguments: []) }

    /// A server that requires an API key.
    static let withAPIKey: Result<ServerProcess, Error> = Result { try ServerProcess(arguments: ["--api-key", "sk-test-123"]) }

    init(arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw TestError("\(Self.binary.path) is missing: run `make test` (it builds the release binary first).")
        }
        port = try Self.freePort()
        process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--port", String(port), "--log-level", "debug"] + arguments
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-test-\(port).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        ServerProcess.killAtExit(process.processIdentifier)
        try waitUntilHealthy()
    }

    /// Servers still running when the test process exits are terminated then, not leaked.
    private static let pids = PIDList()
    private final class PIDList: @unchecked Sendable {
        let lock = NSLock()
        var pids: [pid_t] = []
    }
    private static let registerExitHook: Void = {
        atexit {
            ServerProcess.pids.lock.lock()
            for pid in ServerProcess.pids.pids { kill(pid, SIGTERM) }
            ServerProcess.pids.lock.unlock()
        }
    }()
    static func killAtExit(_ pid: pid_t) {
        _ = registerExitHook
        pids.lock.lock()
        pids.pids.append(pid)
        pids.lock.unlock()
    }

    /// Sends SIGTERM and waits up to `seconds` for the process to exit; returns its exit status
    /// and how long it took, or nil status if it is still running.
    func terminate(within seconds: Double) -> (status: Int32?, elapsed: Double) {
        let start = Date()
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, Date().timeIntervalSince(start) < seconds { usleep(20_000) }
        let elapsed = Date().timeIntervalSince(start)
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            return (nil, elapsed)
        }
        return (process.terminationStatus, elapsed)
    }

    private func waitUntilHealthy() throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else { throw TestError("server exited early; log:\n\(log())") }
            if let c = try? RawHTTPConnection(port: port) {
                try c.send(method: "GET", path: "/health")
                if let r = try? c.readResponse(), r.status == 200 { return }
            }
            usleep(100_000)
        }
        throw TestError("server did not become healthy in 60 s; log:\n\(log())")
    }

    func log() -> String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw TestError("could not find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The model id the server lists (the default model's file name).
    static let defaultModelID = "SmolLM2-135M-Instruct.Q4_1"

    // MARK: - Requests

    func request(_ method: String, _ path: String, json: Any? = nil, headers: [String: String] = [:]) throws -> RawHTTPConnection.Response {
        let c = try RawHTTPConnection(port: port)
        var h = headers
        var body: Data? = nil
        if let json {
            body = try JSONSerialization.data(withJSONObject: json)
            if h["Content-Type"] == nil { h["Content-Type"] = "application/json" }
        }
        try c.send(method: method, path: path, headers: h, body: body)
        return try c.readResponse()
    }

    func raw(_ method: String, _ path: String, body: Data, headers: [String: String]) throws -> RawHTTPConnection.Response {
        let c = try RawHTTPConnection(port: port)
        try c.send(method: method, path: path, headers: headers, body: body)
        return try c.readResponse()
    }

    /// POST /v1/chat/completions and return the decoded JSON object.
    func chat(_ body: [String: Any], headers: [String: String] = [:]) throws -> (status: Int, json: [String: Any]) {
        var b = body
        if b["model"] == nil { b["model"] = Self.defaultModelID }
        let r = try request("POST", "/v1/chat/completions", json: b, headers: headers)
        guard let json = try r.json() as? [String: Any] else { throw TestError("not a JSON object: \(r.text)") }
        return (r.status, json)
    }

    /// POST a streaming chat request and return the `data:` payloads in order (`[DONE]` included).
    func stream(_ body: [String: Any]) throws -> (status: Int, headers: [String: String], events: [String]) {
        var b = body
        if b["model"] == nil { b["model"] = Self.defaultModelID }
        b["stream"] = true
        let c = try RawHTTPConnection(port: port)
        try c.send(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"],
                   body: try JSONSerialization.data(withJSONObject: b))
        let response = try c.readResponse()
        let events = response.text.components(separatedBy: "\n\n").compactMap { block -> String? in
            let data = block.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
            return data.isEmpty ? nil : data.joined(separator: "\n")
        }
        return (response.status, response.headers, events)
    }
}

extension XCTestCase {
    /// The shared server, or a test failure explaining why it could not start.
    func server(_ which: Result<ServerProcess, Error> = ServerProcess.shared) throws -> ServerProcess {
        try which.get()
    }
}
