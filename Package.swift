// swift-tools-version:6.0
import Foundation
import CompilerPluginSupport
import PackageDescription

// llama.cpp is built by scripts/bootstrap into a cache outside the repo (static libraries), so a
// plain `swift build` works after bootstrap with no environment variables or pkg-config paths.
let llamaVersion = "0.3.36"
let cacheRoot = ProcessInfo.processInfo.environment["SWITCHBOARD_CACHE"]
    ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/switchboard")
let llamaPrefix = "\(cacheRoot)/llama.cpp-\(llamaVersion)"
// Swift code that imports CLlama (directly or through LocalEngine) must find llama.h too:
// the C target's own -I does not reach the Swift targets that load its module.
let llamaHeaders: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(llamaPrefix)/include"])]

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        .library(name: "ChatAPI", targets: ["ChatAPI"]),
        .library(name: "JSONSchemaKit", targets: ["JSONSchemaKit"]),
        .library(name: "Grammar", targets: ["Grammar"]),
        .library(name: "ChatTemplates", targets: ["ChatTemplates"]),
        .library(name: "SwitchboardKit", targets: ["SwitchboardKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        // Already in the graph through Hummingbird; named here because the server's connection
        // handlers (timeouts, connection cap, hang-up detection) and the shutdown wiring use them.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        // Already in the graph through Hummingbird; the server names header fields with it.
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", exact: "0.12.1"),
        // SwitchboardKit's @JSONSchema macro.
        .package(url: "https://github.com/swiftlang/swift-syntax.git", from: "603.0.0"),
        // Already in the graph through the MCP SDK; its stdio transport takes FileDescriptors.
        .package(url: "https://github.com/apple/swift-system.git", from: "1.0.0"),
    ],
    targets: [
        // OpenAI wire types, JSON value/parser, validation, the ChatEvent stream, SSE.
        .target(
            name: "ChatAPI",
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")],
            // Double.rounded() and friends call libm, which a Foundation-free target must name.
            linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
        // Pure-Swift reader of GGUF metadata (tokenizer vocabulary, chat template); no llama.cpp.
        .target(name: "GGUF"),
        // JSON Schema 2020-12 model and validator.
        .target(name: "JSONSchemaKit", dependencies: ["ChatAPI"]),
        // Constrained decoding: schema -> grammar -> token masks. No llama.cpp dependency.
        .target(
            name: "Grammar", dependencies: ["ChatAPI", "JSONSchemaKit", "GGUF"],
            // Mask computation walks shared caches in tight loops; dynamic exclusivity checks
            // cost ~10% there.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // Jinja interpreter for chat templates and per-family tool-call formats.
        .target(name: "ChatTemplates", dependencies: ["ChatAPI"]),
        // Thin C shim over llama.h, linked statically against the bootstrap cache.
        .target(
            name: "CLlama",
            cSettings: [.unsafeFlags(["-I\(llamaPrefix)/include"])],
            linkerSettings: [
                .unsafeFlags(["-L\(llamaPrefix)/lib"]),
                .linkedLibrary("llama"), .linkedLibrary("ggml"), .linkedLibrary("ggml-cpu"),
                .linkedLibrary("ggml-base"), .linkedLibrary("stdc++"), .linkedLibrary("gomp"),
                .linkedLibrary("m"),
            ]),
        // Model loading, scheduling, sampling, constrained generation on llama.cpp.
        .target(
            name: "LocalEngine",
            dependencies: [
                "CLlama", "ChatAPI", "Grammar", "ChatTemplates",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: llamaHeaders),
        // The ChatBackend contract, routing, retries and fallbacks, and the tool-call guard that
        // wraps every backend. Knows nothing of llama.cpp or of any provider's wire format.
        .target(
            name: "Gateway",
            dependencies: [
                "ChatAPI", "JSONSchemaKit", "Grammar",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ]),
        // ChatBackend over LocalEngine: prompt rendering, output grammar, tool-call parsing.
        .target(
            name: "LocalBackend",
            dependencies: [
                "Gateway", "LocalEngine", "ChatAPI", "JSONSchemaKit", "Grammar", "ChatTemplates",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: llamaHeaders + [.swiftLanguageMode(.v6)]),
        // Hosted upstreams (OpenAI-compatible) as ChatBackends, over one shared HTTP client.
        .target(
            name: "Providers",
            dependencies: [
                "Gateway", "ChatAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Switchboard as an MCP client: configured MCP servers' tools offered as function tools,
        // and the opt-in server-side loop that runs their calls.
        .target(
            name: "MCPClient",
            dependencies: [
                "Gateway", "ChatAPI", "JSONSchemaKit",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // The Swift SDK: a client of any OpenAI-compatible endpoint. No unsafeFlags anywhere
        // below it, so other packages can depend on it.
        .target(
            name: "SwitchboardKit",
            dependencies: [
                "ChatAPI", "SwitchboardKitMacros",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // @JSONSchema: a type's JSON Schema derived from its declaration, at compile time.
        .macro(
            name: "SwitchboardKitMacros",
            dependencies: [
                .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
                .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Hummingbird HTTP front end.
        .target(
            name: "Server",
            dependencies: [
                "Gateway", "ChatAPI", "MCPClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // Chat completions as MCP tools (Sources/Server/MCP).
                .product(name: "MCP", package: "swift-sdk"),
            ]),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "Server", "Gateway", "MCPClient", "SwitchboardKit", "LocalBackend", "Providers", "LocalEngine", "ChatTemplates", "CLlama", "GGUF",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: llamaHeaders),
        .executableTarget(
            name: "GrammarBench",
            dependencies: ["Grammar", "JSONSchemaKit", "ChatAPI", "GGUF", "TestSupport"],
            path: "Benchmarks/GrammarBench"),
        // Loopback mock upstream for scripts/bench-gateway: raw NIO, none of the project's targets.
        .executableTarget(
            name: "GatewayBench",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Benchmarks/GatewayBench",
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Local throughput against llama-server -np N, over HTTP (scripts/bench-throughput).
        .executableTarget(
            name: "ThroughputBench",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Benchmarks/ThroughputBench",
            swiftSettings: [.swiftLanguageMode(.v6)]),

        .testTarget(name: "ChatAPITests", dependencies: ["ChatAPI"]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF"]),
        .testTarget(name: "JSONSchemaKitTests", dependencies: ["JSONSchemaKit", "ChatAPI", "TestSupport"], exclude: ["MASKBENCH_DISAGREEMENTS.md"]),
        .testTarget(name: "GrammarTests", dependencies: ["Grammar", "JSONSchemaKit", "ChatAPI", "GGUF", "TestSupport"]),
        // Shared by tests and GrammarBench: the seeded generator, reading MaskBench's gzip files.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(name: "ChatTemplatesTests", dependencies: ["ChatTemplates", "ChatAPI", "TestSupport"], exclude: ["Goldens"]),
        .testTarget(name: "LocalEngineTests", dependencies: ["LocalEngine", "ChatAPI", "Grammar"], swiftSettings: llamaHeaders),
        .testTarget(
            name: "GatewayTests", dependencies: ["Gateway", "ChatAPI", "JSONSchemaKit"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "SwitchboardKitTests", dependencies: ["SwitchboardKit", "ChatAPI", "JSONSchemaKit"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "MCPClientTests", dependencies: ["MCPClient", "ChatAPI"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "LocalBackendTests",
            dependencies: ["LocalBackend", "Gateway", "ChatAPI", "LocalEngine", "ChatTemplates", "Grammar", "JSONSchemaKit", "TestSupport"],
            swiftSettings: llamaHeaders + [.swiftLanguageMode(.v6)]),
        // Bounded fuzzing of every parser and compiler that reads request data; replays the
        // regression corpus under Corpus/ first. FUZZ_SECONDS / FUZZ_SEED tune a run.
        .testTarget(
            name: "FuzzTests",
            dependencies: ["ChatAPI", "ChatTemplates", "JSONSchemaKit", "Grammar", "GGUF", "TestSupport"],
            exclude: ["Corpus"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Hosted routes end to end: the real server, gateway and OpenAI-compatible adapter in
        // process, against fake upstreams on loopback that replay providers' wire formats; and
        // SwitchboardKit's client against the same fakes.
        .testTarget(
            name: "ProvidersTests",
            dependencies: [
                "Providers", "Gateway", "Server", "ChatAPI", "SwitchboardKit",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Wire-format fixtures, read from the source tree by path.
            exclude: ["Fixtures"],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Gateway", "ChatAPI", "JSONSchemaKit", "TestSupport", "SwitchboardKit",
                // Only to compute expected prompts in-process next to the real binary.
                "LocalBackend", "LocalEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: llamaHeaders),
    ],
    swiftLanguageModes: [.v5]
)

// scripts/fuzz only: a libFuzzer entry point over the same parsers as Tests/FuzzTests, built with
// `-sanitize=fuzzer` into its own scratch path. Absent from ordinary builds, which it would break
// (libFuzzer supplies `main`).
if ProcessInfo.processInfo.environment["SWITCHBOARD_LIBFUZZER"] == "1" {
    package.targets.append(.executableTarget(
        name: "switchboard-fuzz",
        dependencies: ["ChatAPI", "ChatTemplates", "JSONSchemaKit", "Grammar"],
        path: "Fuzz",
        swiftSettings: [.swiftLanguageMode(.v6)]))
}
