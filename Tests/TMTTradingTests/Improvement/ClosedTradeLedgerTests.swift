import Foundation
import XCTest
import TMTModels
@testable import TMTTrading

/// Round trips rebuilt from fills as the execution engine books them (netted positions).
final class ClosedTradeLedgerTests: XCTestCase {
    let t0: Int64 = 1_795_590_000_000_000

    func fill(_ id: String, order: String, account: String = "acc-1", _ side: Side, _ lots: String, at price: String,
              commission: String, pnl: String = "0", minute: Int64, pattern: String?) -> ClosedTradeLedger.FillRecord {
        ClosedTradeLedger.FillRecord(id: id, orderId: order, accountId: account, instrument: "EUR_USD", side: side,
                                     quantity: Decimal(string: lots)!, price: Decimal(string: price)!,
                                     commission: Decimal(string: commission)!, realizedPnL: Decimal(string: pnl)!,
                                     time: t0 + minute * 60_000_000, pattern: pattern)
    }

    /// A position left open when its account was restarted (dropped without a fill) never pairs
    /// with the next challenge's fills: the new challenge's buy and sell are one trade of their own.
    func testAPositionOpenAtARestartDoesNotPairWithTheNextChallengesFills() {
        var opened = fill("sig-1:acc-1#1", order: "sig-1:acc-1", .buy, "1", at: "1.10000", commission: "3.5", minute: 1, pattern: "spring")
        opened.accountEpoch = 0
        var sold = fill("sig-2:acc-1#1", order: "sig-2:acc-1", .sell, "1", at: "1.09000", commission: "3.5", minute: 5, pattern: "upthrust")
        sold.accountEpoch = 1
        var bought = fill("sig-3:acc-1#1", order: "sig-3:acc-1", .buy, "1", at: "1.08900", commission: "3.5", pnl: "100", minute: 7,
                          pattern: "spring")
        bought.accountEpoch = 1
        let replay = ClosedTradeLedger().replay([opened, sold, bought])
        XCTAssertEqual(replay.trades.count, 1)
        let t = replay.trades[0]
        XCTAssertEqual(t.pattern, "upthrust")
        XCTAssertEqual(t.side, .sell)
        XCTAssertEqual(t.entryPrice, Decimal(string: "1.09"))
        XCTAssertEqual(t.exitPrice, Decimal(string: "1.089"))
        XCTAssertEqual(t.netPnL, 93)
        XCTAssertEqual(replay.openCommission, Decimal(string: "3.5"), "the dropped position's opening commission is charged to no trade")

        // The same fills in one challenge: the sell closes the first buy instead.
        let single = ClosedTradeLedger().trades(from: [opened, sold, bought].map { var f = $0; f.accountEpoch = 0; return f })
        XCTAssertEqual(single.first?.pattern, "spring")
        XCTAssertEqual(single.first?.exitPrice, Decimal(string: "1.09"))
    }

    func testOpenThenStopLossCloseIsOneTradeWithTheOpeningSignalsPatternAndBothCommissions() {
        let fills = [
            // Given out of order: the ledger replays by time.
            fill("acc-1:EUR_USD:stop-loss@9#1", order: "acc-1:EUR_USD:stop-loss@9", .sell, "1", at: "1.09800", commission: "3.5",
                 pnl: "-200", minute: 9, pattern: "spring"),
            fill("sig-1:acc-1#1", order: "sig-1:acc-1", .buy, "1", at: "1.10000", commission: "3.5", minute: 1, pattern: "spring"),
        ]
        let trades = ClosedTradeLedger().trades(from: fills)
        XCTAssertEqual(trades.count, 1)
        let t = trades[0]
        XCTAssertEqual(t.id, "acc-1:EUR_USD:stop-loss@9#1")
        XCTAssertEqual(t.pattern, "spring")
        XCTAssertEqual(t.side, .buy)
        XCTAssertEqual(t.entryPrice, Decimal(string: "1.1"))
        XCTAssertEqual(t.exitPrice, Decimal(string: "1.098"))
        XCTAssertEqual(t.entryTime, (t0 + 60_000_000) / 1000)
        XCTAssertEqual(t.exitTime, (t0 + 9 * 60_000_000) / 1000)
        XCTAssertEqual(t.quantity, 100_000)
        XCTAssertEqual(t.pnl, -200)
        XCTAssertEqual(t.commission, 7)
        XCTAssertEqual(t.netPnL, -207)
    }

    func testScalingInAveragesTheEntryAndPartialClosesShareTheOpeningCommission() {
        let fills = [
            fill("a#1", order: "a", .buy, "1", at: "1.1000", commission: "3.5", minute: 1, pattern: "spring"),
            fill("b#1", order: "b", .buy, "1", at: "1.1010", commission: "3.5", minute: 2, pattern: "lps"),
            // 0.5 × (1.1020 − 1.1005) × 100,000 = 75.
            fill("c#1", order: "c", .sell, "0.5", at: "1.1020", commission: "1.75", pnl: "75", minute: 3, pattern: "upthrust"),
            // 1.5 × (1.0990 − 1.1005) × 100,000 = −225.
            fill("d#1", order: "d", .sell, "1.5", at: "1.0990", commission: "5.25", pnl: "-225", minute: 4, pattern: nil),
        ]
        let trades = ClosedTradeLedger().trades(from: fills)
        XCTAssertEqual(trades.map(\.id), ["c#1", "d#1"])
        XCTAssertEqual(trades.map(\.entryPrice), [Decimal(string: "1.1005")!, Decimal(string: "1.1005")!])
        XCTAssertEqual(trades.map(\.pattern), ["spring", "spring"], "the position's first signal gets the credit")
        XCTAssertEqual(trades.map(\.quantity), [50_000, 150_000])
        // A quarter of the 7 USD opening commission, then the other three quarters.
        XCTAssertEqual(trades.map(\.commission), [Decimal(string: "3.5")!, Decimal(string: "10.5")!])
        XCTAssertEqual(trades.map(\.pnl), [75, -225])
    }

    func testAFlipClosesOneTradeAndOpensTheNextWithTheFlippingSignalsPattern() {
        let fills = [
            fill("a#1", order: "a", .buy, "1", at: "1.1000", commission: "3.5", minute: 1, pattern: "spring"),
            fill("b#1", order: "b", .sell, "2", at: "1.1010", commission: "7", pnl: "100", minute: 2, pattern: "upthrust"),
            fill("p#1", order: "p", .buy, "1", at: "1.1000", commission: "3.5", pnl: "100", minute: 3, pattern: "upthrust"),
            // Another account's fills never mix in.
            fill("x#1", order: "x", account: "acc-2", .sell, "1", at: "1.2000", commission: "3.5", minute: 2, pattern: nil),
        ]
        let trades = ClosedTradeLedger().trades(from: fills)
        XCTAssertEqual(trades.count, 2)
        XCTAssertEqual(trades[0].side, .buy)
        XCTAssertEqual(trades[0].pattern, "spring")
        XCTAssertEqual(trades[0].commission, 7, "3.5 to open, half of the flipping fill's 7")
        XCTAssertEqual(trades[1].side, .sell)
        XCTAssertEqual(trades[1].pattern, "upthrust")
        XCTAssertEqual(trades[1].entryPrice, Decimal(string: "1.101"))
        XCTAssertEqual(trades[1].entryTime, (t0 + 120_000_000) / 1000)
        XCTAssertEqual(trades[1].commission, 7)
        XCTAssertEqual(trades[1].netPnL, 93)
    }

    func testTheClosingFillsOfOneOrderAreOneTradeWithAQuantityWeightedExitAndSignalLessPositionsAreUnattributed() {
        let fills = [
            // Two depth levels of one closing order (given out of sequence: #10 after #2).
            fill("o#10", order: "o", .sell, "0.25", at: "1.1016", commission: "0.875", pnl: "40", minute: 5, pattern: nil),
            fill("o#2", order: "o", .sell, "0.75", at: "1.1020", commission: "2.625", pnl: "150", minute: 5, pattern: nil),
            fill("f#1", order: "f", .buy, "1", at: "1.1000", commission: "3.5", minute: 1, pattern: nil),
        ]
        let trades = ClosedTradeLedger().trades(from: fills)
        XCTAssertEqual(trades.count, 1, "one order closing the position is one round trip, however many fills it took")
        let t = trades[0]
        XCTAssertEqual(t.id, "o#2", "named after the order's first closing fill")
        XCTAssertEqual(t.pattern, ClosedTradeLedger.unattributed)
        XCTAssertEqual(t.quantity, 100_000)
        // (0.75 × 1.1020 + 0.25 × 1.1016) / 1 = 1.1019.
        XCTAssertEqual(t.exitPrice, Decimal(string: "1.1019"))
        XCTAssertEqual(t.pnl, 190)
        XCTAssertEqual(t.commission, 7)
        XCTAssertEqual(t.netPnL, 183)
    }

    func testAnOrderThatClosesAndFlipsAcrossFillsIsOneTradeAndTheRestOpensTheNext() {
        let fills = [
            fill("a#1", order: "a", .buy, "1", at: "1.1000", commission: "3.5", minute: 1, pattern: "spring"),
            // Sell 2 in two levels: 0.5 closing, then 1.5 (0.5 closing, 1 opening the other way).
            fill("b#1", order: "b", .sell, "0.5", at: "1.1010", commission: "1.75", pnl: "50", minute: 2, pattern: "upthrust"),
            fill("b#2", order: "b", .sell, "1.5", at: "1.1008", commission: "5.25", pnl: "40", minute: 2, pattern: "upthrust"),
        ]
        let replay = ClosedTradeLedger().replay(fills)
        XCTAssertEqual(replay.trades.count, 1)
        let t = replay.trades[0]
        XCTAssertEqual(t.quantity, 100_000)
        // (0.5 × 1.1010 + 0.5 × 1.1008) / 1 = 1.1009.
        XCTAssertEqual(t.exitPrice, Decimal(string: "1.1009"))
        XCTAssertEqual(t.pnl, 90)
        // 3.5 to open, 1.75 for the first level, a third of 5.25 for the closing half of the second.
        XCTAssertEqual(t.commission, 7)
        XCTAssertEqual(replay.openCommission, Decimal(string: "3.5"), "the short lot opened by b#2 carries the rest")
    }

    func testFillsOfTheRealExecutionEngineReplayToExactlyTheLedgersBalanceChange() throws {
        typealias F = ExecutionFixture
        let engine = F.engine(maxDepthLevels: 3)
        var ledger = F.ledger()
        var booked: [(fill: BookedFill, pattern: String, experiment: String?)] = []
        var clock = F.t0
        // Works an order to completion, one quote every 250 ms moving by `drift` points.
        func run(_ order: Order, bid: String, ask: String, drift: Int = 1, pattern: String, experiment: String? = nil) throws {
            var working = try engine.accept(order, receivedAt: clock)
            var b = F.d(bid), a = F.d(ask)
            var now = working.arrivalTime
            for _ in 0..<10 {
                let r = try engine.execute(working, quote: Tick(instrument: "EUR_USD", bid: b, ask: a, volume: 1_000, time: now),
                                           now: now, ledger: ledger, rates: CurrencyRates())
                ledger = r.ledger
                booked += r.fills.map { ($0, pattern, experiment) }
                working = r.order
                if r.outcome == .filled { break }
                now += 250_000
                b += Decimal(drift) / 100_000
                a += Decimal(drift) / 100_000
            }
            XCTAssertEqual(working.order.status, .filled, "order \(order.id)")
            clock = now + 60_000_000
        }
        // 70 lots in: three depth levels, then the rest on the next quote (4 fills).
        try run(F.order("open", .buy, "70"), bid: "1.08500", ask: "1.08508", pattern: "spring", experiment: "exp-7")
        // 100 lots out: closes the 70 and opens 30 short across levels and passes.
        try run(F.order("flip", .sell, "100"), bid: "1.08713", ask: "1.08721", drift: -2, pattern: "upthrust")
        // 13 lots back: a partial close of the short; 17 stay open.
        try run(F.order("cover", .buy, "13"), bid: "1.08601", ask: "1.08609", pattern: "lps")
        let flipFills = booked.filter { $0.fill.fill.orderId == "flip" }.count
        XCTAssertGreaterThan(flipFills, 3, "the closing order needed several levels and passes: \(flipFills) fills")

        let records = booked.map { b in
            ClosedTradeLedger.FillRecord(id: b.fill.fill.id, orderId: b.fill.fill.orderId, accountId: b.fill.fill.accountId,
                                         instrument: b.fill.fill.instrument, side: b.fill.fill.side, quantity: b.fill.fill.quantity,
                                         price: b.fill.fill.price, commission: b.fill.fill.commission, realizedPnL: b.fill.realizedPnL,
                                         time: b.fill.fill.time, pattern: b.pattern, experiment: b.experiment)
        }
        let replay = ClosedTradeLedger(instruments: engine.model.configuration.instruments,
                                       averagePriceScale: engine.model.configuration.averagePriceScale,
                                       moneyScale: engine.model.configuration.moneyScale).replay(records)
        XCTAssertEqual(replay.trades.count, 2, "one trade per closing order: \(replay.trades.map(\.id))")
        XCTAssertEqual(replay.trades.map(\.quantity), [7_000_000, 1_300_000])
        XCTAssertEqual(replay.trades.map(\.pattern), ["spring", "upthrust"])
        XCTAssertEqual(replay.trades.map(\.experiment), ["exp-7", nil], "the opening signal's experiment tag")
        let net = replay.trades.reduce(Decimal(0)) { $0 + $1.netPnL }
        XCTAssertEqual(net - replay.openCommission, ledger.balance - ledger.initialBalance,
                       "Σ net P&L of the trades, less the commission of what is still open, is the booked balance change")
        XCTAssertEqual(replay.trades.reduce(Decimal(0)) { $0 + $1.pnl }, ledger.realizedPnL)
    }

    /// Folding fills as they come (in commit order, a few at a time) gives what replaying every
    /// fill gives, at every step: scaling in, partial and multi-fill closes, flips, two accounts,
    /// two instruments and a restarted challenge. A fill older than its book's last refuses the
    /// fold (and leaves the progress alone), and the reader replays everything, as
    /// `TradeHistory` does.
    func testFoldingFillsAsTheyComeEqualsReplayingThemAll() {
        var rng: UInt64 = 0x5eed
        func draw(_ n: Int) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((rng >> 33) % UInt64(n))
        }
        let ledger = ClosedTradeLedger()
        var fills: [ClosedTradeLedger.FillRecord] = []
        var time: Int64 = t0
        for n in 0..<400 {
            let order = "o\(n):\(["acc-1", "acc-2"][n % 2])"
            let parts = 1 + draw(3)
            time += Int64(1 + draw(5)) * 1_000_000
            for part in 1...parts {
                var f = ClosedTradeLedger.FillRecord(
                    id: "\(order)#\(part)", orderId: order, accountId: ["acc-1", "acc-2"][n % 2], instrument: ["EUR_USD", "XAU_USD"][draw(2)],
                    side: draw(2) == 0 ? .buy : .sell, quantity: Decimal(1 + draw(3)) / 2, price: Decimal(10_800 + draw(200)) / 10_000,
                    commission: Decimal(string: "1.75")!, realizedPnL: Decimal(draw(2_001) - 1_000) / 100,
                    time: time + Int64(part - 1) * 10, pattern: ["spring", "upthrust", nil][draw(3)])
                f.accountEpoch = n > 300 && n % 2 == 1 ? 1 : 0
                fills.append(f)
            }
        }
        // Commit order: mostly by time, now and then a fill a little late.
        var arrival = fills
        for i in stride(from: 5, to: arrival.count, by: 37) { arrival.swapAt(i, i - 3) }
        var progress = ClosedTradeLedger.Progress()
        var seen: [ClosedTradeLedger.FillRecord] = []
        var refused = 0
        var start = 0
        while start < arrival.count {
            let chunk = Array(arrival[start..<min(arrival.count, start + 1 + draw(6))])
            start += chunk.count
            seen += chunk
            let before = progress.replay
            if !ledger.fold(chunk, into: &progress) {
                refused += 1
                XCTAssertEqual(progress.replay, before, "a refused fold changed the progress")
                progress = ClosedTradeLedger.Progress()
                XCTAssertTrue(ledger.fold(seen, into: &progress))
            }
            XCTAssertEqual(progress.replay, ledger.replay(seen), "after \(seen.count) fills")
        }
        XCTAssertGreaterThan(refused, 0, "no late fill was refused: the late arrivals did not test the fallback")
        XCTAssertGreaterThan(ledger.replay(fills).trades.count, 100)
        // A fill folded again is refused too (a reader must fold only fills it has not folded).
        XCTAssertFalse(ledger.fold([fills[fills.count - 1]], into: &progress))
    }
}
