import Foundation
import Synchronization
import TMTCore
import XCTest

/// The client's bounded pool: many threads, exhaustion, async use, close.
final class RedisClientPoolIntegrationTests: XCTestCase {
    func testManyThreadsShareASmallPool() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics) { $0.poolSize = 3 }
        let key = try redisKeyPrefix() + "counter"
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<50 {
                do { try redis.incr(key) } catch { failures.withLock { $0.append("\(error)") } }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertEqual(try redis.getString(key), "400")
        XCTAssertEqual(metricValue(metrics, "tmt_redis_commands_total{command=\"INCR\"}"), 400)
    }

    func testAcquireTimesOutWhenEveryConnectionIsBusy() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics) { $0.poolSize = 1; $0.acquireTimeout = 0.2 }
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        done.enter()
        Thread.detachNewThread {
            defer { done.leave() }
            try? redis.withConnection { conn in
                _ = try conn.ping()
                holding.signal()
                release.wait()
            }
        }
        holding.wait()
        XCTAssertThrowsError(try redis.ping()) { error in
            XCTAssertEqual((error as? TMTError)?.code, .poolExhausted, "\(error)")
        }
        release.signal()
        done.wait()
        XCTAssertEqual(try redis.ping(), "PONG", "the connection is free again")
        XCTAssertEqual(metricValue(metrics, "tmt_redis_errors_total{kind=\"pool\"}"), 1)
    }

    func testAsyncWithConnectionRunsCommandsOffTheCooperativePool() async throws {
        let redis = try makeRedisClient()
        let key = try redisKeyPrefix() + "async"
        let replies = try await redis.withConnection { conn in
            try conn.pipeline { $0.set(key, "v"); $0.get(key) }
        }
        XCTAssertEqual(replies, [.status("OK"), .bulk(Array("v".utf8))])
        let value = try await redis.withConnection { try $0.getString(key) }
        XCTAssertEqual(value, "v")
    }

    func testClosedClientRefusesCommands() throws {
        let redis = try makeRedisClient()
        XCTAssertEqual(try redis.ping(), "PONG")
        redis.close()
        XCTAssertThrowsError(try redis.ping()) { XCTAssertEqual(($0 as? TMTError)?.code, .closed) }
        XCTAssertThrowsError(try redis.ping()) { XCTAssertEqual(($0 as? TMTError)?.code, .closed) }
    }

    func testMetricsExposeAllRedisFamilies() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics)
        _ = try redis.ping()
        let text = metrics.exposition()
        for family in ["tmt_redis_commands_total", "tmt_redis_errors_total", "tmt_redis_command_duration_seconds", "tmt_redis_reconnects_total"] {
            XCTAssertTrue(text.contains("# TYPE \(family) "), family)
        }
        XCTAssertEqual(metricValue(metrics, "tmt_redis_commands_total{command=\"PING\"}"), 1)
        XCTAssertEqual(metricValue(metrics, "tmt_redis_command_duration_seconds_count"), 1)
    }
}
