import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// `breaker.commands`: manual trip, reset (with the accepted drawdown), flatten-all, and
/// idempotency by command id.
final class BreakerCommandTests: XCTestCase {
    typealias F = BreakerFixture

    func testManualTripHaltsUntilResetAndIsIdempotent() throws {
        var (cb, clock) = F.live()
        let r = cb.handle(F.command("cmd-1", .trip, .account, "acc-1", reason: "suspicious fills"))
        XCTAssertEqual(r.outcome, .applied)
        let e = try XCTUnwrap(r.events.first)
        XCTAssertEqual([e.from, e.to], [.normal, .tripped])
        XCTAssertEqual(e.reason.cause, .manualTrip)
        XCTAssertEqual(e.reason.requestedBy, "ops-alice")
        XCTAssertEqual(e.reason.commandId, "cmd-1")
        XCTAssertEqual(e.reason.detail, "manual trip by ops-alice: suspicious fills")

        let again = cb.handle(F.command("cmd-1", .trip, .account, "acc-1"))
        XCTAssertEqual(again.outcome, .duplicate)
        XCTAssertEqual(again.events, [])

        F.elapse(&cb, clock, 3600)
        let blocked = cb.evaluate(order: F.order(riskReducing: true))
        XCTAssertTrue(blocked.verdict.reason!.contains("manual trip by ops-alice: suspicious fills (manual; reset required)"))

        let reset = cb.handle(F.command("cmd-2", .reset, .account, "acc-1", by: "ops-bob"))
        XCTAssertEqual(reset.events.map(\.to), [.normal])
        XCTAssertEqual(reset.events.first?.reason.requestedBy, "ops-bob")
        XCTAssertTrue(cb.evaluate(order: F.order()).verdict.isCleared)
    }

    func testResetAcceptsTheDaysLossSoFarAndFurtherLossTripsAgain() {
        // Tripped at 4.5 % (equity 95,500). After the reset the same 95,500 reads 0 % (loss since
        // the reset); a further 4,000 (95,500 → 91,500 = 4 % of the 100,000 start) trips again.
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "95500"))
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
        let r = cb.handle(F.command("cmd-r", .reset, .account, "acc-1"))
        XCTAssertEqual(r.message, "account acc-1 reset by ops-alice; today's loss up to equity 95,500.00 accepted")
        _ = cb.apply(account: F.account("acc-1", equity: "95500"))
        XCTAssertEqual(cb.state(.account("acc-1")), .normal)
        XCTAssertTrue(cb.evaluate(order: F.order()).verdict.isCleared, "a reset resumes trading")

        _ = cb.apply(account: F.account("acc-1", equity: "91500.01"))
        XCTAssertEqual(cb.state(.account("acc-1")), .warning, "3,999.99 since the reset = 3.99999 %")
        let events = cb.apply(account: F.account("acc-1", equity: "91500"))
        XCTAssertEqual(events.first?.reason.detail,
                       "daily drawdown 4.00 % (loss 4,000.00 since the reset at equity 95,500.00 of start-of-day equity 100,000.00) ≥ limit 4.00 %")
    }

    func testAcceptedLossEndsWithTheDay() {
        // A new day: start-of-day equity becomes 95,000 (equity 95,000, daily P&L 0). A fresh
        // 4 % of 95,000 = 3,800 trips: 91,200.
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "95000"))
        _ = cb.handle(F.command("cmd-r", .reset, .account, "acc-1"))
        _ = cb.apply(account: F.account("acc-1", start: "95000", equity: "95000"))
        _ = cb.apply(account: F.account("acc-1", start: "95000", equity: "91200"))
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
        XCTAssertEqual(cb.breaker(.account("acc-1"))?.reason.figures["acceptedEquity"], nil)
    }

    func testFlattenProducesExactlyTheClosingOrdersAndTripsTheAccount() throws {
        var (cb, _) = F.live()
        let positions = [
            Position(accountId: "acc-1", instrument: "EUR_USD", quantity: F.d("1.5"), averagePrice: F.d("1.1")),
            Position(accountId: "acc-1", instrument: "USD_JPY", quantity: -2, averagePrice: 150),
            Position(accountId: "acc-1", instrument: "GBP_USD", quantity: 0),                        // flat: nothing to close
            Position(accountId: "acc-2", instrument: "EUR_USD", quantity: 3, averagePrice: F.d("1.1")),  // other account
        ]
        let r = cb.handle(F.command("cmd-f", .flatten, .account, "acc-1", reason: "end of drill"), positions: positions)
        XCTAssertEqual(r.outcome, .applied)
        XCTAssertEqual(r.orders.map(\.id), ["flatten-cmd-f-acc-1-EUR_USD", "flatten-cmd-f-acc-1-USD_JPY"])
        XCTAssertEqual(r.orders.map(\.side), [.sell, .buy], "opposite of long 1.5 and short 2")
        XCTAssertEqual(r.orders.map(\.quantity), [F.d("1.5"), 2], "full quantity")
        for o in r.orders {
            XCTAssertEqual(o.type, .market)
            XCTAssertTrue(o.riskReducing)
            XCTAssertEqual(o.status, .cleared)
            XCTAssertEqual(o.accountId, "acc-1")
            XCTAssertEqual(o.decisions.first?.agent, "circuit-breaker")
            XCTAssertEqual(o.decisions.first?.verdict, .cleared)
        }
        XCTAssertEqual(r.orders[0].decisions[0].checks[0].detail,
                       "flatten all (account acc-1) by ops-alice: end of drill — closing long 1.5 lots EUR_USD")
        XCTAssertEqual(r.events.first?.reason.cause, .flattenAll)
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .halted, "nothing new opens after a flatten")
        XCTAssertEqual(cb.tradingState(account: "acc-2"), .active)

        let again = cb.handle(F.command("cmd-f", .flatten, .account, "acc-1"), positions: positions)
        XCTAssertEqual(again.outcome, .duplicate)
        XCTAssertEqual(again.orders, [])
        XCTAssertEqual(again.events, [])
    }

    func testSystemFlattenClosesEveryAccountNettingDuplicates() {
        var (cb, _) = F.live()
        let positions = [
            Position(accountId: "acc-2", instrument: "EUR_USD", quantity: 1),
            Position(accountId: "acc-2", instrument: "EUR_USD", quantity: F.d("0.5")),
            Position(accountId: "acc-1", instrument: "XAU_USD", quantity: F.d("-0.3")),
        ]
        let r = cb.handle(F.command("cmd-s", .flatten, .system), positions: positions)
        XCTAssertEqual(r.orders.map(\.id), ["flatten-cmd-s-acc-1-XAU_USD", "flatten-cmd-s-acc-2-EUR_USD"])
        XCTAssertEqual(r.orders.map(\.quantity), [F.d("0.3"), F.d("1.5")])
        XCTAssertEqual(r.orders.map(\.side), [.buy, .sell])
        XCTAssertEqual(cb.state(.system), .tripped)
    }

    func testInvalidCommandsAreRejectedAndNotRemembered() {
        var (cb, _) = F.live()
        XCTAssertEqual(cb.handle(F.command("c1", .trip, .account, "acc-1", by: "")).outcome, .rejected)
        XCTAssertEqual(cb.handle(F.command("c2", .trip, .account, nil)).outcome, .rejected)
        XCTAssertEqual(cb.handle(F.command("c3", .trip, .account, "acc-1", reason: " ")).outcome, .rejected)
        let flattenAgent = cb.handle(F.command("c4", .flatten, .agent, "aria-risk"))
        XCTAssertEqual(flattenAgent.message, "command c4 rejected: flatten applies to an account or the system, not to tier agent")
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .active)
        XCTAssertEqual(cb.handle(F.command("c1", .trip, .account, "acc-1")).outcome, .applied, "the corrected command may reuse the id")
    }

    func testCommandJSONUsesOperatorKey() throws {
        let json = #"{"id":"c9","action":"trip","tier":"system","reason":"halt","operator":"ops-carol","issuedAt":5}"#
        let c = try JSONDecoder().decode(BreakerCommand.self, from: Data(json.utf8))
        XCTAssertEqual(c.requestedBy, "ops-carol")
        XCTAssertEqual(c.key, .system)
    }
}
