import Foundation
import TMTCore
import XCTest

/// Every command family against the real test Redis.
final class RedisCommandsIntegrationTests: XCTestCase {
    func testPingAnswersPong() throws {
        let redis = try makeRedisClient()
        XCTAssertEqual(try redis.ping(), "PONG")
    }

    func testStringsSetGetDelExistsExpireAndCounters() throws {
        let redis = try makeRedisClient()
        let p = try redisKeyPrefix()
        XCTAssertNil(try redis.get(p + "missing"))
        XCTAssertTrue(try redis.set(p + "a", "alpha"))
        XCTAssertEqual(try redis.getString(p + "a"), "alpha")
        XCTAssertEqual(try redis.exists(p + "a", p + "missing"), 1)

        XCTAssertFalse(try redis.set(p + "a", "other", condition: .ifNotExists), "NX must not overwrite")
        XCTAssertEqual(try redis.getString(p + "a"), "alpha")
        XCTAssertFalse(try redis.set(p + "b", "x", condition: .ifExists), "XX must not create")
        XCTAssertNil(try redis.get(p + "b"))

        XCTAssertTrue(try redis.set(p + "ttl", "v", expiry: .seconds(100)))
        let ttl = try redis.command(["TTL", p + "ttl"]).integer()
        XCTAssertTrue((90...100).contains(ttl), "TTL \(ttl)")
        XCTAssertTrue(try redis.set(p + "pttl", "v", expiry: .milliseconds(60_000)))
        XCTAssertGreaterThan(try redis.command(["PTTL", p + "pttl"]).integer(), 50_000)
        XCTAssertTrue(try redis.expire(p + "a", seconds: 50))
        XCTAssertFalse(try redis.expire(p + "missing", seconds: 50))
        XCTAssertTrue((40...50).contains(try redis.command(["TTL", p + "a"]).integer()))

        XCTAssertEqual(try redis.incr(p + "n"), 1)
        XCTAssertEqual(try redis.incrBy(p + "n", 41), 42)
        XCTAssertEqual(try redis.incrBy(p + "n", -50), -8)
        XCTAssertEqual(try redis.incrByFloat(p + "f", 0.1), 0.1, accuracy: 1e-12)
        XCTAssertEqual(try redis.incrByFloat(p + "f", 2.25), 2.35, accuracy: 1e-12)

        XCTAssertEqual(try redis.del(p + "a", p + "n", p + "missing"), 2)
        XCTAssertEqual(try redis.exists([p + "a", p + "n"]), 0)
    }

    func testMsetAndMgetKeepOrderAndNils() throws {
        let redis = try makeRedisClient()
        let p = try redisKeyPrefix()
        try redis.mset([p + "x": "1", p + "y": "2", p + "z": "3"])
        let values = try redis.mget([p + "z", p + "missing", p + "x"])
        XCTAssertEqual(values.map { $0.map { String(decoding: $0, as: UTF8.self) } }, ["3", nil, "1"])
    }

    func testHashesRoundTrip() throws {
        let redis = try makeRedisClient()
        let p = try redisKeyPrefix()
        let key = p + "account:42"
        XCTAssertTrue(try redis.hset(key, field: "balance", value: "10000.50"))
        XCTAssertFalse(try redis.hset(key, field: "balance", value: "9999.00"), "second HSET updates")
        XCTAssertEqual(try redis.hset(key, ["currency": "USD", "trades": 3]), 2)
        XCTAssertEqual(try redis.hgetString(key, "balance"), "9999.00")
        XCTAssertNil(try redis.hget(key, "nope"))
        XCTAssertEqual(try redis.hincrBy(key, "trades", 2), 5)
        XCTAssertEqual(try redis.hgetAll(key).mapValues { String(decoding: $0, as: UTF8.self) },
                       ["balance": "9999.00", "currency": "USD", "trades": "5"])
        XCTAssertEqual(try redis.hdel(key, "currency", "nope"), 1)
        XCTAssertEqual(try redis.hgetAll(key).keys.sorted(), ["balance", "trades"])
        XCTAssertEqual(try redis.hgetAll(p + "missing"), [:])
    }

    func testSortedSetsAddRangeScoreRemoveAndCount() throws {
        let redis = try makeRedisClient()
        let p = try redisKeyPrefix()
        let key = p + "z"
        XCTAssertEqual(try redis.zadd(key, [(member: "c", score: 3), (member: "a", score: 1), (member: "b", score: 2.5)]), 3)
        XCTAssertFalse(try redis.zadd(key, score: 4, member: "c"), "existing member gets a new score")
        XCTAssertTrue(try redis.zadd(key, score: -1, member: "neg"))
        XCTAssertEqual(try redis.zcard(key), 4)
        XCTAssertEqual(try redis.zscore(key, "c"), 4)
        XCTAssertNil(try redis.zscore(key, "zzz"))

        let all = try redis.zrangeByScore(key).map { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(all, ["neg", "a", "b", "c"])
        let middle = try redis.zrangeByScore(key, min: .inclusive(1), max: .exclusive(4)).map { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(middle, ["a", "b"])
        let page = try redis.zrangeByScoreWithScores(key, min: .negativeInfinity, max: .positiveInfinity, limit: (offset: 1, count: 2))
        XCTAssertEqual(page.map(\.string), ["a", "b"])
        XCTAssertEqual(page.map(\.score), [1, 2.5])

        XCTAssertEqual(try redis.zrem(key, "a", "nope"), 1)
        XCTAssertEqual(try redis.zcard(key), 3)
        XCTAssertEqual(try redis.zcard(p + "missing"), 0)
    }

    func testBinaryValuesRoundTripExactly() throws {
        let redis = try makeRedisClient()
        let p = try redisKeyPrefix()
        let tricky: [UInt8] = [0x00, 0x0D, 0x0A, 0x00, 0xFF, 0xFE, 0xC3, 0x28, 0x24, 0x2D, 0x31, 0x0D, 0x0A, 0x2A]
        try redis.set(p + "bin", tricky)
        XCTAssertEqual(try redis.get(p + "bin"), tricky)
        XCTAssertEqual(try redis.command(["STRLEN", p + "bin"]).integer(), Int64(tricky.count))

        var big = [UInt8](repeating: 0, count: 1 << 20)
        var seed: UInt64 = 0x9E3779B97F4A7C15
        for i in big.indices {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            big[i] = UInt8(truncatingIfNeeded: seed >> 33)
        }
        try redis.set(p + "big", Data(big))
        XCTAssertEqual(try redis.get(p + "big"), big)
        XCTAssertEqual(try redis.command(["STRLEN", p + "big"]).integer(), 1 << 20)

        try redis.set(p + "empty", [UInt8]())
        XCTAssertEqual(try redis.get(p + "empty"), [])

        try redis.hset(p + "h", field: "f", value: tricky)
        XCTAssertEqual(try redis.hget(p + "h", "f"), tricky)
        try redis.zadd(p + "zs", score: 1, member: tricky)
        XCTAssertEqual(try redis.zrangeByScore(p + "zs"), [tricky])
    }

    func testKeysWithSpacesAndFormatSpecifiersAreTakenLiterally() throws {
        let redis = try makeRedisClient()
        let p = try redisKeyPrefix()
        let key = p + "key with spaces %s %d %n %b %%"
        try redis.set(key, "value %s\r\n%n")
        XCTAssertEqual(try redis.getString(key), "value %s\r\n%n")
        let keys = try redis.command(["KEYS", p + "*"]).bytesArray().map { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(keys, [key], "the key is stored under exactly its own name")
        XCTAssertEqual(try redis.command([Array("EXISTS".utf8), Array(key.utf8)]).integer(), 1)
    }

    func testEvalPassesKeysAndArgumentsAndScriptsAreCachedBySHA() throws {
        let redis = try makeRedisClient()
        let p = try redisKeyPrefix()
        let reply = try redis.eval("redis.call('SET', KEYS[1], ARGV[1]); return {KEYS[1], ARGV[2], tonumber(ARGV[3]) * 2}",
                                   keys: [p + "k"], args: ["stored", "second", 21])
        XCTAssertEqual(reply, .array([.bulk(Array((p + "k").utf8)), .bulk(Array("second".utf8)), .integer(42)]))
        XCTAssertEqual(try redis.getString(p + "k"), "stored")

        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        XCTAssertEqual(try redis.evalScript(script, keys: [p + "n"], args: [5]), .integer(5))
        XCTAssertEqual(try redis.command(["SCRIPT", "EXISTS", script.sha1]), .array([.integer(1)]),
                       "our SHA-1 is the one Redis computed")
        XCTAssertEqual(try redis.evalSHA(script.sha1, keys: [p + "n"], args: [1]), .integer(6))
        XCTAssertThrowsError(try redis.evalSHA(String(repeating: "0", count: 40))) { error in
            XCTAssertEqual((error as? TMTError)?.code, .redis)
            XCTAssertTrue((error as? TMTError)?.message.contains("NOSCRIPT") ?? false, "\(error)")
        }
    }

    func testErrorReplySurfacesAsRedisErrorAndConnectionStaysUsable() throws {
        let metrics = MetricsRegistry()
        let redis = try makeRedisClient(metrics: metrics)
        let p = try redisKeyPrefix()
        try redis.set(p + "word", "not a number")
        XCTAssertThrowsError(try redis.incr(p + "word")) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .redis)
            XCTAssertEqual(e?.message, "Redis INCR failed: ERR value is not an integer or out of range")
        }
        try redis.hset(p + "hash", field: "f", value: "v")
        XCTAssertThrowsError(try redis.get(p + "hash")) { error in
            XCTAssertTrue((error as? TMTError)?.message.contains("WRONGTYPE") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try redis.command(["NOSUCHCOMMAND", "secret-arg"])) { error in
            XCTAssertFalse("\(error)".contains("secret-arg"), "argument values stay out of the message")
        }
        XCTAssertEqual(try redis.getString(p + "word"), "not a number")
        XCTAssertEqual(metricValue(metrics, "tmt_redis_errors_total{kind=\"reply\"}"), 3)
        XCTAssertEqual(metricValue(metrics, "tmt_redis_commands_total{command=\"INCR\"}"), 1)
        XCTAssertEqual(metricValue(metrics, "tmt_redis_commands_total{command=\"GET\"}"), 2)
    }

    func testPublishReachesASubscriber() throws {
        let redis = try makeRedisClient()
        let channel = try redisKeyPrefix() + "channel"
        // A raw subscriber connection; RESP2 subscribers cannot share a pooled connection.
        let subscriber = RedisConnection(configuration: try redisConfiguration(), metrics: MetricsRegistry())
        defer { subscriber.close() }
        let confirm = try subscriber.command(["SUBSCRIBE", channel])
        XCTAssertEqual(try confirm.array()?.first?.string(), "subscribe")
        XCTAssertEqual(try redis.publish(channel, "fill 42"), 1)
        XCTAssertEqual(try redis.publish(channel + "-nobody", "x"), 0)
    }

    func testStandaloneConnectionSelectsTheConfiguredDatabase() throws {
        let p = try redisKeyPrefix()
        let db1 = RedisConnection(configuration: try redisConfiguration { $0.database = 1 }, metrics: MetricsRegistry())
        defer { db1.close() }
        try db1.connect()
        XCTAssertTrue(db1.isConnected)
        try db1.set(p + "db", "one")
        defer { _ = try? db1.del(p + "db") }
        let redis = try makeRedisClient()
        XCTAssertNil(try redis.get(p + "db"), "database 0 does not see database 1's key")
        XCTAssertEqual(try db1.getString(p + "db"), "one")
    }
}
