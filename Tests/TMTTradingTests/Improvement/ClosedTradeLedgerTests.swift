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

    func testPartialFillsOfOneOrderReplayInSequenceAndSignalLessPositionsAreUnattributed() {
        let fills = [
            fill("o#10", order: "o", .sell, "0.5", at: "1.1020", commission: "1.75", pnl: "100", minute: 5, pattern: nil),
            fill("o#2", order: "o", .sell, "0.5", at: "1.1020", commission: "1.75", pnl: "100", minute: 5, pattern: nil),
            fill("f#1", order: "f", .buy, "1", at: "1.1000", commission: "3.5", minute: 1, pattern: nil),
        ]
        let trades = ClosedTradeLedger().trades(from: fills)
        XCTAssertEqual(trades.map(\.id), ["o#10", "o#2"], "sorted by exit time, then id")
        XCTAssertEqual(trades.map(\.pattern), [ClosedTradeLedger.unattributed, ClosedTradeLedger.unattributed])
        XCTAssertEqual(trades.reduce(Decimal(0)) { $0 + $1.commission }, 7)
    }
}
