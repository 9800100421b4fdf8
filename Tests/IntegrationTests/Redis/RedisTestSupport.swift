import Foundation
import TMTCore
import XCTest

/// Helpers for the Redis integration tests: a client on the test Redis with its own metrics
/// registry, and a unique key prefix per test whose keys are deleted afterwards.
extension XCTestCase {
    func redisConfiguration(_ adjust: (inout RedisConfiguration) -> Void = { _ in }) throws -> RedisConfiguration {
        var c = try RedisConfiguration(url: TestServices.redisURL())
        adjust(&c)
        return c
    }

    /// A client on the test Redis; closed after the test.
    func makeRedisClient(metrics: MetricsRegistry = MetricsRegistry(),
                         _ adjust: (inout RedisConfiguration) -> Void = { _ in }) throws -> RedisClient {
        let client = try RedisClient(configuration: redisConfiguration(adjust), metrics: metrics)
        addTeardownBlock { client.close() }
        return client
    }

    /// A unique prefix such as `tmt-test:<uuid>:`; every key under it is deleted after the test.
    func redisKeyPrefix() throws -> String {
        let prefix = "tmt-test:\(UUID().uuidString):"
        let url = try TestServices.redisURL()
        addTeardownBlock {
            guard let cleaner = try? RedisClient(url: url, metrics: MetricsRegistry()) else { return }
            defer { cleaner.close() }
            // The prefix has no glob characters, so KEYS matches exactly this test's keys.
            if let keys = try? cleaner.command(["KEYS", prefix + "*"]).bytesArray(), !keys.isEmpty {
                _ = try? cleaner.command([Array("DEL".utf8)] + keys)
            }
        }
        return prefix
    }
}

/// Reads a counter sample from the exposition text, e.g. `tmt_redis_errors_total{kind="timeout"}`.
func metricValue(_ registry: MetricsRegistry, _ sample: String) -> Double {
    for line in registry.exposition().split(separator: "\n") where line.hasPrefix(sample + " ") {
        return Double(line.dropFirst(sample.count + 1)) ?? .nan
    }
    return 0
}

/// Runs `scripts/test-services.sh restart-redis` and waits for it.
///
/// Why not `TestServices.run`: Foundation's `Process` learns that a child exited when the child's
/// end of a socket pair closes, and the daemonized `redis-server` inherits that end, so
/// `waitUntilExit()` would wait for Redis to stop. Closing every descriptor above stderr before
/// the script runs keeps the daemon from inheriting it (or any of this process's sockets).
func restartTestRedis() throws {
    let script = try TestServices.require("TMT_TEST_SERVICES_SCRIPT")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = ["-c", #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec bash "$0" restart-redis"#, script]
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw TMTError(.io, "test-services.sh restart-redis failed with status \(p.terminationStatus)")
    }
}
