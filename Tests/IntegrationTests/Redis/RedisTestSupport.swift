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

