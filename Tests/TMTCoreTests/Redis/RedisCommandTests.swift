import XCTest
@testable import TMTRedis
import TMTBase

final class RedisCommandTests: XCTestCase {
    private func text(_ c: RedisCommand) -> [String] { c.arguments.map { String(decoding: $0, as: UTF8.self) } }

    func testArgumentsAreEncodedWithLengthsSoAnyBytesSurvive() {
        let value: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF]
        let wire = HiredisProtocol.encode([Array("SET".utf8), Array("k %s %n".utf8), value])
        var expected = Array("*3\r\n$3\r\nSET\r\n$7\r\nk %s %n\r\n$4\r\n".utf8)
        expected += value
        expected += Array("\r\n".utf8)
        XCTAssertEqual(wire, expected)
        XCTAssertEqual(HiredisProtocol.encode([Array("PING".utf8), []]), Array("*2\r\n$4\r\nPING\r\n$0\r\n\r\n".utf8))
    }

    func testSetBuildsExpiryAndCondition() {
        XCTAssertEqual(text(.set("k", "v")), ["SET", "k", "v"])
        XCTAssertEqual(text(.set("k", "v", expiry: .seconds(10), condition: .ifNotExists)), ["SET", "k", "v", "EX", "10", "NX"])
        XCTAssertEqual(text(.set("k", 7, expiry: .milliseconds(250), condition: .ifExists)), ["SET", "k", "7", "PX", "250", "XX"])
    }

    func testScoreRangesAndLimit() {
        let c = RedisCommand.zrangeByScore("q", min: .exclusive(1.5), max: .positiveInfinity, withScores: true, limit: (offset: 0, count: 10))
        XCTAssertEqual(text(c), ["ZRANGEBYSCORE", "q", "(1.5", "+inf", "WITHSCORES", "LIMIT", "0", "10"])
        XCTAssertEqual(text(.zrangeByScore("q", min: .negativeInfinity, max: .inclusive(1_700_000_000_123))),
                       ["ZRANGEBYSCORE", "q", "-inf", "1700000000123"])
        XCTAssertEqual(text(.zadd("q", [(member: "a", score: 0.1)])), ["ZADD", "q", "0.1", "a"])
    }

    func testEvalCountsKeysBeforeArguments() {
        XCTAssertEqual(text(.eval("return 1", keys: ["k1", "k2"], args: ["x", 3])), ["EVAL", "return 1", "2", "k1", "k2", "x", "3"])
        XCTAssertEqual(text(.evalSHA("abc", args: [2.5])), ["EVALSHA", "abc", "0", "2.5"])
    }

    func testMultiKeyCommandsAreDeterministic() {
        XCTAssertEqual(text(.mset(["b": "2", "a": "1"])), ["MSET", "a", "1", "b", "2"])
        XCTAssertEqual(text(.hset("h", ["y": "2", "x": "1"])), ["HSET", "h", "x", "1", "y", "2"])
    }

    func testReadsRetryOnceAndWritesDoNotByDefault() {
        XCTAssertEqual(RedisCommand.get("k").retry, .once)
        XCTAssertEqual(RedisCommand.mget(["k"]).retry, .once)
        XCTAssertEqual(RedisCommand.zrangeByScore("q", min: .negativeInfinity, max: .positiveInfinity).retry, .once)
        XCTAssertEqual(RedisCommand.set("k", "v").retry, .never)
        XCTAssertEqual(RedisCommand.set("k", "v", retry: .once).retry, .once)
        XCTAssertEqual(RedisCommand.incr("k").retry, .never)
        XCTAssertEqual(RedisCommand.publish("c", "m").retry, .never)
        XCTAssertEqual(RedisCommand.evalSHA("x").retry, .never)
    }

    func testNameIsBoundedAndDescriptionHoldsNoValues() {
        XCTAssertEqual(RedisCommand.get("k").name, "GET")
        XCTAssertEqual(RedisCommand(["client", "setname", "x"]).name, "CLIENT")
        XCTAssertEqual(RedisCommand([[0xFF, 0x00]]).name, "OTHER")
        XCTAssertEqual(RedisCommand(["GET %s"]).name, "OTHER")
        let c = RedisCommand.set("session:token", "super-secret")
        XCTAssertEqual(c.description, "SET (2 args)")
    }

    func testDoublesUseRedisSpelling() {
        XCTAssertEqual(String(decoding: Double.infinity.redisBytes, as: UTF8.self), "+inf")
        XCTAssertEqual(String(decoding: (-Double.infinity).redisBytes, as: UTF8.self), "-inf")
        XCTAssertEqual(String(decoding: 3.0.redisBytes, as: UTF8.self), "3")
        XCTAssertEqual(String(decoding: 0.1.redisBytes, as: UTF8.self), "0.1")
    }
}
