// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "encore",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "encore", targets: ["encore"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Domain: entities, rules, errors and the storage/media protocols. No HTTP, no SQL.
        .target(
            name: "EncoreCore",
            dependencies: [.product(name: "CoreMetrics", package: "swift-metrics")],
            swiftSettings: swiftSettings
        ),
        // Catalog store on SQLite (GRDB): the embedded default.
        .target(
            name: "EncoreSQLite",
            dependencies: [
                "EncoreCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Catalog store on PostgreSQL (postgres-nio): a primary, optional read replicas, LISTEN/NOTIFY.
        .target(
            name: "EncorePostgres",
            dependencies: [
                "EncoreCore", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Blob store on a local directory, with HMAC-signed URLs.
        .target(
            name: "EncoreBlobs",
            dependencies: [
                "EncoreCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // S3-compatible object storage: SigV4 signing and the S3 blob store.
        .target(
            name: "EncoreS3",
            dependencies: ["EncoreCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // ffprobe / ffmpeg as subprocesses.
        .target(
            name: "EncoreMedia",
            dependencies: ["EncoreCore"],
            swiftSettings: swiftSettings
        ),
        // HTTP: routes, auth, error mapping, media origin, OpenAPI document. Depends on the core and the HTTP
        // framework only, never on a storage, blob or media adapter: the composition root hands it those.
        .target(
            name: "EncoreServer",
            dependencies: [
                "EncoreCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            resources: [.copy("openapi.json"), .copy("WebApp")],
            swiftSettings: swiftSettings
        ),
        // The composition root: reads the configuration, builds the backends it names and the services over them.
        .target(
            name: "EncoreApp",
            dependencies: [
                "EncoreCore", "EncoreSQLite", "EncorePostgres", "EncoreBlobs", "EncoreS3", "EncoreMedia", "EncoreServer",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("edge-nginx.conf.template")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "encore",
            dependencies: [
                "EncoreApp", "EncoreCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // bench/load.sh's reference: bare Hummingbird serving the same bytes from memory (not shipped).
        .executableTarget(
            name: "hummingbird-reference",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio")],
            path: "bench/HummingbirdReference",
            swiftSettings: swiftSettings
        ),
        // Contract suites every backend must pass, and test helpers, shared by every test target.
        .target(
            name: "EncoreTestSupport",
            dependencies: ["EncoreCore"],
            path: "Tests/EncoreTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EncoreCoreTests", dependencies: ["EncoreCore", "EncoreTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "EncoreSQLiteTests", dependencies: ["EncoreCore", "EncoreSQLite", "EncoreTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EncorePostgresTests",
            dependencies: [
                "EncoreCore", "EncorePostgres", "EncoreTestSupport", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EncoreBlobsTests",
            dependencies: ["EncoreCore", "EncoreBlobs", "EncoreTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EncoreS3Tests", dependencies: ["EncoreS3", "EncoreCore", "EncoreTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "EncoreMediaTests", dependencies: ["EncoreCore", "EncoreMedia"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EncoreServerTests",
            dependencies: [
                "EncoreApp", "EncoreServer", "EncoreCore", "EncoreBlobs", "EncoreTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
