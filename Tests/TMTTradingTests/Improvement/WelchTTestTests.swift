import Foundation
import XCTest
@testable import TMTTrading

final class WelchTTestTests: XCTestCase {
    func testStudentTTwoSidedPValuesMatchPublishedValues() {
        // Two-sided critical values from any t table: t = 2.228 at df 10 is the 5 % point.
        XCTAssertEqual(StudentT.twoSidedPValue(t: 2.0, degreesOfFreedom: 10), 0.0733880348, accuracy: 1e-8)
        XCTAssertEqual(StudentT.twoSidedPValue(t: 2.228, degreesOfFreedom: 10), 0.0500117718, accuracy: 1e-8)
        XCTAssertEqual(StudentT.twoSidedPValue(t: -2.0, degreesOfFreedom: 10), 0.0733880348, accuracy: 1e-8)
        XCTAssertEqual(StudentT.twoSidedPValue(t: 12.706, degreesOfFreedom: 1), 0.05, accuracy: 1e-4)
        XCTAssertEqual(StudentT.twoSidedPValue(t: 0, degreesOfFreedom: 7), 1, accuracy: 1e-15)
    }

    func testStudentTMatchesClosedFormsForOneAndTwoDegreesOfFreedom() {
        for t in [0.3, 1.0, 2.5, 7.0] {
            // df 1 is Cauchy: p = 1 − (2/π)·atan|t|.  df 2: p = 1 − |t| / √(2 + t²).
            XCTAssertEqual(StudentT.twoSidedPValue(t: t, degreesOfFreedom: 1), 1 - 2 / Double.pi * atan(t), accuracy: 1e-12)
            XCTAssertEqual(StudentT.twoSidedPValue(t: t, degreesOfFreedom: 2), 1 - t / (2 + t * t).squareRoot(), accuracy: 1e-12)
        }
        // Large df approaches the normal: p(1.96) → 0.05.
        XCTAssertEqual(StudentT.twoSidedPValue(t: 1.959964, degreesOfFreedom: 1e7), 0.05, accuracy: 1e-5)
        XCTAssertEqual(StudentT.cdf(t: 2.228, degreesOfFreedom: 10), 1 - 0.0500117718 / 2, accuracy: 1e-8)
    }

    func testIncompleteBetaKnownValues() {
        // I_x(1, 1) = x; I_x(2, 1) = x²; I_0.5(a, a) = 0.5 by symmetry.
        XCTAssertEqual(StudentT.regularizedIncompleteBeta(a: 1, b: 1, x: 0.37), 0.37, accuracy: 1e-14)
        XCTAssertEqual(StudentT.regularizedIncompleteBeta(a: 2, b: 1, x: 0.6), 0.36, accuracy: 1e-14)
        XCTAssertEqual(StudentT.regularizedIncompleteBeta(a: 4.5, b: 4.5, x: 0.5), 0.5, accuracy: 1e-14)
        XCTAssertTrue(StudentT.regularizedIncompleteBeta(a: 1, b: 1, x: 1.5).isNaN)
    }

    func testWelchOnSamplesWithUnequalVariances() throws {
        // a = 1…5: mean 3, s² 2.5; b = 2,4,…,10: mean 6, s² 10.
        // s²/n: 0.5 and 2 → SE = √2.5 = 1.58114; t = (3 − 6)/1.58114 = −1.89737.
        // df = 2.5² / (0.5²/4 + 2²/4) = 6.25 / 1.0625 = 5.88235; two-sided p = 0.10753.
        let test = try XCTUnwrap(WelchTTest.compare([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]))
        XCTAssertEqual(test.t, -1.8973665961, accuracy: 1e-9)
        XCTAssertEqual(test.degreesOfFreedom, 5.8823529412, accuracy: 1e-9)
        XCTAssertEqual(test.pValue, 0.1075311949, accuracy: 1e-8)
        XCTAssertEqual(test.sampleMean, 3)
        XCTAssertEqual(test.referenceMean, 6)
    }

    func testWelchDetectsAClearDifference() throws {
        // a = 10,12,9,11,13,8: mean 10.5, s² 3.5; b = 7,6,8,5,9,6,7: mean 48/7 = 6.857143, s² 1.809524.
        // s²/n: 0.583333 and 0.258503, sum 0.841837, SE 0.917517; t = 3.642857/0.917517 = 3.970345.
        // df = 0.841837² / (0.583333²/5 + 0.258503²/6) = 0.708689 / 0.079193 = 8.948898; p = 0.00329.
        let test = try XCTUnwrap(WelchTTest.compare([10, 12, 9, 11, 13, 8], [7, 6, 8, 5, 9, 6, 7]))
        XCTAssertEqual(test.t, 3.9703446152, accuracy: 1e-8)
        XCTAssertEqual(test.degreesOfFreedom, 8.9488978761, accuracy: 1e-8)
        XCTAssertEqual(test.pValue, 0.0032899924, accuracy: 1e-9)
    }

    func testWelchIsUndefinedWithoutEnoughDataOrSpread() {
        XCTAssertNil(WelchTTest.compare([1], [1, 2, 3]))
        XCTAssertNil(WelchTTest.compare([2, 2, 2], [2, 2]))
    }
}
