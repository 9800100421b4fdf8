import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// Sizes checked by hand: pip values across quote and account currencies, rounding down to
/// the lot step, the caps (firm max lots, position, daily loss, margin), the multiplier, the
/// skips, and the order and decision that carry the breakdown. Unless a test says otherwise
/// the volatility factor is 1 (calming bars, ATR percentile 0), the drawdown factor is 1 (no
/// drawdown) and the correlation factor is 1 (no open positions), so lots = raw lots.
final class RiskSizingTests: XCTestCase {
    typealias F = RiskFixture

    private func market(_ ticks: [Tick], calm symbols: [(String, String, String)]) -> RiskMarketSnapshot {
        var bars: [String: [Bar]] = [:]
        for (symbol, price, step) in symbols { bars[symbol] = F.calmingBars(symbol, price: price, step: step) }
        return RiskMarketSnapshot(ticks: ticks, bars: bars)
    }

    private func assertFactorsAreOne(_ b: RiskBreakdown, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(b.volatility?.factor, 1, "volatility", file: file, line: line)
        XCTAssertEqual(b.volatility?.percentile, 0, "ATR percentile", file: file, line: line)
        XCTAssertEqual(b.drawdown?.factor, 1, "drawdown", file: file, line: line)
        XCTAssertEqual(b.correlation?.factor, 1, "correlation", file: file, line: line)
    }

    // MARK: - Pip values and sizes, by hand

    func testEURUSDOnAUSDAccountTenDollarsAPipFiveLots() {
        // 100,000 USD × 1 % = 1,000 USD at risk. Stop 1.10000 − 1.09800 = 0.00200 (20 pips).
        // Quote USD = account USD → rate 1; 1 lot = 100,000 EUR, so a 1.0 move = 100,000 USD
        // and a pip = 0.0001 × 100,000 = 10 USD. Loss per lot = 20 pips × 10 = 200 USD.
        // Lots = 1,000 / 200 = 5.00.
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let r = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600"),
                               for: RiskAccountState(account: F.account("100000")), market: m)
        XCTAssertNil(r.skip)
        XCTAssertEqual(r.lots, F.d("5"))
        let b = r.breakdown
        XCTAssertEqual(b.riskAmount, 1000)
        XCTAssertEqual(b.stopDistance, F.d("0.002"))
        XCTAssertEqual(b.conversion?.rate, 1)
        XCTAssertEqual(b.valuePerPip, 10)
        XCTAssertEqual(b.valuePerLot, 100_000)
        XCTAssertEqual(b.lossPerLot, 200)
        XCTAssertEqual(b.rawLots, 5)
        XCTAssertEqual(b.boundBy, "risk")
        assertFactorsAreOne(b)
    }

    func testEURUSDSizeRoundsDownToTheLotStep() {
        // Stop 23 pips: loss per lot 230 USD; 1,000 / 230 = 4.3478… → 4.34 (never 4.35: that
        // would risk 1,000.50 USD).
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let r = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09770", target: "1.10600"),
                               for: RiskAccountState(account: F.account("100000")), market: m)
        XCTAssertEqual(r.lots, F.d("4.34"))
        XCTAssertEqual(r.breakdown.rawLots, F.d("4.34782608"))
        XCTAssertLessThanOrEqual(r.lots * r.breakdown.lossPerLot!, 1000)
    }

    func testUSDJPYOnAUSDAccountPipValueComesFromTheLiveQuote() {
        // USD_JPY mid (149.990 + 150.010) / 2 = 150.000. 1 pip = 0.01 × 100,000 = 1,000 JPY
        // = 1,000 / 150 = 6.67 USD. Buy at the ask 150.010, stop 149.560: 0.450 = 45 pips.
        // Loss per lot = 0.45 × 100,000 / 150 = 45,000 JPY / 150 = 300 USD.
        // Lots = 1,000 / 300 = 3.333… → 3.33.
        let m = market([F.tick("USD_JPY", bid: "149.990", ask: "150.010")], calm: [("USD_JPY", "150.000", "0.001")])
        let r = F.sizer().size(signal: F.signal("USD_JPY", .buy, entry: "150.010", stop: "149.560", target: "151.000"),
                               for: RiskAccountState(account: F.account("100000")), market: m)
        XCTAssertNil(r.skip)
        XCTAssertEqual(r.lots, F.d("3.33"))
        let b = r.breakdown
        XCTAssertEqual(b.conversion?.path, "1 / USD_JPY mid 150")
        XCTAssertEqual(RiskDecimal.round(b.valuePerPip!, 2), F.d("6.67"))
        XCTAssertEqual(RiskDecimal.round(b.lossPerLot!, 8), 300)
        XCTAssertEqual(b.rawLots, F.d("3.33333333"))
        XCTAssertEqual(r.decision.figures["valuePerPip"], "6.6667")
        assertFactorsAreOne(b)
    }

    func testXAUUSDOneLotIsAHundredOunces() {
        // 50,000 USD × 1 % = 500 USD. 1 lot = 100 oz, so a 1.00 move = 100 USD per lot.
        // Buy at 2,000.50, stop 1,993.00: 7.50 → 750 USD per lot. 500 / 750 = 0.666… → 0.66.
        let m = market([F.tick("XAU_USD", bid: "2000.00", ask: "2000.50")], calm: [("XAU_USD", "2000.00", "0.01")])
        let r = F.sizer().size(signal: F.signal("XAU_USD", .buy, entry: "2000.50", stop: "1993.00", target: "2020.00"),
                               for: RiskAccountState(account: F.account("50000")), market: m)
        XCTAssertNil(r.skip)
        XCTAssertEqual(r.lots, F.d("0.66"))
        XCTAssertEqual(r.breakdown.valuePerLot, 100)
        XCTAssertEqual(r.breakdown.valuePerPip, 1)
        XCTAssertEqual(r.breakdown.lossPerLot, 750)
        assertFactorsAreOne(r.breakdown)
    }

    func testGBPUSDOnAEURAccountConvertsUSDThroughEURUSD() {
        // 100,000 EUR × 1 % = 1,000 EUR. GBP_USD buy at 1.27000, stop 1.26750: 0.0025 → 250 USD
        // per lot. USD → EUR at 1 / EUR_USD mid 1.08000: 250 / 1.08 = 231.48 EUR per lot.
        // Lots = 1,000 × 1.08 / 250 = 4.32 exactly.
        let m = market([F.tick("GBP_USD", bid: "1.26990", ask: "1.27000"), F.tick("EUR_USD", bid: "1.07990", ask: "1.08010")],
                       calm: [("GBP_USD", "1.27000", "0.00001")])
        let r = F.sizer().size(signal: F.signal("GBP_USD", .buy, entry: "1.27000", stop: "1.26750", target: "1.28000"),
                               for: RiskAccountState(account: F.account("100000", currency: "EUR")), market: m)
        XCTAssertNil(r.skip)
        XCTAssertEqual(r.lots, F.d("4.32"))
        XCTAssertEqual(r.breakdown.rawLots, F.d("4.32"))
        XCTAssertEqual(r.breakdown.conversion?.path, "1 / EUR_USD mid 1.08")
        XCTAssertEqual(RiskDecimal.round(r.breakdown.lossPerLot!, 2), F.d("231.48"))
        XCTAssertEqual(r.decision.figures["currency"], "EUR")
    }

    func testUSDJPYOnAEURAccountCrossesThroughUSD() {
        // 1,000 EUR at risk; 45 pips of USD_JPY = 45,000 JPY = 300 USD (÷ 150) = 277.78 EUR
        // (÷ 1.08). Lots = 1,000 × 150 × 1.08 / 45,000 = 3.6 exactly.
        let m = market([F.tick("USD_JPY", bid: "149.990", ask: "150.010"), F.tick("EUR_USD", bid: "1.07990", ask: "1.08010")],
                       calm: [("USD_JPY", "150.000", "0.001")])
        let r = F.sizer().size(signal: F.signal("USD_JPY", .buy, entry: "150.010", stop: "149.560", target: "151.000"),
                               for: RiskAccountState(account: F.account("100000", currency: "EUR")), market: m)
        XCTAssertEqual(r.lots, F.d("3.6"))
        XCTAssertEqual(r.breakdown.conversion?.path, "(1 / USD_JPY mid 150) × (1 / EUR_USD mid 1.08)")
    }

    func testSizesOnTheLiveAskWhenItIsFurtherFromTheStopThanTheEntry() {
        // Signal entry 1.10000 but the ask has moved to 1.10050: the real distance to the
        // 1.09800 stop is 25 pips → 250 USD per lot; 1,000 / 250 = 4.00 (not 5.00).
        let m = market([F.tick("EUR_USD", bid: "1.10040", ask: "1.10050")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let r = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600"),
                               for: RiskAccountState(account: F.account("100000")), market: m)
        XCTAssertEqual(r.lots, 4)
        XCTAssertEqual(r.breakdown.stopDistance, F.d("0.0025"))
        XCTAssertEqual(r.breakdown.priceSource, "live ask")
    }

    func testPerAccountRiskPercentOverridesTheDefault() {
        // acct-2 risks 0.5 %: 500 USD / 200 USD per lot = 2.50.
        let config = RiskConfiguration(accountRiskPercent: ["acct-2": F.d("0.5")])
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let sig = F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600")
        XCTAssertEqual(F.sizer(config).size(signal: sig, for: RiskAccountState(account: F.account("100000", id: "acct-2")), market: m).lots,
                       F.d("2.5"))
        XCTAssertEqual(F.sizer(config).size(signal: sig, for: RiskAccountState(account: F.account("100000", id: "acct-1")), market: m).lots,
                       5)
    }

    // MARK: - Multiplier

    func testRiskMultiplierScalesTheSizeBeforeCaps() {
        // 5.00 raw lots × 1.5 = 7.50; × 0.5 = 2.50.
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let sig = F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600")
        let up = F.sizer(RiskConfiguration(riskMultiplier: F.d("1.5"))).size(signal: sig, for: RiskAccountState(account: F.account("100000")),
                                                                             market: m)
        XCTAssertEqual(up.lots, F.d("7.5"))
        XCTAssertEqual(up.decision.figures["riskMultiplier"], "1.5")
        let down = F.sizer(RiskConfiguration(riskMultiplier: F.d("0.5"))).size(signal: sig, for: RiskAccountState(account: F.account("100000")),
                                                                               market: m)
        XCTAssertEqual(down.lots, F.d("2.5"))
    }

    // MARK: - Caps

    func testFirmMaxLotsPerOrderBindsAndIsRoundedDownToTheStep() {
        // Risk allows 5.00 lots; the firm allows 2.555 per order → 2.55.
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let state = RiskAccountState(account: F.account("100000"), limits: RiskLimits(maxLotsPerOrder: F.d("2.555")))
        let r = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600"), for: state, market: m)
        XCTAssertEqual(r.lots, F.d("2.55"))
        XCTAssertEqual(r.breakdown.adjustedLots, 5)
        XCTAssertEqual(r.breakdown.boundBy, "maxLotsPerOrder")
        XCTAssertEqual(r.decision.figures["cap.maxLotsPerOrder"], "2.555")
        XCTAssertTrue(r.decision.checks.contains { $0.rule == "cap-maxLotsPerOrder" && $0.detail.hasSuffix("set the size") })
    }

    func testMarginRatherThanRiskSetsTheSize() {
        // 10,000 USD × 1 % = 100 USD; a 2-pip stop loses 20 USD per lot → risk allows 5.00 lots.
        // Margin per lot = 100,000 × 1.10000 × 0.0333 = 3,663 USD. Free margin 10,000 less the
        // 10 % buffer = 9,000 → 9,000 / 3,663 = 2.457… → 2.45 lots.
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let r = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09980", target: "1.10100"),
                               for: RiskAccountState(account: F.account("10000")), market: m)
        XCTAssertEqual(r.breakdown.rawLots, 5)
        XCTAssertEqual(r.breakdown.marginPerLot, 3663)
        XCTAssertEqual(r.breakdown.usableMargin, 9000)
        XCTAssertEqual(r.breakdown.boundBy, "margin")
        XCTAssertEqual(r.lots, F.d("2.45"))
    }

    func testOpenPositionsUseMarginAtTheirLivePrice() {
        // As above plus 1 lot USD_JPY held: margin 100,000 × 150 × 0.0333 JPY = 499,500 JPY
        // = 3,330 USD at 150. Free 10,000 − 3,330 = 6,670; less 10 % = 6,003; / 3,663 = 1.638… → 1.63.
        // USD_JPY has no bars here, so its correlation is left out with a note (factor 1).
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000"), F.tick("USD_JPY", bid: "149.990", ask: "150.010")],
                       calm: [("EUR_USD", "1.10000", "0.00001")])
        let held = Position(accountId: "acct-1", instrument: "USD_JPY", quantity: 1, averagePrice: F.d("148"))
        let r = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09980", target: "1.10100"),
                               for: RiskAccountState(account: F.account("10000"), positions: [held]), market: m)
        XCTAssertEqual(RiskDecimal.round(r.breakdown.usedMargin!, 8), 3330)
        XCTAssertEqual(RiskDecimal.round(r.breakdown.freeMargin!, 8), 6670)
        XCTAssertEqual(r.lots, F.d("1.63"))
        XCTAssertEqual(r.breakdown.correlation?.factor, 1)
        XCTAssertTrue(r.breakdown.correlation?.notes.first?.contains("USD_JPY: 0 common returns") ?? false)
    }

    func testMaxPositionCapLeavesOnlyTheRoomAboveTheHeldPosition() {
        // Long 3 lots EUR_USD, firm max position 5 → a buy may add 2.00; a sell may go to
        // short 5, i.e. 8 lots of room, so risk (5.00) binds. (The calming bars have constant
        // closes, so no return correlation can be measured: factor 1 with a note.)
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let held = Position(accountId: "acct-1", instrument: "EUR_USD", quantity: 3, averagePrice: F.d("1.09"))
        let state = RiskAccountState(account: F.account("100000"), positions: [held], limits: RiskLimits(maxPositionLots: 5))
        let buy = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600"), for: state, market: m)
        XCTAssertEqual(buy.breakdown.cap(.maxPosition)?.lots, 2)
        XCTAssertEqual(buy.breakdown.boundBy, "maxPosition")
        XCTAssertEqual(buy.lots, 2)
        let sell = F.sizer().size(signal: F.signal("EUR_USD", .sell, entry: "1.09990", stop: "1.10190", target: "1.09000"), for: state, market: m)
        XCTAssertEqual(sell.breakdown.cap(.maxPosition)?.lots, 8)
        XCTAssertEqual(sell.breakdown.boundBy, "risk")
        XCTAssertEqual(sell.lots, 5)
    }

    func testDailyLossRoomCapsTheLossAtTheStop() {
        // Daily limit 5,000 USD, 4,800 lost today → 200 USD left = one lot at 200 USD per lot.
        // The drawdown factor's daily part: 96 % of the limit used → 0.25, so risk allows
        // 5.00 × 0.25 = 1.25 lots; the room (1.00) binds.
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let state = RiskAccountState(account: F.account("100000", dailyPnL: "-4800"), limits: RiskLimits(dailyLossLimit: 5000))
        let r = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600"), for: state, market: m)
        XCTAssertEqual(r.breakdown.drawdown?.dailyFactor, F.d("0.25"))
        XCTAssertEqual(r.breakdown.adjustedLots, F.d("1.25"))
        XCTAssertEqual(r.breakdown.boundBy, "dailyLoss")
        XCTAssertEqual(r.lots, 1)
    }

    /// The firm's limits as compliance measures them (`RiskLimits.firm`): a trailing account
    /// near its floor and a firm that measures the day from the higher of the day's start
    /// balance and equity. Sized from the daily limit less `dailyPnL` alone, both orders were
    /// sized past what compliance then rejected (296 of risk against 200 left above the floor;
    /// 416.65 against 340 left of the day).
    func testOrdersAreSizedWithinTheRoomComplianceMeasures() throws {
        let noon = Date(timeIntervalSince1970: 1_800_000_000)
        // trailing-6: 50,000, high-water mark 53,000, equity 50,200: the floor (6 % trailing,
        // stopping at the initial balance) is 50,000, so 200.00 is left.
        let trailing = ComplianceFixture.trailing
        var near = Account(id: "acct-trail", firm: trailing.id, currency: "USD", initialBalance: 50_000)
        near.balance = 50_200
        near.equity = 50_200
        near.highWaterMark = 53_000
        let trailingLimits = RiskLimits.firm(trailing, account: near, at: noon)
        XCTAssertEqual(trailingLimits.maxLossRoom, 200)
        XCTAssertEqual(trailingLimits.dailyLossLimit, 1_500)
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        // 20 pips at 200 USD per lot: 200 left allows 1.00 lot.
        let signal = F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600")
        let sized = F.sizer().size(signal: signal, for: RiskAccountState(account: near, limits: trailingLimits), market: m)
        XCTAssertEqual(sized.breakdown.cap(.maxLoss)?.lots, 1)
        XCTAssertLessThanOrEqual(sized.lots * (sized.breakdown.lossPerLot ?? 0), 200)
        XCTAssertGreaterThan(sized.lots, 0)
        // At the floor: nothing is left, and the skip says why.
        var atFloor = near
        atFloor.equity = 50_000
        let none = F.sizer().size(signal: signal, for: RiskAccountState(account: atFloor, limits: RiskLimits.firm(trailing, account: atFloor, at: noon)),
                                  market: m)
        XCTAssertEqual(none.skip?.code, .maxLossExhausted)

        // strict-4-8: the day started at balance 50,000 and equity 51,000 (the engine's start);
        // equity is 49,300 now. Limit 4 % of 51,000 = 2,040.00, lost 1,700.00: 340.00 left.
        let strict = ComplianceFixture.strict
        var account = Account(id: "acct-strict", firm: strict.id, currency: "USD", initialBalance: 50_000)
        account.balance = 50_000
        account.equity = 49_300
        account.highWaterMark = 51_000
        account.dailyPnL = -700
        account.tradingDay = strict.tradingDay(containing: noon).label
        account.dayStartEquity = 51_000
        let strictLimits = RiskLimits.firm(strict, account: account, at: noon)
        XCTAssertEqual(strictLimits.dailyLossLimit, 2_040)
        XCTAssertEqual(strictLimits.dailyLossRoom, 340)
        let strictSized = F.sizer().size(signal: signal, for: RiskAccountState(account: account, limits: strictLimits), market: m)
        XCTAssertEqual(strictSized.breakdown.cap(.dailyLoss)?.lots, F.d("1.7"))
        XCTAssertLessThanOrEqual(strictSized.lots * (strictSized.breakdown.lossPerLot ?? 0), 340)
    }

    // MARK: - Skips

    func testMissingConversionQuoteSkipsInsteadOfGuessing() {
        // USD_JPY on a USD account with no USD_JPY quote: the JPY → USD rate is unknown.
        let m = RiskMarketSnapshot(ticks: [F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")],
                                   bars: ["USD_JPY": F.calmingBars("USD_JPY", price: "150.000", step: "0.001")])
        let r = F.sizer().size(signal: F.signal("USD_JPY", .buy, entry: "150.010", stop: "149.560", target: "151.000"),
                               for: RiskAccountState(account: F.account("100000")), market: m)
        XCTAssertFalse(r.isSized)
        XCTAssertNil(r.order)
        XCTAssertEqual(r.lots, 0)
        XCTAssertEqual(r.skip?.code, .conversionUnavailable)
        XCTAssertEqual(r.skip?.message, "no live quote converts JPY to USD for the P&L of USD_JPY: need USD_JPY or JPY_USD")
        XCTAssertEqual(r.decision.verdict, .skipped)
        XCTAssertEqual(r.decision.checks.first?.rule, "conversion_unavailable")
        XCTAssertEqual(r.decision.figures["skipReason"], r.skip?.message)

        // GBP_USD on a EUR account without EUR_USD: USD → EUR is unknown.
        let noEUR = RiskMarketSnapshot(ticks: [F.tick("GBP_USD", bid: "1.26990", ask: "1.27000")], bars: [:])
        let eur = F.sizer().size(signal: F.signal("GBP_USD", .buy, entry: "1.27000", stop: "1.26750", target: "1.28000"),
                                 for: RiskAccountState(account: F.account("100000", currency: "EUR")), market: noEUR)
        XCTAssertEqual(eur.skip?.code, .conversionUnavailable)
        XCTAssertTrue(eur.skip!.message.contains("converts USD to EUR"))
    }

    func testSizeBelowOneLotStepIsSkippedWithTheRiskFigures() {
        // 100 USD × 1 % = 1 USD; a 50-pip stop loses 500 USD per lot → 0.002 lots → 0.00.
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let r = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09500", target: "1.11000"),
                               for: RiskAccountState(account: F.account("100")), market: m)
        XCTAssertEqual(r.skip?.code, .belowLotStep)
        XCTAssertEqual(r.breakdown.rawLots, F.d("0.002"))
        XCTAssertTrue(r.skip!.message.contains("below the lot step 0.01"))
        XCTAssertTrue(r.skip!.message.contains("1.00 USD at risk"))
        XCTAssertNil(r.order)
    }

    func testNoFreeMarginSkipsNamingMargin() {
        // Equity 2,000 USD; an open XAU_USD lot already uses 100 oz × 1,990.00 × 0.05 = 9,950 USD
        // of margin, so free margin is 2,000 − 9,950 = −7,950 and not even 0.01 lot (36.63 USD
        // of margin) fits, although risk alone would allow 20 / 200 = 0.10 lots.
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000"), F.tick("XAU_USD", bid: "1989.90", ask: "1990.10")],
                       calm: [("EUR_USD", "1.10000", "0.00001")])
        let held = Position(accountId: "acct-1", instrument: "XAU_USD", quantity: 1, averagePrice: F.d("1990"))
        let r = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600"),
                               for: RiskAccountState(account: F.account("2000"), positions: [held]), market: m)
        XCTAssertEqual(r.breakdown.usedMargin, 9950)
        XCTAssertEqual(r.skip?.code, .insufficientMargin)
        XCTAssertTrue(r.skip!.message.contains("free margin -7950.00 USD"))
    }

    func testStopOnTheWrongSideOrPriceThroughTheStopIsSkipped() {
        let m = market([F.tick("EUR_USD", bid: "1.09700", ask: "1.09710")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let state = RiskAccountState(account: F.account("100000"))
        let wrong = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.10200", target: "1.11000"), for: state, market: m)
        XCTAssertEqual(wrong.skip?.code, .invalidStop)
        XCTAssertTrue(wrong.skip!.message.contains("not below the entry"))
        // The ask (1.09710) is already under the 1.09800 stop of this buy.
        let through = F.sizer().size(signal: F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.11000"), for: state, market: m)
        XCTAssertEqual(through.skip?.code, .priceBeyondStop)
    }

    func testUnknownInstrumentIsSkipped() {
        let r = F.sizer().size(signal: F.signal("NZD_CHF", .buy, entry: "0.55000", stop: "0.54800", target: "0.56000"),
                               for: RiskAccountState(account: F.account("100000")), market: RiskMarketSnapshot(ticks: [], bars: [:]))
        XCTAssertEqual(r.skip?.code, .unknownInstrument)
    }

    // MARK: - Breakdown, decision and order

    func testBreakdownFiguresMultiplyOutToTheAdjustedSize() {
        // Balance 95,000 (equity 95,000, high-water mark 100,000: 5 % drawdown → 1 − 3/6 × 0.75
        // = 0.625); risk 950 USD / 200 USD per lot = 4.75 raw lots. GBP_USD has 41 bars (27
        // earlier ATRs < 30) → volatility default 0.75. Held long EUR_USD whose returns
        // correlate 0.7071 with the candidate's → 1 − 0.5 × 0.7071 = 0.6464. Multiplier 1.5.
        // Adjusted = 4.75 × 0.75 × 0.625 × 0.6464 × 1.5 = 2.158875 → 2.15 lots.
        let bars = ["GBP_USD": F.bars("GBP_USD", start: "1.27", returns: F.xPlusZ), "EUR_USD": F.bars("EUR_USD", start: "1.1", returns: F.x)]
        let m = RiskMarketSnapshot(ticks: [F.tick("GBP_USD", bid: "1.26990", ask: "1.27000"), F.tick("EUR_USD", bid: "1.09990", ask: "1.10010")],
                                   bars: bars)
        let held = Position(accountId: "acct-1", instrument: "EUR_USD", quantity: 1, averagePrice: F.d("1.1"))
        let state = RiskAccountState(account: F.account("95000", highWaterMark: "100000"), positions: [held])
        let r = F.sizer(RiskConfiguration(riskMultiplier: F.d("1.5")))
            .size(signal: F.signal("GBP_USD", .buy, entry: "1.27000", stop: "1.26800", target: "1.28000"), for: state, market: m)
        XCTAssertEqual(r.lots, F.d("2.15"))
        let f = r.decision.figures
        XCTAssertEqual(f["rawLots"], "4.75")
        XCTAssertEqual(f["volatilityFactor"], "0.75")
        XCTAssertEqual(f["drawdownFactor"], "0.625")
        XCTAssertEqual(f["drawdownPercent"], "5.00")
        XCTAssertEqual(f["correlationFactor"], "0.6464")
        XCTAssertEqual(f["correlationStrongest"], "0.71 with EUR_USD long")
        XCTAssertEqual(f["adjustedLots"], "2.158875")
        XCTAssertEqual(f["finalLots"], "2.15")
        XCTAssertEqual(f["boundBy"], "risk")
        XCTAssertNotNil(f["volatilityNote"])
        // The same identity from the figures alone, as a reader of the order would check it.
        let product = ["rawLots", "volatilityFactor", "drawdownFactor", "correlationFactor", "riskMultiplier"]
            .map { F.d(f[$0]!) }.reduce(Decimal(1), *)
        XCTAssertEqual(product, F.d(f["adjustedLots"]!))
        XCTAssertEqual(F.d(f["combinedFactor"]!) * F.d(f["rawLots"]!), product)
        for key in ["balance", "riskPercent", "riskAmount", "stopDistance", "valuePerUnit", "valuePerLot", "valuePerPip", "lossPerLot",
                    "atrSamples", "marginPerLot", "freeMargin", "cap.margin", "lotStep", "conversion", "correlation.EUR_USD"] {
            XCTAssertNotNil(f[key], key)
        }
    }

    func testOrderCarriesTheDecisionAndTheSignalsStops() throws {
        let m = market([F.tick("EUR_USD", bid: "1.09990", ask: "1.10000")], calm: [("EUR_USD", "1.10000", "0.00001")])
        let sig = F.signal("EUR_USD", .buy, entry: "1.10000", stop: "1.09800", target: "1.10600", id: "sig-42")
        let r = F.sizer().size(signal: sig, for: RiskAccountState(account: F.account("100000", id: "acct-7")), market: m)
        var order = try XCTUnwrap(r.order)
        XCTAssertEqual(order.id, Order.id(signalId: "sig-42", accountId: "acct-7"))
        XCTAssertEqual(order.type, .market)
        XCTAssertEqual(order.side, .buy)
        XCTAssertEqual(order.quantity, 5)
        XCTAssertNil(order.price)
        XCTAssertEqual(order.stopLoss, F.d("1.09800"))
        XCTAssertEqual(order.takeProfit, F.d("1.10600"))
        XCTAssertFalse(order.riskReducing)
        XCTAssertEqual(order.status, .proposed)
        XCTAssertEqual(order.createdAt, 1_800_000_000_000_000)
        XCTAssertEqual(order.decisions, [r.decision])
        XCTAssertEqual(r.decision.agent, "aria-risk")
        XCTAssertEqual(r.decision.verdict, .approved)
        XCTAssertEqual(r.decision.checks.first?.rule, "risk-size")
        XCTAssertEqual(r.decision.figures["account"], "acct-7")
        // Compliance can take it from here.
        XCTAssertNoThrow(try order.advance(to: .approved, decision: Decision(agent: "compliance-engine", verdict: .approved, decidedAt: 0)))
        // Sizing is deterministic: the same inputs give the same order.
        XCTAssertEqual(F.sizer().size(signal: sig, for: RiskAccountState(account: F.account("100000", id: "acct-7")), market: m), r)
    }
}
