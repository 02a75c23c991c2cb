// swift-tools-version: 6.0
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Parley",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "parley", targets: ["parley"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "parley",
            dependencies: [
                "ParleyCore", "ParleyStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB"], swiftSettings: strictSettings),
        .testTarget(name: "ParleyCoreTests", dependencies: ["ParleyCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "ParleyStoreTests",
            dependencies: ["ParleyStore", "ParleyCore", "LMDB"],
            swiftSettings: strictSettings
        ),
    ]
)
