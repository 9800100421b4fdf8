import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// The helpers under the sizing: statistics against textbook values, currency conversion from
/// quotes (direct, inverted, crossed, refused), and the configuration's validation, decoding
/// and `RISK_MULTIPLIER`.
final class RiskSupportTests: XCTestCase {
    typealias F = RiskFixture

    // MARK: - Statistics

    func testMeanStandardDeviationAndPearson() throws {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum 32, sample σ = √(32/7) = 2.13809.
        XCTAssertEqual(RiskStatistics.mean([2, 4, 4, 4, 5, 5, 7, 9]), 5)
        XCTAssertEqual(try XCTUnwrap(RiskStatistics.standardDeviation([2, 4, 4, 4, 5, 5, 7, 9])), (32.0 / 7).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(RiskStatistics.standardDeviation([3]))
        XCTAssertNil(RiskStatistics.mean([]))
        XCTAssertEqual(try XCTUnwrap(RiskStatistics.pearson([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(RiskStatistics.pearson([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])), -1, accuracy: 1e-12)
        // x = 1…5, y = 2, 1, 4, 3, 5: Σdxdy = 8, Σdx² = Σdy² = 10 → 0.8.
        XCTAssertEqual(try XCTUnwrap(RiskStatistics.pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])), 0.8, accuracy: 1e-12)
        XCTAssertNil(RiskStatistics.pearson([1, 2, 3], [7, 7, 7]), "zero variance has no correlation")
        XCTAssertNil(RiskStatistics.pearson([1, 2, 3], [1, 2]))
    }

    func testPercentileAndPercentileRank() {
        XCTAssertEqual(RiskStatistics.percentile(50, of: [5, 1, 4, 2, 3]), 3)
        XCTAssertEqual(RiskStatistics.percentile(25, of: [1, 2, 3, 4, 5]), 2)
        // h = 4 × 0.9 = 3.6 → 4 + 0.6 × (5 − 4) = 4.6.
        XCTAssertEqual(RiskStatistics.percentile(90, of: [1, 2, 3, 4, 5])!, 4.6, accuracy: 1e-12)
        XCTAssertNil(RiskStatistics.percentile(101, of: [1]))
        // 3 in 1…5: 2 below + ½ × 1 equal = 2.5 of 5 = 50.
        XCTAssertEqual(RiskStatistics.percentileRank(of: 3, in: [1, 2, 3, 4, 5]), 50)
        XCTAssertEqual(RiskStatistics.percentileRank(of: 6, in: [1, 2, 3, 4, 5]), 100)
        XCTAssertEqual(RiskStatistics.percentileRank(of: 0, in: [1, 2, 3, 4, 5]), 0)
        XCTAssertEqual(RiskStatistics.percentileRank(of: 7, in: [7, 7, 7, 7]), 50)
    }

    func testTrueRangeUsesTheGapFromThePreviousClose() {
        // Bar 2 gaps up: high 105, low 103, previous close 100 → max(2, 5, 3) = 5.
        let b1 = Bar(instrument: "US30", timeframeSeconds: 60, start: 0, open: 100, high: 101, low: 99, close: 100, volume: 1, tickCount: 1)
        let b2 = Bar(instrument: "US30", timeframeSeconds: 60, start: 60_000_000, open: 104, high: 105, low: 103, close: 104, volume: 1,
                     tickCount: 1)
        XCTAssertEqual(RiskStatistics.trueRanges([b1, b2]), [2, 5])
        XCTAssertEqual(RiskStatistics.wilderATR([b1, b2], period: 2), [3.5])
        XCTAssertEqual(RiskStatistics.wilderATR([b1], period: 2), [])
    }

    func testAlignedReturnsUseOnlyCommonTimestamps() {
        // A has bars at minutes 0, 1, 2, 3; B at 0, 2, 3. Returns are keyed by the later bar:
        // A at 1, 2, 3; B at 2 (from 0) and 3. Common: 2, 3.
        func bar(_ s: String, _ minute: Int64, _ close: Decimal) -> Bar {
            Bar(instrument: s, timeframeSeconds: 60, start: minute * 60_000_000, open: close, high: close, low: close, close: close,
                volume: 1, tickCount: 1)
        }
        let a = [bar("A", 0, 100), bar("A", 1, 110), bar("A", 2, 99), bar("A", 3, 99)]
        let b = [bar("B", 3, 30), bar("B", 0, 20), bar("B", 2, 25)]
        let (ra, rb) = RiskStatistics.alignedReturns(a, b, window: 10)
        XCTAssertEqual(ra.count, 2)
        XCTAssertEqual(ra[0], -0.1, accuracy: 1e-12)   // 99 / 110 − 1
        XCTAssertEqual(ra[1], 0, accuracy: 1e-12)
        XCTAssertEqual(rb[0], 0.25, accuracy: 1e-12)   // 25 / 20 − 1
        XCTAssertEqual(rb[1], 0.2, accuracy: 1e-12)    // 30 / 25 − 1
        XCTAssertEqual(RiskStatistics.alignedReturns(a, b, window: 1).a.count, 1)
    }

    func testLotFlooringNeverRoundsUpButIgnoresDigitNoise() {
        XCTAssertEqual(RiskDecimal.floor(F.d("4.3478260869"), step: F.d("0.01")), F.d("4.34"))
        XCTAssertEqual(RiskDecimal.floor(F.d("2.57"), step: F.d("0.1")), F.d("2.5"))
        XCTAssertEqual(RiskDecimal.floor(F.d("0.0099"), step: F.d("0.01")), 0)
        XCTAssertEqual(RiskDecimal.floor(-1, step: F.d("0.01")), 0)
        // 1.5 less 1e-35 (what 38-digit arithmetic can leave of an exact 1.5) is still 1.50 …
        XCTAssertEqual(RiskDecimal.floor(F.d("1.49999999999999999999999999999999999"), step: F.d("0.01")), F.d("1.5"))
        // … but a real shortfall of a millionth of a lot is not rounded up.
        XCTAssertEqual(RiskDecimal.floor(F.d("1.499999"), step: F.d("0.01")), F.d("1.49"))
    }

    // MARK: - Currency conversion

    func testConverterDirectInvertedCrossedAndRefused() {
        let c = CurrencyConverter(ticks: [F.tick("EUR_USD", bid: "1.07990", ask: "1.08010"), F.tick("USD_JPY", bid: "149.990", ask: "150.010"),
                                          F.tick("EUR_GBP", bid: "0.84990", ask: "0.85010")])
        XCTAssertEqual(c.rate(from: "CHF", to: "CHF"), 1)
        XCTAssertEqual(c.rate(from: "EUR", to: "USD"), F.d("1.08"))
        XCTAssertEqual(c.rate(from: "USD", to: "JPY"), 150)
        XCTAssertEqual(c.rate(from: "JPY", to: "USD"), 1 / Decimal(150))
        // EUR_GBP is not in the catalog; its symbol is read as EUR/GBP. GBP → EUR = 1 / 0.85.
        XCTAssertEqual(c.rate(from: "GBP", to: "EUR"), 1 / F.d("0.85"))
        // JPY → EUR crosses USD: (1 / 150) × (1 / 1.08); 10,800 JPY = 0.48 EUR... × 150 × 1.08 = 1.
        let cross = c.conversion(from: "JPY", to: "EUR")
        XCTAssertEqual(cross?.path, "(1 / USD_JPY mid 150) × (1 / EUR_USD mid 1.08)")
        XCTAssertEqual(RiskDecimal.round(cross!.rate * 150 * F.d("1.08"), 20), 1)
        XCTAssertNil(c.conversion(from: "CHF", to: "USD"), "no CHF quote: refuse, never guess")
        XCTAssertNil(CurrencyConverter(ticks: []).rate(from: "JPY", to: "USD"))
    }

    func testConverterKeepsTheNewestTickPerInstrument() {
        let c = CurrencyConverter(ticks: [F.tick("USD_JPY", bid: "150", ask: "150", time: 2), F.tick("USD_JPY", bid: "140", ask: "140", time: 1)])
        XCTAssertEqual(c.rate(from: "USD", to: "JPY"), 150)
        XCTAssertEqual(c.tick(for: "USD_JPY")?.time, 2)
    }

    // MARK: - Configuration

    private func assertInvalid(_ c: RiskConfiguration, naming field: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try c.validate(), file: file, line: line) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .configuration, file: file, line: line)
            XCTAssertTrue(e?.message.hasPrefix("risk configuration: \(field) ") ?? false, "\(String(describing: e))", file: file, line: line)
        }
        XCTAssertThrowsError(try RiskSizer(configuration: c), file: file, line: line)
    }

    func testValidationNamesTheBadField() throws {
        XCTAssertNoThrow(try RiskConfiguration().validate())
        XCTAssertNoThrow(try RiskConfiguration(riskMultiplier: 3).validate())
        assertInvalid(RiskConfiguration(riskMultiplier: 0), naming: "riskMultiplier")
        assertInvalid(RiskConfiguration(riskMultiplier: F.d("3.01")), naming: "riskMultiplier")
        assertInvalid(RiskConfiguration(defaultRiskPercent: 0), naming: "defaultRiskPercent")
        assertInvalid(RiskConfiguration(accountRiskPercent: ["acct-9": 12]), naming: "accountRiskPercent[acct-9]")
        assertInvalid(RiskConfiguration(marginBufferPercent: 100), naming: "marginBufferPercent")
        assertInvalid(RiskConfiguration(volatility: .init(atrPeriod: 0)), naming: "volatility.atrPeriod")
        assertInvalid(RiskConfiguration(volatility: .init(minimumFactorPercentile: 40)), naming: "volatility.minimumFactorPercentile")
        assertInvalid(RiskConfiguration(volatility: .init(insufficientDataFactor: 0)), naming: "volatility.insufficientDataFactor")
        assertInvalid(RiskConfiguration(drawdown: .init(fullPercent: 1)), naming: "drawdown.fullPercent")
        assertInvalid(RiskConfiguration(drawdown: .init(dailyMinimumFactor: 2)), naming: "drawdown.dailyMinimumFactor")
        assertInvalid(RiskConfiguration(correlation: .init(windowBars: 10)), naming: "correlation.windowBars")
        assertInvalid(RiskConfiguration(correlation: .init(sensitivity: 2)), naming: "correlation.sensitivity")
    }

    func testJSONWithMissingKeysTakesDefaultsAndRoundTrips() throws {
        let json = #"{"riskMultiplier": 2, "accountRiskPercent": {"acct-2": 0.5}, "volatility": {"atrPeriod": 21}}"#
        let c = try JSONDecoder().decode(RiskConfiguration.self, from: Data(json.utf8))
        XCTAssertEqual(c.riskMultiplier, 2)
        XCTAssertEqual(c.riskPercent(forAccount: "acct-2"), F.d("0.5"))
        XCTAssertEqual(c.riskPercent(forAccount: "acct-1"), 1)
        XCTAssertEqual(c.volatility.atrPeriod, 21)
        XCTAssertEqual(c.volatility.lookbackBars, 250)
        XCTAssertEqual(c.drawdown, DrawdownFactor.Parameters())
        XCTAssertEqual(c.marginBufferPercent, 10)
        let again = try JSONDecoder().decode(RiskConfiguration.self, from: JSONEncoder().encode(c))
        XCTAssertEqual(again, c)
    }

    func testRiskMultiplierFromTheEnvironment() throws {
        XCTAssertEqual(try RiskConfiguration().applying(environment: Environment(["RISK_MULTIPLIER": "2.5"])).riskMultiplier, F.d("2.5"))
        XCTAssertEqual(try RiskConfiguration().applying(environment: Environment([:])).riskMultiplier, 1)
        for bad in ["abc", "4", "0", "-1", "1,5"] {
            XCTAssertThrowsError(try RiskConfiguration().applying(environment: Environment(["RISK_MULTIPLIER": bad])), bad) { error in
                XCTAssertTrue("\(error)".contains("RISK_MULTIPLIER"), "\(error)")
            }
        }
    }
}
