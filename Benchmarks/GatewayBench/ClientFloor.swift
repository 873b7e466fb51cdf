// `GatewayBench client`: what AsyncHTTPClient alone costs per request against the mock, with the
// settings the gateway uses. The gateway cannot cost less than its HTTP server plus its HTTP
// client, so this (with `GET /health` on the gateway for the server side) is the floor
// scripts/bench-gateway's figures are compared with.
import AsyncHTTPClient
import Dispatch
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import NIOCore
import NIOPosix

/// The process's user+system CPU time so far, in milliseconds.
func processCPUMilliseconds() -> Double {
    var usage = rusage()
    getrusage(0, &usage)  // RUSAGE_SELF
    func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1000 + Double(t.tv_usec) / 1000 }
    return ms(usage.ru_utime) + ms(usage.ru_stime)
}

/// Sends the benchmark request from `concurrency` tasks for `seconds`, then prints requests/s
/// and CPU-ms per request of this process.
func runClientFloor(url: String, body: String, concurrency: Int, seconds: Int) async throws {
    var configuration = HTTPClient.Configuration()
    configuration.decompression = .enabled(limit: .ratio(50))
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
    let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    let payload = ByteBuffer(string: body)
    let end = ContinuousClock.now + .seconds(seconds)
    let cpuBefore = processCPUMilliseconds()
    let started = ContinuousClock.now
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var done = 0
                while ContinuousClock.now < end {
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(payload)
                    let response = try await client.execute(request, timeout: .seconds(5))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    done += 1
                }
                return done
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - started
    let cpu = processCPUMilliseconds() - cpuBefore
    let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let perSecond = Int(Double(total) / elapsedSeconds)
    let cpuPerRequest = Double(Int(cpu / Double(total) * 1000)) / 1000
    print("AsyncHTTPClient alone, C=\(concurrency): \(total) requests, \(perSecond) req/s, CPU-ms/request \(cpuPerRequest)")
    try await client.shutdown()
}
