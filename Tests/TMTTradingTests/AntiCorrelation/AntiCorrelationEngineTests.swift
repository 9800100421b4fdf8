import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// The decisions: the level boundaries, the action each level takes on a real order, the
/// deterministic stagger and size draws, lot-step rounding, the risk-reducing exemption and the
/// "after the order" rule. Unless said otherwise acct-a has no position and buys 1.00 EUR_USD
/// (100,000 USD notional), so its exposure after the order is EUR_USD alone and the cosine with
/// acct-b is acct-b's EUR_USD share: b_EUR / |b|.
final class AntiCorrelationEngineTests: XCTestCase {
    typealias F = AntiCorrelationFixture

    private let engine = AntiCorrelationEngine()
    /// The default pending lifetime, µs.
    private var lifetime: Int64 { Int64(engine.configuration.pendingLifetimeSeconds) * F.second }

    private func book(b positions: [(String, String)], a: [(String, String)] = []) -> AntiCorrelationBook {
        var book = engine.makeBook()
        book.register(accountId: "acct-a")
        for (instrument, lots) in a { book.update(position: F.position("acct-a", instrument, lots)) }
        for (instrument, lots) in positions { book.update(position: F.position("acct-b", instrument, lots)) }
        return book
    }

    private func evaluate(_ book: AntiCorrelationBook, _ order: Order = F.order()) -> AntiCorrelationOutcome {
        engine.evaluate(order, book: book, pricing: F.pricing, now: 1_000 * F.second)
    }

    func testLevelsAreInclusiveLowerBounds() {
        let c = AntiCorrelationConfiguration()
        let cases: [(String, AntiCorrelationAction)] = [
            ("-1", .none), ("0.4999", .none), ("0.5", .stagger), ("0.6999", .stagger), ("0.7", .resize),
            ("0.8999", .resize), ("0.9", .block), ("1", .block),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(AntiCorrelationAction.forCorrelation(F.d(value), configuration: c), expected, "at \(value)")
        }
    }

    func testBelowTheFirstLevelTheOrderPassesUntouched() {
        // b = (EUR 70,000, GBP 240,000): |b| = 250,000, cosine = 70,000 / 250,000 = 0.28.
        let out = evaluate(book(b: [("EUR_USD", "0.7"), ("GBP_USD", "2.4")]))
        XCTAssertEqual(out.decision.verdict, .approved)
        XCTAssertEqual(out.decision.figures["maxCorrelation"], "0.2800")
        XCTAssertEqual(out.quantity, 1)
        XCTAssertEqual(out.delaySeconds, 0)
    }

    func testExactlyOneHalfStaggers() throws {
        // b = 100,000 in each of four instruments: |b| = 200,000, cosine = 100,000 / 200,000 = 0.5.
        let out = evaluate(book(b: [("EUR_USD", "1"), ("GBP_USD", "1"), ("AUD_USD", "1"), ("XAU_USD", "1")]))
        XCTAssertEqual(out.decision.figures["maxCorrelation"], "0.5000")
        XCTAssertEqual(out.action, .stagger)
        XCTAssertEqual(out.decision.verdict, .modified)
        XCTAssertEqual(out.quantity, 1)
        XCTAssertEqual(out.delaySeconds, engine.staggerSeconds(orderId: "sig-1:acct-a"))
        XCTAssertTrue((5...45).contains(out.delaySeconds))
        XCTAssertEqual(out.decision.figures["delaySeconds"], "\(out.delaySeconds)")
        let moved = try out.applied(to: F.order())
        XCTAssertEqual(moved.status, .decorrelated)
        XCTAssertEqual(moved.decisions.last?.agent, "anti-correlation")
    }

    func testBetweenPointSevenAndPointNineTheSizeIsCutAndStaggered() {
        // b = (EUR 40,000, GBP 30,000): cosine = 40,000 / 50,000 = 0.8.
        let out = evaluate(book(b: [("EUR_USD", "0.4"), ("GBP_USD", "0.3")]))
        XCTAssertEqual(out.decision.figures["maxCorrelation"], "0.8000")
        XCTAssertEqual(out.action, .resize)
        XCTAssertEqual(out.decision.verdict, .modified)
        let drawn = engine.sizeReductionPercent(orderId: "sig-1:acct-a")
        // 1.00 × (100 − p) / 100, floored to 0.01, so between 0.85 and 0.95.
        XCTAssertEqual(out.quantity, AntiCorrelationEngine.reducedQuantity(1, byPercent: drawn, lotStep: F.d("0.01")))
        XCTAssertGreaterThanOrEqual(out.quantity, F.d("0.85"))
        XCTAssertLessThanOrEqual(out.quantity, F.d("0.95"))
        XCTAssertEqual(out.sizeReductionPercent, (1 - out.quantity) * 100)
        XCTAssertEqual(out.decision.figures["quantity"], "\(out.quantity)")
        XCTAssertGreaterThan(out.delaySeconds, 0)
    }

    func testAtPointNineTheOrderIsSkippedNamingAccountWindowAndValue() throws {
        // b = (EUR 24,000, GBP 7,000): |b| = 25,000, cosine = 24,000 / 25,000 = 0.96.
        let out = evaluate(book(b: [("EUR_USD", "0.24"), ("GBP_USD", "0.07")]))
        XCTAssertEqual(out.decision.verdict, .skipped)
        XCTAssertEqual(out.skipReason, "correlation 0.9600 with acct-b over 5m (exposure similarity) ≥ block level 0.9")
        XCTAssertEqual(out.decision.checks.first { $0.rule == "correlation.5m" }?.passed, false)
        let moved = try out.applied(to: F.order())
        XCTAssertEqual(moved.status, .skipped)
        XCTAssertEqual(moved.quantity, 1)
    }

    func testRiskReducingOrderPassesUnchangedEvenAtPointNineFive() {
        let out = evaluate(book(b: [("EUR_USD", "0.24"), ("GBP_USD", "0.07")]), F.order(riskReducing: true))
        XCTAssertEqual(out.indicatedAction, .block)
        XCTAssertEqual(out.action, .none)
        XCTAssertEqual(out.decision.verdict, .approved)
        XCTAssertEqual(out.quantity, 1)
        XCTAssertEqual(out.delaySeconds, 0)
        XCTAssertNil(out.skipReason)
        XCTAssertTrue(out.decision.checks.contains { $0.rule == "riskReducing" })
    }

    func testAnOrderThatMakesTheAccountsLessAlikePasses() {
        // a holds EUR 30,000; b holds (EUR 30,000, GBP 40,000): before 30,000 / 50,000 = 0.6.
        let b = [("EUR_USD", "0.3"), ("GBP_USD", "0.4")]
        let books = book(b: b, a: [("EUR_USD", "0.3")])
        // Buying 0.4 GBP makes a = b: after 1.0 → skipped.
        let closer = evaluate(books, F.order(instrument: "GBP_USD", side: .buy, lots: "0.4"))
        XCTAssertEqual(closer.decision.verdict, .skipped)
        XCTAssertEqual(closer.strongest?.exposureBefore, F.d("0.6"))
        XCTAssertEqual(closer.strongest?.exposureAfter, 1)
        // Selling 0.4 GBP: a = (30,000, −40,000), after (9e8 − 16e8) / 2.5e9 = −0.28 < 0.6 → passes.
        let apart = evaluate(books, F.order(instrument: "GBP_USD", side: .sell, lots: "0.4"))
        XCTAssertEqual(apart.decision.verdict, .approved)
        XCTAssertEqual(apart.readings.first?.exposureAfter, F.d("-0.28"))
        XCTAssertTrue(apart.readings.allSatisfy(\.orderLowersSimilarity))
        XCTAssertTrue(apart.decision.checks[0].detail.contains("lowers exposure similarity"))

        // Where the rule decides: a = b = (30,000, 40,000), similarity 1. Buying 0.1 EUR gives
        // a = (40,000, 40,000): (12e8 + 16e8) / (56,568.54 × 50,000) = 0.98995 → 0.9899, still
        // above the block level, but lower than before, so the order moves the accounts apart.
        let twins = book(b: b, a: b)
        let diverging = evaluate(twins, F.order(instrument: "EUR_USD", side: .buy, lots: "0.1"))
        XCTAssertEqual(diverging.readings.first?.exposureBefore, 1)
        XCTAssertEqual(diverging.readings.first?.exposureAfter, F.d("0.9899"))
        XCTAssertEqual(diverging.decision.verdict, .approved)
        XCTAssertEqual(diverging.quantity, F.d("0.1"))
        // Both long EUR_USD only: buying more keeps the similarity at 1 (not lowered): acted on.
        let sameOne = book(b: [("EUR_USD", "0.3")], a: [("EUR_USD", "0.3")])
        XCTAssertEqual(evaluate(sameOne, F.order(instrument: "EUR_USD", lots: "0.1")).decision.verdict, .skipped)
    }

    func testReturnCorrelationActsWhereExposuresLookUnrelated() {
        // a holds EUR_USD, b holds GBP_USD: orthogonal vectors (cosine 0), but their equity moved
        // together for 30 buckets of 10 s, so the 5 m return correlation is 1.
        var together = book(b: [("GBP_USD", "1")], a: [("EUR_USD", "1")])
        F.feed(&together, "acct-a", returns: F.alternating(30))
        F.feed(&together, "acct-b", returns: F.alternating(30))
        let out = engine.evaluate(F.order(), book: together, pricing: F.pricing, now: 301 * F.second)
        XCTAssertEqual(out.skipReason, "correlation 1.0000 with acct-b over 5m (return correlation) ≥ block level 0.9")
        XCTAssertEqual(out.strongest?.returnCorrelation, 1)
        XCTAssertEqual(out.strongest?.exposureAfter, 0)

        // Mirror-image equity (ρ = −1) and cosine 0: max(−1, 0) = 0 → passes.
        var opposite = book(b: [("GBP_USD", "1")], a: [("EUR_USD", "1")])
        F.feed(&opposite, "acct-a", returns: F.alternating(30))
        F.feed(&opposite, "acct-b", returns: F.alternating(30, startingUp: false))
        let passes = engine.evaluate(F.order(), book: opposite, pricing: F.pricing, now: 301 * F.second)
        XCTAssertEqual(passes.decision.verdict, .approved)
        XCTAssertEqual(passes.decision.figures["maxCorrelation"], "0.0000")
    }

    func testDrawsAreDeterministicPerOrderIdAndStayInRange() {
        let again = AntiCorrelationEngine()
        XCTAssertEqual(engine.staggerSeconds(orderId: "s-17:acct-2"), again.staggerSeconds(orderId: "s-17:acct-2"))
        XCTAssertEqual(engine.sizeReductionPercent(orderId: "s-17:acct-2"), again.sizeReductionPercent(orderId: "s-17:acct-2"))
        let ids = (0..<1_000).map { "sig-\($0):acct-\($0 % 3)" }
        let delays = ids.map { engine.staggerSeconds(orderId: $0) }
        let cuts = ids.map { engine.sizeReductionPercent(orderId: $0) }
        XCTAssertTrue(delays.allSatisfy { (5...45).contains($0) })
        XCTAssertTrue(cuts.allSatisfy { $0 >= 5 && $0 <= 15 })
        // 1,000 uniform draws over 41 whole seconds reach both ends of the range.
        XCTAssertEqual(delays.min(), 5)
        XCTAssertEqual(delays.max(), 45)
        XCTAssertGreaterThan(Set(cuts).count, 500)
        // Another seed gives other delays.
        let seeded = AntiCorrelationEngine(configuration: AntiCorrelationConfiguration(seed: 42))
        XCTAssertNotEqual(ids.prefix(20).map { seeded.staggerSeconds(orderId: $0) }, Array(delays.prefix(20)))
    }

    func testReductionRoundsDownToTheLotStepAndNeverBelowOneStep() {
        // 1.00 × 92.7 / 100 = 0.927 → 0.92.
        XCTAssertEqual(AntiCorrelationEngine.reducedQuantity(1, byPercent: F.d("7.3"), lotStep: F.d("0.01")), F.d("0.92"))
        // 2.5 × 87.6544 / 100 = 2.19136 → 2.19.
        XCTAssertEqual(AntiCorrelationEngine.reducedQuantity(F.d("2.5"), byPercent: F.d("12.3456"), lotStep: F.d("0.01")), F.d("2.19"))
        // US30 steps of 0.1: 1.0 × 0.95 = 0.95 → 0.9.
        XCTAssertEqual(AntiCorrelationEngine.reducedQuantity(1, byPercent: 5, lotStep: F.d("0.1")), F.d("0.9"))
        // 0.02 × 0.85 = 0.017 → 0.01, still one step.
        XCTAssertEqual(AntiCorrelationEngine.reducedQuantity(F.d("0.02"), byPercent: 15, lotStep: F.d("0.01")), F.d("0.01"))
        // 0.01 × 0.95 = 0.0095 → below one step.
        XCTAssertNil(AntiCorrelationEngine.reducedQuantity(F.d("0.01"), byPercent: 5, lotStep: F.d("0.01")))
    }

    func testResizeThatWouldLeaveLessThanOneStepSkips() {
        // Cosine 0.8 as above, but the order is a single 0.01 step: any cut leaves nothing.
        let out = evaluate(book(b: [("EUR_USD", "0.4"), ("GBP_USD", "0.3")]), F.order(lots: "0.01"))
        XCTAssertEqual(out.decision.verdict, .skipped)
        XCTAssertEqual(out.decision.checks.first { $0.rule == "lotStep" }?.passed, false)
        XCTAssertTrue(out.skipReason?.contains("below one lot step (0.01)") ?? false)
        XCTAssertTrue(out.skipReason?.contains("with acct-b over 5m") ?? false)
    }

    func testOrdersLetThroughCountBeforeTheyFill() {
        var book = engine.makeBook()
        book.register(accountId: "acct-a")
        // The same signal reached acct-b a moment ago: 1.00 EUR_USD let through, not filled yet.
        let first = F.order("sig-1:acct-b", account: "acct-b")
        book.recordForwarded(first, quantity: 1, at: 0)
        book.recordForwarded(first, quantity: 1, at: 0) // redelivered: still counted once
        XCTAssertEqual(book.exposure(of: "acct-b", pricing: F.pricing).vector.notional, ["EUR_USD": 100_000])
        // acct-a's identical buy: cosine 1 → skipped.
        XCTAssertEqual(engine.evaluate(F.order(), book: book, pricing: F.pricing, now: 10 * F.second).decision.verdict, .skipped)

        // The fill hands the exposure over to the position update.
        var filled = book
        filled.apply(fill: Fill(id: "f-1", orderId: "sig-1:acct-b", accountId: "acct-b", instrument: "EUR_USD", side: .buy,
                                quantity: 1, price: 1, spread: 0, slippage: 0, commission: 0, time: 5), at: 5 * F.second)
        XCTAssertTrue(filled.exposure(of: "acct-b", pricing: F.pricing).vector.isEmpty)
        filled.update(position: F.position("acct-b", "EUR_USD", "1"))
        XCTAssertEqual(filled.exposure(of: "acct-b", pricing: F.pricing).vector.notional, ["EUR_USD": 100_000])

        // Blocked downstream and known to be: forgotten at once, and acct-a's buy passes.
        var blocked = book
        XCTAssertTrue(blocked.isPending(orderId: "sig-1:acct-b", accountId: "acct-b"))
        blocked.forget(orderId: "sig-1:acct-b", accountId: "acct-b", at: 5 * F.second)
        XCTAssertFalse(blocked.isPending(orderId: "sig-1:acct-b", accountId: "acct-b"))
        XCTAssertTrue(blocked.exposure(of: "acct-b", pricing: F.pricing).vector.isEmpty)
        XCTAssertNotEqual(engine.evaluate(F.order(), book: blocked, pricing: F.pricing, now: 10 * F.second).decision.verdict, .skipped)

        // Neither filled nor known to end: still counted while human behaviour may hold it (up to
        // 16 h; the lifetime was 300 s, so an order held through a short break stopped counting
        // and acct-a's clone passed), kept for the whole lifetime, then dropped.
        var stale = book
        engine.expirePending(in: &stale, now: 16 * 3600 * F.second)
        XCTAssertEqual(engine.evaluate(F.order(), book: stale, pricing: F.pricing, now: 16 * 3600 * F.second).decision.verdict, .skipped)
        engine.expirePending(in: &stale, now: lifetime)
        XCTAssertFalse(stale.exposure(of: "acct-b", pricing: F.pricing).vector.isEmpty)
        engine.expirePending(in: &stale, now: lifetime + 1)
        XCTAssertTrue(stale.exposure(of: "acct-b", pricing: F.pricing).vector.isEmpty)
        XCTAssertEqual(engine.evaluate(F.order(), book: stale, pricing: F.pricing, now: lifetime + F.second).decision.verdict, .approved)
    }

    /// The safety expiry must outlast every legitimate wait between an order's let-through and
    /// its fill or end: human behaviour's longest hold (and the lateness it tolerates before it
    /// cancels), then a limit or stop order's day of market time in the execution engine, which
    /// stands still over a weekend.
    func testTheDefaultLifetimeOutlastsTheLongestLegitimateWait() throws {
        let human = HumanBehaviorConfiguration()
        let resting = try XCTUnwrap(FillModelConfiguration().pendingOrderTimeToLiveSeconds)
        let weekend: Double = 48 * 3600
        XCTAssertGreaterThan(Double(AntiCorrelationConfiguration().pendingLifetimeSeconds),
                             human.maxHoldSeconds + human.maxReleaseLatenessSeconds + resting + weekend)
    }

    /// The orders the agent asks the database about: those let through before the given time,
    /// oldest first, across accounts.
    func testPendingOrdersLetThroughBeforeATime() {
        var book = engine.makeBook()
        book.recordForwarded(F.order("sig-3:acct-b", account: "acct-b"), quantity: 1, at: 30 * F.second)
        book.recordForwarded(F.order("sig-4:acct-a", account: "acct-a"), quantity: 1, at: 10 * F.second)
        book.recordForwarded(F.order("sig-5:acct-b", account: "acct-b"), quantity: 1, at: 50 * F.second)
        let found = book.pendingOrders(letThroughBefore: 50 * F.second)
        XCTAssertEqual(found.map(\.orderId), ["sig-4:acct-a", "sig-3:acct-b"])
        XCTAssertEqual(found.map(\.accountId), ["acct-a", "acct-b"])
        book.forget(orderId: "sig-4:acct-a", accountId: "acct-a", at: 60 * F.second)
        XCTAssertEqual(book.pendingOrders(letThroughBefore: 60 * F.second).map(\.orderId), ["sig-3:acct-b", "sig-5:acct-b"])
    }

    /// The agent reads let-through orders, fills and blocked orders from three topics in no
    /// guaranteed order: after a restart an order's fill (or block) can be read before the
    /// record that it was let through. That record must not make it pending again (it used to,
    /// counting the filled order twice — as pending and as the position — until its lifetime
    /// ran out).
    func testAnOrderThatEndedIsNotCountedWhenItsLetThroughRecordComesLater() {
        let order = F.order("sig-2:acct-b", account: "acct-b")
        let fill = Fill(id: "f-2", orderId: order.id, accountId: "acct-b", instrument: "EUR_USD", side: .buy,
                        quantity: 1, price: 1, spread: 0, slippage: 0, commission: 0, time: 5)
        var filledFirst = engine.makeBook()
        filledFirst.apply(fill: fill, at: 20 * F.second)
        filledFirst.update(position: F.position("acct-b", "EUR_USD", "1"))
        filledFirst.recordForwarded(order, quantity: 1, at: 4 * F.second)
        XCTAssertFalse(filledFirst.isPending(orderId: order.id, accountId: "acct-b"))
        XCTAssertEqual(filledFirst.exposure(of: "acct-b", pricing: F.pricing).vector.notional, ["EUR_USD": 100_000], "counted twice")

        var blockedFirst = engine.makeBook()
        blockedFirst.forget(orderId: order.id, accountId: "acct-b", at: 20 * F.second)
        blockedFirst.recordForwarded(order, quantity: 1, at: 4 * F.second)
        XCTAssertTrue(blockedFirst.exposure(of: "acct-b", pricing: F.pricing).vector.isEmpty)

        // The end is remembered for ten minutes (not for the days a pending order may wait: every
        // fill of those days would be held), then dropped.
        let memory = Int64(AntiCorrelationEngine.endMemorySeconds) * F.second
        XCTAssertEqual(memory, 600 * F.second)
        engine.expirePending(in: &blockedFirst, now: 20 * F.second + memory)
        XCTAssertEqual(blockedFirst.accounts["acct-b"]?.ended, [order.id: 20 * F.second])
        engine.expirePending(in: &blockedFirst, now: 20 * F.second + memory + 1)
        XCTAssertEqual(blockedFirst.accounts["acct-b"]?.ended, [:])
    }
}
