import Foundation
import TMTCore
import XCTest

/// Where the throwaway services of `scripts/test-services.sh` are. Integration tests need them
/// running (`scripts/run-tests.sh` starts them); without them a test fails with a message that
/// says how to start them, rather than skipping and passing silently.
enum TestServices {
    /// The repository root, found from this file's path.
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Variables from the environment, falling back to the env file the script writes.
    static let variables: [String: String] = {
        var vars: [String: String] = [:]
        let envFile = ProcessInfo.processInfo.environment["TMT_TEST_ENV_FILE"]
            ?? ((ProcessInfo.processInfo.environment["TMT_STATE_DIR"].map { URL(fileURLWithPath: $0) }
                ?? repoRoot.appendingPathComponent(".state")).appendingPathComponent("test-services/env").path)
        if let text = try? String(contentsOfFile: envFile, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "=") else { continue }
                vars[String(line[..<eq])] = String(line[line.index(after: eq)...])
            }
        }
        for (k, v) in ProcessInfo.processInfo.environment where k.hasPrefix("TMT_TEST_") { vars[k] = v }
        return vars
    }()

    struct NotRunning: Error, CustomStringConvertible {
        var description: String
    }

    static func require(_ key: String) throws -> String {
        guard let v = variables[key], !v.isEmpty else {
            throw NotRunning(description: "\(key) is not set: start the test services with `scripts/test-services.sh start` (or run `scripts/run-tests.sh`)")
        }
        return v
    }

    /// `postgresql://trading_user:…@127.0.0.1:15433/trading_staging`
    static func postgresURL() throws -> String { try require("TMT_TEST_POSTGRES_URL") }
    /// `postgresql://timescale_user:…@127.0.0.1:15433/market_data_staging`
    static func marketDatabaseURL() throws -> String { try require("TMT_TEST_MARKET_DB_URL") }
    /// `redis://127.0.0.1:16380/0`
    static func redisURL() throws -> String { try require("TMT_TEST_REDIS_URL") }

    /// The dev broker's bootstrap address, read fresh (the broker picks a random port).
    static func kafkaBootstrap() throws -> String {
        let path = try require("TMT_TEST_KAFKA_BOOTSTRAP_FILE")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else {
            throw NotRunning(description: "no Kafka bootstrap file at \(path): start the test services with `scripts/test-services.sh start`")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The dev broker's market-data cluster (market.ticks alone), read fresh.
    static func kafkaMarketBootstrap() throws -> String {
        let path = try require("TMT_TEST_KAFKA_MARKET_BOOTSTRAP_FILE")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else {
            throw NotRunning(description: "no market-data bootstrap file at \(path): restart the test services with `scripts/test-services.sh stop; scripts/test-services.sh start`")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `scripts/test-services.sh <command>` (e.g. `restart-postgres`) and waits for it.
    static func run(_ command: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repoRoot.appendingPathComponent("scripts/test-services.sh").path, command]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "TestServices", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "test-services.sh \(command) failed"])
        }
    }

    /// A path to a built executable of this package (e.g. `tmt-kafka-dev-broker`), next to the test bundle.
    static func executable(_ name: String) -> URL {
        let bundle = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL
        let dir = bundle?.deletingLastPathComponent() ?? repoRoot.appendingPathComponent(".build/debug")
        return dir.appendingPathComponent(name)
    }
}

/// Reads one sample from a registry's exposition, e.g. `tmt_redis_errors_total{kind="timeout"}`;
/// 0 when the sample is absent.
func metricValue(_ registry: MetricsRegistry, _ sample: String) -> Double {
    metricValue(in: registry.exposition(), sample)
}

/// Reads one sample from exposition text (e.g. a service's `/metrics`); 0 when absent.
func metricValue(in exposition: String, _ sample: String) -> Double {
    for line in exposition.split(separator: "\n") where line.hasPrefix(sample + " ") {
        return Double(line.dropFirst(sample.count + 1)) ?? .nan
    }
    return 0
}

/// The sum of every sample whose name and labels start with `prefix` (e.g. a counter family).
func sum(_ exposition: String, _ prefix: String) -> Double {
    exposition.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.hasPrefix(prefix) }.reduce(0.0) { total, line in
        guard let space = line.lastIndex(of: " ") else { return total }
        let name = line[..<space]
        // `prefix` must end at a name/label boundary: `x_total` must not match `x_total_extra`.
        let rest = name.dropFirst(prefix.count)
        guard rest.isEmpty || rest.first == "{" || rest.first == "," || prefix.hasSuffix("\"") || prefix.hasSuffix("{") else { return total }
        return total + (Double(line[line.index(after: space)...]) ?? 0)
    }
}
