import Foundation
import XCTest
@testable import TMTTrading

/// The `Breaker` state machine alone, time in µs passed by hand: every transition of the table
/// on the type, the backoff, the spacing of good outcomes, hysteresis, manual trips and resets.
final class BreakerStateMachineTests: XCTestCase {
    /// Timeout 10 s doubling up to 25 s; 3 good outcomes at least 1 s apart close it.
    let policy = BreakerRecoveryPolicy(timeoutSeconds: 10, backoffMultiplier: 2, maximumTimeoutSeconds: 25,
                                       goodOutcomesToClose: 3, goodOutcomeSpacingSeconds: 1)
    let s: Int64 = 1_000_000

    func reading(_ text: String, _ cause: BreakerCause = .systemDrawdown) -> BreakerReason {
        BreakerReason(cause: cause, detail: text)
    }

    /// A system breaker made known by a clear drawdown reading at t = 0.
    func knownSystem() -> Breaker {
        var b = Breaker(key: .system, at: 0)
        _ = b.observe(.systemDrawdown, level: .clear, reason: reading("flat"), at: 0, policy: policy)
        return b
    }

    func testNewBreakerIsUnknownUntilItsConfirmingConditionIsRead() {
        var b = Breaker(key: .system, at: 0)
        XCTAssertTrue(b.awaitingData)
        XCTAssertEqual(b.metricValue, 2, "unknown exports as tripped")
        // An error-rate reading says nothing about money at risk: still unknown, no event.
        XCTAssertNil(b.observe(.errorRate, level: .clear, reason: reading("0/min", .errorRate), at: 1 * s, policy: policy))
        XCTAssertTrue(b.awaitingData)
        let e = b.observe(.systemDrawdown, level: .clear, reason: reading("system drawdown 0.00 %"), at: 2 * s, policy: policy)
        XCTAssertEqual(e?.from, nil)
        XCTAssertEqual(e?.to, .normal)
        XCTAssertEqual(e?.reason.cause, .firstData)
        XCTAssertEqual(e?.reason.detail, "first data since start or restore: system drawdown 0.00 %")
        XCTAssertTrue(b.isKnown)
        XCTAssertEqual(b.metricValue, 0)
    }

    func testFullCycleNormalWarningTrippedHalfOpenNormal() throws {
        var b = knownSystem()
        let warn = try XCTUnwrap(b.observe(.systemDrawdown, level: .warning, reason: reading("2.50 % ≥ warning 2.40 %"), at: 1 * s, policy: policy))
        XCTAssertEqual([warn.from, warn.to], [.normal, .warning])
        XCTAssertEqual(b.metricValue, 1)

        let trip = try XCTUnwrap(b.observe(.systemDrawdown, level: .breach, reason: reading("3.00 % ≥ limit 3.00 %"), at: 5 * s, policy: policy))
        XCTAssertEqual([trip.from, trip.to], [.warning, .tripped])
        XCTAssertEqual(trip.recoveryAt, 15 * s, "first trip: 10 s timeout from t = 5 s")
        XCTAssertEqual(trip.reason.figures["trip"], "1")
        XCTAssertEqual(trip.reason.figures["recoveryTimeoutSeconds"], "10")
        XCTAssertEqual(b.metricValue, 2)

        XCTAssertNil(b.advance(to: 15 * s - 1), "one µs before the timeout it is still tripped")
        let half = try XCTUnwrap(b.advance(to: 15 * s))
        XCTAssertEqual([half.from, half.to], [.tripped, .halfOpen])
        XCTAssertEqual(half.reason.cause, .recoveryTimeout)
        XCTAssertEqual(b.metricValue, 3)

        // Good outcomes at 15 s, 15.5 s (too close: not counted), 16 s, 17 s → closed at the third.
        XCTAssertNil(b.observe(.systemDrawdown, level: .clear, reason: reading("1 %"), at: 15 * s, policy: policy))
        XCTAssertNil(b.observe(.systemDrawdown, level: .clear, reason: reading("1 %"), at: 15 * s + s / 2, policy: policy))
        XCTAssertEqual(b.goodOutcomes, 1)
        XCTAssertNil(b.observe(.systemDrawdown, level: .clear, reason: reading("1 %"), at: 16 * s, policy: policy))
        let closed = try XCTUnwrap(b.observe(.systemDrawdown, level: .clear, reason: reading("1 %"), at: 17 * s, policy: policy))
        XCTAssertEqual([closed.from, closed.to], [.halfOpen, .normal])
        XCTAssertEqual(closed.reason.cause, .goodOutcomes)
        XCTAssertEqual(b.consecutiveTrips, 0, "closing to normal resets the backoff")
        XCTAssertEqual(b.metricValue, 0)
    }

    func testBadOutcomeInHalfOpenRetripsWithDoubledTimeoutCappedAtMaximum() throws {
        var b = knownSystem()
        _ = b.observe(.systemDrawdown, level: .breach, reason: reading("3 %"), at: 0, policy: policy)
        XCTAssertEqual(b.recoveryAt, 10 * s)
        _ = b.advance(to: 10 * s)
        XCTAssertEqual(b.state, .halfOpen)

        let retrip = try XCTUnwrap(b.observe(.systemDrawdown, level: .breach, reason: reading("3.1 %"), at: 11 * s, policy: policy))
        XCTAssertEqual([retrip.from, retrip.to], [.halfOpen, .tripped])
        XCTAssertEqual(retrip.reason.detail, "bad outcome in half-open: 3.1 %")
        XCTAssertEqual(retrip.recoveryAt, 31 * s, "second trip: 10 × 2 = 20 s from t = 11 s")
        XCTAssertNil(b.advance(to: 30 * s))
        _ = b.advance(to: 31 * s)

        _ = b.observe(.systemDrawdown, level: .breach, reason: reading("3.2 %"), at: 32 * s, policy: policy)
        XCTAssertEqual(b.consecutiveTrips, 3)
        XCTAssertEqual(b.recoveryAt, 57 * s, "third trip: 10 × 4 = 40 s capped at 25 s, from t = 32 s")
        XCTAssertEqual(policy.timeout(forTrip: 1), 10)
        XCTAssertEqual(policy.timeout(forTrip: 2), 20)
        XCTAssertEqual(policy.timeout(forTrip: 3), 25)
    }

    func testWarningReadingInHalfOpenResetsTheGoodOutcomeStreak() {
        var b = knownSystem()
        _ = b.observe(.systemDrawdown, level: .breach, reason: reading("3 %"), at: 0, policy: policy)
        _ = b.advance(to: 10 * s)
        _ = b.observe(.systemDrawdown, level: .clear, reason: reading("1 %"), at: 10 * s, policy: policy)
        _ = b.observe(.systemDrawdown, level: .clear, reason: reading("1 %"), at: 11 * s, policy: policy)
        XCTAssertEqual(b.goodOutcomes, 2)
        XCTAssertNil(b.observe(.systemDrawdown, level: .warning, reason: reading("2.5 %"), at: 12 * s, policy: policy))
        XCTAssertEqual(b.state, .halfOpen)
        XCTAssertEqual(b.goodOutcomes, 0)
        _ = b.observe(.systemDrawdown, level: .clear, reason: reading("1 %"), at: 13 * s, policy: policy)
        _ = b.observe(.systemDrawdown, level: .clear, reason: reading("1 %"), at: 14 * s, policy: policy)
        XCTAssertEqual(b.state, .halfOpen, "two good outcomes after the streak reset are not enough")
        _ = b.observe(.systemDrawdown, level: .clear, reason: reading("1 %"), at: 15 * s, policy: policy)
        XCTAssertEqual(b.state, .normal)
    }

    func testGoodOutcomesDoNotCountWhileAnotherConditionIsNotClear() {
        var b = knownSystem()
        _ = b.observe(.latency, level: .breach, reason: reading("p95 3 s", .latency), at: 0, policy: policy)
        _ = b.advance(to: 10 * s)
        // Drawdown clear, but the latency condition is still at breach from the trip.
        _ = b.observe(.systemDrawdown, level: .clear, reason: reading("0 %"), at: 10 * s, policy: policy)
        XCTAssertEqual(b.goodOutcomes, 0)
        _ = b.observe(.latency, level: .clear, reason: reading("p95 0.1 s", .latency), at: 11 * s, policy: policy)
        XCTAssertEqual(b.goodOutcomes, 1)
    }

    func testWarningClearsOnlyBelowTheHysteresisLevel() throws {
        // Warning 3.20, hysteresis 10 % → clears strictly below 2.88.
        XCTAssertEqual(BreakerLevel.classify(Decimal(3.2), warning: 3.2, trip: 4, clearBelow: 2.88, previous: .clear), .warning)
        XCTAssertEqual(BreakerLevel.classify(Decimal(3.19), warning: 3.2, trip: 4, clearBelow: 2.88, previous: .clear), .clear)
        XCTAssertEqual(BreakerLevel.classify(Decimal(2.88), warning: 3.2, trip: 4, clearBelow: 2.88, previous: .warning), .warning)
        XCTAssertEqual(BreakerLevel.classify(Decimal(2.87), warning: 3.2, trip: 4, clearBelow: 2.88, previous: .warning), .clear)
        XCTAssertEqual(BreakerLevel.classify(Decimal(4), warning: 3.2, trip: 4, clearBelow: 2.88, previous: nil), .breach)

        var b = knownSystem()
        _ = b.observe(.systemDrawdown, level: .warning, reason: reading("2.5 %"), at: 1 * s, policy: policy)
        XCTAssertNil(b.observe(.systemDrawdown, level: .warning, reason: reading("2.2 % held"), at: 2 * s, policy: policy))
        let cleared = try XCTUnwrap(b.observe(.systemDrawdown, level: .clear, reason: reading("2.0 %"), at: 3 * s, policy: policy))
        XCTAssertEqual([cleared.from, cleared.to], [.warning, .normal])
        XCTAssertEqual(cleared.reason.cause, .cleared)
    }

    func testManualTripWaitsForResetAndResetForcesNormal() throws {
        var b = knownSystem()
        let manual = try XCTUnwrap(b.tripManually(BreakerReason(cause: .manualTrip, detail: "manual trip by ops-alice: drill",
                                                                requestedBy: "ops-alice", commandId: "c1"), at: 1 * s))
        XCTAssertEqual([manual.from, manual.to], [.normal, .tripped])
        XCTAssertNil(manual.recoveryAt)
        XCTAssertNil(b.advance(to: 86_400 * s), "a manual trip never recovers by itself")
        XCTAssertNil(b.tripManually(BreakerReason(cause: .manualTrip, detail: "again"), at: 2 * s))

        let reset = b.reset(BreakerReason(cause: .manualReset, detail: "reset by ops-bob", requestedBy: "ops-bob"), at: 3 * s)
        XCTAssertEqual([reset.from, reset.to], [.tripped, .normal])
        XCTAssertEqual(reset.reason.requestedBy, "ops-bob")
        XCTAssertEqual(b.state, .normal)
        XCTAssertTrue(b.conditions.isEmpty, "the next readings re-arm it")
    }

    func testManualTripTakesOverAnAutomaticTrip() throws {
        var b = knownSystem()
        _ = b.observe(.systemDrawdown, level: .breach, reason: reading("3 %"), at: 0, policy: policy)
        let e = try XCTUnwrap(b.tripManually(BreakerReason(cause: .manualTrip, detail: "hold it"), at: 1 * s))
        XCTAssertEqual([e.from, e.to], [.tripped, .tripped])
        XCTAssertNil(b.recoveryAt)
        XCTAssertNil(b.advance(to: 10 * s), "the automatic timeout no longer applies")
    }

    func testRestoredTripStaysTrippedAndUnknownUntilFreshData() throws {
        var b = knownSystem()
        _ = b.observe(.systemDrawdown, level: .breach, reason: reading("3 %"), at: 0, policy: policy)
        b.markAwaitingData()
        XCTAssertEqual(b.state, .tripped)
        XCTAssertTrue(b.awaitingData)
        XCTAssertTrue(b.conditions.isEmpty)
        _ = b.advance(to: 10 * s)
        XCTAssertEqual(b.state, .halfOpen, "the timer survives the restore")
        // Non-confirming clean readings are not good outcomes while the state is unknown.
        _ = b.observe(.errorRate, level: .clear, reason: reading("0/min", .errorRate), at: 10 * s, policy: policy)
        _ = b.observe(.errorRate, level: .clear, reason: reading("0/min", .errorRate), at: 11 * s, policy: policy)
        XCTAssertEqual(b.goodOutcomes, 0)
        let known = try XCTUnwrap(b.observe(.systemDrawdown, level: .clear, reason: reading("0.5 %"), at: 12 * s, policy: policy))
        XCTAssertNil(known.from)
        XCTAssertEqual(known.to, .halfOpen)
        XCTAssertEqual(b.goodOutcomes, 1)
    }

    func testEventIdsCountTransitionsPerBreaker() {
        var b = Breaker(key: .account("acc-1"), at: 0)
        let p = policy
        let ids = [
            b.observe(.dailyDrawdown, level: .clear, reason: reading("0 %", .dailyDrawdown), at: 0, policy: p),
            b.observe(.dailyDrawdown, level: .warning, reason: reading("3.5 %", .dailyDrawdown), at: s, policy: p),
            b.observe(.dailyDrawdown, level: .breach, reason: reading("4 %", .dailyDrawdown), at: 2 * s, policy: p),
        ].map { $0?.id }
        XCTAssertEqual(ids, ["breaker-account-acc-1-1", "breaker-account-acc-1-2", "breaker-account-acc-1-3"])
    }

    func testMetricEncoding() {
        XCTAssertEqual(BreakerState.allCases.map(\.metricValue), [0, 1, 2, 3])
        XCTAssertEqual(BreakerState.unknownMetricValue, 2)
    }
}
