// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let x509: Target.Dependency = .product(name: "X509", package: "swift-certificates")
let asn1: Target.Dependency = .product(name: "SwiftASN1", package: "swift-asn1")

let package = Package(
    name: "tern",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tern", targets: ["tern"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        // Thin shims to system C calls Swift cannot make directly (fcntl locks, fork+setuid+exec).
        .target(name: "CTernSys"),
        .target(name: "CResolv", linkerSettings: [.linkedLibrary("resolv")]),
        .target(name: "CCrypt", linkerSettings: [.linkedLibrary("crypt")]),
        .target(name: "CTernPAM", linkerSettings: [.linkedLibrary("pam")]),
        .target(name: "CPCRE2", linkerSettings: [.linkedLibrary("pcre2-8")]),
        .target(name: "CSQLite", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "TernCore", dependencies: ["CTernSys", "CSQLite"], swiftSettings: upcoming),
        .target(name: "TernConfig", dependencies: ["TernCore"], swiftSettings: upcoming),
        .target(name: "TernMaps", dependencies: ["TernCore", "CPCRE2"], swiftSettings: upcoming),
        .target(name: "TernMIME", dependencies: ["TernCore"], swiftSettings: upcoming),
        .target(name: "TernSMTP", dependencies: ["TernCore", crypto], swiftSettings: upcoming),
        .target(name: "TernPolicy", dependencies: ["TernCore", "TernMaps"], swiftSettings: upcoming),
        .target(name: "TernPOP3", swiftSettings: upcoming),
        .target(name: "TernMailbox", dependencies: ["TernCore", "CTernSys"], swiftSettings: upcoming),
        .target(name: "TernAuth", dependencies: ["TernCore", "CCrypt", "CTernPAM", crypto], swiftSettings: upcoming),
        .target(name: "TernIMAP", dependencies: ["TernCore", "TernMailbox", "CTernSys"], swiftSettings: upcoming),
        .target(
            name: "TernQueue", dependencies: ["TernCore", "TernConfig", "TernMIME", "CTernSys"],
            swiftSettings: upcoming),
        .target(
            name: "TernDelivery",
            dependencies: ["TernCore", "TernConfig", "TernMaps", "TernQueue", "TernMIME", "CTernSys", "CResolv"],
            swiftSettings: upcoming),
        .target(
            name: "TernServer",
            dependencies: [
                "TernCore", "TernConfig", "TernMaps", "TernSMTP", "TernPolicy", "TernQueue", "TernDelivery", "TernAuth",
                "TernMailbox", "TernIMAP", "TernPOP3", "CTernSys", "CResolv", "CZlib", nioCore, nioPosix, nioSSL,
                .product(name: "NIOTLS", package: "swift-nio"), x509, asn1, log,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming),
        .executableTarget(
            name: "tern",
            dependencies: [
                "TernCore", "TernConfig", "TernMaps", "TernQueue", "TernDelivery", "TernServer", "TernAuth", "CTernSys",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming),
        .testTarget(name: "TernCoreTests", dependencies: ["TernCore"], swiftSettings: upcoming),
        .testTarget(name: "TernConfigTests", dependencies: ["TernConfig"], swiftSettings: upcoming),
        .testTarget(name: "TernMapsTests", dependencies: ["TernMaps"], swiftSettings: upcoming),
        .testTarget(name: "TernMIMETests", dependencies: ["TernMIME"], swiftSettings: upcoming),
        .testTarget(name: "TernSMTPTests", dependencies: ["TernSMTP"], swiftSettings: upcoming),
        .testTarget(name: "TernAuthTests", dependencies: ["TernAuth", crypto], swiftSettings: upcoming),
        .testTarget(name: "TernPolicyTests", dependencies: ["TernPolicy", "TernMaps"], swiftSettings: upcoming),
        .testTarget(name: "TernPOP3Tests", dependencies: ["TernPOP3"], swiftSettings: upcoming),
        .testTarget(
            name: "TernMailboxTests", dependencies: ["TernMailbox", "TernCore"], exclude: ["Fixtures"],
            swiftSettings: upcoming),
        .testTarget(
            name: "TernIMAPTests", dependencies: ["TernIMAP", "TernCore", "TernMailbox"], swiftSettings: upcoming),
        .testTarget(name: "TernQueueTests", dependencies: ["TernQueue"], swiftSettings: upcoming),
        .testTarget(name: "TernDeliveryTests", dependencies: ["TernDelivery"], swiftSettings: upcoming),
        .testTarget(
            name: "TernServerTests", dependencies: ["TernServer", "TernMailbox", "CTernSys", nioCore, nioPosix, nioSSL, crypto],
            swiftSettings: upcoming),
    ]
)
