import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// Persisting to Redis and restoring: the round trip is lossless, trips survive a restart, and
/// a restored breaker is HALTED until fresh data arrives.
final class BreakerSnapshotTests: XCTestCase {
    typealias F = BreakerFixture

    func testSnapshotRoundTripsThroughJSON() throws {
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "95000"))
        _ = cb.handle(F.command("cmd-1", .trip, .agent, "aria-risk"))
        _ = cb.handle(F.command("cmd-2", .reset, .account, "acc-2"))
        let snapshot = cb.snapshot()
        let decoded = try BreakerSnapshot.decode(try snapshot.encoded())
        XCTAssertEqual(decoded, snapshot)
        XCTAssertEqual(decoded.appliedCommands, ["cmd-1", "cmd-2"])
        XCTAssertEqual(decoded.accountBaselines["acc-2"]?.acceptedEquity, 100_000)
        let acc1 = try XCTUnwrap(decoded.breakers.first { $0.key == .account("acc-1") })
        XCTAssertEqual(acc1.state, .tripped)
        XCTAssertEqual(acc1.conditions[.dailyDrawdown]?.level, .breach)
    }

    func testRestoredBreakerIsHaltedUntilFreshDataAndKeepsItsTrip() throws {
        var (cb, clock) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "95000"))     // tripped, half-open at +300 s
        let bytes = try cb.snapshot().encoded()

        clock.advance(by: 10)
        var restored = CircuitBreaker(configuration: F.configuration(), clock: clock, restoring: try BreakerSnapshot.decode(bytes))
        XCTAssertEqual(restored.breaker(.account("acc-1"))?.state, .tripped)
        XCTAssertEqual(restored.metricValues[.account("acc-2")], 2, "restored normal but unconfirmed: exported as unknown")
        XCTAssertEqual(restored.evaluate(order: F.order("acc-2", riskReducing: true, id: "x")).assessment.state, .halted)

        F.confirmAll(&restored)
        XCTAssertEqual(restored.tradingState(account: "acc-2"), .active)
        XCTAssertEqual(restored.tradingState(account: "acc-1"), .halted, "the trip survived the restart")
        clock.advance(by: 290)                                           // 300 s after the trip
        _ = restored.advance()
        XCTAssertEqual(restored.state(.account("acc-1")), .halfOpen, "the recovery timer survived too")
    }

    func testRestoreWithoutDataForAnExpectedBreakerIsUnknown() {
        // The snapshot predates acc-3; the configuration now expects it.
        let (cb, clock) = F.live()
        let config = F.configuration(accounts: ["acc-1", "acc-2", "acc-3"])
        var restored = CircuitBreaker(configuration: config, clock: clock, restoring: cb.snapshot())
        F.confirmAll(&restored)
        XCTAssertEqual(restored.tradingState(account: "acc-3"), .halted)
        XCTAssertNil(restored.state(.system), "system drawdown waits for acc-3 too")
        _ = restored.apply(account: F.account("acc-3", equity: "100000"))
        XCTAssertEqual(restored.tradingState(account: "acc-1"), .active)
    }

    func testAppliedCommandsStayIdempotentAcrossRestart() {
        var (cb, clock) = F.live()
        _ = cb.handle(F.command("cmd-f", .flatten, .account, "acc-1"),
                      positions: [Position(accountId: "acc-1", instrument: "EUR_USD", quantity: 1)])
        var restored = CircuitBreaker(configuration: F.configuration(), clock: clock, restoring: cb.snapshot())
        let again = restored.handle(F.command("cmd-f", .flatten, .account, "acc-1"),
                                    positions: [Position(accountId: "acc-1", instrument: "EUR_USD", quantity: 1)])
        XCTAssertEqual(again.outcome, .duplicate)
        XCTAssertEqual(again.orders, [])
    }

    /// Without a snapshot (lost with Redis), the ids the database recorded keep the replayed
    /// commands from being applied again: a flatten would close today's positions.
    func testCommandsRecordedElsewhereAreNotAppliedAgainWithoutASnapshot() {
        let (_, clock) = F.live()
        var fresh = CircuitBreaker(configuration: F.configuration(), clock: clock, restoring: nil)
        fresh.rememberApplied(["cmd-f", "cmd-t"])
        fresh.rememberApplied(["cmd-t"])
        let position = [Position(accountId: "acc-1", instrument: "EUR_USD", quantity: 1)]
        let flatten = fresh.handle(F.command("cmd-f", .flatten, .account, "acc-1"), positions: position)
        XCTAssertEqual(flatten.outcome, .duplicate)
        XCTAssertEqual(flatten.orders, [])
        XCTAssertEqual(fresh.snapshot().appliedCommands, ["cmd-f", "cmd-t"])
        XCTAssertEqual(fresh.handle(F.command("cmd-new", .flatten, .account, "acc-1"), positions: position).outcome, .applied)
    }

    /// The agent applies with `remember: false` and remembers once the closing orders are
    /// delivered: a retry after a failed delivery makes the same orders again.
    func testAFlattenNotYetRememberedIsMadeAgainWithTheSameOrders() {
        var (cb, _) = F.live()
        let position = [Position(accountId: "acc-1", instrument: "EUR_USD", quantity: 1)]
        let first = cb.handle(F.command("cmd-r", .flatten, .account, "acc-1"), positions: position, remember: false)
        let retry = cb.handle(F.command("cmd-r", .flatten, .account, "acc-1"), positions: position, remember: false)
        XCTAssertEqual(retry.outcome, .applied)
        XCTAssertEqual(retry.orders.map(\.id), first.orders.map(\.id))
        XCTAssertEqual(first.orders.count, 1)
        cb.rememberApplied(["cmd-r"])
        XCTAssertEqual(cb.handle(F.command("cmd-r", .flatten, .account, "acc-1"), positions: position).outcome, .duplicate)
    }

    func testUnknownSnapshotVersionIsRefused() throws {
        let (cb, _) = F.live()
        var s = cb.snapshot()
        s.version = 99
        XCTAssertThrowsError(try BreakerSnapshot.decode(try s.encoded())) { error in
            XCTAssertEqual((error as? TMTError)?.message, "breaker snapshot version 99 is not supported (expected 1)")
        }
    }

    func testEventsAreCodableForTheTopic() throws {
        var (cb, _) = F.live()
        let event = try XCTUnwrap(cb.apply(account: F.account("acc-1", equity: "96000")).first)
        let json = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        XCTAssertTrue(json.contains(#""tier":"account""#), json)
        XCTAssertTrue(json.contains(#""to":"tripped""#), json)
        XCTAssertTrue(json.contains(#""cause":"daily-drawdown""#), json)
        XCTAssertEqual(try JSONDecoder().decode(BreakerEvent.self, from: Data(json.utf8)), event)
    }
}
