import Foundation
import XCTest
@testable import TMTTrading

final class DelayQueueEntryTests: XCTestCase {
    func testRoundTripThroughMemberAndScore() throws {
        let entry = try DelayQueueEntry(envelopeId: "sig-1:acct-1", releaseAt: 1_800_000_012_345_678).validated()
        XCTAssertEqual(entry.member, "sig-1:acct-1")
        XCTAssertEqual(entry.scoreString, "1800000012345678")
        XCTAssertEqual(try DelayQueueEntry(member: entry.member, score: entry.score), entry)
        XCTAssertEqual(try DelayQueueEntry(member: entry.member, scoreString: entry.scoreString), entry)
    }

    func testDecodesRedisExponentFormAndRejectsBadScores() throws {
        XCTAssertEqual(try DelayQueueEntry(member: "o", scoreString: "1.8e+15").releaseAt, 1_800_000_000_000_000)
        XCTAssertThrowsError(try DelayQueueEntry(member: "o", score: 1.5))
        XCTAssertThrowsError(try DelayQueueEntry(member: "o", score: -1))
        XCTAssertThrowsError(try DelayQueueEntry(member: "o", score: .infinity))
        XCTAssertThrowsError(try DelayQueueEntry(member: "", score: 1))
        XCTAssertThrowsError(try DelayQueueEntry(member: "o", scoreString: "soon"))
        XCTAssertThrowsError(try DelayQueueEntry(envelopeId: "o", releaseAt: DelayQueueEntry.maxExactScore + 1).validated())
    }

    func testScheduleFeedsTheQueueEntry() throws {
        let now = HumanFixtures.utc("2026-01-14T03:00:00Z")
        let s = try HumanFixtures.scheduler().schedule(order: HumanFixtures.order(), now: now)
        let entry = try DelayQueueEntry(envelopeId: s.orderId, releaseAt: s.releaseAt).validated()
        let popped = try DelayQueueEntry(member: entry.member, score: entry.score)
        XCTAssertEqual(popped.releaseAt, s.releaseAt, "µs survive the double score exactly")
    }
}
