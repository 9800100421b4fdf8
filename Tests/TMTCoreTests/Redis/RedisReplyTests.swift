import XCTest
@testable import TMTRedis
import TMTBase

final class RedisReplyTests: XCTestCase {
    private func resp(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testHiredisRepliesDecodeIntoEveryReplyType() throws {
        var wire = resp("+OK\r\n-ERR bad thing\r\n:42\r\n$3\r\na")
        wire += [0]
        wire += resp("b\r\n$-1\r\n*-1\r\n*2\r\n$1\r\nx\r\n*1\r\n:-7\r\n$0\r\n\r\n")
        let replies = try HiredisProtocol.decode(wire)
        XCTAssertEqual(replies, [
            .status("OK"), .error("ERR bad thing"), .integer(42), .bulk([0x61, 0x00, 0x62]), .null, .null,
            .array([.bulk([0x78]), .array([.integer(-7)])]), .bulk([]),
        ])
    }

    func testInvalidRESPIsAProtocolError() {
        XCTAssertThrowsError(try HiredisProtocol.decode(resp("?what\r\n"))) { error in
            XCTAssertEqual((error as? TMTError)?.code, .protocolViolation)
        }
    }

    func testTypedAccessors() throws {
        XCTAssertEqual(try RedisReply.integer(5).integer(), 5)
        XCTAssertEqual(try RedisReply.bulk(Array("hi".utf8)).string(), "hi")
        XCTAssertEqual(try RedisReply.bulk([0xFF]).bytes(), [0xFF])
        XCTAssertNil(try RedisReply.null.bytes())
        XCTAssertNil(try RedisReply.null.string())
        XCTAssertEqual(try RedisReply.bulk(Array("1.5".utf8)).double(), 1.5)
        XCTAssertEqual(try RedisReply.bulk(Array("-inf".utf8)).double(), -.infinity)
        XCTAssertEqual(try RedisReply.status("PONG").status(), "PONG")
        XCTAssertEqual(try RedisReply.array([.bulk([1]), .null]).optionalBytesArray(), [[1], nil])
        XCTAssertEqual(try RedisReply.bulk([1, 2]).data(), Data([1, 2]))
    }

    func testWrongReplyTypeIsADecodingError() {
        XCTAssertThrowsError(try RedisReply.bulk(Array("x".utf8)).integer()) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .decoding)
            XCTAssertEqual(e?.message, "expected an integer reply from Redis, got bulk string")
        }
        XCTAssertThrowsError(try RedisReply.bulk(Array("abc".utf8)).double()) {
            XCTAssertEqual(($0 as? TMTError)?.code, .decoding)
        }
        XCTAssertThrowsError(try RedisReply.array([.null]).bytesArray())
    }

    func testErrorReplyThrowsRedisErrorFromAnyAccessor() {
        let reply = RedisReply.error("WRONGTYPE Operation against a key holding the wrong kind of value")
        XCTAssertEqual(reply.errorCode, "WRONGTYPE")
        XCTAssertThrowsError(try reply.integer()) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .redis)
            XCTAssertTrue(e?.message.contains("WRONGTYPE Operation against a key") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try reply.check(command: "HGET")) {
            XCTAssertTrue(($0 as? TMTError)?.message.hasPrefix("Redis HGET failed: WRONGTYPE") ?? false)
        }
        XCTAssertNoThrow(try RedisReply.integer(1).check())
    }

    func testServerErrorMessageDropsTheArgumentExcerpt() {
        let e = RedisReply.serverError(command: "OTHER",
                                       "ERR unknown command 'FOO', with args beginning with: 'secret-token' ")
        XCTAssertEqual(e.message, "Redis OTHER failed: ERR unknown command 'FOO'")
        XCTAssertFalse(e.description.contains("secret-token"))
        XCTAssertTrue(String(reflecting: e).contains("secret-token"), "the full server text stays in detail")
    }

    func testFieldValuesAndScoredMembersPairUpFlatArrays() throws {
        let hash = RedisReply.array([.bulk(Array("a".utf8)), .bulk([1]), .bulk(Array("b".utf8)), .bulk([])])
        XCTAssertEqual(try hash.fieldValues(), ["a": [1], "b": []])
        let scored = RedisReply.array([.bulk(Array("m1".utf8)), .bulk(Array("1".utf8)), .bulk(Array("m2".utf8)), .bulk(Array("2.5".utf8))])
        XCTAssertEqual(try scored.scoredMembers(), [RedisScoredMember(member: Array("m1".utf8), score: 1),
                                                    RedisScoredMember(member: Array("m2".utf8), score: 2.5)])
        XCTAssertEqual(try scored.scoredMembers().map(\.string), ["m1", "m2"])
        XCTAssertThrowsError(try RedisReply.array([.bulk([1])]).fieldValues())
        XCTAssertEqual(try RedisReply.null.fieldValues(), [:])
    }
}
