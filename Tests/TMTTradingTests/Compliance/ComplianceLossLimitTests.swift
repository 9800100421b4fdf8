import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// Daily and overall loss limits, their warnings, the daily reset and risk-reducing orders.
///
/// "At the limit" is allowed throughout: the firms say a loss must not *exceed* the limit, so a
/// projected loss exactly equal to it passes and one cent more is rejected.
final class ComplianceLossLimitTests: XCTestCase {
    typealias F = ComplianceFixture
    let engine = F.engine()
    let now = F.wednesdayNoon

    /// 1 lot EUR_USD, stop 50 pips below 1.10000: risk 100,000 × 0.00500 = 500.00 USD.
    let buyOneLot = F.order(.buy, "1", stop: "1.09500")

    // MARK: - Daily loss (FTMO-like: 5 % of 100,000 = 5,000.00 from the Prague-midnight balance)

    func testDailyLossExactlyAtLimitIsAllowedWithWarning() {
        // Start-of-day balance 100,000; equity 95,500 → daily loss 4,500 (open P&L);
        // 4,500 + 500 = 5,000.00 = limit → allowed, and ≥ 80 % so the warning fires.
        let account = F.account(F.ftmo, initial: "100000", equity: "95500")
        let decision = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: now))
        XCTAssertEqual(decision.verdict, .approvedWithWarnings)
        XCTAssertEqual(decision.warnedRules, [.dailyLossWarning])
        XCTAssertTrue(decision.detail(.dailyLoss).hasPrefix(
            "daily loss 4,500.00 + order risk 500.00 = 5,000.00 USD of limit 5,000.00 (100.0 %)"), decision.detail(.dailyLoss))
        XCTAssertEqual(decision.figures["orderRisk"], "500")
        XCTAssertEqual(decision.figures["projectedDailyLoss"], "5000")
    }

    func testDailyLossOneCentOverLimitIsRejectedWithRuleNamed() {
        // Equity 95,499.99 → 4,500.01 + 500 = 5,000.01 > 5,000.00.
        let account = F.account(F.ftmo, initial: "100000", equity: "95499.99")
        let decision = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: now))
        XCTAssertEqual(decision.verdict, .rejected)
        XCTAssertEqual(decision.violatedRules, [.dailyLoss])
        XCTAssertTrue(decision.rejectionReason?.hasPrefix("daily-loss: daily loss 4,500.01 + order risk 500.00 = 5,000.01 USD") == true,
                      decision.rejectionReason ?? "nil")
    }

    func testDailyLossOneCentUnderLimitIsAllowed() {
        // Equity 95,500.01 → 4,499.99 + 500 = 4,999.99.
        let account = F.account(F.ftmo, initial: "100000", equity: "95500.01")
        let decision = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: now))
        XCTAssertEqual(decision.check(.dailyLoss)?.passed, true)
        XCTAssertEqual(decision.figures["projectedDailyLoss"], "4999.99")
        XCTAssertEqual(decision.verdict, .approvedWithWarnings) // 99.99 % is past the 80 % warning
    }

    func testOpenPnLCountsInDailyLossEvenWithNoRealisedLoss() {
        // Balance untouched (100,000, nothing realised today) but open positions are 4,600 down:
        // 4,600 + 500 = 5,100 > 5,000 → rejected. The same order with the same balance and no
        // open loss passes, so it is the open P&L that decides.
        let underwater = F.account(F.ftmo, initial: "100000", balance: "100000", equity: "95400")
        let rejected = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, underwater, at: now,
                                                                            positions: [F.open("GBP_USD", "3", at: now - 3600)]))
        XCTAssertEqual(rejected.violatedRules, [.dailyLoss])
        XCTAssertTrue(rejected.detail(.dailyLoss).hasPrefix("daily loss 4,600.00 + order risk 500.00 = 5,100.00 USD"))

        let flat = F.account(F.ftmo, initial: "100000", balance: "100000", equity: "100000")
        XCTAssertEqual(engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, flat, at: now)).verdict, .approved)
    }

    func testOrderRiskUsesQuoteToAccountConversionForUsdJpy() {
        // USD_JPY 1 lot, entry 150.000, stop 149.500: 100,000 × 0.500 = 50,000 JPY at 1/150 USD
        // per JPY = 333.33 USD. Equity 95,333.34 → 4,666.66 + 333.333… = 4,999.99… ≤ 5,000.
        let pricing = ComplianceContext.OrderPricing(instrument: .usdJpy, marketPrice: F.d("150.000"),
                                                     quoteToAccountRate: Decimal(1) / Decimal(150))
        let order = F.order(.buy, "1", "USD_JPY", stop: "149.500")
        let ok = F.account(F.ftmo, initial: "100000", equity: "95333.34")
        let passed = engine.evaluate(order: order, context: F.context(F.ftmo, ok, at: now, pricing: pricing))
        XCTAssertEqual(passed.figures["orderRisk"], "333.33")
        XCTAssertEqual(passed.check(.dailyLoss)?.passed, true, passed.detail(.dailyLoss))
        // One cent less equity: 4,666.67 + 333.333… = 5,000.003… > 5,000 → rejected.
        let tooFar = F.account(F.ftmo, initial: "100000", equity: "95333.33")
        let rejected = engine.evaluate(order: order, context: F.context(F.ftmo, tooFar, at: now, pricing: pricing))
        XCTAssertEqual(rejected.violatedRules, [.dailyLoss])
    }

    func testStrictFirmDailyLimitIsFourPercentOfTheHigherStartOfDayLevel() {
        // Midnight balance 50,000, equity 51,000 (open profit) → reference 51,000 and the limit
        // is 4 % of it = 2,040.00. Equity now 49,460: loss 1,540 + risk 500 = 2,040 → at limit.
        let atLimit = F.account(F.strict, initial: "50000", balance: "50000", equity: "49460")
        let ok = engine.evaluate(order: buyOneLot, context: F.context(F.strict, atLimit, at: now, dayStartBalance: "50000",
                                                                      dayStartEquity: "51000"))
        XCTAssertEqual(ok.check(.dailyLoss)?.passed, true, ok.detail(.dailyLoss))
        XCTAssertTrue(ok.detail(.dailyLoss).hasPrefix("daily loss 1,540.00 + order risk 500.00 = 2,040.00 USD of limit 2,040.00"))
        let over = F.account(F.strict, initial: "50000", balance: "50000", equity: "49459.99")
        let rejected = engine.evaluate(order: buyOneLot, context: F.context(F.strict, over, at: now, dayStartBalance: "50000",
                                                                            dayStartEquity: "51000"))
        XCTAssertEqual(rejected.violatedRules, [.dailyLoss])
    }

    // MARK: - Warnings (80 % of daily, 90 % of max loss)

    func testDailyWarningFiresFromEightyPercent() {
        // 80 % of 5,000 = 4,000: equity 96,500 → 3,500 + 500 = 4,000.00 → warning.
        let at = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, F.account(F.ftmo, initial: "100000", equity: "96500"), at: now))
        XCTAssertEqual(at.verdict, .approvedWithWarnings)
        XCTAssertEqual(at.warnedRules, [.dailyLossWarning])
        XCTAssertEqual(at.detail(.dailyLossWarning),
                       "projected daily loss 4,000.00 USD is 80.0 % of limit 5,000.00 (warning from 80 %)")
        XCTAssertEqual(at.decision.checks.first { $0.rule == "daily-loss-warning" }?.severity, "warning")
        // 3,999.99 → below the warning level → plain approval.
        let under = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, F.account(F.ftmo, initial: "100000", equity: "96500.01"), at: now))
        XCTAssertEqual(under.verdict, .approved)
        XCTAssertEqual(under.warnings, [])
    }

    func testMaxLossWarningFiresFromNinetyPercent() {
        // Earlier days lost 8,500 (balance 91,500 at midnight, no loss today): drawdown 8,500 +
        // 500 = 9,000 = 90 % of 10,000 → warning; daily 500 of 5,000 stays quiet.
        let at = F.account(F.ftmo, initial: "100000", balance: "91500")
        let warned = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, at, at: now))
        XCTAssertEqual(warned.verdict, .approvedWithWarnings)
        XCTAssertEqual(warned.warnedRules, [.maxLossWarning])
        let under = F.account(F.ftmo, initial: "100000", balance: "91500.01")
        XCTAssertEqual(engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, under, at: now)).verdict, .approved)
    }

    // MARK: - Max loss, static

    func testStaticMaxLossAtJustUnderAndOverTheFloor() {
        // 10 % static of 100,000: floor 90,000. Balance/equity 91,000 since midnight (no loss
        // today); 2 lots × 50 pips = 1,000 risk → 9,000 + 1,000 = 10,000 = limit → allowed.
        let twoLots = F.order(.buy, "2", stop: "1.09500")
        func decide(_ equity: String) -> ComplianceDecision {
            engine.evaluate(order: twoLots, context: F.context(F.ftmo, F.account(F.ftmo, initial: "100000", balance: equity), at: now))
        }
        let at = decide("91000")
        XCTAssertEqual(at.check(.maxLoss)?.passed, true, at.detail(.maxLoss))
        XCTAssertEqual(at.detail(.maxLoss), "drawdown 9,000.00 + order risk 1,000.00 = 10,000.00 USD of limit 10,000.00 (100.0 %); "
                       + "equity 91,000.00, floor 90,000.00 (static, 10 % of initial 100,000.00)")
        XCTAssertEqual(at.verdict, .approvedWithWarnings)
        XCTAssertEqual(decide("91000.01").check(.maxLoss)?.passed, true)
        let over = decide("90999.99")
        XCTAssertEqual(over.verdict, .rejected)
        XCTAssertEqual(over.violatedRules, [.maxLoss])
    }

    func testStaticMaxLossIgnoresTheHighWaterMark() {
        // A static floor stays at 90,000 however high equity has been.
        let account = F.account(F.ftmo, initial: "100000", balance: "96000", highWaterMark: "110000")
        let decision = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: now))
        XCTAssertEqual(decision.figures["maxLossFloor"], "90000")
        XCTAssertEqual(decision.check(.maxLoss)?.passed, true)
    }

    // MARK: - Max loss, trailing (6 % of 50,000 = 3,000 below the equity high-water mark)

    func testTrailingFloorFollowsTheHighWaterMark() {
        // Same account state (equity 50,000) and the same 1,000 risk order (2 lots × 50 pips):
        let twoLots = F.order(.buy, "2", stop: "1.09500")
        func decide(hwm: String, equity: String = "50000") -> ComplianceDecision {
            let account = F.account(F.trailing, initial: "50000", balance: equity, highWaterMark: hwm)
            return engine.evaluate(order: twoLots, context: F.context(F.trailing, account, at: now))
        }
        // HWM 51,000 → floor 48,000; drawdown 1,000 + 1,000 = 2,000 of 3,000 → allowed.
        let low = decide(hwm: "51000")
        XCTAssertEqual(low.figures["maxLossFloor"], "48000")
        XCTAssertEqual(low.check(.maxLoss)?.passed, true)
        // HWM 52,000 → floor 49,000; 2,000 + 1,000 = 3,000 = limit → allowed (at the limit).
        let atLimit = decide(hwm: "52000")
        XCTAssertEqual(atLimit.check(.maxLoss)?.passed, true, atLimit.detail(.maxLoss))
        XCTAssertTrue(atLimit.detail(.maxLoss).hasSuffix("floor 49,000.00 (trailing 6 % of initial 50,000.00 below high-water mark 52,000.00)"),
                      atLimit.detail(.maxLoss))
        // One cent less equity under the same mark → 3,000.01 → rejected.
        XCTAssertEqual(decide(hwm: "52000", equity: "49999.99").violatedRules, [.maxLoss])
        // HWM 52,500 → floor 49,500; 2,500 + 1,000 = 3,500 > 3,000 → rejected, though a static
        // 6 % floor (47,000) would have allowed it.
        let high = decide(hwm: "52500")
        XCTAssertEqual(high.violatedRules, [.maxLoss])
        XCTAssertEqual(high.figures["maxLossFloor"], "49500")
    }

    func testTrailingFloorUsesCurrentEquityWhenAboveTheRecordedMark() {
        // The account's mark lags (51,000) but equity is 52,000 now: the floor is 49,000 already.
        let account = F.account(F.trailing, initial: "50000", balance: "52000", highWaterMark: "51000")
        let decision = engine.evaluate(order: buyOneLot, context: F.context(F.trailing, account, at: now))
        XCTAssertEqual(decision.figures["highWaterMark"], "52000")
        XCTAssertEqual(decision.figures["maxLossFloor"], "49000")
    }

    func testTrailingFloorStopsAtTheInitialBalance() {
        // HWM 54,000 would put the floor at 51,000, but it stops at 50,000: limit 4,000.
        // Equity 51,000 − 1,000 risk = 50,000 = floor → allowed; 50,999.99 → rejected.
        XCTAssertEqual(F.trailing.maxLossFloor(initialBalance: 50000, highWaterMark: 54000), 50000)
        XCTAssertEqual(F.trailing.maxLossFloor(initialBalance: 50000, highWaterMark: 52500), 49500)
        let twoLots = F.order(.buy, "2", stop: "1.09500")
        let at = F.account(F.trailing, initial: "50000", balance: "51000", highWaterMark: "54000")
        let ok = engine.evaluate(order: twoLots, context: F.context(F.trailing, at, at: now))
        XCTAssertEqual(ok.check(.maxLoss)?.passed, true, ok.detail(.maxLoss))
        XCTAssertTrue(ok.detail(.maxLoss).contains("stopped at the initial balance"))
        let over = F.account(F.trailing, initial: "50000", balance: "50999.99", highWaterMark: "54000")
        XCTAssertEqual(engine.evaluate(order: twoLots, context: F.context(F.trailing, over, at: now)).violatedRules, [.maxLoss])
    }

    // MARK: - Daily reset at the firm's midnight

    func testDailyLossResetsAtPragueMidnightNotUtcMidnight() {
        // Yesterday's baseline (2026-11-25, Prague) was 100,000; 4,600 was realised since, so the
        // 500 risk order breaks 5,000 until the Prague day ends at 23:00 UTC (CET = UTC+1). From
        // then the baseline rolls to the current balance 95,400 and the day's loss is 0.
        let account = F.account(F.ftmo, initial: "100000", balance: "95400")
        let yesterday = F.ftmo.tradingDay(containing: F.utc("2026-11-25 12:00:00"))
        XCTAssertEqual(yesterday.end, F.utc("2026-11-25 23:00:00"))
        func decide(_ t: String) -> ComplianceDecision {
            engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: F.utc(t), dayStartBalance: "100000",
                                                                 dayStartDay: yesterday))
        }
        let before = decide("2026-11-25 22:59:59")
        XCTAssertEqual(before.violatedRules, [.dailyLoss])
        XCTAssertEqual(before.figures["dayRolled"], "false")
        let after = decide("2026-11-25 23:00:00") // still 2026-11-25 in UTC
        XCTAssertEqual(after.check(.dailyLoss)?.passed, true, after.detail(.dailyLoss))
        XCTAssertEqual(after.figures["dayRolled"], "true")
        XCTAssertEqual(after.figures["tradingDay"], "2026-11-26")
        XCTAssertEqual(after.figures["dailyLoss"], "0")
    }

    func testDailyResetOnTheSpringDstChangeDayInPrague() {
        // 2026-03-29: Prague moves from CET (UTC+1) to CEST (UTC+2) at 02:00. That day starts at
        // 2026-03-28 23:00 UTC and ends at 2026-03-29 22:00 UTC: 23 hours. A fixed UTC+1 offset
        // would reset an hour late, at 23:00 UTC.
        let day = F.ftmo.tradingDay(containing: F.utc("2026-03-29 12:00:00"))
        XCTAssertEqual(day.start, F.utc("2026-03-28 23:00:00"))
        XCTAssertEqual(day.end, F.utc("2026-03-29 22:00:00"))
        XCTAssertEqual(day.duration, 23 * 3600)
        let account = F.account(F.ftmo, initial: "100000", balance: "95400")
        func decide(_ t: String) -> ComplianceDecision {
            engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: F.utc(t), dayStartBalance: "100000", dayStartDay: day))
        }
        XCTAssertEqual(decide("2026-03-29 21:59:59").violatedRules, [.dailyLoss])
        let after = decide("2026-03-29 22:00:00")
        XCTAssertEqual(after.verdict, .approved, after.rejectionReason ?? "")
        XCTAssertEqual(after.figures["tradingDay"], "2026-03-30")
    }

    func testNewYorkFivePmResetLabelsTheFollowingDate() {
        // Trailing firm resets at 17:00 New York = 22:00 UTC in November (EST, UTC−5).
        let account = F.account(F.trailing, initial: "50000", balance: "48700")
        let day = F.trailing.tradingDay(containing: F.utc("2026-11-25 21:59:59"))
        XCTAssertEqual(day.label, "2026-11-25")
        XCTAssertEqual(day.start, F.utc("2026-11-24 22:00:00"))
        // 1,300 lost today + 500 risk = 1,800 > 3 % of 50,000 = 1,500 until 22:00 UTC.
        func decide(_ t: String) -> ComplianceDecision {
            engine.evaluate(order: buyOneLot, context: F.context(F.trailing, account, at: F.utc(t), dayStartBalance: "50000", dayStartDay: day))
        }
        XCTAssertEqual(decide("2026-11-25 21:59:59").violatedRules, [.dailyLoss])
        let after = decide("2026-11-25 22:00:00")
        XCTAssertEqual(after.check(.dailyLoss)?.passed, true)
        XCTAssertEqual(after.figures["tradingDay"], "2026-11-26")
    }

    // MARK: - Risk-reducing orders

    func testRiskReducingOrderIsApprovedWhenLossLimitsAreBreached() {
        // Daily loss 6,000 (> 5,000) and drawdown 11,000 (> 10,000), long 2 lots EUR_USD:
        // selling 1 lot reduces risk and must go through; a new GBP_USD buy must not.
        let account = F.account(F.ftmo, initial: "100000", balance: "95000", equity: "89000")
        let positions = [F.open("EUR_USD", "2", at: now - 7200)]
        let close = F.order(.sell, "1", stop: nil, riskReducing: true)
        let closed = engine.evaluate(order: close, context: F.context(F.ftmo, account, at: now, dayStartBalance: "95000",
                                                                      positions: positions))
        XCTAssertEqual(closed.verdict, .approvedWithWarnings, closed.rejectionReason ?? "")
        XCTAssertEqual(closed.check(.dailyLoss)?.passed, true)
        XCTAssertEqual(closed.check(.maxLoss)?.passed, true)
        XCTAssertTrue(closed.detail(.dailyLoss).hasPrefix("risk-reducing order, never blocked by the loss limit: daily loss 6,000.00 USD "
                                                          + "of limit 5,000.00 (120.0 %)"), closed.detail(.dailyLoss))
        XCTAssertEqual(Set(closed.warnedRules), [.dailyLossWarning, .maxLossWarning])
        XCTAssertEqual(closed.figures["riskReducing"], "true")

        let gbp = ComplianceContext.OrderPricing(instrument: .gbpUsd, marketPrice: F.d("1.25000"))
        let newRisk = engine.evaluate(order: F.order(.buy, "1", "GBP_USD", stop: "1.24500"),
                                      context: F.context(F.ftmo, account, at: now, dayStartBalance: "95000", positions: positions, pricing: gbp))
        XCTAssertEqual(newRisk.verdict, .rejected)
        XCTAssertEqual(Set(newRisk.violatedRules), [.dailyLoss, .maxLoss])
    }

    func testOrderMarkedRiskReducingThatAddsExposureIsJudgedAsNewRisk() {
        // Long 2 lots; a "risk-reducing" buy adds to it, so the loss limits apply.
        let account = F.account(F.ftmo, initial: "100000", equity: "95000")
        let order = F.order(.buy, "1", stop: "1.09500", riskReducing: true)
        let decision = engine.evaluate(order: order, context: F.context(F.ftmo, account, at: now, dayStartBalance: "100000",
                                                                        positions: [F.open("EUR_USD", "2", at: now - 60)]))
        XCTAssertEqual(decision.violatedRules, [.dailyLoss])
        XCTAssertTrue(decision.detail(.orderValid).contains("marked risk-reducing but it adds exposure"))
    }

    func testFlipRisksOnlyTheNewExposure() {
        // Long 1 lot; selling 3 lots closes it and opens 2 short: risk 2 × 100,000 × 0.00500 =
        // 1,000 with the stop 50 pips above 1.10000.
        let account = F.account(F.ftmo, initial: "100000")
        let decision = engine.evaluate(order: F.order(.sell, "3", stop: "1.10500"),
                                       context: F.context(F.ftmo, account, at: now, positions: [F.open("EUR_USD", "1", at: now - 600)]))
        XCTAssertEqual(decision.figures["orderRisk"], "1000")
        XCTAssertEqual(decision.figures["riskReducing"], "false")
        XCTAssertTrue(decision.detail(.orderValid).contains("flips the long 1.00 position, new exposure 2.00 lots"))
    }

    // MARK: - Lenient mode never relaxes the loss limits

    func testLenientModeStillRejectsOnLossLimits() {
        let account = F.account(F.ftmo, initial: "100000", equity: "95499.99")
        let decision = F.engine(.lenient).evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: now))
        XCTAssertEqual(decision.verdict, .rejected)
        XCTAssertEqual(decision.violatedRules, [.dailyLoss])
        XCTAssertEqual(decision.check(.dailyLoss)?.severity, .hard)
    }

    func testStaleBaselineRollsToTheAccountsCurrentLevels() {
        let day = F.ftmo.tradingDay(containing: F.utc("2026-11-25 12:00:00"))
        let start = ComplianceDayStart(day: day, balance: 100_000, equity: 100_000)
        let account = F.account(F.ftmo, initial: "100000", balance: "97000", equity: "96500")
        XCTAssertEqual(start.current(at: F.utc("2026-11-25 22:59:59"), rules: F.ftmo, account: account), start)
        let rolled = start.current(at: F.utc("2026-11-25 23:00:00"), rules: F.ftmo, account: account)
        XCTAssertEqual(rolled.balance, 97000)
        XCTAssertEqual(rolled.equity, 96500)
        XCTAssertEqual(rolled.day.label, "2026-11-26")
    }

    /// A restarted account (higher epoch) takes a fresh baseline at once, mid-day: its daily loss
    /// is measured from the initial balance it starts again with, not from the previous
    /// challenge's start of day.
    func testARestartedAccountTakesAFreshBaselineMidDay() {
        let noon = F.utc("2026-11-25 12:00:00")
        let day = F.ftmo.tradingDay(containing: noon)
        let start = ComplianceDayStart(day: day, balance: 92_000, equity: 91_500)
        var restarted = F.account(F.ftmo, initial: "100000", balance: "100000", equity: "100000")
        restarted.epoch = 1
        // As the execution engine publishes a restarted account: today's start at the initial balance.
        restarted.tradingDay = day.label
        restarted.dayStartEquity = 100_000
        let fresh = start.current(at: noon, rules: F.ftmo, account: restarted)
        XCTAssertEqual(fresh, ComplianceDayStart(day: day, balance: 100_000, equity: 100_000, epoch: 1))
        XCTAssertEqual(fresh.current(at: noon, rules: F.ftmo, account: restarted), fresh, "same epoch, same day: kept")
    }

    /// The day's baseline is the execution engine's start of the day, however late this agent
    /// first looks at the day (the day's first order, or the first after a restart of the
    /// agent). It used to be the account at that first look, so a loss booked between the firm's
    /// reset and the first order was forgiven: here a stop-out at 08:00 that took 4,000.00, then
    /// 12 lots with a 10-pip stop (1,200.00 of risk) at 09:00 passed with a daily loss of 0.
    func testTheDaysBaselineIsTheEnginesStartOfDayHoweverLateTheFirstLook() {
        let nine = F.utc("2026-11-25 08:00:00") // 09:00 in Prague
        let day = F.ftmo.tradingDay(containing: nine)
        var account = F.account(F.ftmo, initial: "100000", balance: "96000", equity: "96000")
        account.dailyPnL = -4_000
        account.tradingDay = day.label
        account.dayStartEquity = 100_000
        let start = ComplianceDayStart.fresh(at: nine, rules: F.ftmo, account: account)
        XCTAssertEqual(start, ComplianceDayStart(day: day, balance: 100_000, equity: 100_000))
        let order = F.order(.buy, "12", stop: "1.09900")
        var context = F.context(F.ftmo, account, at: nine)
        context.dayStart = start
        let decision = engine.evaluate(order: order, context: context)
        XCTAssertEqual(decision.violatedRules, [.dailyLoss])
        XCTAssertTrue(decision.detail(.dailyLoss).hasPrefix("daily loss 4,000.00 + order risk 1,200.00 = 5,200.00 USD"),
                      decision.detail(.dailyLoss))

        // The strict firm measures from the higher of the day's start balance and equity: both
        // are the engine's (balance 50,000 and equity 51,000 at the reset), not today's 49,300.
        let strict = F.strict
        let strictDay = strict.tradingDay(containing: nine)
        var strictAccount = F.account(strict, initial: "50000", balance: "50000", equity: "49300", highWaterMark: "51000")
        strictAccount.dailyPnL = -700
        strictAccount.tradingDay = strictDay.label
        strictAccount.dayStartEquity = 51_000
        let strictStart = ComplianceDayStart.fresh(at: nine, rules: strict, account: strictAccount)
        XCTAssertEqual(strict.dayStartLevel(strictStart), 51_000)
        XCTAssertEqual(strictStart.balance, 50_000)
    }

    /// Before the engine has started the day (its account still names yesterday: no tick since
    /// the reset, so nothing was booked today), the account as it is stands in, marked
    /// provisional, and gives way to the engine's start once the account carries it.
    func testAProvisionalBaselineGivesWayToTheEnginesStartOfDay() {
        let nine = F.utc("2026-11-25 08:00:00")
        let day = F.ftmo.tradingDay(containing: nine)
        var account = F.account(F.ftmo, initial: "100000", balance: "99000", equity: "98800")
        account.dailyPnL = -300
        account.tradingDay = "2026-11-24"
        account.dayStartEquity = 99_100
        let provisional = ComplianceDayStart.fresh(at: nine, rules: F.ftmo, account: account)
        XCTAssertEqual(provisional, ComplianceDayStart(day: day, balance: 99_000, equity: 98_800, provisional: true))
        XCTAssertEqual(provisional.current(at: nine, rules: F.ftmo, account: account), provisional)
        account.tradingDay = day.label
        account.dayStartEquity = 98_900
        account.dailyPnL = -100
        XCTAssertEqual(provisional.current(at: nine, rules: F.ftmo, account: account),
                       ComplianceDayStart(day: day, balance: 98_900, equity: 98_900))
        // Without the start equity (the engine could not mark the day's start), the start balance
        // is still the engine's; the equity stands in provisionally until the account has it.
        var unmarked = account
        unmarked.dayStartEquity = nil
        let halfKnown = ComplianceDayStart.fresh(at: nine, rules: F.ftmo, account: unmarked)
        XCTAssertEqual(halfKnown, ComplianceDayStart(day: day, balance: 98_900, equity: 98_800, provisional: true))
        XCTAssertEqual(halfKnown.current(at: nine, rules: F.ftmo, account: unmarked), halfKnown)
        XCTAssertEqual(halfKnown.current(at: nine, rules: F.ftmo, account: account), ComplianceDayStart(day: day, balance: 98_900, equity: 98_900))
        // A staging day reset measures from now, and is kept for the day.
        let reset = ComplianceDayStart.now(at: nine, rules: F.ftmo, account: account)
        XCTAssertFalse(reset.provisional)
        XCTAssertEqual(reset.current(at: nine, rules: F.ftmo, account: account), reset)
    }
}
