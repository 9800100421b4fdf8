import Foundation
import XCTest
@testable import TMTTrading

final class TradeStatisticsTests: XCTestCase {
    /// Starting balance 10 000; net P&Ls in exit order +190 (200 − 10 commission), −110
    /// (−100 − 10), +300, −400, +150. Given shuffled to prove exit-time ordering.
    private let trades: [ClosedTrade] = [
        closedTrade("t4", exit: 4_000, pnl: -400, account: "acc-2", instrument: "GBPUSD", pattern: "upthrust", side: .sell),
        closedTrade("t1", exit: 1_000, pnl: 200, commission: 10, account: "acc-1", instrument: "EURUSD", pattern: "spring"),
        closedTrade("t5", exit: 5_000, pnl: 150, account: "acc-2", instrument: "EURUSD", pattern: "spring"),
        closedTrade("t2", exit: 2_000, pnl: -100, commission: 10, account: "acc-1", instrument: "GBPUSD", pattern: "upthrust", side: .sell),
        closedTrade("t3", exit: 3_000, pnl: 300, account: "acc-1", instrument: "EURUSD", pattern: "spring"),
    ]

    func testHandBuiltTradeListGivesHandComputedFigures() throws {
        let stats = TradeStatistics(trades: trades, startingBalance: 10_000, tradesPerYear: 252)
        XCTAssertEqual(stats.count, 5)
        XCTAssertEqual(stats.wins, 3)
        XCTAssertEqual(stats.losses, 2)
        XCTAssertEqual(stats.winRate, 0.6, accuracy: 1e-12)            // 3 / 5
        XCTAssertEqual(stats.grossProfit, 640)                         // 190 + 300 + 150
        XCTAssertEqual(stats.grossLoss, 510)                           // 110 + 400
        XCTAssertEqual(stats.netProfit, 130)                           // 640 − 510
        XCTAssertEqual(try XCTUnwrap(stats.profitFactor), 640.0 / 510.0, accuracy: 1e-12) // 1.2549…
        XCTAssertFalse(stats.profitFactorIsInfinite)
        XCTAssertEqual(stats.expectancy, 26)                           // 130 / 5
        // Equity 10 000 → 10 190 (peak) → 10 080 → 10 380 (peak) → 9 980 → 10 130:
        // the deepest fall is 10 380 − 9 980 = 400, i.e. 400 / 10 380 = 3.8536 % of that peak.
        XCTAssertEqual(stats.maxDrawdown, 400)
        XCTAssertEqual(stats.maxDrawdownPercent, 3.8535645472061653, accuracy: 1e-9)
        // Returns on equity before each trade: 190/10 000 = 0.019, −110/10 190 = −0.0107949,
        // 300/10 080 = 0.0297619, −400/10 380 = −0.0385356, 150/9 980 = 0.0150301.
        // Mean 0.00289228, sample stdev 0.02753349 → Sharpe 0.10504604; × √252 = 1.66755425.
        XCTAssertEqual(stats.meanReturn, 0.002892284490456363, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(stats.sharpe), 0.10504604373089603, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(stats.annualisedSharpe), 1.667554247538999, accuracy: 1e-8)
    }

    func testGroupingSplitsByPatternInstrumentAndAccount() throws {
        let analytics = TradeAnalytics(startingBalance: 10_000, accountBalances: ["acc-2": 5_000])
        let byPattern = analytics.grouped(trades, by: .pattern)
        XCTAssertEqual(Set(byPattern.keys), ["spring", "upthrust"])
        XCTAssertEqual(byPattern["spring"]?.netProfit, 640)            // 190 + 300 + 150
        XCTAssertEqual(byPattern["upthrust"]?.netProfit, -510)         // −110 − 400
        XCTAssertEqual(byPattern["upthrust"]?.winRate, 0)

        let byInstrument = analytics.grouped(trades, by: .instrument)
        XCTAssertEqual(byInstrument["EURUSD"]?.count, 3)
        XCTAssertEqual(byInstrument["GBPUSD"]?.expectancy, -255)       // −510 / 2

        let byAccount = analytics.grouped(trades, by: .account)
        XCTAssertEqual(byAccount["acc-1"]?.netProfit, 380)             // 190 − 110 + 300
        // acc-2 starts at its own 5 000: −400 takes it to 4 600, a drawdown of 400 / 5 000 = 8 %.
        let acc2 = try XCTUnwrap(byAccount["acc-2"])
        XCTAssertEqual(acc2.maxDrawdown, 400)
        XCTAssertEqual(acc2.maxDrawdownPercent, 8, accuracy: 1e-12)
        XCTAssertEqual(analytics.overall(trades).netProfit, 130)
    }

    /// The report (what the agent stores) sorts once for every group: each row is the group's
    /// own statistics as computed alone, with its first and last exit, whatever the input order.
    func testReportRowsAreEachGroupsOwnStatistics() throws {
        let analytics = TradeAnalytics(startingBalance: 10_000, accountBalances: ["acc-2": 5_000])
        let rows = analytics.report(Array(trades.reversed()))
        XCTAssertEqual(rows.map { "\($0.dimension)/\($0.key)" }, [
            "account/acc-1", "account/acc-2", "instrument/EURUSD", "instrument/GBPUSD", "overall/all", "pattern/spring", "pattern/upthrust",
        ])
        for row in rows {
            let members = trades.filter {
                switch row.dimension {
                case "account": $0.account == row.key
                case "instrument": $0.instrument == row.key
                case "pattern": $0.pattern == row.key
                default: true
                }
            }
            let balance: Decimal = row.key == "acc-2" ? 5_000 : 10_000
            XCTAssertEqual(row.statistics, TradeStatistics(trades: members.shuffled(), startingBalance: balance), "\(row.dimension)/\(row.key)")
            XCTAssertEqual(row.firstExitAt, members.map(\.exitTime).min())
            XCTAssertEqual(row.lastExitAt, members.map(\.exitTime).max())
        }
        XCTAssertEqual(rows.first { $0.key == "acc-2" }?.statistics.maxDrawdownPercent ?? -1, 8, accuracy: 1e-12)
    }

    func testProfitFactorWithoutLossesIsReportedAsInfinite() {
        let winners = [closedTrade("w1", exit: 1, pnl: 50), closedTrade("w2", exit: 2, pnl: 70)]
        let stats = TradeStatistics(trades: winners, startingBalance: 1_000)
        XCTAssertNil(stats.profitFactor)
        XCTAssertTrue(stats.profitFactorIsInfinite)
        XCTAssertEqual(stats.grossLoss, 0)
        XCTAssertEqual(stats.maxDrawdown, 0)

        let none = TradeStatistics(trades: [], startingBalance: 1_000)
        XCTAssertNil(none.profitFactor)
        XCTAssertFalse(none.profitFactorIsInfinite, "no trades: undefined, not infinite")
        XCTAssertEqual(none.expectancy, 0)
        XCTAssertNil(none.sharpe)
    }

    func testCommissionTurnsASmallWinIntoALoss() throws {
        let stats = TradeStatistics(trades: [closedTrade("c", exit: 1, pnl: 5, commission: 7),
                                             closedTrade("d", exit: 2, pnl: 10)], startingBalance: 1_000)
        XCTAssertEqual(stats.losses, 1)                                // 5 − 7 = −2
        XCTAssertEqual(try XCTUnwrap(stats.profitFactor), 5, accuracy: 1e-12) // 10 / 2
    }

    func testDrawdownOfAKnownCurveIsMeasuredFromItsPeak() {
        // 1 000 → 1 500 (peak) → 1 200 → 750 → 850: deepest fall 1 500 − 750 = 750, 50 % of 1 500
        // (measured against the starting balance it would wrongly be 75 %).
        let stats = TradeStatistics(trades: closedTrades([500, -300, -450, 100], prefix: "dd"), startingBalance: 1_000)
        XCTAssertEqual(stats.maxDrawdown, 750)
        XCTAssertEqual(stats.maxDrawdownPercent, 50, accuracy: 1e-12)
        XCTAssertEqual(stats.netProfit, -150)
    }

    func testExpectancyKeepsExactDecimalCents() {
        // 0.10 + 0.20 + 0.05 = 0.35 exactly (binary floating point would give 0.35000000000000003);
        // 0.35 / 3 = 0.1166666666… rounded to 10 places.
        let stats = TradeStatistics(trades: [closedTrade("a", exit: 1, pnl: Decimal(string: "0.10")!),
                                             closedTrade("b", exit: 2, pnl: Decimal(string: "0.20")!),
                                             closedTrade("c", exit: 3, pnl: Decimal(string: "0.05")!)],
                                    startingBalance: 100)
        XCTAssertEqual(stats.netProfit, Decimal(string: "0.35")!)
        XCTAssertEqual(stats.expectancy, Decimal(string: "0.1166666667")!)
    }
}
