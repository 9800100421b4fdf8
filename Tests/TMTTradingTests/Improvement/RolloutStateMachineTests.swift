import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

final class RolloutStateMachineTests: XCTestCase {
    private let accounts = (1...20).map { "acct-\($0)" }
    private let baseline = ["springVolumeRatio": "1.5"]
    private let variant = ["springVolumeRatio": "1.8"]
    /// 1 h stages, 30 trades to advance, 10 before rollback/emergency may fire.
    private let configuration = RolloutConfiguration(observationPeriod: 3_600, minimumSamples: 30, guardMinimumSamples: 10)

    private func makeMachine(_ configuration: RolloutConfiguration? = nil, clock: ManualClock) throws -> RolloutStateMachine {
        try RolloutStateMachine(experimentId: "exp-42", service: "wyckoff-analysis", accounts: accounts,
                                baselineParameters: baseline, variantParameters: variant,
                                configuration: configuration ?? self.configuration, clock: clock)
    }

    /// Variant at `relative` of a baseline expectancy of 10 (e.g. −0.1 → 9).
    private func observation(_ relative: Double, trades: Int = 40) -> RolloutObservation {
        RolloutObservation(variantTrades: trades, variantMetric: 10 * (1 + relative), baselineMetric: 10)
    }

    private func accountsParameter(_ update: ConfigUpdate) -> [String]? {
        update.accounts
    }

    func testFullPathAdvancesThroughEveryStageWithTheRightUpdates() throws {
        let clock = ManualClock()
        let start = clock.now()
        var machine = try makeMachine(clock: clock)
        let ranked = machine.assignment.rankedAccounts
        XCTAssertEqual(machine.state, .pending)
        XCTAssertNil(machine.observe(observation(0.05)), "nothing happens before approval")

        let approved = try machine.approve(by: "operator")
        XCTAssertEqual(approved.to, .rolling(stage: 0, since: start))
        XCTAssertEqual(approved.updates.count, 1)
        // 10 % of 20 accounts = 2, with the variant's parameters.
        XCTAssertEqual(accountsParameter(approved.updates[0]), Array(ranked[0..<2]))
        XCTAssertEqual(approved.updates[0].parameters["springVolumeRatio"], "1.8")
        XCTAssertEqual(approved.updates[0].service, "wyckoff-analysis")
        XCTAssertEqual(approved.updates[0].requestedBy, "exp-42")

        clock.advance(by: 3_599)
        XCTAssertNil(machine.observe(observation(0.05)), "period not over")
        clock.advance(by: 1)
        let to25 = try XCTUnwrap(machine.observe(observation(0.05)))
        XCTAssertEqual(to25.to, .rolling(stage: 1, since: start.addingTimeInterval(3_600)))
        // 25 % = 5 accounts: only the 3 new ones get an update.
        XCTAssertEqual(accountsParameter(to25.updates[0]), Array(ranked[2..<5]))
        XCTAssertEqual(machine.variantAccounts, Array(ranked[0..<5]))

        clock.advance(by: 3_600)
        XCTAssertNil(machine.observe(observation(0.05, trades: 29)), "29 trades < 30 minimum")
        XCTAssertNil(machine.observe(observation(-0.01)), "below the advance threshold of 0: hold")
        let to50 = try XCTUnwrap(machine.observe(observation(0.05, trades: 30)))
        XCTAssertEqual(to50.to, .rolling(stage: 2, since: start.addingTimeInterval(7_200)))
        XCTAssertEqual(accountsParameter(to50.updates[0]), Array(ranked[5..<10]))

        clock.advance(by: 3_600)
        let to100 = try XCTUnwrap(machine.observe(observation(0.0)))
        XCTAssertEqual(machine.currentPercent, 100)
        XCTAssertEqual(accountsParameter(to100.updates[0]), Array(ranked[10..<20]))

        clock.advance(by: 3_600)
        let done = try XCTUnwrap(machine.observe(observation(0.02)))
        XCTAssertEqual(done.to, .completed(at: start.addingTimeInterval(14_400)))
        // Completion makes the variant the service-wide default: no account list.
        XCTAssertEqual(done.updates, [ConfigUpdate(service: "wyckoff-analysis", parameters: variant, requestedBy: "exp-42",
                                                   reason: done.updates[0].reason)])
        XCTAssertNil(machine.observe(observation(-0.5)), "a finished rollout ignores observations")
        XCTAssertThrowsError(try machine.approve(by: "operator")) { error in
            XCTAssertEqual((error as? RolloutError)?.code, .invalidCommand)
        }
    }

    func testRollbackAtMinusTenPercentRestoresTheBaseline() throws {
        let clock = ManualClock()
        var machine = try makeMachine(clock: clock)
        _ = try machine.approve(by: "operator")
        let ranked = machine.assignment.rankedAccounts
        clock.advance(by: 60)
        XCTAssertNil(machine.observe(observation(-0.09)), "−9 % is inside the tolerance")
        XCTAssertNil(machine.observe(observation(-0.5, trades: 9)), "9 trades are too few to judge")
        // Variant expectancy 9 against 10: (9 − 10)/10 = −10 %, without waiting for the period.
        let rolledBack = try XCTUnwrap(machine.observe(observation(-0.10, trades: 10)))
        guard case .rolledBack = rolledBack.to else { return XCTFail("expected a rollback, got \(rolledBack.to)") }
        XCTAssertEqual(rolledBack.updates.count, 1)
        XCTAssertEqual(rolledBack.updates[0].parameters, RolloutStateMachine.revertParameters, "a revert, never the baseline values of proposal time")
        XCTAssertTrue(rolledBack.updates[0].parameters.isEmpty)
        XCTAssertEqual(accountsParameter(rolledBack.updates[0]), Array(ranked[0..<2]))
        XCTAssertTrue(rolledBack.reason.contains("-10.00 %"), rolledBack.reason)
        XCTAssertEqual(machine.variantAccounts, [])
    }

    func testEmergencyStopAtMinusTwentyPercentFromFiftyPercent() throws {
        let clock = ManualClock()
        var machine = try makeMachine(clock: clock)
        _ = try machine.approve(by: "operator")
        clock.advance(by: 3_600)
        _ = try XCTUnwrap(machine.observe(observation(0.05)))
        clock.advance(by: 3_600)
        _ = try XCTUnwrap(machine.observe(observation(0.05)))
        XCTAssertEqual(machine.currentPercent, 50)
        let ranked = machine.assignment.rankedAccounts

        clock.advance(by: 5)
        // −15 % is a rollback, not an emergency; checked on a copy so the real one stays at 50 %.
        var copy = machine
        guard case .rolledBack = try XCTUnwrap(copy.observe(observation(-0.15))).to else { return XCTFail("expected rollback") }

        // Variant 8 against 10 = −20 %: stop at once, 5 s into the stage.
        let stopped = try XCTUnwrap(machine.observe(observation(-0.20, trades: 12)))
        guard case .emergencyStopped(let at, _) = stopped.to else { return XCTFail("expected emergency stop, got \(stopped.to)") }
        XCTAssertEqual(at, clock.now())
        XCTAssertEqual(stopped.from, .rolling(stage: 2, since: clock.now().addingTimeInterval(-5)))
        // All 10 accounts of the 50 % stage get the baseline back.
        XCTAssertEqual(stopped.updates.count, 1)
        XCTAssertEqual(accountsParameter(stopped.updates[0]), Array(ranked[0..<10]))
        XCTAssertEqual(stopped.updates[0].parameters, RolloutStateMachine.revertParameters, "a revert, never the baseline values of proposal time")
        XCTAssertTrue(stopped.updates[0].parameters.isEmpty)
        XCTAssertTrue(machine.state.isTerminal)
        XCTAssertEqual(machine.state.name, "emergency_stopped")
    }

    func testManualStopRestoresBaselineAndEndsTheRollout() throws {
        let clock = ManualClock()
        var machine = try makeMachine(clock: clock)
        _ = try machine.approve(by: "operator")
        clock.advance(by: 3_600)
        _ = try XCTUnwrap(machine.observe(observation(0.05)))
        let ranked = machine.assignment.rankedAccounts

        let stopped = try machine.stop(by: "alice", reason: "news week")
        XCTAssertEqual(stopped.to, .stopped(at: clock.now(), by: "alice", reason: "news week"))
        XCTAssertEqual(accountsParameter(stopped.updates[0]), Array(ranked[0..<5]))
        XCTAssertEqual(stopped.updates[0].parameters, RolloutStateMachine.revertParameters, "a revert, never the baseline values of proposal time")
        XCTAssertTrue(stopped.updates[0].parameters.isEmpty)
        XCTAssertThrowsError(try machine.stop(by: "alice", reason: "again"))
        XCTAssertThrowsError(try machine.approve(by: "alice"))

        var pending = try makeMachine(clock: clock)
        let early = try pending.stop(by: "bob", reason: "not now")
        XCTAssertEqual(early.updates, [], "nothing was deployed, nothing to restore")
    }

    func testFastCycleCompressesObservationPeriodsSixtyTimes() throws {
        var fast = configuration
        try fast.apply(environment: ["IMPROVEMENT_CYCLE_FAST": "true"])
        XCTAssertTrue(fast.fastCycle)
        XCTAssertEqual(fast.effectiveObservationPeriod, 60)            // 3 600 s / 60
        let clock = ManualClock()
        var machine = try makeMachine(fast, clock: clock)
        _ = try machine.approve(by: "operator")
        clock.advance(by: 59)
        XCTAssertNil(machine.observe(observation(0.05)))
        clock.advance(by: 1)
        XCTAssertEqual(machine.observe(observation(0.05))?.to, .rolling(stage: 1, since: clock.now()))

        var unchanged = configuration
        try unchanged.apply(environment: [:])
        XCTAssertEqual(unchanged.effectiveObservationPeriod, 3_600)
        XCTAssertThrowsError(try unchanged.apply(environment: ["IMPROVEMENT_CYCLE_FAST": "yes"])) { error in
            XCTAssertEqual((error as? RolloutError)?.code, .invalidConfiguration)
        }
    }

    func testRestoredMachineResumesItsStage() throws {
        let clock = ManualClock()
        let since = clock.now()
        var machine = try RolloutStateMachine(experimentId: "exp-42", service: "wyckoff-analysis", accounts: accounts,
                                              baselineParameters: baseline, variantParameters: variant,
                                              configuration: configuration, clock: clock,
                                              state: .rolling(stage: 2, since: since))
        XCTAssertEqual(machine.stageStartedAt, since)
        let stopped = try machine.stop(by: "alice", reason: "restart check")
        // The restored 50 % stage covered 10 of 20 accounts; all 10 get the baseline back.
        XCTAssertEqual(accountsParameter(stopped.updates[0])?.count, 10)
        XCTAssertThrowsError(try RolloutStateMachine(experimentId: "exp-42", service: "wyckoff-analysis", accounts: accounts,
                                                     baselineParameters: baseline, variantParameters: variant,
                                                     configuration: configuration, clock: clock,
                                                     state: .rolling(stage: 4, since: since)))
    }

    func testInvalidConfigurationIsRefused() {
        let clock = ManualClock()
        XCTAssertThrowsError(try makeMachine(RolloutConfiguration(stages: [10, 50]), clock: clock))
        XCTAssertThrowsError(try makeMachine(RolloutConfiguration(stages: [25, 10, 100]), clock: clock))
        XCTAssertThrowsError(try makeMachine(RolloutConfiguration(rollbackThreshold: -0.3), clock: clock))
    }

    func testObservationFromStatisticsUsesTheConfiguredMetric() {
        let variantStats = TradeStatistics(trades: closedTrades([12, 8, 10], prefix: "v"), startingBalance: 1_000)
        let baselineStats = TradeStatistics(trades: closedTrades([20, 0], prefix: "b"), startingBalance: 1_000)
        // Expectancy 30/3 = 10 against 20/2 = 10: relative 0.
        let observation = RolloutObservation(variant: variantStats, baseline: baselineStats, metric: .expectancy)
        XCTAssertEqual(observation.variantTrades, 3)
        XCTAssertEqual(observation.relativePerformance, 0)
    }
}
