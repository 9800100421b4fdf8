import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// Each trip cause through `CircuitBreaker` with a manual clock: just below, at and just above
/// its threshold, with the figures in the reason. Standard thresholds unless said otherwise.
final class BreakerTripTests: XCTestCase {
    typealias F = BreakerFixture

    // MARK: - Account daily drawdown (limit 4 %, warning 80 % → 3.2 %, of start-of-day 100,000)

    func testAccountDrawdownJustBelowLimitWarnsOnly() {
        // 100,000 − 96,000.01 = 3,999.99 → 3.99999 % < 4 % but ≥ 3.2 % → warning.
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "96000.01"))
        XCTAssertEqual(cb.state(.account("acc-1")), .warning)
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .reducing)
        XCTAssertEqual(cb.tradingState(account: "acc-2"), .active)
    }

    func testAccountDrawdownAtLimitTripsWithFiguresInReason() throws {
        // 100,000 − 96,000 = 4,000.00 → exactly 4.00 % → trips. System: 4,000 / 200,000 = 2 % < 2.4 % → normal.
        var (cb, _) = F.live()
        let events = cb.apply(account: F.account("acc-1", equity: "96000"))
        let trip = try XCTUnwrap(events.first { $0.to == .tripped })
        XCTAssertEqual(trip.key, .account("acc-1"))
        XCTAssertEqual(trip.from, .normal)
        XCTAssertEqual(trip.reason.cause, .dailyDrawdown)
        XCTAssertEqual(trip.reason.detail, "daily drawdown 4.00 % (loss 4,000.00 of start-of-day equity 100,000.00) ≥ limit 4.00 %")
        XCTAssertEqual(trip.reason.figures["drawdownPercent"], "4")
        XCTAssertEqual(trip.reason.figures["loss"], "4000")
        XCTAssertEqual(trip.reason.figures["recoveryTimeoutSeconds"], "300")
        XCTAssertEqual(cb.state(.system), .normal)
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .halted)
        XCTAssertEqual(cb.tradingState(account: "acc-2"), .active)
    }

    func testAccountDrawdownJustAboveLimitTrips() {
        // 4,000.01 / 100,000 = 4.00001 %.
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "95999.99"))
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
    }

    func testAccountWarningStartsExactlyAtEightyPercentOfLimit() {
        // 3,199.99 → 3.19999 % stays normal; 3,200.00 → 3.2 % warns.
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "96800.01"))
        XCTAssertEqual(cb.state(.account("acc-1")), .normal)
        _ = cb.apply(account: F.account("acc-1", equity: "96800"))
        XCTAssertEqual(cb.state(.account("acc-1")), .warning)
    }

    func testAccountWarningClearsBelowHysteresisLevelOnly() {
        // Clear level = 3.2 × 0.9 = 2.88 % → loss 2,880.
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "96500"))           // 3.5 % warning
        _ = cb.apply(account: F.account("acc-1", equity: "97120"))           // 2.88 % held
        XCTAssertEqual(cb.state(.account("acc-1")), .warning)
        XCTAssertTrue(cb.breaker(.account("acc-1"))!.conditions[.dailyDrawdown]!.reason.detail.hasSuffix(
            "not yet below clear level 2.88 % (warning held)"))
        let events = cb.apply(account: F.account("acc-1", equity: "97120.01")) // 2.87999 % clears
        XCTAssertEqual(events.map(\.to), [.normal])
        XCTAssertEqual(events.first?.reason.cause, .cleared)
    }

    func testOpenLossCountsBecauseDailyPnLIncludesIt() {
        // Balance untouched at 100,000, open P&L −4,100 → equity 95,900, daily P&L −4,100 → 4.1 %.
        var (cb, _) = F.live()
        var a = F.account("acc-1", equity: "95900")
        a.balance = 100_000
        _ = cb.apply(account: a)
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
    }

    // MARK: - System drawdown (limit 3 %, warning 2.4 %, of 200,000)

    func testSystemDrawdownJustBelowAtAndAboveLimit() {
        // 3,000 + 2,999.99 = 5,999.99 / 200,000 = 2.999995 % → warning; each account 3 % < 3.2 % → normal.
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "97000"))
        _ = cb.apply(account: F.account("acc-2", equity: "97000.01"))
        XCTAssertEqual(cb.state(.system), .warning)
        XCTAssertEqual(cb.state(.account("acc-1")), .normal)
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .reducing)

        // 6,000.00 / 200,000 = 3.00 % → trips; everyone halted though no account is past its own limit.
        let events = cb.apply(account: F.account("acc-2", equity: "97000"))
        let trip = events.first { $0.key == .system && $0.to == .tripped }
        XCTAssertEqual(trip?.reason.detail,
                       "system drawdown 3.00 % (loss 6,000.00 of start-of-day equity 200,000.00 across 2 accounts) ≥ limit 3.00 %")
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .halted)
        XCTAssertEqual(cb.tradingState(account: "acc-2"), .halted)

        var (above, _) = F.live()
        _ = above.apply(account: F.account("acc-1", equity: "97000"))
        _ = above.apply(account: F.account("acc-2", equity: "96999.99")) // 6,000.01 → 3.000005 %
        XCTAssertEqual(above.state(.system), .tripped)
    }

    // MARK: - Heartbeats (interval 5 s: warning at 10 s, trip at 15 s)

    func testHeartbeatExpiryTiming() {
        var (cb, clock) = F.live()
        clock.advance(by: 9.999)
        _ = cb.advance()
        XCTAssertEqual(cb.state(.agent("aria-risk")), .normal)
        clock.advance(by: 0.001)                          // 10.000 s
        _ = cb.advance()
        XCTAssertEqual(cb.state(.agent("aria-risk")), .warning)
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .active, "a late heartbeat alone does not restrict trading")
        clock.advance(by: 4.999)                          // 14.999 s
        _ = cb.advance()
        XCTAssertEqual(cb.state(.agent("aria-risk")), .warning)
        clock.advance(by: 0.001)                          // 15.000 s
        let events = cb.advance()
        XCTAssertEqual(cb.state(.agent("aria-risk")), .tripped)
        XCTAssertEqual(events.first { $0.key == .agent("aria-risk") }?.reason.detail,
                       "no heartbeat from aria-risk for 15.0 s ≥ limit 15.0 s (3 × 5.0 s)")
    }

    func testHeartbeatResetsTheAgeAndOneCriticalAgentDownIsReducingTwoIsHalted() {
        var (cb, clock) = F.live()
        clock.advance(by: 9)
        _ = cb.apply(heartbeat: F.heartbeat("aria-risk"))
        clock.advance(by: 6)                              // aria 6 s old, execution 15 s old
        _ = cb.advance()
        XCTAssertEqual(cb.state(.agent("aria-risk")), .normal)
        XCTAssertEqual(cb.state(.agent("execution-engine")), .tripped)
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .reducing, "1 of 2 critical agents down")
        clock.advance(by: 8.9)                            // aria 14.9 s old
        _ = cb.advance()
        XCTAssertEqual(cb.state(.agent("aria-risk")), .warning)
        clock.advance(by: 0.1)                            // aria 15 s old
        _ = cb.advance()
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .halted, "2 critical agents down is the halt count")
    }

    func testDegradedHeartbeatWarnsAndNamesFailingChecks() {
        var (cb, _) = F.live()
        _ = cb.apply(heartbeat: F.heartbeat("aria-risk", status: "degraded", failing: ["postgres"]))
        XCTAssertEqual(cb.state(.agent("aria-risk")), .warning)
        XCTAssertEqual(cb.breaker(.agent("aria-risk"))?.reason.detail, "aria-risk (host-1) reports degraded (failing: postgres)")
        _ = cb.apply(heartbeat: F.heartbeat("aria-risk"))
        XCTAssertEqual(cb.state(.agent("aria-risk")), .normal)
    }

    /// Replicas report in turn. A degraded one keeps the agent at warning whatever the healthy
    /// one says (one instance's report used to overwrite the other's: the breaker flapped with
    /// every heartbeat); it counts until it stops cleanly or falls silent for the trip age.
    func testReplicasAreJudgedTogetherAndLeaveByStoppingOrFallingSilent() {
        var (cb, clock) = F.live()  // every critical agent heard from its instance host-1
        var events: [BreakerEvent] = []
        for _ in 0..<4 {
            clock.advance(by: 2.5)
            events += cb.apply(heartbeat: F.heartbeat("aria-risk"))
            events += cb.apply(heartbeat: F.heartbeat("aria-risk", status: "degraded", failing: ["postgres"], instance: "b"))
        }
        XCTAssertEqual(cb.state(.agent("aria-risk")), .warning)
        XCTAssertEqual(events.filter { $0.key == .agent("aria-risk") }.map(\.to), [.warning], "one transition, no flapping")
        XCTAssertEqual(cb.breaker(.agent("aria-risk"))?.reason.detail, "aria-risk (b) reports degraded (failing: postgres)")

        // b stops cleanly: host-1 alone, healthy.
        _ = cb.apply(heartbeat: F.heartbeat("aria-risk", status: AgentHeartbeat.stoppingStatus, instance: "b"))
        XCTAssertEqual(cb.state(.agent("aria-risk")), .normal)
        XCTAssertEqual(cb.breaker(.agent("aria-risk"))?.reason.detail,
                       "every condition back below its clear level; last: aria-risk reports healthy (1 instance, last b)")

        // c degrades, then falls silent (killed): it counts until the trip age (15 s) has passed.
        _ = cb.apply(heartbeat: F.heartbeat("aria-risk", status: "degraded", instance: "c"))
        XCTAssertEqual(cb.state(.agent("aria-risk")), .warning)
        for _ in 0..<5 {
            clock.advance(by: 2.98)                       // 14.9 s after c's heartbeat at the end
            _ = cb.apply(heartbeat: F.heartbeat("aria-risk"))
        }
        XCTAssertEqual(cb.state(.agent("aria-risk")), .warning)
        clock.advance(by: 0.1)                            // 15.0 s
        _ = cb.apply(heartbeat: F.heartbeat("aria-risk"))
        XCTAssertEqual(cb.state(.agent("aria-risk")), .normal)

        // The last instance stops: nothing reports, and the heartbeat age trips the agent in time.
        _ = cb.apply(heartbeat: F.heartbeat("aria-risk", status: AgentHeartbeat.stoppingStatus))
        XCTAssertEqual(cb.state(.agent("aria-risk")), .normal)
        clock.advance(by: 15)
        _ = cb.advance()
        XCTAssertEqual(cb.state(.agent("aria-risk")), .tripped)
    }

    func testAgentNeverHeardStaysUnknownThenTripsAsMissing() {
        let clock = ManualClock()
        var cb = CircuitBreaker(configuration: F.configuration(), clock: clock)
        clock.advance(by: 14.9)
        _ = cb.advance()
        XCTAssertNil(cb.state(.agent("aria-risk")), "unknown, not yet missing")
        clock.advance(by: 0.1)
        _ = cb.advance()
        XCTAssertEqual(cb.state(.agent("aria-risk")), .tripped)
        XCTAssertEqual(cb.breaker(.agent("aria-risk"))?.reason.detail,
                       "no heartbeat from aria-risk since watching began 15.0 s ago ≥ limit 15.0 s (3 × 5.0 s)")
    }

    // MARK: - Error / DLQ rate (system 10 / 30 per minute, agent 5 / 15, window 60 s)

    func testSystemErrorRateJustBelowAtAndAboveLimit() {
        var (cb, _) = F.live()
        for i in 0..<29 { _ = cb.recordError(id: "dlq-\(i)", origin: nil) }
        XCTAssertEqual(cb.state(.system), .warning, "29/min ≥ 10 warning, < 30 limit")
        let events = cb.recordError(id: "dlq-29", origin: nil)
        XCTAssertEqual(cb.state(.system), .tripped)
        XCTAssertEqual(events.first?.reason.detail, "error/DLQ rate 30.0/min (30 in the last 60.0 s) ≥ limit 30.0/min")

        var (above, _) = F.live()
        for i in 0..<31 { _ = above.recordError(id: "dlq-\(i)", origin: nil) }
        XCTAssertEqual(above.breaker(.system)?.reason.figures["perMinute"], "30", "the trip happened at the 30th")
        XCTAssertEqual(above.state(.system), .tripped)
    }

    func testErrorsAgeOutOfTheSlidingWindow() {
        var (cb, clock) = F.live()
        for i in 0..<20 { _ = cb.recordError(id: "e\(i)", origin: nil) }
        XCTAssertEqual(cb.state(.system), .warning)
        clock.advance(by: 30)
        for i in 20..<29 { _ = cb.recordError(id: "e\(i)", origin: nil) }
        XCTAssertEqual(cb.breaker(.system)?.conditions[.errorRate]?.reason.figures["count"], "29")
        clock.advance(by: 29.999)                          // first 20 are 59.999 s old: still inside
        _ = cb.advance()
        XCTAssertEqual(cb.breaker(.system)?.conditions[.errorRate]?.reason.figures["count"], "29")
        clock.advance(by: 0.001)                           // exactly 60 s old: aged out
        _ = cb.advance()
        XCTAssertEqual(cb.breaker(.system)?.conditions[.errorRate]?.reason.figures["count"], "9")
        XCTAssertEqual(cb.state(.system), .warning, "9/min is not below the clear level 10 × 0.9 = 9/min: warning held")
        clock.advance(by: 30)                              // the last 9 age out too
        let events = cb.advance()
        XCTAssertEqual(events.first { $0.key == .system }?.to, .normal)
    }

    func testDuplicateErrorIdsCountOnce() {
        var (cb, _) = F.live()
        for _ in 0..<40 { _ = cb.recordError(id: "same-dlq-message", origin: nil) }
        XCTAssertEqual(cb.breaker(.system)?.conditions[.errorRate]?.reason.figures["count"], "1")
        XCTAssertEqual(cb.state(.system), .normal)
    }

    func testAgentErrorRateTripsThatAgent() {
        var (cb, _) = F.live()
        for i in 0..<14 { _ = cb.recordError(id: "a\(i)", origin: "aria-risk") }
        XCTAssertEqual(cb.state(.agent("aria-risk")), .warning)
        _ = cb.recordError(id: "a14", origin: "aria-risk")
        XCTAssertEqual(cb.state(.agent("aria-risk")), .tripped)
        XCTAssertEqual(cb.state(.system), .warning, "15/min counts in the system rate too: ≥ 10 warning")
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .reducing)
    }

    // MARK: - Latency (pipeline p95: warning 0.5 s, trip 2 s, ≥ 20 samples)

    func latencyBreaker(slowest: Double, slowCount: Int = 2, total: Int = 20) -> CircuitBreaker {
        var (cb, _) = F.live()
        for i in 0..<total { _ = cb.recordLatency(id: "o\(i)", seconds: i < total - slowCount ? 0.1 : slowest, agent: nil) }
        return cb
    }

    func testLatencyQuantileJustBelowAtAndAboveLimit() {
        // 20 samples, nearest rank of p95 = ⌈0.95 × 20⌉ = 19th smallest = the first of the 2 slow ones.
        XCTAssertEqual(latencyBreaker(slowest: 1.999).state(.system), .warning)
        let at = latencyBreaker(slowest: 2.0)
        XCTAssertEqual(at.state(.system), .tripped)
        XCTAssertEqual(at.breaker(.system)?.reason.detail, "pipeline latency p95 2.000 s over 20 orders in the last 60.0 s ≥ limit 2.000 s")
        XCTAssertEqual(latencyBreaker(slowest: 2.001).state(.system), .tripped)
        // With only one slow order in 20 the 19th smallest is fast: one outlier is not a breach.
        XCTAssertEqual(latencyBreaker(slowest: 5, slowCount: 1).state(.system), .normal)
    }

    func testTooFewLatencySamplesAreNoEvidence() {
        var (cb, _) = F.live()
        for i in 0..<19 { _ = cb.recordLatency(id: "o\(i)", seconds: 5, agent: nil) }
        XCTAssertEqual(cb.state(.system), .normal)
        XCTAssertEqual(cb.breaker(.system)?.conditions[.latency]?.reason.detail,
                       "pipeline latency p95: 19 orders in the last 60.0 s, fewer than 20 (no evidence)")
    }

    func testHopLatencyExemptsHumanDelayAndChargesEachAgent() {
        // aria 0.0–0.1 s, human-behavior holds 30 s, execution 1.2 s processing. Transit = 31.5 − 30 = 1.5 s.
        var (cb, _) = F.live()
        let t0: Int64 = 1_000_000_000
        let hops = [Hop(agent: "aria-risk", inMicros: t0, outMicros: t0 + 100_000),
                    Hop(agent: "human-behavior", inMicros: t0 + 200_000, outMicros: t0 + 30_200_000),
                    Hop(agent: "execution-engine", inMicros: t0 + 30_300_000, outMicros: t0 + 31_500_000)]
        for i in 0..<20 { _ = cb.recordLatency(orderId: "o\(i)", hops: hops) }
        XCTAssertEqual(cb.breaker(.system)?.conditions[.latency]?.reason.figures["seconds"], "1.5")
        XCTAssertEqual(cb.state(.system), .warning, "1.5 s ≥ 0.5 s warning, < 2 s limit; the 30 s hold does not count")
        XCTAssertEqual(cb.state(.agent("execution-engine")), .tripped, "1.2 s processing ≥ 1 s agent limit")
        XCTAssertEqual(cb.state(.agent("aria-risk")), .normal)
    }

    func testOrdersAlreadyOnTheirWayAtStartGiveNoLatency() {
        // A restart: 20 orders held across the downtime (first hop hours before this breaker
        // started) reach it 3 s after they were released, as consumers join their groups. Their
        // 3 s measure the restart, not the pipeline: no sample, no trip (a deploy after an
        // interrupted run was halted by exactly this).
        var (cb, _) = F.live()
        let started: Int64 = 1_800_000_000_000_000
        cb.latencyCountsFromMicros = started
        let old = started - 17_540_000_000
        // aria-risk was slow (1.5 s) before the restart, execution-engine (a later hop, after it)
        // is slow now: only the latter is evidence.
        let held = [Hop(agent: "aria-risk", inMicros: old, outMicros: old + 1_500_000),
                    Hop(agent: "human-behavior", inMicros: old + 2_000_000, outMicros: started + 2_000_000),
                    Hop(agent: "execution-engine", inMicros: started + 5_000_000, outMicros: started + 6_200_000)]
        for i in 0..<20 { _ = cb.recordLatency(orderId: "held\(i)", hops: held) }
        XCTAssertEqual(cb.latencySamplesSkipped, 20)
        XCTAssertEqual(cb.state(.system), .normal)
        XCTAssertEqual(cb.breaker(.system)?.conditions[.latency]?.reason.detail, nil, "no pipeline latency evidence at all")
        XCTAssertEqual(cb.state(.agent("aria-risk")), .normal, "its hop was before the start")
        XCTAssertEqual(cb.state(.agent("execution-engine")), .tripped, "1.2 s processing after the start ≥ 1 s agent limit")

        // The same slow journey begun after the start counts (and trips), the boundary included.
        let fresh = [Hop(agent: "aria-risk", inMicros: started, outMicros: started + 1_000),
                     Hop(agent: "circuit-breaker", inMicros: started + 3_000_000, outMicros: started + 3_000_100)]
        for i in 0..<20 { _ = cb.recordLatency(orderId: "fresh\(i)", hops: fresh) }
        XCTAssertEqual(cb.latencySamplesSkipped, 20)
        XCTAssertEqual(cb.state(.system), .tripped)
        XCTAssertEqual(cb.breaker(.system)?.reason.detail, "pipeline latency p95 3.000 s over 20 orders in the last 60.0 s ≥ limit 2.000 s")
    }

    // MARK: - Price gap (0.5 %, trip only) and volatility

    func testPriceGapJustBelowAtAndAbove() {
        // From mid 1.00000 (the live fixture's tick): 1.00499 is 0.499 %, 1.00500 is 0.5 %, 1.00600 is 0.6 %.
        var (below, _) = F.live()
        _ = below.apply(tick: F.tick("EUR_USD", "1.00499", at: 10))
        XCTAssertEqual(below.state(.instrument("EUR_USD")), .normal)

        var (at, _) = F.live()
        let events = at.apply(tick: F.tick("EUR_USD", "1.00500", at: 10))
        XCTAssertEqual(at.state(.instrument("EUR_USD")), .tripped)
        XCTAssertEqual(events.first?.reason.detail, "EUR_USD mid moved 0.50 % in one tick (1 → 1.005) ≥ gap limit 0.50 %")

        var (above, _) = F.live()
        _ = above.apply(tick: F.tick("EUR_USD", "0.99400", at: 10))   // −0.6 %: gaps count both ways
        XCTAssertEqual(above.state(.instrument("EUR_USD")), .tripped)
    }

    func testGapRestrictsOnlyOrdersInThatInstrument() {
        var (cb, _) = F.live()
        _ = cb.apply(tick: F.tick("EUR_USD", "1.00600", at: 10))
        XCTAssertEqual(cb.assess(account: "acc-1", instrument: "EUR_USD").state, .reducing)
        XCTAssertEqual(cb.assess(account: "acc-1", instrument: "GBP_USD").state, .active)
        XCTAssertFalse(cb.evaluate(order: F.order("acc-1", "EUR_USD")).verdict.isCleared)
        XCTAssertTrue(cb.evaluate(order: F.order("acc-1", "EUR_USD", riskReducing: true)).verdict.isCleared)
        XCTAssertTrue(cb.evaluate(order: F.order("acc-1", "GBP_USD")).verdict.isCleared)
    }

    func testQuietTicksRewriteTheirStoredReasonAtMostOncePerSecondAndNeverDelayATrip() {
        var (cb, clock) = F.live()
        func gapReason() -> String? { cb.breaker(.instrument("EUR_USD"))?.conditions[.priceGap]?.reason.detail }
        // The live fixture's first EUR_USD tick wrote the reason; small moves within the same
        // breaker second change nothing but the text, which is not rebuilt.
        let first = gapReason()
        XCTAssertEqual(cb.apply(tick: F.tick("EUR_USD", "1.00010", at: 10)), [])
        XCTAssertEqual(gapReason(), first, "a quiet clear reading within the second keeps the stored reason")
        XCTAssertEqual(cb.breaker(.instrument("EUR_USD"))?.conditions[.priceGap]?.level, .clear)
        // A second later (breaker clock) the next quiet tick writes its own reason.
        clock.advance(by: 1.5)
        _ = cb.apply(tick: F.tick("EUR_USD", "1.00020", at: 11))
        XCTAssertEqual(gapReason(), "EUR_USD mid moved 0.0100 % in one tick (1.0001 → 1.0002) below gap limit 0.50 %")
        // A gap right after is never skipped: it trips at once with its own reason.
        let events = cb.apply(tick: F.tick("EUR_USD", "1.01000", at: 12))
        XCTAssertEqual(cb.state(.instrument("EUR_USD")), .tripped)
        XCTAssertEqual(events.first?.reason.detail, "EUR_USD mid moved 0.98 % in one tick (1.0002 → 1.01) ≥ gap limit 0.50 %")
        XCTAssertEqual(gapReason(), events.first?.reason.detail)
    }

    func testRedeliveredOrOlderTickIsIgnored() {
        var (cb, _) = F.live()
        _ = cb.apply(tick: F.tick("EUR_USD", "1.00100", at: 10))
        XCTAssertEqual(cb.apply(tick: F.tick("EUR_USD", "1.20000", at: 10)), [], "same time: a redelivery")
        XCTAssertEqual(cb.apply(tick: F.tick("EUR_USD", "1.20000", at: 5)), [])
        XCTAssertEqual(cb.state(.instrument("EUR_USD")), .normal)
    }

    func testVolatilityWarnsThenTripsAndAgesOut() {
        // Mid alternating 1.00000 ↔ 1.00100: returns +0.1 % and −0.0999 %, squares ≈ 0.01 each.
        // 10 returns: √(≈0.0999) ≈ 0.316 % → warning (≥ 0.25 %); 30 returns: √(≈0.2997) ≈ 0.547 % → trip (≥ 0.5 %).
        var (cb, _) = F.live()
        var t = 1.0
        func swing(_ n: Int) {
            for _ in 0..<n {
                t += 1
                let up = Int(t) % 2 == 0
                _ = cb.apply(tick: F.tick("EUR_USD", up ? "1.00100" : "1.00000", at: t))
            }
        }
        swing(9)
        XCTAssertEqual(cb.state(.instrument("EUR_USD")), .normal, "9 returns: fewer than 10, no evidence")
        swing(1)
        XCTAssertEqual(cb.state(.instrument("EUR_USD")), .warning)
        swing(20)
        XCTAssertEqual(cb.state(.instrument("EUR_USD")), .tripped)
        XCTAssertEqual(cb.breaker(.instrument("EUR_USD"))?.reason.cause, .volatility)
        // A quiet tick 61 s of tick time later: every return has left the window.
        _ = cb.apply(tick: F.tick("EUR_USD", "1.00000", at: t + 61))
        XCTAssertEqual(cb.breaker(.instrument("EUR_USD"))?.conditions[.volatility]?.reason.figures["returns"], "1")
    }

    func testVolatilityAtExactlyItsLimit() {
        // Mid × 1.001 per tick: every return is exactly 0.1 %, so n returns give Σr² = n × 0.01
        // and √ = 0.3 % at n = 9. Limit 0.3 %, warning 0.2 %, 5 returns minimum.
        var t = BreakerThresholds.standard
        t.volatilityTripPercent = F.d("0.3")
        t.volatilityWarningPercent = F.d("0.2")
        t.volatilityMinimumReturns = 5
        t.priceGapPercent = 1
        var (cb, _) = F.live(t)
        var mid = F.d("1")
        for i in 1...9 {
            mid *= F.d("1.001")
            _ = cb.apply(tick: F.tick("EUR_USD", "\(mid)", at: Double(10 + i)))
            if i == 8 { XCTAssertEqual(cb.state(.instrument("EUR_USD")), .warning, "Σ = 0.08 → 0.283 %") }
        }
        XCTAssertEqual(cb.breaker(.instrument("EUR_USD"))?.conditions[.volatility]?.reason.figures["sumSquaredReturns"], "0.09")
        XCTAssertEqual(cb.state(.instrument("EUR_USD")), .tripped)
    }

    func testGapMoveIsKeptOutOfVolatility() {
        var (cb, _) = F.live()
        _ = cb.apply(tick: F.tick("EUR_USD", "1.01000", at: 10))      // 1 % gap
        XCTAssertEqual(cb.breaker(.instrument("EUR_USD"))?.conditions[.volatility]?.reason.figures["returns"], "0")
    }
}

/// Per-account daily drawdown limits from `account_daily_drawdown_percent:`.
final class BreakerAccountLimitTests: XCTestCase {
    typealias F = BreakerFixture

    func testAnAccountsOwnLimitReplacesTheThresholdForItAlone() throws {
        // acc-1 limited to 1 %: 999.99 loss (0.99999 %) warns (≥ 0.8 %), 1,000.00 trips;
        // acc-2 keeps the standard 4 % (1,000.00 is 1 %, normal).
        let clock = ManualClock()
        var configuration = F.configuration()
        configuration.accountDailyDrawdownPercent = ["acc-1": 1]
        var cb = CircuitBreaker(configuration: configuration, clock: clock)
        F.confirmAll(&cb)
        _ = cb.apply(account: F.account("acc-1", equity: "99000.01"))
        XCTAssertEqual(cb.state(.account("acc-1")), .warning)
        _ = cb.apply(account: F.account("acc-2", equity: "99000"))
        XCTAssertEqual(cb.state(.account("acc-2")), .normal)
        let events = cb.apply(account: F.account("acc-1", equity: "99000"))
        let trip = try XCTUnwrap(events.first { $0.to == .tripped })
        XCTAssertEqual(trip.reason.detail, "daily drawdown 1.00 % (loss 1,000.00 of start-of-day equity 100,000.00) ≥ limit 1.00 %")
        XCTAssertEqual(cb.tradingState(account: "acc-1"), .halted)
        XCTAssertEqual(cb.tradingState(account: "acc-2"), .active)
    }

    func testATinyLimitReadsWithFourDecimals() throws {
        // 0.001 % of 100,000 is 1.00: a 5.00 loss (0.005 %) trips, and the reason says so.
        let clock = ManualClock()
        var configuration = F.configuration()
        configuration.accountDailyDrawdownPercent = ["acc-1": F.d("0.001")]
        var cb = CircuitBreaker(configuration: configuration, clock: clock)
        F.confirmAll(&cb)
        let trip = try XCTUnwrap(cb.apply(account: F.account("acc-1", equity: "99995")).first { $0.to == .tripped })
        XCTAssertEqual(trip.reason.detail, "daily drawdown 0.0050 % (loss 5.00 of start-of-day equity 100,000.00) ≥ limit 0.0010 %")
    }

    func testYAMLReadsTheLimitsAndRefusesOneOutOfRange() throws {
        let ok = ConfigNode(file: "cb.yml", node: try YAMLReader.parse("account_daily_drawdown_percent:\n  acct-a: 0.5\n"))
        XCTAssertEqual(try BreakerConfiguration(node: ok, environment: Environment([:])).accountDailyDrawdownPercent, ["acct-a": F.d("0.5")])
        let bad = ConfigNode(file: "cb.yml", node: try YAMLReader.parse("account_daily_drawdown_percent:\n  acct-a: 0\n"))
        XCTAssertThrowsError(try BreakerConfiguration(node: bad, environment: Environment([:]))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("cb.yml:2"), text)
            XCTAssertTrue(text.contains("acct-a"), text)
        }
    }
}
