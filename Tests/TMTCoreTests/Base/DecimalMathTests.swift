import Foundation
import XCTest
@testable import TMTBase

/// `DecimalMath` against Foundation's `NSDecimalRound` and `NSDecimalNumber` (which the
/// services no longer link): the same roundings, byte for byte, and conversions at least as
/// close to the exact value.
final class DecimalMathTests: XCTestCase {
    /// Prices, money, quotients and products: short and 38-digit mantissas, both signs.
    private func samples() -> [Decimal] {
        var rng = SeededRandom(seed: 5)
        var out: [Decimal] = [0, 1, -1, Decimal(string: "0.5")!, Decimal(string: "-0.5")!, Decimal(string: "2.5")!, Decimal(string: "-2.5")!,
                              Decimal(string: "1.005")!, Decimal(string: "0.0000000001")!, Decimal(string: "99999.99999")!,
                              Decimal(string: "1234567890123456789012345678901234567")!]
        for i in 0..<3_000 {
            let m = Decimal(rng.next() % 10_000_000_000)
            let e = Int(rng.next() % 16) - 12
            var d = Decimal(sign: rng.next() % 2 == 0 ? .plus : .minus, exponent: e, significand: m)
            switch i % 4 {
            case 1: d = d / Decimal(Int(rng.next() % 997) + 3)             // long quotient
            case 2: d = d * d                                              // product
            case 3: d = d + Decimal(sign: .plus, exponent: -(Int(rng.next() % 6) + 1), significand: 5)   // a half at some place
            default: break
            }
            out.append(d)
        }
        return out
    }

    func testRoundingMatchesNSDecimalRoundByteForByte() {
        var compared = 0
        for d in samples() {
            for scale in [-2, 0, 1, 2, 4, 5, 6, 8, 10] {
                for mode in [NSDecimalNumber.RoundingMode.plain, .bankers, .down, .up] {
                    var v = d, expected = Decimal()
                    NSDecimalRound(&expected, &v, scale, mode)
                    let got = DecimalMath.round(d, scale: scale, mode)
                    XCTAssertEqual(got, expected, "\(d) scale \(scale) mode \(mode.rawValue)")
                    XCTAssertEqual(got.description, expected.description, "\(d) scale \(scale) mode \(mode.rawValue)")
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 100_000)
    }

    func testDoublesAreAtLeastAsCloseAsNSDecimalNumbers() {
        var worse = 0
        for d in samples() {
            let ours = DecimalMath.double(d), theirs = NSDecimalNumber(decimal: d).doubleValue
            // The exact value, from the decimal's own digits (strtod rounds correctly).
            let exact = Double(d.description)!
            if abs(ours - exact) > abs(theirs - exact) { worse += 1 }
            XCTAssertEqual(ours, exact, "\(d)")
        }
        XCTAssertEqual(worse, 0)
        XCTAssertTrue(DecimalMath.double(Decimal.nan).isNaN)
        XCTAssertEqual(DecimalMath.double(Decimal(string: "1.08487")!), 1.08487)
        XCTAssertEqual(DecimalMath.double(Decimal(string: "-38500.25")!), -38500.25)
    }

    func testWholeNumbersAsUInt64() {
        XCTAssertEqual(DecimalMath.uint64(Decimal(string: "18446744073709551615")!), UInt64.max)
        XCTAssertNil(DecimalMath.uint64(Decimal(string: "18446744073709551616")!))
        XCTAssertEqual(DecimalMath.uint64(Decimal(sign: .plus, exponent: 3, significand: 12)), 12_000)
        XCTAssertNil(DecimalMath.uint64(Decimal(string: "1.5")!))
        XCTAssertNil(DecimalMath.uint64(Decimal(-3)))
        XCTAssertEqual(DecimalMath.uint64(0), 0)
        // Whole numbers stored with a negative exponent (2.0 as 20 × 10⁻¹).
        XCTAssertEqual(DecimalMath.uint64(Decimal(sign: .plus, exponent: -1, significand: 20)), 2)
        XCTAssertEqual(DecimalMath.uint64(Decimal(sign: .plus, exponent: -3, significand: 12_000)), 12)
        XCTAssertNil(DecimalMath.uint64(Decimal(sign: .plus, exponent: -1, significand: 25)))
    }
}
