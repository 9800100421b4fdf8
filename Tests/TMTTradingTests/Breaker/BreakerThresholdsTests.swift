import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// The two presets and where they differ in effect, `CIRCUIT_BREAKER_THRESHOLDS_LOOSE`, and
/// overrides from YAML.
final class BreakerThresholdsTests: XCTestCase {
    typealias F = BreakerFixture

    func testLooseWidensTheDrawdownLimit() {
        // 5,000 / 100,000 = 5 %: standard trips (≥ 4 %); loose neither trips (8 %) nor warns (6.4 %).
        var (standard, _) = F.live(.standard)
        var (loose, _) = F.live(.loose)
        _ = standard.apply(account: F.account("acc-1", equity: "95000"))
        _ = loose.apply(account: F.account("acc-1", equity: "95000"))
        XCTAssertEqual(standard.state(.account("acc-1")), .tripped)
        XCTAssertEqual(loose.state(.account("acc-1")), .normal)
    }

    func testLooseToleratesMoreMissedHeartbeats() {
        // 20 s silent: standard tripped (15 s); loose warns (4 × 5 = 20 s) and trips at 30 s.
        var (standard, sc) = F.live(.standard)
        var (loose, lc) = F.live(.loose)
        sc.advance(by: 20)
        lc.advance(by: 20)
        _ = standard.advance()
        _ = loose.advance()
        XCTAssertEqual(standard.state(.agent("aria-risk")), .tripped)
        XCTAssertEqual(loose.state(.agent("aria-risk")), .warning)
    }

    func testLooseWidensGapAndRecoversFaster() {
        var (standard, sc) = F.live(.standard)
        var (loose, lc) = F.live(.loose)
        _ = standard.apply(tick: F.tick("EUR_USD", "1.01000", at: 10))     // 1 % gap
        _ = loose.apply(tick: F.tick("EUR_USD", "1.01000", at: 10))
        XCTAssertEqual(standard.state(.instrument("EUR_USD")), .tripped)
        XCTAssertEqual(loose.state(.instrument("EUR_USD")), .normal, "loose gap limit is 2 %")
        _ = loose.apply(tick: F.tick("EUR_USD", "1.03100", at: 11))        // 2.08 % gap
        XCTAssertEqual(loose.state(.instrument("EUR_USD")), .tripped)
        sc.advance(by: 15)
        lc.advance(by: 15)
        _ = standard.advance()
        _ = loose.advance()
        XCTAssertEqual(standard.state(.instrument("EUR_USD")), .tripped, "standard instrument recovery is 60 s")
        XCTAssertEqual(loose.state(.instrument("EUR_USD")), .halfOpen, "loose instrument recovery is 15 s")
    }

    func testEveryPresetValueIsValidAndLooseIsNeverTighter() throws {
        try BreakerThresholds.standard.validate()
        try BreakerThresholds.loose.validate()
        let s = BreakerThresholds.standard, l = BreakerThresholds.loose
        XCTAssertGreaterThan(l.accountDailyDrawdownPercent, s.accountDailyDrawdownPercent)
        XCTAssertGreaterThan(l.systemDrawdownPercent, s.systemDrawdownPercent)
        XCTAssertGreaterThan(l.heartbeatMissingIntervals, s.heartbeatMissingIntervals)
        XCTAssertGreaterThan(l.systemErrorsPerMinuteTrip, s.systemErrorsPerMinuteTrip)
        XCTAssertGreaterThan(l.pipelineLatencyTripSeconds, s.pipelineLatencyTripSeconds)
        XCTAssertGreaterThan(l.priceGapPercent, s.priceGapPercent)
        XCTAssertGreaterThan(l.volatilityTripPercent, s.volatilityTripPercent)
        XCTAssertGreaterThan(l.criticalAgentsDownToHalt, s.criticalAgentsDownToHalt)
        XCTAssertLessThan(l.accountRecovery.timeoutSeconds, s.accountRecovery.timeoutSeconds)
    }

    func testEnvironmentSelectsThePreset() throws {
        XCTAssertEqual(try BreakerThresholds(environment: Environment([:])), .standard)
        XCTAssertEqual(try BreakerThresholds(environment: Environment(["CIRCUIT_BREAKER_THRESHOLDS_LOOSE": "true"])), .loose)
        XCTAssertEqual(try BreakerThresholds(environment: Environment(["CIRCUIT_BREAKER_THRESHOLDS_LOOSE": "false"])), .standard)
        XCTAssertThrowsError(try BreakerThresholds(environment: Environment(["CIRCUIT_BREAKER_THRESHOLDS_LOOSE": "maybe"]))) {
            XCTAssertEqual(($0 as? TMTError)?.message, "environment variable CIRCUIT_BREAKER_THRESHOLDS_LOOSE: expected true or false, got 'maybe'")
        }
    }

    func testYAMLOverridesOnTopOfThePreset() throws {
        let text = """
        critical_agents:
          - execution-engine
        accounts:
          - acc-1
        thresholds:
          account_daily_drawdown_percent: 3.5
          heartbeat_missing_intervals: 4
          recovery:
            account:
              timeout_seconds: 90
        """
        let node = ConfigNode(file: "circuit-breaker-staging.yml", node: try YAMLReader.parse(text))
        let c = try BreakerConfiguration(node: node, environment: Environment(["CIRCUIT_BREAKER_THRESHOLDS_LOOSE": "true"]))
        XCTAssertEqual(c.thresholds.accountDailyDrawdownPercent, F.d("3.5"))
        XCTAssertEqual(c.thresholds.heartbeatMissingIntervals, 4)
        XCTAssertEqual(c.thresholds.accountRecovery.timeoutSeconds, 90)
        XCTAssertEqual(c.thresholds.accountRecovery.maximumTimeoutSeconds, 600, "the rest stays loose")
        XCTAssertEqual(c.thresholds.systemDrawdownPercent, 8)
        XCTAssertEqual(c.criticalAgents, ["execution-engine"])
        XCTAssertEqual(c.accounts, ["acc-1"])
    }

    func testYAMLUnknownKeyOrInconsistentValueFailsWithFileLineAndKey() throws {
        let typo = ConfigNode(file: "cb.yml", node: try YAMLReader.parse("thresholds:\n  acount_daily_drawdown_percent: 3\n"))
        XCTAssertThrowsError(try BreakerConfiguration(node: typo, environment: Environment([:]))) {
            XCTAssertTrue("\($0)".hasPrefix("cb.yml:2: key 'thresholds.acount_daily_drawdown_percent': unknown key"), "\($0)")
        }
        let inverted = ConfigNode(file: "cb.yml", node: try YAMLReader.parse("thresholds:\n  volatility_warning_percent: 3\n"))
        XCTAssertThrowsError(try BreakerConfiguration(node: inverted, environment: Environment([:]))) {
            XCTAssertTrue("\($0)".contains("volatility: warning above trip"), "\($0)")
        }
    }
}
