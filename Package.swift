// swift-tools-version: 6.0
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Parley builds and runs on Linux only: the server reads peer credentials with SO_PEERCRED and
// the tools use Glibc. No Apple platform is declared because none is supported.
let package = Package(
    name: "Parley",
    products: [
        .executable(name: "parley", targets: ["parley"]),
        .executable(name: "parleyd", targets: ["parleyd"]),
        .executable(name: "parley-web", targets: ["parley-web"]),
        .executable(name: "parley-kannel", targets: ["parley-kannel"]),
        .executable(name: "parley-twilio", targets: ["parley-twilio"]),
        // The LD_PRELOAD recorder of tools/power-cut (libPowerCutShim.so); never linked into Parley.
        .library(name: "PowerCutShim", type: .dynamic, targets: ["PowerCutShim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // LMDB from the system (Debian: liblmdb-dev), reached only through the `LMDB` wrapper.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        .target(name: "LMDB", dependencies: ["CLMDB"], swiftSettings: strictSettings),
        // The domain: events, commands, decisions, projections, segment counting. No I/O.
        .target(name: "ParleyCore", swiftSettings: strictSettings),
        // The event log and projection store on LMDB.
        .target(
            name: "ParleyStore",
            dependencies: [
                "LMDB", "ParleyCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // JSON-RPC over JSON lines: envelopes, methods, params, error codes. No NIO.
        .target(name: "ParleyProtocol", dependencies: ["ParleyCore"], swiftSettings: strictSettings),
        // The daemon's parts: the single writer, subscriptions, sessions, the Unix-socket server.
        .target(
            name: "ParleyServer",
            dependencies: [
                "ParleyCore", "ParleyStore", "ParleyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "parleyd",
            dependencies: [
                "ParleyServer", "ParleyStore", "ParleyCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The client library of the socket protocol every client of ours uses: `ParleyConnection`
        // and `ParleyClient` (reconnects, resumes subscriptions, idempotency keys).
        .target(
            name: "ParleyClient",
            dependencies: [
                "ParleyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "parley",
            dependencies: [
                "ParleyCore", "ParleyStore", "ParleyClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // The agent desktop's gateway: sign-in, sessions, the authorisation table, the page's
        // static files and its WebSocket, one parleyd connection per browser session.
        .target(
            name: "ParleyWeb",
            dependencies: [
                "ParleyClient", "ParleyProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Page")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "parley-web",
            dependencies: [
                "ParleyWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Carrier connectors' shared parts and each carrier's mapping: the connector contract's
        // loop over ParleyClient, Kannel's sendsms requests and delivery-report codes, signed
        // callback URLs, rate limits and backoff, Twilio's messages, statuses and signatures.
        .target(
            name: "ParleyCarriers",
            dependencies: [
                "ParleyClient", "ParleyProtocol", "ParleyCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The Kannel connector: outbound SMS to Kannel's sendsms, its delivery reports and
        // inbound SMS back from its callbacks.
        .executableTarget(
            name: "parley-kannel",
            dependencies: [
                "ParleyCarriers", "ParleyClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The Twilio connector: outbound SMS through Twilio's Messages API, its status callbacks
        // and inbound webhook back, each checked against X-Twilio-Signature.
        .executableTarget(
            name: "parley-twilio",
            dependencies: [
                "ParleyCarriers", "ParleyClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Developer commands for the test suite and tools/ (log generation, append loops, codec
        // benchmarks, hostile clients): kept out of the shipped `parley`.
        .executableTarget(
            name: "parley-debug",
            dependencies: [
                "ParleyCore", "ParleyStore", "ParleyClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // The measuring half of tools/bench: raw LMDB, closed-loop load, fan-out, catch-up, cold start.
        .executableTarget(
            name: "parley-bench",
            dependencies: ["LMDB", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        // Kills parleyd and the offline tools at random moments and checks nothing acknowledged is lost
        // (tools/crash-test); with the shim, also every power-cut state the kill allows (tools/power-cut).
        .executableTarget(
            name: "parley-crash-test",
            dependencies: [
                "ParleyStore", "ParleyCore", "ParleyClient", "ParleyProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // Records, for tools/power-cut, every write to the data files that is not yet durable (C, LD_PRELOAD).
        .target(name: "PowerCutShim", linkerSettings: [.linkedLibrary("dl")]),
        // libFuzzer's driver, declared for the fuzz build only (nothing linked).
        .systemLibrary(name: "CLibFuzzer"),
        // One libFuzzer target per parser, called directly (tools/fuzz); a corpus replayer in normal builds.
        .executableTarget(
            name: "parley-fuzz",
            dependencies: ["ParleyServer", "ParleyProtocol", "ParleyStore", "ParleyCore", "CLibFuzzer"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ParleyWebTests",
            dependencies: [
                "ParleyWeb", "ParleyProtocol",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ParleyCarrierTests",
            dependencies: ["ParleyCarriers", "ParleyClient", "ParleyProtocol", "ParleyCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB"], swiftSettings: strictSettings),
        .testTarget(name: "ParleyCoreTests", dependencies: ["ParleyCore"], swiftSettings: strictSettings),
        .testTarget(name: "ParleyProtocolTests", dependencies: ["ParleyProtocol"], swiftSettings: strictSettings),
        .testTarget(
            name: "ParleyServerTests",
            dependencies: [
                "ParleyServer", "ParleyProtocol", "ParleyStore", "ParleyCore", "ParleyClient", "ParleyCarriers",
                // The Twilio test's stand-in for the REST API, and its webhook requests.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Golden"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ParleyStoreTests",
            dependencies: ["ParleyStore", "ParleyCore", "LMDB"],
            swiftSettings: strictSettings
        ),
    ]
)
