import Foundation
import TMTCore
import XCTest

/// Pipelining: N commands appended, N replies read, in order.
final class RedisPipelineIntegrationTests: XCTestCase {
    func testPipelineRepliesComeBackInOrder() throws {
        let redis = try makeRedisClient()
        let p = try redisKeyPrefix()
        var getIndex = -1
        let replies = try redis.pipeline { pipe in
            pipe.set(p + "a", "alpha")
            pipe.incr(p + "n")
            pipe.incr(p + "n")
            pipe.incrBy(p + "n", 10)
            getIndex = pipe.get(p + "a")
            pipe.get(p + "missing")
            pipe.zadd(p + "z", [(member: "x", score: 1.5)])
            pipe.zscore(p + "z", "x")
            pipe.mget([p + "a", p + "missing"])
        }
        XCTAssertEqual(getIndex, 4)
        XCTAssertEqual(replies, [
            .status("OK"), .integer(1), .integer(2), .integer(12), .bulk(Array("alpha".utf8)), .null, .integer(1),
            .bulk(Array("1.5".utf8)), .array([.bulk(Array("alpha".utf8)), .null]),
        ])
    }

    func testErrorReplyStaysInItsSlotAndLaterCommandsStillRun() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics)
        let p = try redisKeyPrefix()
        let replies = try redis.pipeline { pipe in
            pipe.set(p + "w", "word")
            pipe.incr(p + "w")
            pipe.set(p + "after", "ran")
        }
        XCTAssertEqual(replies.count, 3)
        XCTAssertEqual(replies[0], .status("OK"))
        XCTAssertThrowsError(try replies[1].check(command: "INCR")) { error in
            XCTAssertEqual((error as? TMTError)?.code, .redis)
            XCTAssertTrue((error as? TMTError)?.message.contains("not an integer") ?? false)
        }
        XCTAssertEqual(replies[2], .status("OK"))
        XCTAssertEqual(try redis.getString(p + "after"), "ran")
        XCTAssertEqual(metricValue(metrics, "tmt_redis_errors_total{kind=\"reply\"}"), 1)
    }

    func testThousandCommandsInOneRoundTrip() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics)
        let key = try redisKeyPrefix() + "counter"
        let replies = try redis.pipeline { pipe in
            for _ in 0..<1000 { pipe.incr(key) }
        }
        XCTAssertEqual(replies.count, 1000)
        XCTAssertEqual(replies.last, .integer(1000))
        XCTAssertEqual(replies.first, .integer(1))
        XCTAssertEqual(metricValue(metrics, "tmt_redis_commands_total{command=\"INCR\"}"), 1000)
        XCTAssertEqual(metricValue(metrics, "tmt_redis_command_duration_seconds_count"), 1, "one pipeline, one observation")
    }

    func testPipelineOnAHeldConnectionSeesItsOwnWrites() throws {
        let redis = try makeRedisClient()
        let p = try redisKeyPrefix()
        let (first, second) = try redis.withConnection { conn in
            let a = try conn.pipeline { $0.hset(p + "h", ["f": "1"]); $0.hincrBy(p + "h", "f", 4) }
            let b = try conn.pipeline { $0.hget(p + "h", "f"); $0.hgetAll(p + "h") }
            return (a, b)
        }
        XCTAssertEqual(first, [.integer(1), .integer(5)])
        XCTAssertEqual(second, [.bulk(Array("5".utf8)), .array([.bulk(Array("f".utf8)), .bulk(Array("5".utf8))])])
        XCTAssertEqual(try redis.pipeline { _ in }, [], "an empty pipeline sends nothing")
    }
}
