import Foundation
import XCTest
import TMTModels
@testable import TMTTrading

/// A rollout stage is judged on the trades its variant's signals opened, never on who holds them.
final class RolloutTradeSplitTests: XCTestCase {
    func trade(_ id: String, account: String, entry: Int64, pnl: Decimal, experiment: String?) -> ClosedTrade {
        var t = closedTrade(id, exit: entry + 60_000, pnl: pnl, account: account)
        t.entryTime = entry
        t.experiment = experiment
        return t
    }

    func testAVariantAccountsBaselineTradesAreBaselineTradesAndTheStageWaitsForTaggedOnes() {
        let since: Int64 = 1_000_000
        // acc-v is in the variant's stage, but wyckoff refused the update (DLQ): every trade it
        // makes comes from baseline signals. Judged by account, the stage would "see" them.
        let trades = [
            trade("v1", account: "acc-v", entry: since + 1, pnl: -500, experiment: nil),
            trade("v2", account: "acc-v", entry: since + 2, pnl: -400, experiment: nil),
            trade("b1", account: "acc-b", entry: since + 3, pnl: 100, experiment: nil),
            trade("old", account: "acc-v", entry: since - 1, pnl: 50, experiment: "exp-1"),
            trade("other", account: "acc-c", entry: since + 4, pnl: 70, experiment: "exp-9"),
        ]
        let split = RolloutTradeSplit(trades: trades, experiment: "exp-1", sinceMillis: since)
        XCTAssertEqual(split.variant.map(\.id), [])
        XCTAssertEqual(split.baseline.map(\.id), ["v1", "v2", "b1"])
        XCTAssertFalse(split.isJudgeable, "no trade of the variant yet: nothing to judge")

        // Once the update is applied, the variant's own signals open tagged trades.
        let applied = trades + [trade("v3", account: "acc-v", entry: since + 5, pnl: 30, experiment: "exp-1")]
        let later = RolloutTradeSplit(trades: applied, experiment: "exp-1", sinceMillis: since)
        XCTAssertEqual(later.variant.map(\.id), ["v3"])
        XCTAssertTrue(later.isJudgeable)
        XCTAssertFalse(later.baseline.contains { $0.experiment != nil }, "another experiment's trades are in neither group")
    }

    /// The stage starts on the wall clock; entries are market time, which a simulated market runs
    /// ahead of (4× by default) or behind (a replay of the past). Trades count by when their
    /// opening order was created, so the previous stage's trades are not judged again and a
    /// market behind the wall clock does not leave the stage unjudgeable.
    func testTradesCountByWhenTheirOpeningOrderWasCreatedNotByMarketTime() {
        let since: Int64 = 1_800_000_000_000
        var previousStage = trade("prev", account: "acc-v", entry: since + 3_600_000, pnl: -900, experiment: "exp-1")
        previousStage.orderedAt = since - 60_000
        var replayed = trade("now", account: "acc-v", entry: since - 86_400_000, pnl: 40, experiment: "exp-1")
        replayed.orderedAt = since + 5_000
        var baseline = trade("base", account: "acc-b", entry: since - 86_400_000, pnl: 10, experiment: nil)
        baseline.orderedAt = since + 6_000
        let split = RolloutTradeSplit(trades: [previousStage, replayed, baseline], experiment: "exp-1", sinceMillis: since)
        XCTAssertEqual(split.variant.map(\.id), ["now"])
        XCTAssertEqual(split.baseline.map(\.id), ["base"])
        XCTAssertTrue(split.isJudgeable)
    }

    /// The ledger carries the opening order's creation time (µs in, ms out) to the trade, and a
    /// flip's new position takes the flipping order's.
    func testTheLedgerCarriesTheOpeningOrdersTime() {
        func fill(_ id: String, _ order: String, _ side: Side, _ lots: Decimal, _ price: Decimal, at t: Int64, ordered: Int64) -> ClosedTradeLedger.FillRecord {
            ClosedTradeLedger.FillRecord(id: id, orderId: order, accountId: "a", instrument: "EUR_USD", side: side, quantity: lots, price: price,
                                         commission: 0, realizedPnL: 0, time: t, pattern: "spring", orderedAt: ordered)
        }
        let trades = ClosedTradeLedger().trades(from: [
            fill("f1", "o1", .buy, 1, 1.1, at: 1_000_000, ordered: 7_000_000),
            fill("f2", "o2", .buy, 1, 1.2, at: 2_000_000, ordered: 8_000_000),
            fill("f3", "o3", .sell, 3, 1.3, at: 3_000_000, ordered: 9_000_000),
            fill("f4", "o4", .buy, 1, 1.2, at: 4_000_000, ordered: 10_000_000),
        ])
        XCTAssertEqual(trades.map(\.orderedAt), [7_000, 9_000], "the long opened by o1 (an add by o2 keeps it); the short opened by the flip o3")
    }
}
