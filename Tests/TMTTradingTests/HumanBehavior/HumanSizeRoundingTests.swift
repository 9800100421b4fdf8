import Foundation
import XCTest
@testable import TMTTrading

final class HumanSizeRoundingTests: XCTestCase {
    private let steps: [Decimal] = HumanBehaviorConfiguration().niceLotSteps
    private func d(_ s: String) -> Decimal { Decimal(string: s)! }

    private func round(_ q: String, lot: String = "0.01", habit: String) -> HumanSizeRounding.Result {
        HumanSizeRounding.round(d(q), lotStep: d(lot), habitStep: d(habit), niceSteps: steps, maxLossFraction: d("0.1"))
    }

    func testHabitStepsRoundDown() {
        // 1.37 / 0.05 = 27.4 → 27 × 0.05 = 1.35 (loss 0.02 = 1.5 %).
        XCTAssertEqual(round("1.37", habit: "0.05").to, d("1.35"))
        // 1.37 / 0.1 = 13.7 → 1.3 (loss 0.07 = 5.1 % ≤ 10 %); never up to 1.4.
        XCTAssertEqual(round("1.37", habit: "0.1").to, d("1.3"))
        XCTAssertEqual(round("1.37", habit: "0.01").to, d("1.37"))
    }

    func testTooCoarseAHabitFallsBackToAFinerStep() {
        // 0.5 → 1.0 (loss 27 %) too much; 0.25 → 1.25 (loss 0.12 = 8.8 %) accepted.
        let r = round("1.37", habit: "0.5")
        XCTAssertEqual(r.to, d("1.25"))
        XCTAssertEqual(r.step, d("0.25"))
        // 0.07 with 0.1: floors to 0; 0.05 loses 28 %; the lot step keeps 0.07.
        XCTAssertEqual(round("0.07", habit: "0.1").to, d("0.07"))
    }

    func testUS30UsesItsTenthLotGrid() {
        // 0.05 is not a multiple of 0.1, so the lot step: 2.37 → 2.3.
        XCTAssertEqual(round("2.37", lot: "0.1", habit: "0.05").to, d("2.3"))
        // 3.7 with 0.5: 7 × 0.5 = 3.5 (loss 5.4 %).
        XCTAssertEqual(round("3.7", lot: "0.1", habit: "0.5").to, d("3.5"))
        // 0.15 off-grid → 0.1, one lot step kept.
        XCTAssertEqual(round("0.15", lot: "0.1", habit: "1").to, d("0.1"))
    }

    func testNeverBelowOneLotStepAndNeverUp() {
        // Below one lot step already: left unchanged rather than rounded up to 0.01.
        let tiny = round("0.005", habit: "0.05")
        XCTAssertEqual(tiny.to, d("0.005"))
        XCTAssertNil(tiny.step)
        for q in ["0.01", "0.19", "0.99", "1.01", "7.77", "12.34"] {
            for habit in ["0.01", "0.05", "0.1", "0.25", "0.5", "1"] {
                let r = round(q, habit: habit)
                XCTAssertLessThanOrEqual(r.to, d(q))
                XCTAssertGreaterThanOrEqual(r.to, d("0.01"))
                XCTAssertLessThanOrEqual(d(q) - r.to, d(q) * d("0.1"), "\(q) with \(habit) lost too much")
            }
        }
    }
}
