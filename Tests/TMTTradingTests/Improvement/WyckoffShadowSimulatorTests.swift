import Foundation
import XCTest
import TMTModels
@testable import TMTTrading

/// The shadow simulator on the hand-built spring of `WyckoffHandBars`: the detector signals a long
/// at bar 29 (entry 1.1005, stop 1.0980, target 1.1200), the simulator buys at bar 30's open and
/// closes on whichever level a later bar reaches. The fill model is set up for pencil and paper:
/// EUR_USD only, spread 0.8 pip (quotes = mid ± 0.00004), one lot of depth at the touch without
/// session scaling, so one lot slips k = 0.5 pip = 0.00005, and 3.5 USD commission per side.
final class WyckoffShadowSimulatorTests: XCTestCase {
    typealias H = WyckoffHandBars

    func model() throws -> FillModel {
        let liquidity = InstrumentLiquidity(touchDepthLots: 1, levelStepPoints: 2, typicalSpreadPips: 0.8, slippagePipsAtDepth: 0.5,
                                            maxSlippagePips: 3)
        return try FillModel(configuration: FillModelConfiguration(scalesDepthBySession: false, instruments: ["EUR_USD": .eurUsd],
                                                                   liquidity: ["EUR_USD": liquidity]))
    }

    func simulator() throws -> WyckoffShadowSimulator {
        try WyckoffShadowSimulator(baseline: H.parameters, model: try model(), lots: 1)
    }

    /// The range, the spring (bar 29) and the entry bar 30, which reaches neither level
    /// (bid 1.09996 … 1.10296).
    func springAndEntry() -> H {
        var h = H()
        h.range(cycles: 2)
        h.up(lows: [0, 20, 40, 60, 80])
        h.down(lows: [80, 60, 40, 20])
        h.add(low: -10, high: 20, open: 20, close: 5, volume: 2_000)
        h.add(low: 0, high: 30, open: 5, close: 25)
        return h
    }

    func testTheSpringsLongFillsAtTheNextOpenAndTakesProfitAtTheTarget() throws {
        var h = springAndEntry()
        // Bid high 1.12096 ≥ target 1.1200 from an open below it: a limit at the target.
        h.add(low: 20, high: 210, open: 25, close: 200)
        let trades = try simulator().simulate(bars: h.bars, parameters: [:])
        XCTAssertEqual(trades.count, 1)
        let t = try XCTUnwrap(trades.first)
        XCTAssertEqual(t.id, "shadow:EUR_USD-\(h.bars[29].start)-spring:take-profit")
        XCTAssertEqual(t.side, .buy)
        XCTAssertEqual(t.pattern, "spring")
        // Ask at the open 1.1005 + 0.00004, plus 0.5 pip slippage: 1.10059.
        XCTAssertEqual(t.entryPrice, Decimal(string: "1.10059"))
        XCTAssertEqual(t.entryTime, h.bars[30].start / 1000)
        XCTAssertEqual(t.exitPrice, Decimal(string: "1.12"))
        XCTAssertEqual(t.exitTime, h.bars[31].start / 1000)
        XCTAssertEqual(t.quantity, 100_000)
        // 100,000 × (1.12 − 1.10059) = 1,941 USD; commission 2 × 3.5.
        XCTAssertEqual(t.pnl, 1_941)
        XCTAssertEqual(t.commission, 7)
        XCTAssertEqual(t.netPnL, 1_934)
    }

    func testALaterBarBelowTheStopClosesAtTheStopWithSlippage() throws {
        var h = springAndEntry()
        // Bid low 1.09696 ≤ stop 1.0980, opening above it: a market sell at 1.0980 − 0.00005.
        h.add(low: -30, high: 30, open: 25, close: -25)
        let t = try XCTUnwrap(try simulator().simulate(bars: h.bars, parameters: [:]).first)
        XCTAssertEqual(t.id, "shadow:EUR_USD-\(h.bars[29].start)-spring:stop-loss")
        XCTAssertEqual(t.exitPrice, Decimal(string: "1.09795"))
        // 100,000 × (1.09795 − 1.10059) = −264 USD.
        XCTAssertEqual(t.pnl, -264)
        XCTAssertEqual(t.netPnL, -271)
    }

    func testABarReachingBothLevelsCountsAsTheStop() throws {
        var h = springAndEntry()
        h.add(low: -30, high: 210, open: 25, close: 0)
        let trades = try simulator().simulate(bars: h.bars, parameters: [:])
        XCTAssertEqual(trades.map(\.pnl), [-264])
        XCTAssertEqual(trades.first?.exitPrice, Decimal(string: "1.09795"))
    }

    func testAGapThroughTheStopFillsAtTheGappedOpen() throws {
        var h = springAndEntry()
        // Opens at 1.0960 (bid 1.09596), below the stop: filled there, less slippage.
        h.add(low: -50, high: -20, open: -40, close: -30)
        let t = try XCTUnwrap(try simulator().simulate(bars: h.bars, parameters: [:]).first)
        XCTAssertEqual(t.exitPrice, Decimal(string: "1.09591"))
        XCTAssertEqual(t.pnl, -468)
    }

    func testAPositionStillOpenAtTheEndIsNoTradeAndVariantsChangeTheOutcome() throws {
        let open = springAndEntry()
        XCTAssertEqual(try simulator().simulate(bars: open.bars, parameters: [:]), [])

        var h = springAndEntry()
        h.add(low: 20, high: 210, open: 25, close: 200)
        // A confidence floor the spring cannot reach: no signal, no trade.
        XCTAssertEqual(try simulator().simulate(bars: h.bars, parameters: ["minConfidence": "0.99"]), [])
        // The range's opposite side as target (1.1100): reached by the same bar, less profit.
        let nearer = try XCTUnwrap(try simulator().simulate(bars: h.bars, parameters: ["targetRule": "rangeOpposite"]).first)
        XCTAssertEqual(nearer.exitPrice, Decimal(string: "1.11"))
        XCTAssertEqual(nearer.pnl, 941)
        XCTAssertThrowsError(try simulator().simulate(bars: h.bars, parameters: ["noSuchField": "1"])) { error in
            XCTAssertEqual((error as? WyckoffParameters.InvalidParameter)?.field, "noSuchField")
        }
    }

    func testASignalWhoseNextBarComesAfterTheOrdersLifetimeIsNotTraded() throws {
        var h = springAndEntry()
        h.add(low: 20, high: 210, open: 25, close: 200)
        // The market is closed for two minutes after the spring: the market order (60 s to live)
        // would have expired before the next bar.
        var bars = h.bars
        for i in 30..<bars.count { bars[i].start += 120_000_000 }
        XCTAssertEqual(try simulator().simulate(bars: bars, parameters: [:]), [])
    }

    func testAnInstrumentTheFillModelDoesNotKnowIsRefused() throws {
        var h = springAndEntry()
        h.bars[0].instrument = "XXX_YYY"
        XCTAssertThrowsError(try simulator().simulate(bars: h.bars, parameters: [:]))
        XCTAssertThrowsError(try WyckoffShadowSimulator(model: try model(), lots: 0))
    }
}
