import Foundation
import XCTest
import TMTModels
@testable import TMTTrading

/// Approval is refused once the live baseline is not the one the shadow evidence was measured on.
final class RolloutBaselineCheckTests: XCTestCase {
    func testTheSameBaselineAgreesWhateverTheNumberSpelling() throws {
        let current = WyckoffParameters()
        let recorded = ["stopATR": "\(current.stopATR)", "minConfidence": "\(current.minConfidence)0"]
        XCTAssertEqual(RolloutBaselineCheck.differences(recorded: recorded, current: current), [])
    }

    func testAMovedBaselineIsReportedFieldByField() throws {
        let current = try WyckoffParameters().applying(updates: ["stopATR": "0.6"])
        let differences = RolloutBaselineCheck.differences(recorded: ["stopATR": "0.5", "minConfidence": "\(current.minConfidence)"],
                                                          current: current)
        XCTAssertEqual(differences, ["stopATR was 0.5, is now 0.6"])
    }

    func testAFieldTheDetectorNoLongerKnowsIsADifference() {
        let differences = RolloutBaselineCheck.differences(recorded: ["springWidth": "3"], current: WyckoffParameters())
        XCTAssertEqual(differences, ["springWidth was 3, is now unknown"])
    }
}
