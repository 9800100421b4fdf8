import Foundation
import Synchronization
import TMTCore
import XCTest

/// The sorted-set delay queue of the human-behaviour agent: `popDue` against the real Redis.
final class RedisDelayQueueIntegrationTests: XCTestCase {
    func testPopDueReturnsOnlyDueMembersLowestFirstAndRemovesThem() throws {
        let redis = try makeRedisClient()
        let queue = try redisKeyPrefix() + "delay"
        try redis.zadd(queue, [(member: "order-3", score: 300), (member: "order-1", score: 100),
                               (member: "order-4", score: 400), (member: "order-2", score: 200)])

        let due = try redis.popDue(queue: queue, maxScore: 250)
        XCTAssertEqual(due.map(\.string), ["order-1", "order-2"])
        XCTAssertEqual(due.map(\.score), [100, 200])
        XCTAssertEqual(try redis.zcard(queue), 2, "popped members are gone")
        XCTAssertEqual(try redis.popDue(queue: queue, maxScore: 250), [], "nothing else is due yet")

        let one = try redis.popDue(queue: queue, maxScore: 10_000, limit: 1)
        XCTAssertEqual(one.map(\.string), ["order-3"])
        XCTAssertEqual(try redis.zrangeByScore(queue).map { String(decoding: $0, as: UTF8.self) }, ["order-4"])
        XCTAssertEqual(try redis.popDue(queue: queue + "-missing", maxScore: 1), [])
    }

    func testDueTimesInEpochMillisecondsAndBinaryMembers() throws {
        let redis = try makeRedisClient()
        let queue = try redisKeyPrefix() + "delay"
        let now = (Date().timeIntervalSince1970 * 1000).rounded()
        let payload: [UInt8] = Array(#"{"order":"o-1","note":"a\r\nb"}"#.utf8) + [0x00, 0xFF]
        try redis.zadd(queue, score: now - 5, member: payload)
        try redis.zadd(queue, score: now + 60_000, member: "later")
        let due = try redis.popDue(queue: queue, maxScore: now)
        XCTAssertEqual(due, [RedisScoredMember(member: payload, score: now - 5)])
        XCTAssertEqual(try redis.zcard(queue), 1)
    }

    func testConcurrentPoppersNeverReceiveTheSameMember() throws {
        let redis = try makeRedisClient { $0.poolSize = 4 }
        let queue = try redisKeyPrefix() + "delay"
        let total = 400
        try redis.zadd(queue, (0..<total).map { (member: "m\($0)", score: Double($0 % 37)) })

        let popped = Mutex<[[String]]>(Array(repeating: [], count: 4))
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            var mine: [String] = []
            do {
                while true {
                    let batch = try redis.popDue(queue: queue, maxScore: 1_000, limit: 7)
                    if batch.isEmpty { break }
                    mine += batch.map(\.string)
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
            popped.withLock { $0[worker] = mine }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        let all = popped.withLock { $0 }.flatMap { $0 }
        XCTAssertEqual(all.count, total, "every member popped exactly once")
        XCTAssertEqual(Set(all).count, total, "no member popped twice")
        XCTAssertEqual(Set(all), Set((0..<total).map { "m\($0)" }))
        XCTAssertEqual(try redis.zcard(queue), 0)
    }
}
