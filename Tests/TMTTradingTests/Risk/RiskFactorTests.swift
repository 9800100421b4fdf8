import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// The three factors on their own: the volatility mapping at its breakpoints and an ATR
/// percentile from bars computed by hand, the drawdown mapping from account states, and the
/// correlation factor's sign handling and weighting.
final class RiskFactorTests: XCTestCase {
    typealias F = RiskFixture

    // MARK: - Volatility

    func testVolatilityMappingAtItsBreakpoints() {
        let p = VolatilityFactor.Parameters()
        XCTAssertEqual(VolatilityFactor.factor(percentile: 0, parameters: p), 1)
        XCTAssertEqual(VolatilityFactor.factor(percentile: 50, parameters: p), 1)
        // 1 − (72.5 − 50) / 45 × 0.5 = 1 − 0.25 = 0.75.
        XCTAssertEqual(VolatilityFactor.factor(percentile: F.d("72.5"), parameters: p), F.d("0.75"))
        // 1 − 33.2 / 45 × 0.5 = 0.63111… → 0.6311 (rounded down).
        XCTAssertEqual(VolatilityFactor.factor(percentile: F.d("83.2"), parameters: p), F.d("0.6311"))
        XCTAssertEqual(VolatilityFactor.factor(percentile: 95, parameters: p), F.d("0.5"))
        XCTAssertEqual(VolatilityFactor.factor(percentile: 100, parameters: p), F.d("0.5"))
    }

    func testATRPercentileFromAConstructedBarSeries() {
        // Close 100 throughout, so each true range is the bar's high − low:
        // TR = 2, 2, 4, 4, 6, 6, 2, 2, 6. Wilder ATR(2): first (2 + 2) / 2 = 2, then
        // (ATR + TR) / 2: 3, 3.5, 4.75, 5.375, 3.6875, 2.84375, and now 4.421875.
        // Earlier ATRs below 4.421875: 2, 3, 3.5, 3.6875, 2.84375 → 5 of 7 = 71.43 %.
        // Factor = 1 − (71.43 − 50) / 45 × 0.5 = 0.76188… → 0.7618.
        let p = VolatilityFactor.Parameters(atrPeriod: 2, lookbackBars: 10, minimumSamples: 5)
        let bars = F.rangeBars("US30", ranges: [2, 2, 4, 4, 6, 6, 2, 2, 6])
        let v = VolatilityFactor.assess(bars: bars.reversed(), parameters: p)
        XCTAssertEqual(v.atr, 4.421875)
        XCTAssertEqual(v.samples, 7)
        XCTAssertEqual(v.percentile, F.d("71.43"))
        XCTAssertEqual(v.factor, F.d("0.7618"))
        XCTAssertNil(v.note)

        // The lookback limits the distribution: the last 3 earlier ATRs are 5.375, 3.6875,
        // 2.84375; two are below → 66.67 % → 1 − 16.67 / 90 = 0.81477… → 0.8147.
        let short = VolatilityFactor.assess(bars: bars, parameters: .init(atrPeriod: 2, lookbackBars: 3, minimumSamples: 2))
        XCTAssertEqual(short.percentile, F.d("66.67"))
        XCTAssertEqual(short.factor, F.d("0.8147"))

        // One more bar with TR 10: ATR (4.421875 + 10) / 2 = 7.2109375, above every earlier one
        // → percentile 100 → the floor, 0.5.
        let spike = VolatilityFactor.assess(bars: F.rangeBars("US30", ranges: [2, 2, 4, 4, 6, 6, 2, 2, 6, 10]), parameters: p)
        XCTAssertEqual(spike.atr, 7.2109375)
        XCTAssertEqual(spike.percentile, 100)
        XCTAssertEqual(spike.factor, F.d("0.5"))
    }

    func testTooFewBarsGiveTheConservativeDefaultAndSaySo() {
        let p = VolatilityFactor.Parameters(atrPeriod: 2, lookbackBars: 10, minimumSamples: 5)
        // 5 bars → ATRs after bars 2…5 = 4 values; 3 earlier ones < 5 needed.
        let few = VolatilityFactor.assess(bars: F.rangeBars("US30", ranges: [2, 2, 4, 4, 6]), parameters: p)
        XCTAssertEqual(few.factor, F.d("0.75"))
        XCTAssertNil(few.percentile)
        XCTAssertEqual(few.note, "only 3 earlier ATR values, 5 needed for a percentile; default factor 0.75")
        let none = VolatilityFactor.assess(bars: F.rangeBars("US30", ranges: [2]), parameters: p)
        XCTAssertEqual(none.factor, F.d("0.75"))
        XCTAssertNil(none.atr)
        XCTAssertEqual(none.note, "only 1 bar, ATR(2) needs 2; default factor 0.75")
    }

    // MARK: - Drawdown

    private func drawdown(equity: String, dailyPnL: String = "0", limit: Decimal? = nil) -> DrawdownFactor {
        DrawdownFactor.assess(account: F.account(equity, equity: equity, highWaterMark: "100000", dailyPnL: dailyPnL),
                              dailyLossLimit: limit, parameters: .init())
    }

    func testDrawdownMappingAtItsBreakpoints() {
        // High-water mark 100,000: d = 2 % → 1; 3 % → 1 − 1/6 × 0.75 = 0.875; 5 % → 0.625;
        // 8 % → 0.25; 15 % → 0.25.
        XCTAssertEqual(drawdown(equity: "100000").factor, 1)
        XCTAssertEqual(drawdown(equity: "98000").factor, 1)
        XCTAssertEqual(drawdown(equity: "97000").factor, F.d("0.875"))
        XCTAssertEqual(drawdown(equity: "95000").factor, F.d("0.625"))
        XCTAssertEqual(drawdown(equity: "92000").factor, F.d("0.25"))
        XCTAssertEqual(drawdown(equity: "85000").factor, F.d("0.25"))
        XCTAssertEqual(drawdown(equity: "96900").drawdownPercent, F.d("3.1"))
    }

    func testDailyLossUseReducesRiskAndTheStricterPartApplies() {
        // Limit 5,000: 2,500 lost = 50 % → 1; 3,500 = 70 % → 1 − 20/40 × 0.75 = 0.625;
        // 4,500 = 90 % → 0.25. A profitable day uses none of it.
        XCTAssertEqual(drawdown(equity: "100000", dailyPnL: "-2500", limit: 5000).factor, 1)
        XCTAssertEqual(drawdown(equity: "100000", dailyPnL: "-3500", limit: 5000).factor, F.d("0.625"))
        XCTAssertEqual(drawdown(equity: "100000", dailyPnL: "-4500", limit: 5000).factor, F.d("0.25"))
        XCTAssertEqual(drawdown(equity: "100000", dailyPnL: "800", limit: 5000).dailyLossUsedPercent, 0)
        // 3 % drawdown (0.875) and 70 % of the daily limit (0.625): the smaller wins.
        let both = drawdown(equity: "97000", dailyPnL: "-3500", limit: 5000)
        XCTAssertEqual(both.highWaterFactor, F.d("0.875"))
        XCTAssertEqual(both.dailyFactor, F.d("0.625"))
        XCTAssertEqual(both.factor, F.d("0.625"))
        // A zero allowance counts as used up.
        XCTAssertEqual(drawdown(equity: "100000", limit: 0).factor, F.d("0.25"))
    }

    // MARK: - Correlation

    /// GBP_USD returns x + z; EUR_USD and AUD_USD returns x; USD_JPY returns −x.
    private let bars: [String: [Bar]] = [
        "GBP_USD": F.bars("GBP_USD", start: "1.27", returns: F.xPlusZ),
        "EUR_USD": F.bars("EUR_USD", start: "1.1", returns: F.x),
        "AUD_USD": F.bars("AUD_USD", start: "0.65", returns: F.x),
        "USD_JPY": F.bars("USD_JPY", start: "150", returns: F.minusX),
    ]

    private func correlation(_ side: Side, _ holdings: [CorrelationFactor.Holding]) -> CorrelationFactor {
        CorrelationFactor.assess(side: side, instrument: "GBP_USD", holdings: holdings, bars: bars, parameters: .init())
    }

    func testSameDirectionCorrelatedPositionReducesOppositeDirectionDoesNot() {
        // ρ(GBP, EUR) = 1/√2 = 0.7071 over 40 common returns.
        let long = correlation(.buy, [.init(instrument: "EUR_USD", quantity: 1, notional: 110_000)])
        XCTAssertEqual(long.exposures.first?.correlation, F.d("0.7071"))
        XCTAssertEqual(long.exposures.first?.samples, 40)
        XCTAssertEqual(long.effectiveCorrelation, F.d("0.7071"))
        // 1 − 0.5 × 0.7071 = 0.64645 → 0.6464.
        XCTAssertEqual(long.factor, F.d("0.6464"))
        XCTAssertEqual(long.strongest?.summary, "0.71 with EUR_USD long")

        // Short EUR_USD and buying GBP_USD hedge each other: signed −0.7071, factor 1.
        let short = correlation(.buy, [.init(instrument: "EUR_USD", quantity: -1, notional: 110_000)])
        XCTAssertEqual(short.effectiveCorrelation, F.d("-0.7071"))
        XCTAssertEqual(short.factor, 1)
        XCTAssertNil(short.strongest)

        // Selling GBP_USD against a long EUR_USD hedges too.
        XCTAssertEqual(correlation(.sell, [.init(instrument: "EUR_USD", quantity: 1, notional: 110_000)]).factor, 1)
    }

    func testNegativeCorrelationFlipsWhichDirectionAddsRisk() {
        // ρ(GBP, USD_JPY) = −0.7071: long USD_JPY + buy GBP_USD hedges (factor 1), short
        // USD_JPY + buy GBP_USD doubles down (signed +0.7071 → 0.6464).
        let longJPY = correlation(.buy, [.init(instrument: "USD_JPY", quantity: 1, notional: 100_000)])
        XCTAssertEqual(longJPY.exposures.first?.correlation, F.d("-0.7071"))
        XCTAssertEqual(longJPY.factor, 1)
        let shortJPY = correlation(.buy, [.init(instrument: "USD_JPY", quantity: -1, notional: 100_000)])
        XCTAssertEqual(shortJPY.exposures.first?.signedCorrelation, F.d("0.7071"))
        XCTAssertEqual(shortJPY.factor, F.d("0.6464"))
    }

    func testCorrelationIsWeightedByNotional() {
        // Long EUR_USD 110,000 USD (+0.7071) and short AUD_USD 65,000 USD (−0.7071):
        // ρ_eff = 0.7071 × (110,000 − 65,000) / 175,000 = 0.18183 → 0.1818;
        // factor = 1 − 0.5 × 0.1818 = 0.9091.
        let c = correlation(.buy, [.init(instrument: "EUR_USD", quantity: 1, notional: 110_000),
                                   .init(instrument: "AUD_USD", quantity: -1, notional: 65_000)])
        XCTAssertEqual(c.effectiveCorrelation, F.d("0.1818"))
        XCTAssertEqual(c.factor, F.d("0.9091"))
    }

    func testTooFewOverlappingBarsGiveFactorOneWithANote() {
        var short = bars
        short["EUR_USD"] = Array(F.bars("EUR_USD", start: "1.1", returns: F.x).prefix(11))
        let c = CorrelationFactor.assess(side: .buy, instrument: "GBP_USD",
                                         holdings: [.init(instrument: "EUR_USD", quantity: 1, notional: 110_000)], bars: short,
                                         parameters: .init())
        XCTAssertEqual(c.factor, 1)
        XCTAssertNil(c.effectiveCorrelation)
        XCTAssertEqual(c.notes, ["EUR_USD: 10 common returns, 30 needed; left out",
                                 "no position with enough overlapping bars; factor 1"])
    }

    func testSizerAppliesTheCorrelationSign() {
        // Raw 5.00 lots (1,000 USD / 20 pips); GBP_USD has 41 bars → volatility default 0.75.
        // Long EUR_USD held: 5 × 0.75 × 0.6464 = 2.424 → 2.42. Short EUR_USD held: 5 × 0.75 = 3.75.
        let m = RiskMarketSnapshot(ticks: [F.tick("GBP_USD", bid: "1.26990", ask: "1.27000"), F.tick("EUR_USD", bid: "1.09990", ask: "1.10010")],
                                   bars: bars)
        let sig = F.signal("GBP_USD", .buy, entry: "1.27000", stop: "1.26800", target: "1.28000")
        func lots(holding quantity: Decimal) -> Decimal {
            let held = Position(accountId: "acct-1", instrument: "EUR_USD", quantity: quantity, averagePrice: F.d("1.1"))
            return F.sizer().size(signal: sig, for: RiskAccountState(account: F.account("100000"), positions: [held]), market: m).lots
        }
        XCTAssertEqual(lots(holding: 1), F.d("2.42"))
        XCTAssertEqual(lots(holding: -1), F.d("3.75"))
    }
}
