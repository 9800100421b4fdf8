import Foundation
import XCTest
import TMTModels
@testable import TMTTrading

/// Account routing of a staged rollout: the baseline detector and an account-scoped variant fed
/// the same hand-built spring; each account gets exactly one of the two signals.
final class WyckoffDetectorSetTests: XCTestCase {
    typealias H = WyckoffHandBars
    let roster = ["acc-a", "acc-b", "acc-c"]

    func springBars() -> [Bar] {
        var h = H()
        h.range(cycles: 2)
        h.up(lows: [0, 20, 40, 60, 80])
        h.down(lows: [80, 60, 40, 20])
        h.add(low: -10, high: 20, open: 20, close: 5, volume: 2_000)
        return h.bars
    }

    func makeSet(roster: [String]? = ["acc-a", "acc-b", "acc-c"]) throws -> WyckoffDetectorSet {
        WyckoffDetectorSet(baseline: try WyckoffDetector(parameters: H.parameters), roster: roster)
    }

    func variantUpdate(_ accounts: [String]?, targetRule: String = "rangeOpposite", by: String = "exp-1") -> ConfigUpdate {
        ConfigUpdate(service: "wyckoff-analysis", parameters: ["targetRule": targetRule], requestedBy: by, reason: "test", accounts: accounts)
    }

    /// Feeds the bars; the signals of the last (spring) bar.
    func springSignals(_ set: inout WyckoffDetectorSet, updateAfter: Int? = nil, _ update: ConfigUpdate? = nil) throws -> [Signal] {
        var last: [Signal] = []
        for (i, bar) in springBars().enumerated() {
            if i == updateAfter, let update { try set.apply(update) }
            last = set.process(bar).signals
        }
        return last
    }

    func testWithoutAVariantTheBaselineSignalIsForEveryone() throws {
        var set = try makeSet()
        let signals = try springSignals(&set)
        XCTAssertEqual(signals.count, 1)
        XCTAssertNil(signals[0].accounts)
        XCTAssertNil(signals[0].experiment)
        XCTAssertEqual(signals[0].takeProfit, H.price(200))
    }

    func testAVariantsAccountsGetItsSignalAndEveryoneElseTheBaselines() throws {
        var set = try makeSet()
        // The update arrives mid-history: the variant starts as a copy of the baseline detector,
        // so it knows the range when the spring comes.
        let signals = try springSignals(&set, updateAfter: 15, variantUpdate(["acc-b"]))
        XCTAssertEqual(signals.count, 2)
        let baseline = try XCTUnwrap(signals.first { $0.experiment == nil })
        let variant = try XCTUnwrap(signals.first { $0.experiment == "exp-1" })
        XCTAssertEqual(baseline.accounts, ["acc-a", "acc-c"])
        XCTAssertEqual(baseline.takeProfit, H.price(200), "measured move")
        XCTAssertEqual(variant.accounts, ["acc-b"])
        XCTAssertEqual(variant.takeProfit, H.price(100), "the range's opposite side")
        XCTAssertEqual(variant.id, baseline.id + "~exp-1")
        XCTAssertEqual(variant.evidence["experiment"], "exp-1")
        XCTAssertEqual(variant.entry, baseline.entry)
    }

    func testLaterUpdatesMoveAccountsAndAServiceWideOneEndsTheVariant() throws {
        var set = try makeSet()
        try set.apply(variantUpdate(["acc-b"]))
        // The next stage adds acc-c to the same parameters: it joins the variant.
        try set.apply(variantUpdate(["acc-c"]))
        XCTAssertEqual(set.variants.count, 1)
        XCTAssertEqual(set.variants[0].accounts, ["acc-b", "acc-c"])
        XCTAssertEqual(set.baselineAccounts, ["acc-a"])
        // Rollback: the baseline's value for acc-b and acc-c returns them to the baseline.
        try set.apply(variantUpdate(["acc-b", "acc-c"], targetRule: "measuredMove"))
        XCTAssertTrue(set.variants.isEmpty)
        XCTAssertNil(set.baselineAccounts)

        // Completion: the variant's parameters service-wide become the baseline; no variant left.
        try set.apply(variantUpdate(["acc-a"]))
        try set.apply(variantUpdate(nil))
        XCTAssertTrue(set.variants.isEmpty)
        XCTAssertEqual(set.baseline.parameters.targetRule, .rangeOpposite)
        let signals = try springSignals(&set)
        XCTAssertEqual(signals.count, 1)
        XCTAssertNil(signals[0].accounts)
        XCTAssertEqual(signals[0].takeProfit, H.price(100))
    }

    func testUpdatesThatCannotBeRoutedAreRefusedAndChangeNothing() throws {
        var unknownRoster = try makeSet(roster: nil)
        XCTAssertThrowsError(try unknownRoster.apply(variantUpdate(["acc-a"]))) { error in
            XCTAssertTrue("\(error)".contains("roster"), "\(error)")
        }
        var set = try makeSet()
        let timeframe = ConfigUpdate(service: "wyckoff-analysis", parameters: ["timeframeSeconds": "300"], requestedBy: "exp-2",
                                     reason: "test", accounts: ["acc-a"])
        XCTAssertThrowsError(try set.apply(timeframe)) { error in XCTAssertTrue("\(error)".contains("timeframeSeconds"), "\(error)") }
        XCTAssertThrowsError(try set.apply(variantUpdate(["acc-a"], targetRule: "sideways"))) { error in
            XCTAssertEqual((error as? WyckoffParameters.InvalidParameter)?.field, "targetRule")
        }
        XCTAssertTrue(set.variants.isEmpty)
        // A variant that takes every account leaves the baseline with nobody: no baseline signal.
        try set.apply(variantUpdate(roster))
        let signals = try springSignals(&set)
        XCTAssertEqual(signals.map(\.experiment), ["exp-1"])
    }

    func revert(_ accounts: [String], by: String = "exp-1") -> ConfigUpdate {
        ConfigUpdate(service: "wyckoff-analysis", parameters: RolloutStateMachine.revertParameters, requestedBy: by,
                     reason: "rollback", accounts: accounts)
    }

    func testARevertReturnsTheAccountsToTheLiveBaselineEvenAfterTheBaselineMoved() throws {
        var set = try makeSet()
        try set.apply(variantUpdate(["acc-b", "acc-c"]))
        // An operator changes the baseline service-wide (the variant ends), then another
        // experiment puts acc-b on a variant of the new baseline.
        try set.apply(ConfigUpdate(service: "wyckoff-analysis", parameters: ["minConfidence": "0.55"], requestedBy: "operator",
                                   reason: "by hand"))
        try set.apply(variantUpdate(["acc-b"], by: "exp-2"))
        XCTAssertEqual(set.variants.map(\.requestedBy), ["exp-2"])
        // exp-1's rollback: the baseline values of its proposal time would now differ from the
        // live baseline (and start a variant nothing ends); a revert drops the accounts instead.
        let summary = try set.apply(revert(["acc-b", "acc-c"]))
        XCTAssertTrue(set.variants.isEmpty, "no variant started or kept: \(set.variants.map(\.requestedBy))")
        XCTAssertNil(set.baselineAccounts, "everyone trades the live baseline")
        XCTAssertEqual(set.baseline.parameters.minConfidence, 0.55)
        XCTAssertTrue(summary.contains("back on the baseline"), summary)
    }

    func testARevertIsNeverRefused() throws {
        // Without a roster no variant can exist; dropping accounts from none is still fine (no DLQ).
        var unknownRoster = try makeSet(roster: nil)
        XCTAssertNoThrow(try unknownRoster.apply(revert(["acc-a"])))
        XCTAssertTrue(unknownRoster.variants.isEmpty)
    }

    func testReplayingTheLogIsHarmlessAndOtherServicesUpdatesAreIgnored() throws {
        var set = try makeSet()
        let log: [(id: String, update: ConfigUpdate)] = [
            ("u1", variantUpdate(["acc-b"])),
            ("u2", ConfigUpdate(service: "execution-engine", parameters: ["maxSlippagePips": "9"], requestedBy: "operator", reason: "x")),
            ("u3", revert(["acc-b"])),
            ("u4", variantUpdate(["acc-c"], by: "exp-3")),
        ]
        for entry in log { try set.apply(entry.update, id: entry.id) }
        let once = (set.baseline.parameters, set.variants.map(\.requestedBy), set.baselineAccounts)
        XCTAssertEqual(once.1, ["exp-3"])
        // The whole log again (a redelivery), and u1 alone re-published after the revert (an
        // outbox flushed late): nothing changes; acc-b does not go back to the variant.
        for entry in log { try set.apply(entry.update, id: entry.id) }
        XCTAssertTrue(try set.apply(log[0].update, id: "u1").contains("applied already"))
        XCTAssertEqual(set.baseline.parameters, once.0)
        XCTAssertEqual(set.variants.map(\.requestedBy), once.1)
        XCTAssertEqual(set.variants.first?.accounts, ["acc-c"])
        XCTAssertEqual(set.baselineAccounts, once.2)
        XCTAssertEqual(set.appliedUpdateIds, ["u1", "u3", "u4"], "another service's update is not applied at all")
    }
}
