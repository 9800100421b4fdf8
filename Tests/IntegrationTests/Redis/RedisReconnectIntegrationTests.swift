import Foundation
import TMTCore
import XCTest

/// Broken connections, restarts and timeouts against the real Redis.
final class RedisReconnectIntegrationTests: XCTestCase {
    func testClientKeepsWorkingAfterRedisRestarts() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics) { $0.poolSize = 2 }
        let p = try redisKeyPrefix()
        try redis.set(p + "before", "1")
        XCTAssertEqual(try redis.getString(p + "before"), "1")

        try TestServices.run("restart-redis")

        // A write, which is never retried blindly: it succeeds because the dead idle socket is
        // noticed and replaced before anything is sent.
        XCTAssertTrue(try redis.set(p + "after", "2"))
        XCTAssertEqual(try redis.getString(p + "after"), "2")
        XCTAssertNil(try redis.get(p + "before"), "the test Redis keeps no data across restarts")
        XCTAssertEqual(try redis.ping(), "PONG")
        XCTAssertGreaterThanOrEqual(metricValue(metrics, "tmt_redis_reconnects_total"), 1)
        XCTAssertEqual(metricValue(metrics, "tmt_redis_errors_total{kind=\"connection\"}"), 0, "no command failed")
    }

    func testCommandTimeoutFailsClearlyAndTheClientRecovers() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics) { $0.commandTimeout = 0.2; $0.poolSize = 1 }
        let key = try redisKeyPrefix() + "empty-list"
        XCTAssertEqual(try redis.ping(), "PONG")

        let start = Date()
        XCTAssertThrowsError(try redis.command(["BLPOP", key, "5"], retry: .once)) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .timeout, "\(error)")
            XCTAssertTrue(e?.message.contains("0.2s command timeout") ?? false, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 4, "the 0.2 s timeout cut the 5 s BLPOP short")

        XCTAssertEqual(try redis.ping(), "PONG", "the same pooled connection reconnects")
        XCTAssertTrue(try redis.set(key + ":ok", "1"))
        _ = try redis.del(key + ":ok")
        XCTAssertEqual(metricValue(metrics, "tmt_redis_errors_total{kind=\"timeout\"}"), 1)
        XCTAssertEqual(metricValue(metrics, "tmt_redis_reconnects_total"), 1)
    }

    func testWriteInFlightWhenTheConnectionDiesIsNotRetried() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics) { $0.poolSize = 1 }
        let key = try redisKeyPrefix() + "list"
        let killer = try makeRedisClient()
        try redis.withConnection { conn in
            let id = try conn.command(["CLIENT", "ID"]).integer()
            let killed = killWhenBlocked(clientID: id, using: killer)
            XCTAssertThrowsError(try conn.command(["BLPOP", key, "5"])) { error in
                let e = error as? TMTError
                XCTAssertEqual(e?.code, .connection, "\(error)")
                XCTAssertTrue(e?.message.contains("not retried") ?? false, "\(error)")
            }
            killed.wait()
            XCTAssertEqual(try conn.ping(), "PONG", "the next call reconnects")
        }
        XCTAssertEqual(metricValue(metrics, "tmt_redis_errors_total{kind=\"connection\"}"), 1)
        XCTAssertEqual(metricValue(metrics, "tmt_redis_reconnects_total"), 1)
    }

    func testCommandMarkedRetryableIsResentOnceAfterTheConnectionDies() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics) { $0.poolSize = 1; $0.commandTimeout = 10 }
        let key = try redisKeyPrefix() + "list"
        let killer = try makeRedisClient()
        let reply = try redis.withConnection { conn in
            let id = try conn.command(["CLIENT", "ID"]).integer()
            let killed = killWhenBlocked(clientID: id, using: killer, thenPush: key)
            defer { killed.wait() }
            return try conn.command(["BLPOP", key, "5"], retry: .once)
        }
        XCTAssertEqual(reply, .array([.bulk(Array(key.utf8)), .bulk(Array("pushed-after-kill".utf8))]),
                       "the re-sent BLPOP received the value pushed after the first one was killed")
        XCTAssertEqual(metricValue(metrics, "tmt_redis_reconnects_total"), 1)
        XCTAssertEqual(metricValue(metrics, "tmt_redis_errors_total{kind=\"connection\"}"), 0)
    }

    func testUnreachableServerFailsAfterBoundedAttempts() throws {
        let metrics = MetricsRegistry()
        var config = RedisConfiguration(host: "127.0.0.1", port: 1)
        config.reconnectAttempts = 3
        config.reconnectBackoff = 0.05
        let redis = try RedisClient(configuration: config, metrics: metrics)
        defer { redis.close() }
        let start = Date()
        XCTAssertThrowsError(try redis.ping()) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .connection)
            XCTAssertEqual(e?.message, "could not connect to Redis at 127.0.0.1:1 after 3 attempt(s)")
            XCTAssertTrue(String(reflecting: error).contains("refused"), String(reflecting: error))
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.14, "backed off 0.05 s then 0.1 s")
        XCTAssertEqual(metricValue(metrics, "tmt_redis_errors_total{kind=\"connection\"}"), 1)
    }

    func testWrongPasswordIsRejectedWithoutRevealingIt() throws {
        let redis = try makeRedisClient { $0.password = "not-the-password-xyz"; $0.reconnectAttempts = 1 }
        XCTAssertThrowsError(try redis.ping()) { error in
            XCTAssertEqual((error as? TMTError)?.code, .connection, "\(error)")
            XCTAssertFalse(String(reflecting: error).contains("not-the-password-xyz"))
        }
    }

    /// Waits (on another thread) until client `clientID` is blocked in BLPOP, kills it, then
    /// optionally pushes a value to `thenPush`.
    private func killWhenBlocked(clientID: Int64, using killer: RedisClient, thenPush: String? = nil) -> DispatchGroup {
        let done = DispatchGroup()
        done.enter()
        Thread.detachNewThread {
            defer { done.leave() }
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline {
                let info = (try? killer.command(["CLIENT", "LIST", "ID", String(clientID)]).string()) ?? nil
                if info?.contains("cmd=blpop") == true { break }
                Thread.sleep(forTimeInterval: 0.02)
            }
            _ = try? killer.command(["CLIENT", "KILL", "ID", String(clientID)])
            if let key = thenPush { _ = try? killer.command(["RPUSH", key, "pushed-after-kill"]) }
        }
        return done
    }
}
