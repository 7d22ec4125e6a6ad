// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// A service: a library with its handlers, store and domain (tests import it), and a thin
/// executable that reads the environment and runs it.
func service(
    _ folder: String, module: String, executable: String,
    dependencies extra: [Target.Dependency] = [], resources: [Resource]? = nil
) -> [Target] {
    [
        .target(
            name: module,
            dependencies: [
                "PinganAccess", "PinganConnect", "PinganContracts", "PinganDomain", "PinganOutbox", "PinganPostgres",
                "PinganRuntime",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ] + extra,
            path: "Services/\(folder)/Sources",
            resources: resources,
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: executable,
            dependencies: [
                .byName(name: module), "PinganAccess", "PinganDomain", "PinganRuntime",
            ],
            path: "Services/\(folder)/Main",
            swiftSettings: swiftSettings
        ),
    ]
}

/// A test target in `Tests/<name>`: the shared libraries and the test support, and `extra`,
/// what it tests.
func tests(_ name: String, _ extra: [Target.Dependency] = []) -> Target {
    .testTarget(
        name: name,
        dependencies: [
            "PinganAccess", "PinganConnect", "PinganContracts", "PinganDomain", "PinganOutbox", "PinganPostgres", "PinganRuntime",
            "PinganTestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ] + extra,
        path: "Tests/\(name)",
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "pingan",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "grid-service", targets: ["grid-service"]),
        .executable(name: "dispute-service", targets: ["dispute-service"]),
        .executable(name: "risk-service", targets: ["risk-service"]),
        .executable(name: "index-service", targets: ["index-service"]),
        .executable(name: "notify-service", targets: ["notify-service"]),
        .executable(name: "pingan-bench", targets: ["pingan-bench"]),
    ],
    dependencies: [
        // HTTP server for the Connect endpoints, with service lifecycle and graceful shutdown.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        // Generated message types and the proto3 JSON / binary codecs.
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        // Structured logging, the server ecosystem's common API.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        // HTTP field names and headers, shared by the server and the client.
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        // The thread pool that keeps blocking libpq calls off the event loops.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        // HTTP/2 for gRPC clients: already there under hummingbird's HTTP/2 support; named for
        // the one handler Pingan adds to its pipeline (GRPCServerChannel).
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        // The centre dashboard's views: logic-less templates, HTML-escaped by default.
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.0"),
        // bcrypt for the gateway's stored passwords.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.0.0"),
        // Start and graceful shutdown of the server, the pool and the relays together.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // Prometheus text exposition for GET /metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        // SHA-256 for migration checksums, HMAC-SHA256 for signatures.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        // Settings: one reader per executable over the environment, as Hummingbird's template does.
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: []),
    ],
    targets: [
        // MARK: C libraries, wrapped once
        .systemLibrary(name: "CLibPQ", path: "Shared/CLibPQ"),
        .target(
            name: "CCurl",
            path: "Shared/CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .target(
            name: "CZlib",
            path: "Shared/CZlib",
            linkerSettings: [.linkedLibrary("z")]
        ),

        // MARK: Shared libraries
        .target(
            name: "PinganPostgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/Postgres",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PinganContracts",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/Contracts",
            swiftSettings: swiftSettings
        ),
        // The Connect protocol: codec, errors, routes, responder and the libcurl client.
        .target(
            name: "PinganConnect",
            dependencies: [
                "CCurl", "CZlib",
                "PinganContracts",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/Connect",
            swiftSettings: swiftSettings
        ),
        // The governance domain's shared vocabulary: division codes, months, masking.
        .target(
            name: "PinganDomain",
            path: "Shared/Domain",
            swiftSettings: swiftSettings
        ),
        // Who is calling: principals, their signatures, jurisdiction, request fields.
        .target(
            name: "PinganAccess",
            dependencies: [
                "PinganConnect", "PinganContracts", "PinganDomain",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/Access",
            swiftSettings: swiftSettings
        ),
        // What every service runs on: settings, host, health, readiness, metrics, lifecycle.
        .target(
            name: "PinganRuntime",
            dependencies: [
                "PinganConnect", "PinganContracts", "PinganDomain", "PinganPostgres",
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Runtime",
            swiftSettings: swiftSettings
        ),
        // Events between services: outbox, relay, webhook-style due work, consumer inbox.
        .target(
            name: "PinganOutbox",
            dependencies: [
                "PinganAccess", "PinganConnect", "PinganContracts", "PinganDomain", "PinganPostgres", "PinganRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/Outbox",
            swiftSettings: swiftSettings
        ),

        // MARK: Services
    ]
        + service("gateway", module: "GatewayService", executable: "gateway",
                  dependencies: [.product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                                 .product(name: "Mustache", package: "swift-mustache")])
        + service("grid", module: "GridService", executable: "grid-service", resources: [.copy("Data/changde-divisions.csv")])
        + service("dispute", module: "DisputeService", executable: "dispute-service", resources: [.copy("Data/cn-workday-calendar.csv")])
        + service("risk", module: "RiskService", executable: "risk-service", resources: [.copy("Data/risk-models.json")])
        + service("index", module: "IndexService", executable: "index-service", resources: [.copy("Data/indicator-catalogue.json")])
        + service("notify", module: "NotifyService", executable: "notify-service")
        + [
        // MARK: Benchmarks
        .executableTarget(
            name: "pingan-bench",
            dependencies: [
                "PinganConnect", "PinganContracts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Benchmark",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "PinganTestSupport",
            dependencies: [
                "PinganAccess", "PinganConnect", "PinganContracts", "PinganDomain", "PinganPostgres", "PinganRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        // A target per library and per service: a test of `X` goes in `Tests/XTests`
        // (docs/testing.md); the real executables in `EndToEndTests`.
        tests("PostgresTests"),
        tests("ConnectTests"),
        tests("DomainTests"),
        tests("AccessTests", ["DisputeService", "GatewayService", "GridService", "IndexService", "NotifyService", "RiskService"]),
        tests("OutboxTests", ["GridService"]),
        tests("GatewayTests", ["GatewayService"]),
        tests("GridTests", ["GridService", "DisputeService"]),
        tests("DisputeTests", ["DisputeService"]),
        tests("RiskTests", ["RiskService"]),
        tests("IndexTests", ["IndexService", "DisputeService", "GridService", "RiskService"]),
        tests("NotifyTests", ["NotifyService"]),
        tests("EndToEndTests", [.product(name: "Crypto", package: "swift-crypto")]),
    ]
)
