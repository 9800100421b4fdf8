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
}
