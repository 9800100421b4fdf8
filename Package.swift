// swift-tools-version:6.0
// TMT Staging: an autonomous paper-trading staging environment.
// Swift dependencies: Foundation, Dispatch, XCTest and Synchronization only. The C clients come
// from Debian (libpq-dev, librdkafka-dev, libhiredis-dev) as system-library targets.
import PackageDescription

let package = Package(
    name: "TMTStaging",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TMTCore", targets: ["TMTCore"]),
        .executable(name: "tmt-kafka-dev-broker", targets: ["TMTKafkaDevBroker"]),
        .executable(name: "tmt-benchmarks", targets: ["TMTBenchmarks"]),
        .executable(name: "tmt-migrate", targets: ["TMTMigrate"]),
        .executable(name: "tmt-data-generator", targets: ["TMTDataGenerator"]),
        .executable(name: "tmt-wyckoff-analysis", targets: ["TMTWyckoffAnalysis"]),
        .executable(name: "tmt-compliance-engine", targets: ["TMTComplianceEngine"]),
        .executable(name: "tmt-aria-risk", targets: ["TMTAriaRisk"]),
        .executable(name: "tmt-anti-correlation", targets: ["TMTAntiCorrelation"]),
        .executable(name: "tmt-human-behavior", targets: ["TMTHumanBehavior"]),
        .executable(name: "tmt-circuit-breaker", targets: ["TMTCircuitBreaker"]),
        .executable(name: "tmt-execution-engine", targets: ["TMTExecutionEngine"]),
        .executable(name: "tmt-continuous-improvement", targets: ["TMTContinuousImprovement"]),
        .executable(name: "tmt-api-gateway", targets: ["TMTAPIGateway"]),
        .executable(name: "tmt-integration-tester", targets: ["TMTIntegrationTester"]),
        .executable(name: "tmt-performance-validator", targets: ["TMTPerformanceValidator"]),
        .executable(name: "tmt-load-tester", targets: ["TMTLoadTester"]),
    ],
    targets: [
        // C libraries from Debian.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        // hiredis's pkg-config adds -D_FILE_OFFSET_BITS=64, which SwiftPM rejects with a warning on
        // every build; its headers live under /usr/include, so the module map alone suffices.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),

        // Infrastructure, one module per concern; TMTCore re-exports them all.
        .target(name: "TMTBase"),
        .target(name: "TMTMetrics", dependencies: ["TMTBase"]),
        .target(name: "TMTModels", dependencies: ["TMTBase"]),
        .target(name: "TMTPostgres", dependencies: ["CLibPQ", "TMTBase", "TMTMetrics"]),
        .target(name: "TMTKafka", dependencies: ["CRdKafka", "TMTBase", "TMTMetrics", "TMTModels"]),
        .target(name: "TMTRedis", dependencies: ["CHiredis", "TMTBase", "TMTMetrics"]),
        .target(name: "TMTHTTP", dependencies: ["TMTBase", "TMTMetrics"]),
        .target(
            name: "TMTCore",
            dependencies: ["TMTBase", "TMTMetrics", "TMTModels", "TMTPostgres", "TMTKafka", "TMTRedis", "TMTHTTP"]
        ),

        // The trading domain: pure cores (value in, value out, injectable clock, no I/O) that the
        // agents, the data generator and continuous improvement share.
        .target(name: "TMTTrading", dependencies: ["TMTBase", "TMTModels"]),

        // What the agent executables share: schemas, stores, agent metrics.
        .target(name: "TMTPipeline", dependencies: ["TMTCore", "TMTTrading"]),

        .executableTarget(name: "TMTKafkaDevBroker", dependencies: ["CRdKafka", "TMTBase", "TMTModels"]),
        .executableTarget(name: "TMTBenchmarks", dependencies: ["TMTCore", "TMTTrading"]),
        .executableTarget(name: "TMTMigrate", dependencies: ["TMTPostgres"]),
        .executableTarget(name: "TMTDataGenerator", dependencies: ["TMTCore", "TMTTrading", "TMTPipeline", "TMTStagingTools"]),
        .executableTarget(name: "TMTWyckoffAnalysis", dependencies: ["TMTPipeline"]),
        .executableTarget(name: "TMTComplianceEngine", dependencies: ["TMTPipeline"]),
        .executableTarget(name: "TMTAriaRisk", dependencies: ["TMTPipeline"]),
        .executableTarget(name: "TMTAntiCorrelation", dependencies: ["TMTPipeline"]),
        .executableTarget(name: "TMTHumanBehavior", dependencies: ["TMTPipeline"]),
        .executableTarget(name: "TMTCircuitBreaker", dependencies: ["TMTPipeline"]),
        .executableTarget(name: "TMTExecutionEngine", dependencies: ["TMTPipeline"]),
        .executableTarget(name: "TMTContinuousImprovement", dependencies: ["TMTPipeline"]),
        .executableTarget(name: "TMTAPIGateway", dependencies: ["TMTPipeline"]),

        // The testing profile's tools: they run against a deployed stack from the outside.
        .target(name: "TMTStagingTools", dependencies: ["TMTCore", "TMTTrading", "TMTPipeline"]),
        .executableTarget(name: "TMTIntegrationTester", dependencies: ["TMTStagingTools"]),
        .executableTarget(name: "TMTPerformanceValidator", dependencies: ["TMTStagingTools"]),
        .executableTarget(name: "TMTLoadTester", dependencies: ["TMTStagingTools"]),

        .testTarget(name: "TMTCoreTests", dependencies: ["TMTCore"]),
        .testTarget(name: "TMTTradingTests", dependencies: ["TMTTrading", "TMTModels"]),
        .testTarget(name: "TMTStagingToolsTests", dependencies: ["TMTStagingTools"]),
        .testTarget(name: "IntegrationTests", dependencies: ["TMTCore", "TMTTrading", "TMTPipeline", "TMTStagingTools"]),
    ],
    swiftLanguageModes: [.v6]
)
