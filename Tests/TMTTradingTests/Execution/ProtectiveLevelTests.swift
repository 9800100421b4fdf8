import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

final class ProtectiveLevelTests: XCTestCase {
    private typealias F = ExecutionFixture
    private let engine = F.engine()

    /// A 1-lot position opened at 1.08509 (long: ask 1.08508 + 1 point) or 1.08499 (short: bid
    /// 1.08500 − 1 point) with the given levels.
    private func open(_ side: Side, lots: String = "1", stopLoss: String, takeProfit: String, at time: Int64 = F.t0) throws -> AccountLedger {
        let r = try F.fillAtArrival(engine, F.order("open-\(side)", side, lots, stopLoss: stopLoss, takeProfit: takeProfit),
                                    bid: "1.08500", ask: "1.08508", ledger: F.ledger(), receivedAt: time)
        XCTAssertEqual(r.outcome, .filled)
        return r.ledger
    }

    private func check(_ ledger: AccountLedger, bid: String, ask: String, at time: Int64) throws -> ProtectiveExecution? {
        try engine.checkProtectiveLevels(ledger: ledger, quote: F.tick(bid: bid, ask: ask, at: time), now: time, rates: CurrencyRates())
    }

    func testLongStopLossTriggersOnTheBidAtTheStopAndFillsWithSlippage() throws {
        let ledger = try open(.buy, stopLoss: "1.08000", takeProfit: "1.09000")
        XCTAssertEqual(ledger.book.entry("EUR_USD").stopLoss, F.d("1.08000"))
        XCTAssertEqual(ledger.book.entry("EUR_USD").sourceSignalId, "sig-open-buy")
        XCTAssertNil(try check(ledger, bid: "1.08001", ask: "1.08009", at: F.t0 + 1_000_000), "one point above the stop")
        let hit = try XCTUnwrap(try check(ledger, bid: "1.08000", ask: "1.08008", at: F.t0 + 2_000_000))
        XCTAssertEqual(hit.kind, .stopLoss)
        XCTAssertEqual(hit.triggerPrice, F.d("1.08000"))
        let r = hit.result
        XCTAssertEqual(r.order.order.id, "acct-1:EUR_USD:stop-loss@\(F.t0 + 2_000_000)")
        XCTAssertEqual(r.order.order.signalId, "sig-open-buy")
        XCTAssertTrue(r.order.order.riskReducing)
        XCTAssertEqual(r.outcome, .filled)
        // Market sell at the bid − 1 point of slippage: 1.07999.
        XCTAssertEqual(r.fills.map(\.fill.price), [F.d("1.07999")])
        XCTAssertEqual(r.position.quantity, 0)
        // 1 × (1.07999 − 1.08509) × 100,000 = −510 USD.
        XCTAssertEqual(r.fills.map(\.realizedPnL), [-510])
        // 1,000,000 − 3.5 (open) − 510 − 3.5 (close).
        XCTAssertEqual(r.ledger.balance, F.d("999483"))
        XCTAssertNil(r.ledger.book.entry("EUR_USD").stopLoss)
        XCTAssertNil(try engine.checkProtectiveLevels(ledger: r.ledger, quote: F.tick(bid: "1.07000", ask: "1.07008", at: F.t0 + 3_000_000),
                                                      now: F.t0 + 3_000_000, rates: CurrencyRates()), "flat: nothing left to protect")
    }

    func testLongTakeProfitTriggersOnTheBidAtTheTargetAndFillsAtTheTarget() throws {
        let ledger = try open(.buy, stopLoss: "1.08000", takeProfit: "1.09000")
        XCTAssertNil(try check(ledger, bid: "1.08999", ask: "1.09007", at: F.t0 + 1_000_000))
        let hit = try XCTUnwrap(try check(ledger, bid: "1.09000", ask: "1.09008", at: F.t0 + 2_000_000))
        XCTAssertEqual(hit.kind, .takeProfit)
        XCTAssertEqual(hit.result.order.order.type, .limit)
        XCTAssertEqual(hit.result.fills.map(\.fill.price), [F.d("1.09000")])
        XCTAssertEqual(hit.result.fills.map(\.fill.slippage), [0])
        // (1.09000 − 1.08509) × 100,000 = 491 USD.
        XCTAssertEqual(hit.result.accountDelta.realizedPnL, 491)
    }

    func testShortLevelsAreCheckedAgainstTheAsk() throws {
        let ledger = try open(.sell, stopLoss: "1.09000", takeProfit: "1.08000")
        XCTAssertNil(try check(ledger, bid: "1.08991", ask: "1.08999", at: F.t0 + 1_000_000))
        let stop = try XCTUnwrap(try check(ledger, bid: "1.08992", ask: "1.09000", at: F.t0 + 2_000_000))
        XCTAssertEqual(stop.kind, .stopLoss)
        XCTAssertEqual(stop.result.fills.map(\.fill.side), [.buy])
        XCTAssertEqual(stop.result.fills.map(\.fill.price), [F.d("1.09001")])
        // Short from 1.08499 bought back at 1.09001: 1 × (1.09001 − 1.08499) × 100,000 × −1 = −502.
        XCTAssertEqual(stop.result.accountDelta.realizedPnL, -502)

        XCTAssertNil(try check(ledger, bid: "1.07993", ask: "1.08001", at: F.t0 + 3_000_000))
        let target = try XCTUnwrap(try check(ledger, bid: "1.07992", ask: "1.08000", at: F.t0 + 4_000_000))
        XCTAssertEqual(target.kind, .takeProfit)
        XCTAssertEqual(target.result.fills.map(\.fill.price), [F.d("1.08000")])
    }

    func testAStopAfterAWeekendGapFillsAtTheGappedPriceNotAtTheStop() throws {
        // Opened Friday 2026-03-06 20:59 UTC; the stop is 1.08000.
        let friday: Int64 = 1_772_830_740 * 1_000_000
        let sunday: Int64 = 1_773_003_600 * 1_000_000 // 21:00 UTC reopening
        let ledger = try open(.buy, stopLoss: "1.08000", takeProfit: "1.09000", at: friday)
        XCTAssertEqual(ledger.book.position("EUR_USD").averagePrice, F.d("1.08509"))
        XCTAssertNil(try check(ledger, bid: "1.08200", ask: "1.08208", at: friday + 30_000_000), "last Friday quote")
        // Sunday's first quote opens 50 pips below the stop with a 2-pip spread.
        let hit = try XCTUnwrap(try check(ledger, bid: "1.07500", ask: "1.07520", at: sunday))
        XCTAssertEqual(hit.kind, .stopLoss)
        // Reopening activity 0.35 → depth 7 lots; spread 2.0 / 0.8 typical = 2.5:
        // 0.3 × √(1/7) × 2.5 = 0.283 pip → 3 points below the gapped bid: 1.07497 (not 1.08000).
        XCTAssertEqual(hit.result.fills.map(\.fill.price), [F.d("1.07497")])
        XCTAssertEqual(hit.result.fills.map(\.fill.time), [sunday])
        // (1.07497 − 1.08509) × 100,000 = −1,012 USD, twice the loss the stop level suggested.
        XCTAssertEqual(hit.result.accountDelta.realizedPnL, -1_012)
    }

    func testPartialTakeProfitKeepsTheStopArmedAndNeverOverCloses() throws {
        let ledger = try open(.buy, lots: "30", stopLoss: "1.08000", takeProfit: "1.09000")
        XCTAssertEqual(ledger.book.position("EUR_USD").quantity, 30)
        // Target reached: the limit at 1.09000 takes the 20-lot touch; the next level is below it.
        let tp = try XCTUnwrap(try check(ledger, bid: "1.09000", ask: "1.09008", at: F.t0 + 1_000_000))
        XCTAssertEqual(tp.result.outcome, .partiallyFilled)
        XCTAssertEqual(tp.result.position.quantity, 10)
        XCTAssertNil(tp.result.ledger.book.entry("EUR_USD").takeProfit)
        XCTAssertEqual(tp.result.ledger.book.entry("EUR_USD").stopLoss, F.d("1.08000"))

        // The market falls to the stop before the target order's rest fills: the stop closes the 10.
        let sl = try XCTUnwrap(try engine.checkProtectiveLevels(
            ledger: tp.result.ledger, quote: F.tick(bid: "1.07990", ask: "1.07998", at: F.t0 + 2_000_000), now: F.t0 + 2_000_000,
            rates: CurrencyRates()))
        XCTAssertEqual(sl.result.order.order.quantity, 10)
        XCTAssertEqual(sl.result.position.quantity, 0)

        // The target order's rest then finds no position and is cancelled instead of opening a short.
        let back = F.tick(bid: "1.09100", ask: "1.09108", at: F.t0 + 3_000_000)
        let rest = try engine.execute(tp.result.order, quote: back, now: back.time, ledger: sl.result.ledger, rates: CurrencyRates())
        XCTAssertEqual(rest.outcome, .cancelled)
        XCTAssertEqual(rest.transitions, [.init(from: .partiallyFilled, to: .cancelled)])
        XCTAssertTrue(rest.fills.isEmpty)
        XCTAssertEqual(rest.position.quantity, 0)
    }

    /// The rest of a take-profit belongs to the position it was made for: after a stop closed
    /// that position and a new one opened, the old order is cancelled at the new target's
    /// level instead of closing the new position at the old target (it sold 5 at 1.09000 and
    /// left the account flat).
    func testATakeProfitsRestDoesNotCloseALaterPosition() throws {
        let ledger = try open(.buy, lots: "30", stopLoss: "1.08000", takeProfit: "1.09000")
        let tp = try XCTUnwrap(try check(ledger, bid: "1.09000", ask: "1.09008", at: F.t0 + 1_000_000))
        XCTAssertEqual(tp.result.order.protects, "open-buy")
        let sl = try XCTUnwrap(try engine.checkProtectiveLevels(
            ledger: tp.result.ledger, quote: F.tick(bid: "1.07990", ask: "1.07998", at: F.t0 + 2_000_000), now: F.t0 + 2_000_000,
            rates: CurrencyRates()))
        XCTAssertEqual(sl.result.position.quantity, 0)
        // A new long of 5 with its own target, opened while the old order still works.
        let reopened = try F.fillAtArrival(engine, F.order("open-again", .buy, "5", stopLoss: "1.08000", takeProfit: "1.10000"),
                                           bid: "1.08500", ask: "1.08508", ledger: sl.result.ledger, receivedAt: F.t0 + 3_000_000)
        XCTAssertEqual(reopened.position.quantity, 5)
        let up = F.tick(bid: "1.09000", ask: "1.09008", at: F.t0 + 4_000_000)
        let rest = try engine.execute(tp.result.order, quote: up, now: up.time, ledger: reopened.ledger, rates: CurrencyRates())
        XCTAssertEqual(rest.outcome, .cancelled)
        XCTAssertTrue(rest.fills.isEmpty)
        XCTAssertEqual(rest.position.quantity, 5)
        XCTAssertTrue(rest.order.closeReason?.contains("opened by open-buy") ?? false, rest.order.closeReason ?? "-")
        XCTAssertEqual(rest.ledger.book.entry("EUR_USD").takeProfit, F.d("1.10000"), "the new position keeps its own target")
        // On a flat account the rest is cancelled at once, whatever the price (it used to rest).
        let flat = try engine.execute(tp.result.order, quote: F.tick(bid: "1.08500", ask: "1.08508", at: F.t0 + 3_000_000),
                                      now: F.t0 + 3_000_000, ledger: sl.result.ledger, rates: CurrencyRates())
        XCTAssertEqual(flat.outcome, .cancelled)
    }

    /// A stop's close still filling is not cancelled when another order adds to the position
    /// meanwhile (the position was opened by the same order; only a new opening breaks the tie).
    func testAStopsRestStillClosesAfterAnotherOrderAddsToThePosition() throws {
        // Opened in full; the stop's close then meets one level of depth (20 lots) per pass.
        let thin = F.engine(maxDepthLevels: 1)
        let opened = try F.fillAtArrival(engine, F.order("open-thin", .buy, "30", stopLoss: "1.08000", takeProfit: "1.09000"),
                                         bid: "1.08500", ask: "1.08508", ledger: F.ledger())
        XCTAssertEqual(opened.position.quantity, 30)
        XCTAssertEqual(opened.ledger.book.entry("EUR_USD").openedBy, "open-thin")
        let stop = try XCTUnwrap(try thin.checkProtectiveLevels(ledger: opened.ledger, quote: F.tick(bid: "1.08000", ask: "1.08008", at: F.t0 + 1_000_000),
                                                                now: F.t0 + 1_000_000, rates: CurrencyRates()))
        XCTAssertEqual(stop.result.outcome, .partiallyFilled)
        let left = stop.result.position.quantity
        XCTAssertGreaterThan(left, 0)
        XCTAssertEqual(stop.result.order.protects, "open-thin")
        let added = try F.fillAtArrival(thin, F.order("add-two", .buy, "2"), bid: "1.07990", ask: "1.07998", ledger: stop.result.ledger,
                                        receivedAt: F.t0 + 2_000_000)
        XCTAssertEqual(added.position.quantity, left + 2)
        XCTAssertEqual(added.ledger.book.entry("EUR_USD").openedBy, "open-thin", "adding keeps who opened it")
        let next = F.tick(bid: "1.07980", ask: "1.07988", at: F.t0 + 3_000_000)
        let rest = try thin.execute(stop.result.order, quote: next, now: next.time, ledger: added.ledger, rates: CurrencyRates())
        XCTAssertNotEqual(rest.outcome, .cancelled, rest.order.closeReason ?? "-")
        XCTAssertFalse(rest.fills.isEmpty)
        XCTAssertEqual(rest.outcome, .filled)
        XCTAssertEqual(rest.position.quantity, 2, "the stopped-out lots closed; the added ones stay")
    }

    /// A risk-reducing order (here a flatten sized from a position a stop has closed since)
    /// never opens or flips a position: it fills at most what is open, and nothing on a flat
    /// book (the flatten used to fill, leaving the halted account short 2 without a stop).
    func testARiskReducingOrderOnlyReducesWhatIsOpen() throws {
        let ledger = try open(.buy, lots: "2", stopLoss: "1.08000", takeProfit: "1.09000")
        let flatten = try XCTUnwrap(engine.flattenOrders(ledger: ledger, commandId: "cmd-7", receivedAt: F.t0 + 1_000_000).first)
        let sl = try XCTUnwrap(try check(ledger, bid: "1.08000", ask: "1.08008", at: F.t0 + 1_000_000))
        XCTAssertEqual(sl.result.position.quantity, 0)
        let t = F.tick(bid: "1.07990", ask: "1.07998", at: flatten.arrivalTime)
        let r = try engine.execute(flatten, quote: t, now: t.time, ledger: sl.result.ledger, rates: CurrencyRates())
        XCTAssertEqual(r.outcome, .cancelled)
        XCTAssertTrue(r.fills.isEmpty)
        XCTAssertEqual(r.position.quantity, 0)

        // Larger than the position: only the open lots are sold, the rest is cancelled.
        let partial = try open(.buy, lots: "1", stopLoss: "1.08000", takeProfit: "1.09000")
        let big = try engine.accept(Order(id: "reduce-3", signalId: "", accountId: "acct-1", instrument: "EUR_USD", side: .sell, type: .market,
                                          quantity: 3, stopLoss: nil, takeProfit: nil, riskReducing: true, status: .cleared, createdAt: F.t0),
                                    receivedAt: F.t0 + 1_000_000)
        let q = F.tick(bid: "1.08600", ask: "1.08608", at: big.arrivalTime)
        let reduced = try engine.execute(big, quote: q, now: q.time, ledger: partial, rates: CurrencyRates())
        XCTAssertEqual(reduced.fills.map(\.fill.quantity), [1])
        XCTAssertEqual(reduced.position.quantity, 0)
        XCTAssertEqual(reduced.outcome, .cancelled)
    }

    func testFlattenOrdersCloseEveryOpenPosition() throws {
        let ledger = try open(.buy, lots: "2", stopLoss: "1.08000", takeProfit: "1.09000")
        let orders = engine.flattenOrders(ledger: ledger, commandId: "cmd-9", receivedAt: F.t0 + 1_000_000)
        XCTAssertEqual(orders.map(\.order.id), ["cmd-9:acct-1:EUR_USD"])
        XCTAssertEqual(orders.map(\.order.side), [.sell])
        XCTAssertEqual(orders.map(\.order.quantity), [2])
        let t = F.tick(bid: "1.08600", ask: "1.08608", at: orders[0].arrivalTime)
        let r = try engine.execute(orders[0], quote: t, now: t.time, ledger: ledger, rates: CurrencyRates())
        XCTAssertEqual(r.position.quantity, 0)
    }
}
