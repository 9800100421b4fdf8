import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// The non-loss rules at, just under and just over their limits, lenient mode, and the
/// decision's shape. Amount limits allow the limit itself ("not more than"); time windows
/// include their edges (an order exactly N minutes from a release is inside the blackout, an
/// order exactly at the cut-off time is after it).
final class ComplianceRuleTests: XCTestCase {
    typealias F = ComplianceFixture
    let engine = F.engine()
    let now = F.wednesdayNoon
    let buyOneLot = F.order(.buy, "1", stop: "1.09500")

    // MARK: - Decision shape

    func testEveryRuleIsReportedInOrderAndConvertsToAModelDecision() {
        let decision = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, F.account(F.ftmo, initial: "100000"), at: now))
        XCTAssertEqual(decision.verdict, .approved)
        XCTAssertEqual(decision.checks.map(\.rule), ComplianceRule.allCases)
        let model = decision.decision
        XCTAssertEqual(model.agent, "compliance-engine")
        XCTAssertEqual(model.verdict, .approved)
        XCTAssertEqual(model.checks.map(\.rule), ComplianceRule.allCases.map(\.rawValue))
        XCTAssertEqual(model.decidedAt, F.micros(now))
        XCTAssertEqual(model.checks.first { $0.rule == "max-lots" }?.severity, "hard")
        XCTAssertEqual(model.checks.first { $0.rule == "news-blackout" }?.severity, "soft")
        XCTAssertEqual(model.figures["firm"], "ftmo-like")
        XCTAssertNil(decision.rejectionReason)
        // The order lifecycle accepts the decision.
        var order = buyOneLot
        XCTAssertNoThrow(try order.advance(to: .approved, decision: model))
    }

    func testUnknownFirmIsRejectedFailClosed() {
        var account = F.account(F.ftmo, initial: "100000")
        account.firm = "no-such-firm"
        let decision = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: now))
        XCTAssertEqual(decision.verdict, .rejected)
        XCTAssertEqual(decision.violatedRules, [.firm])
        XCTAssertTrue(decision.detail(.firm).contains("'no-such-firm', which is not configured"))
    }

    func testOrderWithoutPricingOrWithStopOnTheWrongSideIsInvalid() {
        let account = F.account(F.ftmo, initial: "100000")
        let unpriced = engine.evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: now, pricing: nil))
        XCTAssertEqual(unpriced.violatedRules, [.orderValid])
        XCTAssertTrue(unpriced.detail(.orderValid).contains("cannot price the order's risk"))
        let wrongSide = engine.evaluate(order: F.order(.buy, "1", stop: "1.10500"), context: F.context(F.ftmo, account, at: now))
        XCTAssertEqual(wrongSide.violatedRules, [.orderValid])
        XCTAssertTrue(wrongSide.detail(.orderValid).contains("not on the losing side"))
    }

    // MARK: - Max lots (FTMO-like: 20 per order; hard, also in lenient mode)

    func testMaxLotsAtUnderAndOver() {
        // 10-pip stop keeps the risk small: 20 lots × 100,000 × 0.00100 = 2,000 USD.
        let account = F.account(F.ftmo, initial: "100000")
        func decide(_ lots: String, _ mode: ComplianceMode = .strict) -> ComplianceDecision {
            F.engine(mode).evaluate(order: F.order(.buy, lots, stop: "1.09900"), context: F.context(F.ftmo, account, at: now))
        }
        XCTAssertEqual(decide("19.99").verdict, .approved)
        let at = decide("20")
        XCTAssertEqual(at.verdict, .approved)
        XCTAssertEqual(at.detail(.maxLots), "20.00 lots of max 20.00 per order")
        let over = decide("20.01")
        XCTAssertEqual(over.violatedRules, [.maxLots])
        XCTAssertEqual(decide("20.01", .lenient).violatedRules, [.maxLots])
    }

    func testMaxLotsDoesNotBlockAClose() {
        let account = F.account(F.ftmo, initial: "100000")
        let decision = engine.evaluate(order: F.order(.sell, "25", stop: nil),
                                       context: F.context(F.ftmo, account, at: now, positions: [F.open("EUR_USD", "25", at: now - 3600)]))
        XCTAssertEqual(decision.verdict, .approved, decision.rejectionReason ?? "")
    }

    // MARK: - Max open positions (fixture FTMO-like: 3)

    func testMaxOpenPositionsAtUnderAndOver() {
        let account = F.account(F.ftmo, initial: "100000")
        func decide(_ open: [String], mode: ComplianceMode = .strict) -> ComplianceDecision {
            F.engine(mode).evaluate(order: buyOneLot, context: F.context(F.ftmo, account, at: now,
                                                                          positions: open.map { F.open($0, "1", at: now - 600) }))
        }
        XCTAssertEqual(decide(["GBP_USD"]).verdict, .approved)
        let third = decide(["GBP_USD", "AUD_USD"])
        XCTAssertEqual(third.verdict, .approved)
        XCTAssertEqual(third.detail(.maxOpenPositions), "opens position 3 of max 3 (open: AUD_USD, GBP_USD)")
        let fourth = decide(["GBP_USD", "AUD_USD", "XAU_USD"])
        XCTAssertEqual(fourth.violatedRules, [.maxOpenPositions])
        // Adding to an already open EUR_USD position opens nothing new.
        XCTAssertEqual(decide(["GBP_USD", "AUD_USD", "EUR_USD"]).verdict, .approved)
        // Flat entries are not positions.
        XCTAssertEqual(engine.evaluate(order: buyOneLot, context: F.context(
            F.ftmo, account, at: now, positions: ["GBP_USD", "AUD_USD"].map { F.open($0, "1", at: now) } + [F.open("XAU_USD", "0", at: now)])).verdict,
            .approved)
        // Lenient: soft, so a warning.
        let lenient = decide(["GBP_USD", "AUD_USD", "XAU_USD"], mode: .lenient)
        XCTAssertEqual(lenient.verdict, .approvedWithWarnings)
        XCTAssertEqual(lenient.warnedRules, [.maxOpenPositions])
    }

    // MARK: - Stop-loss required (strict firm)

    func testStopLossRequiredOnNewRiskButNotOnCloses() {
        let account = F.account(F.strict, initial: "50000")
        let noStop = engine.evaluate(order: F.order(.buy, "1", stop: nil), context: F.context(F.strict, account, at: now))
        XCTAssertEqual(noStop.violatedRules, [.stopLossRequired])
        XCTAssertEqual(noStop.figures["orderRisk"], "unbounded")
        XCTAssertTrue(noStop.detail(.dailyLoss).contains("order risk unbounded (no stop-loss; not projected)"))
        XCTAssertEqual(engine.evaluate(order: buyOneLot, context: F.context(F.strict, account, at: now)).verdict, .approved)
        let close = engine.evaluate(order: F.order(.sell, "1", stop: nil),
                                    context: F.context(F.strict, account, at: now, positions: [F.open("EUR_USD", "1", at: now - 600)]))
        XCTAssertEqual(close.verdict, .approved, close.rejectionReason ?? "")
        // The FTMO-like firm does not require one.
        let ftmo = engine.evaluate(order: F.order(.buy, "1", stop: nil), context: F.context(F.ftmo, F.account(F.ftmo, initial: "100000"), at: now))
        XCTAssertEqual(ftmo.verdict, .approved)
    }

    // MARK: - News blackout (FTMO-like: ±2 min, high impact; strict: ±5 min, high and medium)

    /// US payrolls at 13:30:00 UTC on Wednesday 2026-11-25.
    let payrolls = NewsEvent(id: "nfp", time: F.micros(F.utc("2026-11-25 13:30:00")), currency: "USD",
                             title: "US nonfarm payrolls", impact: "high")

    private func newsDecision(_ t: String, rules: FirmRules = F.ftmo, order: Order? = nil, news: [NewsEvent]? = nil,
                              pricing: ComplianceContext.OrderPricing? = F.eurUsdPricing,
                              positions: [ComplianceContext.OpenPosition] = [], mode: ComplianceMode = .strict) -> ComplianceDecision {
        let account = F.account(rules, initial: "100000")
        return F.engine(mode).evaluate(order: order ?? buyOneLot, context: F.context(rules, account, at: F.utc(t), positions: positions,
                                                                                     news: news ?? [payrolls], pricing: pricing))
    }

    func testNewsBlackoutWindowEdgesAreInside() {
        XCTAssertEqual(newsDecision("2026-11-25 13:27:59").verdict, .approved)
        let start = newsDecision("2026-11-25 13:28:00")
        XCTAssertEqual(start.violatedRules, [.newsBlackout])
        XCTAssertEqual(start.detail(.newsBlackout), "US nonfarm payrolls (USD, high) at 2026-11-25T13:30:00Z, in 2m00s: "
                       + "inside the ±2 min blackout for EUR/USD")
        XCTAssertEqual(newsDecision("2026-11-25 13:30:00").violatedRules, [.newsBlackout])
        XCTAssertEqual(newsDecision("2026-11-25 13:32:00").violatedRules, [.newsBlackout])
        let after = newsDecision("2026-11-25 13:32:01")
        XCTAssertEqual(after.verdict, .approved)
        XCTAssertTrue(after.detail(.newsBlackout).hasPrefix("no high-impact release for EUR/USD within ±2 min"))
    }

    func testNewsBlackoutMatchesTheOrdersCurrenciesAndImpactOnly() {
        let jpy = NewsEvent(id: "jp", time: payrolls.time, currency: "JPY", title: "Japan trade balance", impact: "high")
        XCTAssertEqual(newsDecision("2026-11-25 13:30:00", news: [jpy]).verdict, .approved, "JPY news does not touch EUR_USD")
        // Gold is quoted in USD, so US news blocks it.
        let gold = ComplianceContext.OrderPricing(instrument: .xauUsd, marketPrice: F.d("2000.00"))
        let xau = newsDecision("2026-11-25 13:30:00", order: F.order(.buy, "1", "XAU_USD", stop: "1995.00"), pricing: gold)
        XCTAssertEqual(xau.violatedRules, [.newsBlackout])
        // Medium impact: ignored by the FTMO-like firm, blocked by the strict firm (±5 min).
        let ism = NewsEvent(id: "ism", time: payrolls.time, currency: "USD", title: "ISM", impact: "medium")
        XCTAssertEqual(newsDecision("2026-11-25 13:30:00", news: [ism]).verdict, .approved)
        XCTAssertEqual(newsDecision("2026-11-25 13:25:00", rules: F.strict, news: [ism]).violatedRules, [.newsBlackout])
        XCTAssertEqual(newsDecision("2026-11-25 13:24:59", rules: F.strict, news: [ism]).verdict, .approved)
    }

    func testNewsBlackoutNeverBlocksAClose() {
        let close = newsDecision("2026-11-25 13:30:00", order: F.order(.sell, "1", stop: nil),
                                 positions: [F.open("EUR_USD", "1", at: F.utc("2026-11-25 10:00:00"))])
        XCTAssertEqual(close.verdict, .approved)
        XCTAssertTrue(close.detail(.newsBlackout).hasPrefix("risk-reducing order, never blocked"))
    }

    func testNewsBlackoutIsAWarningInLenientMode() {
        let lenient = newsDecision("2026-11-25 13:30:00", mode: .lenient)
        XCTAssertEqual(lenient.verdict, .approvedWithWarnings)
        XCTAssertEqual(lenient.check(.newsBlackout)?.severity, .warning)
        XCTAssertEqual(lenient.check(.newsBlackout)?.passed, false)
    }

    // MARK: - Friday cut-off (FTMO-like: Friday 21:00 UTC until Sunday 21:00 UTC)

    private func cutoffDecision(_ t: String, rules: FirmRules = F.ftmo, order: Order? = nil,
                                positions: [ComplianceContext.OpenPosition] = []) -> ComplianceDecision {
        engine.evaluate(order: order ?? buyOneLot, context: F.context(rules, F.account(rules, initial: "100000"), at: F.utc(t),
                                                                      positions: positions))
    }

    func testFridayCutoffEdges() {
        XCTAssertEqual(cutoffDecision("2026-11-27 20:59:59").verdict, .approved)
        let at = cutoffDecision("2026-11-27 21:00:00")
        XCTAssertEqual(at.violatedRules, [.fridayCutoff])
        XCTAssertEqual(at.detail(.fridayCutoff), "no new risk from 2026-11-27T21:00:00Z until 2026-11-29T21:00:00Z "
                       + "(Friday 21:00 to Sunday 21:00 UTC); now 2026-11-27T21:00:00Z")
        XCTAssertEqual(cutoffDecision("2026-11-28 12:00:00").violatedRules, [.fridayCutoff])
        XCTAssertEqual(cutoffDecision("2026-11-29 20:59:59").violatedRules, [.fridayCutoff])
        XCTAssertEqual(cutoffDecision("2026-11-29 21:00:00").verdict, .approved)
        // Thursday 21:00 is not a cut-off.
        XCTAssertEqual(cutoffDecision("2026-11-26 21:00:00").verdict, .approved)
    }

    func testFridayCutoffInNewYorkFollowsDst() {
        // Trailing firm: Friday 16:00 New York = 20:00 UTC in July (EDT), 21:00 UTC in November.
        XCTAssertEqual(cutoffDecision("2026-07-10 19:59:59", rules: F.trailing).verdict, .approved)
        XCTAssertEqual(cutoffDecision("2026-07-10 20:00:00", rules: F.trailing).violatedRules, [.fridayCutoff])
        XCTAssertEqual(cutoffDecision("2026-11-27 20:59:59", rules: F.trailing).verdict, .approved)
        XCTAssertEqual(cutoffDecision("2026-11-27 21:00:00", rules: F.trailing).violatedRules, [.fridayCutoff])
        // Resumes Sunday 17:00 New York = 22:00 UTC in November.
        XCTAssertEqual(cutoffDecision("2026-11-29 21:59:59", rules: F.trailing).violatedRules, [.fridayCutoff])
        XCTAssertEqual(cutoffDecision("2026-11-29 22:00:00", rules: F.trailing).verdict, .approved)
    }

    func testFridayCutoffNeverBlocksACloseAndFlatDeadline() throws {
        let close = cutoffDecision("2026-11-27 21:30:00", order: F.order(.sell, "1", stop: nil),
                                   positions: [F.open("EUR_USD", "1", at: F.utc("2026-11-27 10:00:00"))])
        XCTAssertEqual(close.verdict, .approved)
        // Strict firm: flat by Friday 20:45 UTC until the Sunday 21:00 reopening.
        let cutoff = try XCTUnwrap(F.strict.weekendCutoff)
        XCTAssertFalse(cutoff.mustBeFlat(at: F.utc("2026-11-27 20:44:59")))
        XCTAssertTrue(cutoff.mustBeFlat(at: F.utc("2026-11-27 20:45:00")))
        XCTAssertTrue(cutoff.mustBeFlat(at: F.utc("2026-11-29 20:59:59")))
        XCTAssertFalse(cutoff.mustBeFlat(at: F.utc("2026-11-29 21:00:00")))
        XCTAssertFalse(try XCTUnwrap(F.ftmo.weekendCutoff).mustBeFlat(at: F.utc("2026-11-28 12:00:00")), "FTMO-like holds over weekends")
    }

    // MARK: - Minimum hold (strict firm: 120 s, applies to closes)

    private func holdDecision(heldSeconds: Double, equity: String = "50000", mode: ComplianceMode = .strict) -> ComplianceDecision {
        let account = F.account(F.strict, initial: "50000", balance: "50000", equity: equity)
        return F.engine(mode).evaluate(order: F.order(.sell, "1", stop: nil),
                                       context: F.context(F.strict, account, at: now, dayStartBalance: "50000",
                                                          positions: [F.open("EUR_USD", "1", at: now - heldSeconds)]))
    }

    func testMinimumHoldAtUnderAndOver() {
        let at = holdDecision(heldSeconds: 120)
        XCTAssertEqual(at.verdict, .approved, at.rejectionReason ?? "")
        XCTAssertEqual(at.detail(.minimumHold), "EUR_USD position opened 2026-11-25T11:58:00Z, held 2m00s of minimum 2m00s")
        XCTAssertEqual(holdDecision(heldSeconds: 121).verdict, .approved)
        let early = holdDecision(heldSeconds: 119)
        XCTAssertEqual(early.violatedRules, [.minimumHold])
        XCTAssertEqual(holdDecision(heldSeconds: 119, mode: .lenient).verdict, .approvedWithWarnings)
        // New risk on another instrument closes nothing, so the rule does not apply.
        let other = engine.evaluate(order: F.order(.buy, "1", "GBP_USD", stop: "1.24500"),
                                    context: F.context(F.strict, F.account(F.strict, initial: "50000"), at: now,
                                                       positions: [F.open("EUR_USD", "1", at: now - 5)],
                                                       pricing: .init(instrument: .gbpUsd, marketPrice: F.d("1.25000"))))
        XCTAssertEqual(other.check(.minimumHold)?.passed, true)
    }

    func testMinimumHoldIsWaivedOnceALossLimitIsAtItsWarningLevel() {
        // Strict firm limit 4 % of 50,000 = 2,000; 80 % = 1,600. Equity 48,400 → loss 1,600:
        // a 30-second-old position may be closed. At 48,400.01 (1,599.99) it may not.
        let waived = holdDecision(heldSeconds: 30, equity: "48400")
        XCTAssertEqual(waived.check(.minimumHold)?.passed, true)
        XCTAssertTrue(waived.detail(.minimumHold).contains("waived: daily loss at 80.0 % of its limit"))
        XCTAssertEqual(holdDecision(heldSeconds: 30, equity: "48400.01").violatedRules, [.minimumHold])
    }

    // MARK: - Best-day consistency (strict firm: 40 %)

    private func consistencyDecision(todayProfit: String, history: [(String, String)]) -> ComplianceDecision {
        let start = F.d("50000")
        let balance = start + F.d(todayProfit)
        let account = F.account(F.strict, initial: "50000", balance: "\(balance)")
        let past = history.map { ComplianceContext.DayResult(day: $0.0, realizedPnL: F.d($0.1), trades: 3) }
        return engine.evaluate(order: buyOneLot, context: F.context(F.strict, account, at: now, dayStartBalance: "50000", history: past))
    }

    func testConsistencyTodaysShareAtUnderAndOver() {
        // Three earlier days of +1,000: today's share T / (3,000 + T) ≤ 40 % ⇔ T ≤ 2,000.
        let past = [("2026-11-20", "1000"), ("2026-11-23", "1000"), ("2026-11-24", "1000")]
        let at = consistencyDecision(todayProfit: "2000", history: past)
        XCTAssertEqual(at.check(.consistency)?.passed, true, at.detail(.consistency))
        XCTAssertEqual(at.detail(.consistency), "best day 2026-11-25 2,000.00 is 40.0 % of total profit 5,000.00 USD (max 40 %)")
        XCTAssertEqual(consistencyDecision(todayProfit: "1999.99", history: past).check(.consistency)?.passed, true)
        let over = consistencyDecision(todayProfit: "2000.01", history: past)
        XCTAssertEqual(over.violatedRules, [.consistency])
        XCTAssertTrue(over.detail(.consistency).hasPrefix("today's realised profit 2,000.01 is 40.0 % of total profit 5,000.01 USD"))
    }

    func testConsistencyReportsButDoesNotBlockAPastBestDay() {
        // A past +5,000 day is 90.9 % of 5,500: trading more today can only dilute it.
        let decision = consistencyDecision(todayProfit: "0", history: [("2026-11-20", "5000"), ("2026-11-23", "500")])
        XCTAssertEqual(decision.check(.consistency)?.passed, true)
        XCTAssertTrue(decision.detail(.consistency).contains("best day 2026-11-20 5,000.00 is 90.9 %"))
        XCTAssertTrue(decision.detail(.consistency).contains("more profitable days are needed before a payout"))
    }

    // MARK: - Trading days (informational)

    func testTradingDaysCountIsInformational() {
        let history = [("2026-11-20", 2), ("2026-11-23", 0), ("2026-11-24", 5)].map {
            ComplianceContext.DayResult(day: $0.0, realizedPnL: 0, trades: $0.1)
        }
        let decision = engine.evaluate(order: buyOneLot, context: F.context(F.strict, F.account(F.strict, initial: "50000"), at: now,
                                                                            history: history, tradesToday: 1))
        XCTAssertEqual(decision.check(.tradingDays)?.passed, true)
        XCTAssertEqual(decision.check(.tradingDays)?.severity, .info)
        XCTAssertEqual(decision.detail(.tradingDays), "3 trading days of minimum 5 (2 more needed for a payout)")
        XCTAssertEqual(decision.verdict, .approved)
    }

    // MARK: - Lenient mode

    func testLenientTurnsEverySoftFailureIntoAWarningButKeepsHardRules() {
        // Strict firm, Friday 20:00 UTC (cut-off), ±5 min of payrolls, no stop-loss, fifth new
        // position beyond a cap of 5: soft failures only.
        let friday = F.utc("2026-11-27 20:00:00")
        let news = [NewsEvent(id: "x", time: F.micros(friday) + 60_000_000, currency: "USD", title: "Fed speech", impact: "high")]
        let positions = ["GBP_USD", "AUD_USD", "XAU_USD", "USD_JPY", "US30"].map { F.open($0, "1", at: friday - 3600) }
        let account = F.account(F.strict, initial: "50000")
        let order = F.order(.buy, "1", stop: nil)
        let context = F.context(F.strict, account, at: friday, positions: positions, news: news)
        let strict = engine.evaluate(order: order, context: context)
        XCTAssertEqual(strict.verdict, .rejected)
        XCTAssertEqual(Set(strict.violatedRules), [.maxOpenPositions, .stopLossRequired, .newsBlackout, .fridayCutoff])
        let lenient = F.engine(.lenient).evaluate(order: order, context: context)
        XCTAssertEqual(lenient.verdict, .approvedWithWarnings)
        XCTAssertEqual(Set(lenient.warnedRules), [.maxOpenPositions, .stopLossRequired, .newsBlackout, .fridayCutoff])
        XCTAssertEqual(lenient.decision.checks.filter { !$0.passed }.map(\.severity), ["warning", "warning", "warning", "warning"])
        // Same order over the max lot cap: lenient still rejects.
        let big = F.engine(.lenient).evaluate(order: F.order(.buy, "10.01", stop: nil), context: context)
        XCTAssertEqual(big.verdict, .rejected)
        XCTAssertEqual(big.violatedRules, [.maxLots])
    }

    func testComplianceModeFromEnvironment() throws {
        XCTAssertEqual(try ComplianceMode(environment: Environment([:])), .strict)
        XCTAssertEqual(try ComplianceMode(environment: Environment(["COMPLIANCE_MODE": "Lenient"])), .lenient)
        XCTAssertThrowsError(try ComplianceMode(environment: Environment(["COMPLIANCE_MODE": "loose"]))) { error in
            XCTAssertTrue("\(error)".contains("COMPLIANCE_MODE: expected strict or lenient, got 'loose'"), "\(error)")
        }
    }
}
