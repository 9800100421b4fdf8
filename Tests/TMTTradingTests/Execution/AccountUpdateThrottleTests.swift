import Foundation
import TMTBase
import XCTest
@testable import TMTTrading

final class AccountUpdateThrottleTests: XCTestCase {
    func testUpdatesAreThrottledPerAccountButFillsAlwaysGoOut() {
        let clock = ManualClock()
        var throttle = AccountUpdateThrottle(minimumInterval: 0.25, clock: clock)
        XCTAssertTrue(throttle.shouldEmit(accountId: "a", fill: false), "the first update goes out")
        clock.advance(by: 0.1)
        XCTAssertFalse(throttle.shouldEmit(accountId: "a", fill: false), "100 ms later: too soon")
        XCTAssertTrue(throttle.shouldEmit(accountId: "b", fill: false), "another account has its own budget")
        XCTAssertTrue(throttle.shouldEmit(accountId: "a", fill: true), "a fill is always published")
        clock.advance(by: 0.2)
        XCTAssertFalse(throttle.shouldEmit(accountId: "a", fill: false), "200 ms after the fill update")
        XCTAssertEqual(throttle.due(), [], "the suppressed change is not due yet")
        clock.advance(by: 0.05)
        XCTAssertEqual(throttle.due(), ["a"], "250 ms after the last update the suppressed change goes out")
        XCTAssertEqual(throttle.due(), [], "and only once")
        XCTAssertFalse(throttle.shouldEmit(accountId: "a", fill: false))
    }

    func testNextDueTellsTheTimerWhenToWakeUp() {
        let clock = ManualClock()
        var throttle = AccountUpdateThrottle(minimumInterval: 0.25, clock: clock)
        XCTAssertNil(throttle.nextDueNanos())
        let start = clock.monotonicNanos()
        _ = throttle.shouldEmit(accountId: "a", fill: false)
        clock.advance(by: 0.01)
        _ = throttle.shouldEmit(accountId: "a", fill: false)
        XCTAssertEqual(throttle.nextDueNanos(), start + 250_000_000)
    }

    func testMarketClockExtrapolatesFromTheNewestTickAndNeverGoesBack() {
        let clock = ManualClock()
        var market = MarketClock(clock: clock)
        XCTAssertNil(market.now())
        market.observe(tickTime: 5_000_000)
        clock.advance(by: 0.3)
        XCTAssertEqual(market.now(), 5_300_000)
        market.observe(tickTime: 5_100_000) // a late tick of another instrument
        XCTAssertEqual(market.now(), 5_300_000)
        market.observe(tickTime: 9_000_000)
        XCTAssertEqual(market.now(), 9_000_000)
    }
}
