import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

final class HumanSchedulerTests: XCTestCase {
    typealias F = HumanFixtures

    // MARK: Determinism

    func testSameSeedAndAccountGiveTheSamePersonalityAndOthersDiffer() {
        let config = HumanBehaviorConfiguration(seed: 11)
        let a = HumanPersonality.derive(accountId: "acct-1", configuration: config)
        XCTAssertEqual(a, HumanPersonality.derive(accountId: "acct-1", configuration: config))
        XCTAssertNotEqual(a, HumanPersonality.derive(accountId: "acct-2", configuration: config))
        XCTAssertNotEqual(a, HumanPersonality.derive(accountId: "acct-1", configuration: HumanBehaviorConfiguration(seed: 12)))
    }

    func testDerivedPersonalitiesStayInsideTheConfiguredRanges() {
        let config = HumanBehaviorConfiguration()
        var medians = Set<Double>()
        for i in 0..<200 {
            let p = HumanPersonality.derive(accountId: "acct-\(i)", configuration: config)
            medians.insert(p.medianDelaySeconds)
            XCTAssertTrue(config.medianDelaySeconds.contains(p.medianDelaySeconds))
            XCTAssertTrue(config.delaySpread.contains(p.delaySpread))
            XCTAssertTrue(config.timeZones.contains(p.timeZoneIdentifier))
            XCTAssertTrue(config.sessionStartMinute.contains(p.sessionStartMinute))
            XCTAssertLessThanOrEqual(p.sessionEndMinute, 1440)
            if let lunch = p.lunchStartMinute {
                XCTAssertGreaterThan(lunch, p.sessionStartMinute)
                XCTAssertLessThan(lunch + p.lunchMinutes, p.sessionEndMinute)
            }
            XCTAssertTrue(config.warmUpFactor.contains(p.warmUpFactor))
            XCTAssertTrue(config.niceLotSteps.contains(p.roundingStep))
        }
        XCTAssertEqual(medians.count, 200, "each account gets its own median")
    }

    func testSameOrderIdGivesTheSameScheduleOnRedeliveryAndOtherIdsDiffer() throws {
        let now = F.utc("2026-01-14T09:00:00Z")
        let first = try F.scheduler().schedule(order: F.order(), now: now)
        let redelivered = try F.scheduler().schedule(order: F.order(), now: now)
        XCTAssertEqual(first, redelivered)
        let other = try F.scheduler().schedule(order: F.order("sig-2:acct-london"), now: now)
        XCTAssertNotEqual(first.drawnDelaySeconds, other.drawnDelaySeconds)
    }

    func testScheduleFromAClockUsesItsTime() throws {
        let clock = ManualClock(start: F.utc("2026-01-14T09:00:00Z"))
        let s = try F.scheduler().schedule(order: F.order(), clock: clock)
        XCTAssertEqual(s.decidedAt, F.micros(F.utc("2026-01-14T09:00:00Z")))
    }

    // MARK: Delay distribution

    func testDrawnDelaysFollowThePersonalitysLognormal() throws {
        // 09:00 is 60 min into the 08:00 stretch: no warm-up, no break, so hold = drawn delay.
        let scheduler = try F.scheduler()
        let now = F.utc("2026-01-14T09:00:00Z")
        let delays = (0..<4001).map { scheduler.schedule(order: F.order("sig-\($0):acct-london"), now: now).holdSeconds }.sorted()
        let median = delays[2000]
        // Median of 4001 lognormal draws: standard error ≈ 1.2533 × σ / √n = 1.2533 × 0.5 / 63 ≈ 1 % of 4 s.
        XCTAssertEqual(median, 4, accuracy: 0.2)
        // The 84.1st percentile of a lognormal is median × e^σ = 4 × e^0.5 ≈ 6.59 s.
        XCTAssertEqual(delays[3365], 4 * exp(0.5), accuracy: 0.4)
        XCTAssertGreaterThanOrEqual(delays.first!, 0.5)
        XCTAssertLessThanOrEqual(delays.last!, 60)
    }

    // MARK: Sessions, breaks and warm-up

    func testNightOrderWaitsForTheLondonOpenWithWarmUp() throws {
        let now = F.utc("2026-01-14T03:00:00Z")
        let s = try F.scheduler().schedule(order: F.order(), now: now)
        // 03:00 → 08:00 = 5 h = 18,000 s; at the open the warm-up factor is the full ×2.
        XCTAssertEqual(s.sessionWaitSeconds, 18_000, accuracy: 1e-6)
        XCTAssertEqual(s.breakWaitSeconds, 0)
        XCTAssertEqual(s.warmUpFactor, 2, accuracy: 1e-9)
        XCTAssertEqual(s.releaseAt, F.micros(F.utc("2026-01-14T08:00:00Z")) + F.micros(seconds: s.drawnDelaySeconds * 2))
        let decision = s.decision
        XCTAssertEqual(decision.agent, "human-behavior")
        XCTAssertEqual(decision.verdict, .delayed)
        XCTAssertEqual(decision.figures["sessionWaitSeconds"], "18000.000")
        XCTAssertEqual(decision.figures["warmUpFactor"], "2.000")
    }

    func testSummerTimeOpenIsEightLondonTimeNotUTC() throws {
        // 15 July: London is UTC+1, so 03:00 UTC is 04:00 local and the open 08:00 local is 07:00 UTC.
        let s = try F.scheduler().schedule(order: F.order(), now: F.utc("2026-07-15T03:00:00Z"))
        XCTAssertEqual(s.sessionWaitSeconds, 4 * 3600, accuracy: 1e-6)
    }

    func testEveningOrderWaitsForTomorrowsOpen() throws {
        // 17:30 → next day 08:00 = 14.5 h = 52,200 s, inside the default 16 h max hold.
        let s = try F.scheduler().schedule(order: F.order(), now: F.utc("2026-01-14T17:30:00Z"))
        XCTAssertEqual(s.sessionWaitSeconds, 52_200, accuracy: 1e-6)
        XCTAssertFalse(s.maxHoldApplied)
    }

    func testMaxHoldBoundsTheSessionWait() throws {
        let now = F.utc("2026-01-14T03:00:00Z")
        let s = try F.scheduler(maxHold: 3600).schedule(order: F.order(), now: now)
        XCTAssertTrue(s.maxHoldApplied)
        XCTAssertEqual(s.releaseAt, F.micros(now) + 3_600_000_000)
        XCTAssertEqual(s.decision.figures["maxHoldApplied"], "true")
    }

    func testOrderDuringLunchWaitsForItsEndAndWarmsUpAgain() throws {
        // Lunch 12:30–13:15; at 12:40 the wait is 35 min = 2,100 s, then a fresh warm-up (×2).
        let s = try F.scheduler().schedule(order: F.order(), now: F.utc("2026-01-14T12:40:00Z"))
        XCTAssertEqual(s.breakWaitSeconds, 2_100, accuracy: 1e-6)
        XCTAssertEqual(s.sessionWaitSeconds, 0)
        XCTAssertEqual(s.warmUpFactor, 2, accuracy: 1e-9)
        XCTAssertEqual(s.releaseAt, F.micros(F.utc("2026-01-14T13:15:00Z")) + F.micros(seconds: s.drawnDelaySeconds * 2))
    }

    func testOrderDuringAShortBreakWaitsForItsEnd() throws {
        // From the 08:00 open: active 90 min, so a short break 09:30–09:35; at 09:32 wait 180 s.
        let s = try F.scheduler().schedule(order: F.order(), now: F.utc("2026-01-14T09:32:00Z"))
        XCTAssertEqual(s.breakWaitSeconds, 180, accuracy: 1e-6)
        XCTAssertEqual(s.warmUpFactor, 2, accuracy: 1e-9)
        // The second short break after lunch: 13:15 + 90 min = 14:45–14:50; at 14:46 wait 240 s.
        let after = try F.scheduler().schedule(order: F.order(), now: F.utc("2026-01-14T14:46:00Z"))
        XCTAssertEqual(after.breakWaitSeconds, 240, accuracy: 1e-6)
    }

    func testWarmUpFadesLinearlyToOne() throws {
        // 08:05 is 5 of 10 warm-up minutes in: 1 + (2 − 1) × (1 − 5/10) = 1.5.
        let early = try F.scheduler().schedule(order: F.order(), now: F.utc("2026-01-14T08:05:00Z"))
        XCTAssertEqual(early.warmUpFactor, 1.5, accuracy: 1e-9)
        XCTAssertEqual(early.holdSeconds, early.drawnDelaySeconds * 1.5, accuracy: 1e-5)
        // 09:00 is 60 min in: no warm-up, the hold is just the drawn delay.
        let settled = try F.scheduler().schedule(order: F.order(), now: F.utc("2026-01-14T09:00:00Z"))
        XCTAssertEqual(settled.warmUpFactor, 1)
        XCTAssertEqual(settled.holdSeconds, settled.drawnDelaySeconds, accuracy: 1e-5)
        XCTAssertEqual(settled.sessionWaitSeconds + settled.breakWaitSeconds, 0)
    }

    // MARK: Scale

    func testScaleZeroReleasesAtOnceWithTheProposedSize() throws {
        let now = F.utc("2026-01-14T03:00:00Z") // outside the session and would be rounded
        let s = try F.scheduler(scale: 0).schedule(order: F.order(quantity: "1.37"), now: now)
        XCTAssertEqual(s.releaseAt, F.micros(now))
        XCTAssertEqual(s.quantity, Decimal(string: "1.37")!)
        XCTAssertNil(s.roundingStep)
        XCTAssertEqual(s.sessionWaitSeconds, 0)
        XCTAssertEqual(s.decision.verdict, .approved)
        let lunch = try F.scheduler(scale: 0).schedule(order: F.order(), now: F.utc("2026-01-14T12:40:00Z"))
        XCTAssertEqual(lunch.holdSeconds, 0)
    }

    func testScaleTwoDoublesTheDelayButNotTheWallClockWait() throws {
        let inSession = F.utc("2026-01-14T09:00:00Z")
        let one = try F.scheduler(scale: 1).schedule(order: F.order(), now: inSession)
        let two = try F.scheduler(scale: 2).schedule(order: F.order(), now: inSession)
        XCTAssertEqual(two.drawnDelaySeconds, one.drawnDelaySeconds)
        XCTAssertEqual(two.holdSeconds, 2 * one.holdSeconds, accuracy: 2e-6)
        // At night the 5 h wait is the same; only the delay after the open doubles.
        let night = F.utc("2026-01-14T03:00:00Z")
        let n1 = try F.scheduler(scale: 1).schedule(order: F.order(), now: night)
        let n2 = try F.scheduler(scale: 2).schedule(order: F.order(), now: night)
        XCTAssertEqual(n2.sessionWaitSeconds, n1.sessionWaitSeconds)
        XCTAssertEqual(n2.holdSeconds - 18_000, 2 * (n1.holdSeconds - 18_000), accuracy: 2e-6)
    }

    // MARK: Risk-reducing

    func testRiskReducingOrderSkipsTheNightAndIsCappedAtTwoSeconds() throws {
        var slow = F.london
        slow.medianDelaySeconds = 30
        slow.delaySpread = 0 // every draw is 30 s, so the 2 s cap always bites
        let now = F.utc("2026-01-14T03:00:00Z")
        let s = try F.scheduler(personality: slow).schedule(order: F.order(quantity: "1.37", riskReducing: true), now: now)
        XCTAssertEqual(s.drawnDelaySeconds, 30, accuracy: 1e-9)
        XCTAssertEqual(s.releaseAt, F.micros(now) + 2_000_000)
        XCTAssertEqual(s.sessionWaitSeconds, 0)
        XCTAssertEqual(s.quantity, Decimal(string: "1.37")!, "a close is never rounded")
        // The cap scales too: 2 s × 3 = 6 s.
        let scaled = try F.scheduler(scale: 3, personality: slow).schedule(order: F.order(riskReducing: true), now: now)
        XCTAssertEqual(scaled.releaseAt, F.micros(now) + 6_000_000)
    }

    func testRiskReducingOrderDuringLunchIsNotHeld() throws {
        let now = F.utc("2026-01-14T12:40:00Z")
        let s = try F.scheduler().schedule(order: F.order(riskReducing: true), now: now)
        XCTAssertLessThanOrEqual(s.holdSeconds, 2)
        XCTAssertEqual(s.breakWaitSeconds, 0)
    }

    // MARK: Rounding through the scheduler

    func testSchedulerRoundsToThePersonalitysNiceStepAndInstrumentGrid() throws {
        let now = F.utc("2026-01-14T09:00:00Z")
        // EUR_USD 1.37 with a 0.05 habit → 27 × 0.05 = 1.35.
        let fx = try F.scheduler().schedule(order: F.order(quantity: "1.37"), now: now)
        XCTAssertEqual(fx.quantity, Decimal(string: "1.35")!)
        XCTAssertEqual(fx.applied(to: F.order(quantity: "1.37")).quantity, Decimal(string: "1.35")!)
        XCTAssertEqual(fx.decision.figures["quantityFrom"], "1.37")
        XCTAssertEqual(fx.decision.figures["quantityTo"], "1.35")
        // US30 trades in 0.1 lots, so 0.05 is off-grid and the lot step is used: 2.37 → 2.3.
        let index = try F.scheduler().schedule(order: F.order(instrument: "US30", quantity: "2.37"), now: now)
        XCTAssertEqual(index.quantity, Decimal(string: "2.3")!)
        // An unknown instrument is not rounded.
        let unknown = try F.scheduler().schedule(order: F.order(instrument: "XYZ", quantity: "1.37"), now: now)
        XCTAssertEqual(unknown.quantity, Decimal(string: "1.37")!)
    }

    // MARK: Configuration

    func testConfigurationValidationNamesTheField() {
        XCTAssertNoThrow(try HumanBehaviorConfiguration().validate())
        var bad = HumanBehaviorConfiguration()
        bad.delayScale = -1
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("delayScale")) }
        bad = HumanBehaviorConfiguration(timeZones: ["Mars/Olympus"])
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("timeZones")) }
        bad = HumanBehaviorConfiguration(sessionStartMinute: 900...1000, sessionLengthMinutes: 420...600)
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("sessionLengthMinutes")) }
        XCTAssertThrowsError(try HumanScheduler(configuration: HumanBehaviorConfiguration(maxHoldSeconds: 0)))
    }

    func testHumanDelayScaleFromTheEnvironment() throws {
        let base = HumanBehaviorConfiguration()
        XCTAssertEqual(try base.applying(environment: Environment([:])).delayScale, 1)
        XCTAssertEqual(try base.applying(environment: Environment(["HUMAN_DELAY_SCALE": "0"])).delayScale, 0)
        XCTAssertEqual(try base.applying(environment: Environment(["HUMAN_DELAY_SCALE": "0.25"])).delayScale, 0.25)
        XCTAssertThrowsError(try base.applying(environment: Environment(["HUMAN_DELAY_SCALE": "-1"]))) {
            XCTAssertTrue("\($0)".contains("HUMAN_DELAY_SCALE"))
        }
        XCTAssertThrowsError(try base.applying(environment: Environment(["HUMAN_DELAY_SCALE": "fast"])))
    }

    func testMaxReleaseLatenessFromTheEnvironment() throws {
        let base = HumanBehaviorConfiguration()
        XCTAssertEqual(try base.applying(environment: Environment([:])).maxReleaseLatenessSeconds, 60)
        XCTAssertEqual(try base.applying(environment: Environment(["HUMAN_MAX_RELEASE_LATENESS_SECONDS": "2.5"])).maxReleaseLatenessSeconds, 2.5)
        for bad in ["0", "-3", "soon", "1e9"] {
            XCTAssertThrowsError(try base.applying(environment: Environment(["HUMAN_MAX_RELEASE_LATENESS_SECONDS": bad])), bad) {
                XCTAssertTrue("\($0)".contains("HUMAN_MAX_RELEASE_LATENESS_SECONDS"), "\($0)")
            }
        }
        var invalid = base
        invalid.maxReleaseLatenessSeconds = .nan
        XCTAssertThrowsError(try invalid.validate())
    }

    func testAnOrderReleasedTooLateIsCancelledUnlessItReducesRisk() throws {
        let due: Int64 = 1_800_000_000_000_000
        let order = HumanFixtures.order()
        // Within the allowance, and exactly at it: released.
        XCTAssertNil(LateRelease.cancellation(of: order, due: due, now: due + 59_000_000, stage: .queued, maxLatenessSeconds: 60, agent: "human-behavior"))
        XCTAssertNil(LateRelease.cancellation(of: order, due: due, now: due + 60_000_000, stage: .queued, maxLatenessSeconds: 60, agent: "human-behavior"))
        XCTAssertNil(LateRelease.cancellation(of: order, due: due, now: due - 5_000_000, stage: .arriving, maxLatenessSeconds: 60, agent: "human-behavior"))
        // Hours late (the agent was down): cancelled, saying why.
        let late = try XCTUnwrap(LateRelease.cancellation(of: order, due: due, now: due + 17_538_208_000, stage: .queued, maxLatenessSeconds: 60,
                                                          agent: "human-behavior"))
        XCTAssertEqual(late.agent, "human-behavior")
        XCTAssertEqual(late.verdict, .skipped)
        XCTAssertEqual(late.checks.map(\.rule), ["releaseLateness"])
        XCTAssertFalse(late.checks[0].passed)
        XCTAssertTrue(late.checks[0].detail.hasPrefix("released 17538.2 s after its planned time, more than the 60 s allowed"), late.checks[0].detail)
        XCTAssertEqual(late.figures["lateSeconds"], "17538.208")
        XCTAssertEqual(late.figures["dueAt"], String(due))
        let unread = try XCTUnwrap(LateRelease.cancellation(of: order, due: due, now: due + 90_000_000, stage: .arriving, maxLatenessSeconds: 60,
                                                            agent: "human-behavior"))
        XCTAssertTrue(unread.checks[0].detail.hasPrefix("arrived 90.0 s after anti-correlation let it through, more than the 60 s allowed"),
                      unread.checks[0].detail)
        var cancelled = order
        try cancelled.advance(to: .humanized, decision: Decision(agent: "human-behavior", verdict: .delayed, decidedAt: due))
        XCTAssertNoThrow(try cancelled.advance(to: .cancelled, decision: late), "a queued (humanized) order can be cancelled")
        // A risk-reducing order goes out however late: a position is not left open for want of a close.
        XCTAssertNil(LateRelease.cancellation(of: HumanFixtures.order(riskReducing: true), due: due, now: due + 17_538_208_000, stage: .queued,
                                              maxLatenessSeconds: 60, agent: "human-behavior"))
    }

    func testThePlannedReleaseComesFromTheOrdersOwnDecision() throws {
        // The queue's score becomes a lease once claimed; the plan recorded on the order does not.
        var order = HumanFixtures.order()
        XCTAssertNil(LateRelease.plannedRelease(of: order, agent: "human-behavior"), "not scheduled yet")
        let plan = try HumanFixtures.scheduler().schedule(order: order, now: HumanFixtures.utc("2026-01-14T10:00:00Z"))
        order = plan.applied(to: order)
        try order.advance(to: .humanized, decision: plan.decision)
        XCTAssertEqual(LateRelease.plannedRelease(of: order, agent: "human-behavior"), plan.releaseAt)
        XCTAssertNil(LateRelease.plannedRelease(of: order, agent: "someone-else"))
        // A later notBefore (anti-correlation's stagger) wins, as in the queue's score.
        order.notBefore = plan.releaseAt + 5_000_000
        XCTAssertEqual(LateRelease.plannedRelease(of: order, agent: "human-behavior"), plan.releaseAt + 5_000_000)
    }
}
