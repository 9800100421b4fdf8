import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

final class PendingOrderTests: XCTestCase {
    private typealias F = ExecutionFixture

    /// Accepts `order`, then feeds `quotes` (bid, ask) one by one from its arrival on, 100 ms apart.
    private func run(_ order: Order, _ quotes: [(String, String)], timeInForce: TimeInForce? = nil,
                     engine: ExecutionEngine = F.engine()) throws -> [ExecutionResult] {
        var working = try engine.accept(order, receivedAt: F.t0, timeInForce: timeInForce)
        var ledger = F.ledger()
        var results: [ExecutionResult] = []
        for (i, q) in quotes.enumerated() {
            let t = F.tick(order.instrument, bid: q.0, ask: q.1, at: working.arrivalTime + Int64(i) * 100_000)
            let r = try engine.execute(working, quote: t, now: t.time, ledger: ledger, rates: CurrencyRates())
            results.append(r)
            working = r.order
            ledger = r.ledger
        }
        return results
    }

    func testLimitBuyFillsWhenTheAskReachesTheLimitAndNotOnePointAbove() throws {
        let r = try run(F.order("lb", .buy, "1", type: .limit, price: "1.08500"),
                        [("1.08493", "1.08501"), ("1.08493", "1.08501"), ("1.08492", "1.08500")])
        XCTAssertEqual(r[0].outcome, .pending)
        XCTAssertEqual(r[0].transitions, [.init(from: .cleared, to: .pending)])
        XCTAssertEqual(r[0].decision?.verdict, .delayed)
        XCTAssertEqual(r[0].decision?.checks.first?.detail, "ask 1.08501 > limit 1.08500: resting")
        XCTAssertFalse(r[1].changed, "a still-resting order has nothing to write")
        XCTAssertEqual(r[2].outcome, .filled)
        XCTAssertEqual(r[2].transitions, [.init(from: .pending, to: .filled)])
        // At the limit exactly: the ask, no slippage (a limit never fills beyond its price).
        XCTAssertEqual(r[2].fills.map(\.fill.price), [F.d("1.08500")])
        XCTAssertEqual(r[2].fills.map(\.fill.slippage), [0])
    }

    func testLimitBuyFillsAtTheBetterAskWhenThePriceGapsThroughIt() throws {
        let r = try run(F.order("lb-gap", .buy, "1", type: .limit, price: "1.08500"),
                        [("1.08600", "1.08608"), ("1.08472", "1.08480")])
        XCTAssertEqual(r[1].fills.map(\.fill.price), [F.d("1.08480")])
    }

    func testLimitSellFillsWhenTheBidReachesTheLimit() throws {
        let r = try run(F.order("ls", .sell, "1", type: .limit, price: "1.08600"),
                        [("1.08599", "1.08607"), ("1.08600", "1.08608")])
        XCTAssertEqual(r[0].outcome, .pending)
        XCTAssertEqual(r[0].decision?.checks.first?.detail, "bid 1.08599 < limit 1.08600: resting")
        XCTAssertEqual(r[1].fills.map(\.fill.price), [F.d("1.08600")])
        XCTAssertEqual(r[1].position.quantity, -1)
    }

    func testStopBuyTriggersWhenTheAskReachesTheStopAndFillsWithSlippage() throws {
        let r = try run(F.order("sb", .buy, "1", type: .stop, price: "1.08600"),
                        [("1.08591", "1.08599"), ("1.08592", "1.08600")])
        XCTAssertEqual(r[0].outcome, .pending)
        XCTAssertEqual(r[0].decision?.checks.first?.detail, "ask 1.08599 < stop 1.08600: resting")
        XCTAssertEqual(r[1].outcome, .filled)
        // Triggered at the stop, filled as a market order: 1 lot slips 1 point → 1.08601.
        XCTAssertEqual(r[1].fills.map(\.fill.price), [F.d("1.08601")])
        XCTAssertEqual(r[1].order.triggeredAt, r[1].fills.first?.fill.time)
        XCTAssertEqual(r[1].decision?.checks.first?.rule, "stop")
    }

    func testStopSellTriggersWhenTheBidReachesTheStop() throws {
        let r = try run(F.order("ss", .sell, "1", type: .stop, price: "1.08400"),
                        [("1.08401", "1.08409"), ("1.08400", "1.08408")])
        XCTAssertEqual(r[0].outcome, .pending)
        XCTAssertEqual(r[1].fills.map(\.fill.price), [F.d("1.08399")])
    }

    func testLimitOrderFillsOnlyLevelsWithinItsPriceAndRestsTheRemainder() throws {
        let r = try run(F.order("lb-big", .buy, "30", type: .limit, price: "1.08500"),
                        [("1.08492", "1.08500"), ("1.08495", "1.08503"), ("1.08482", "1.08490")])
        // Touch 20 lots at 1.08500; the next level (1.08502) is beyond the limit.
        XCTAssertEqual(r[0].outcome, .partiallyFilled)
        XCTAssertEqual(r[0].fills.map(\.fill.quantity), [20])
        XCTAssertEqual(r[0].fills.map(\.fill.price), [F.d("1.08500")])
        XCTAssertFalse(r[1].changed, "ask above the limit: the rest keeps resting")
        XCTAssertEqual(r[1].outcome, .partiallyFilled)
        XCTAssertEqual(r[2].outcome, .filled)
        XCTAssertEqual(r[2].fills.map(\.fill.price), [F.d("1.08490")])
        XCTAssertEqual(r[2].position.quantity, 30)
    }

    func testPendingOrderExpiresAtItsGoodTillTime() throws {
        let engine = F.engine()
        let working = try engine.accept(F.order("exp", .buy, "1", type: .limit, price: "1.08000"), receivedAt: F.t0)
        // Default: one day after arrival.
        XCTAssertEqual(working.expiresAt, working.arrivalTime + 86_400_000_000)
        let t1 = F.tick(bid: "1.08500", ask: "1.08508", at: working.arrivalTime)
        let r1 = try engine.execute(working, quote: t1, now: t1.time, ledger: F.ledger(), rates: CurrencyRates())
        XCTAssertEqual(r1.outcome, .pending)
        let beforeExpiry = try engine.execute(r1.order, quote: t1, now: working.expiresAt! - 1, ledger: r1.ledger, rates: CurrencyRates())
        XCTAssertFalse(beforeExpiry.changed)
        let expired = try engine.execute(r1.order, quote: t1, now: working.expiresAt!, ledger: r1.ledger, rates: CurrencyRates())
        XCTAssertEqual(expired.outcome, .expired)
        XCTAssertEqual(expired.transitions, [.init(from: .pending, to: .expired)])
        XCTAssertEqual(expired.order.order.status, .expired)
        XCTAssertTrue(expired.fills.isEmpty)
    }

    func testImmediateOrCancelLimitThatIsNotMarketableIsCancelled() throws {
        let r = try run(F.order("ioc-l", .buy, "1", type: .limit, price: "1.08500"), [("1.08493", "1.08501")],
                        timeInForce: .immediateOrCancel)
        XCTAssertEqual(r[0].outcome, .cancelled)
        XCTAssertEqual(r[0].transitions, [.init(from: .cleared, to: .cancelled)])
        XCTAssertEqual(r[0].order.closeReason, "immediate-or-cancel not marketable at arrival: ask 1.08501 > limit 1.08500")
    }

    func testCancellingARestingOrderRecordsTheReason() throws {
        let engine = F.engine()
        let r = try run(F.order("c", .buy, "1", type: .limit, price: "1.08000"), [("1.08500", "1.08508")], engine: engine)
        let cancelled = engine.cancel(r[0].order, reason: "flatten-all command cmd-1", now: F.t0 + 1_000_000, ledger: r[0].ledger)
        XCTAssertEqual(cancelled.transitions, [.init(from: .pending, to: .cancelled)])
        XCTAssertEqual(cancelled.decision?.checks.first?.detail, "flatten-all command cmd-1")
        XCTAssertFalse(engine.cancel(cancelled.order, reason: "again", now: F.t0, ledger: r[0].ledger).changed)
    }
}
