import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

final class FillModelTests: XCTestCase {
    private typealias F = ExecutionFixture
    private let eurUsd = Instrument.eurUsd

    private func model(_ configure: (inout FillModelConfiguration) -> Void = { _ in }) throws -> FillModel {
        var c = F.configuration()
        configure(&c)
        return try FillModel(configuration: c)
    }

    func testSlippageGrowsWithOrderSizeAndIsRoundedToWholePoints() throws {
        let m = try model()
        let quote = F.tick(bid: "1.08500", ask: "1.08508", at: F.t0) // spread 0.8 pip = typical
        // k × √(lots / 20) pips × 10 points per pip:
        //   1 lot: 0.3 × √0.05 = 0.067 pip = 0.67 pt → 1;  4: 0.3 × √0.2 = 0.134 → 1.34 → 1
        //   9: 0.3 × √0.45 = 0.201 → 2.01 → 2;  16: 0.3 × √0.8 = 0.268 → 2.68 → 3
        //   60: 0.3 × √3 = 0.520 → 5.20 → 5;  100: 0.3 × √5 = 0.671 → 6.71 → 7
        let expected: [(String, Int)] = [("1", 1), ("4", 1), ("9", 2), ("16", 3), ("60", 5), ("100", 7)]
        var previous = 0
        for (lots, points) in expected {
            let s = m.slippage(instrument: eurUsd, lots: F.d(lots), quote: quote)
            XCTAssertEqual(s.points, points, "\(lots) lots")
            XCTAssertEqual(s.price, Decimal(points) * F.d("0.00001"), "\(lots) lots")
            XCTAssertFalse(s.capped)
            XCTAssertGreaterThanOrEqual(s.points, previous, "slippage must not shrink as size grows")
            previous = s.points
        }
    }

    func testSlippageIsCappedAtTheConfiguredMaximum() throws {
        let m = try model { $0.liquidity["EUR_USD"]?.maxSlippagePips = 0.4 }
        let quote = F.tick(bid: "1.08500", ask: "1.08508", at: F.t0)
        // 20 lots: 0.3 pip, under the 0.4 cap → 3 points; 60 lots: 0.52 pip > 0.4 → 4 points;
        // 100 lots: 0.67 pip > 0.4 → still 4 points.
        XCTAssertEqual(m.slippage(instrument: eurUsd, lots: 20, quote: quote).points, 3)
        let sixty = m.slippage(instrument: eurUsd, lots: 60, quote: quote)
        XCTAssertTrue(sixty.capped)
        XCTAssertEqual(sixty.points, 4)
        XCTAssertEqual(sixty.rawPips, 0.3 * 3.0.squareRoot(), accuracy: 1e-12)
        let hundred = m.slippage(instrument: eurUsd, lots: 100, quote: quote)
        XCTAssertTrue(hundred.capped)
        XCTAssertEqual(hundred.points, 4)
    }

    func testSlippageScalesWithTheCurrentSpread() throws {
        let m = try model()
        // Spread 1.6 pips = 2 × typical: 9 lots → 0.201 × 2 = 0.402 pip = 4.02 → 4 points
        // (2 points at the typical spread).
        let wide = F.tick(bid: "1.08500", ask: "1.08516", at: F.t0)
        XCTAssertEqual(m.slippage(instrument: eurUsd, lots: 9, quote: wide).points, 4)
    }

    func testSweepFillsLevelByLevelAndLeavesTheRestBeyondMaxLevels() throws {
        let m = try model { $0.maxDepthLevels = 3 }
        let quote = F.tick(bid: "1.08500", ask: "1.08508", at: F.t0)
        let plan = m.sweep(instrument: eurUsd, side: .buy, quantity: 70, quote: quote)
        // 3 levels × 20 lots = 60 fill; slippage of the 60-lot pass: 5 points (0.00005).
        // Level prices: ask + 0 / 2 / 4 points, each + 5 points.
        XCTAssertEqual(plan.legs.map(\.quantity), [20, 20, 20])
        XCTAssertEqual(plan.legs.map(\.price), [F.d("1.08513"), F.d("1.08515"), F.d("1.08517")])
        XCTAssertEqual(plan.legs.map(\.slippage), [F.d("0.00005"), F.d("0.00007"), F.d("0.00009")])
        XCTAssertEqual(plan.unfilled, 10)

        let sell = m.sweep(instrument: eurUsd, side: .sell, quantity: 25, quote: quote)
        // 25 lots: 0.3 × √1.25 = 0.335 pip → 3 points; bid − 0 / − 2 points, each − 3 points.
        XCTAssertEqual(sell.legs.map(\.quantity), [20, 5])
        XCTAssertEqual(sell.legs.map(\.price), [F.d("1.08497"), F.d("1.08495")])
        XCTAssertEqual(sell.unfilled, 0)
    }

    func testDepthScalesWithSessionActivity() throws {
        let m = try model()
        let hour: Int64 = 3_600_000_000
        // 17:00 New York 1.0 → 20; 13:00 London/NY overlap 1.6 → 32; 20 lots × 0.55 at 03:00 → 11.
        XCTAssertEqual(m.depthPerLevel(instrument: eurUsd, at: F.t0), 20)
        XCTAssertEqual(m.depthPerLevel(instrument: eurUsd, at: F.t0 - 4 * hour), 32)
        XCTAssertEqual(m.depthPerLevel(instrument: eurUsd, at: F.t0 - 14 * hour), 11)
        let flat = try model { $0.scalesDepthBySession = false }
        XCTAssertEqual(flat.depthPerLevel(instrument: eurUsd, at: F.t0 - 14 * hour), 20)
    }

    func testCommissionIsPerLotPerSideAndConvertedToTheAccountCurrency() throws {
        let m = try model()
        // 1.37 × 3.5 = 4.795 USD per side, exact at four places.
        XCTAssertEqual(m.commission(instrument: eurUsd, lots: F.d("1.37"), rateToAccount: 1), F.d("4.795"))
        // A EUR account at EUR_USD 1.25: 1 lot × 3.5 USD × (1 / 1.25) = 2.8 EUR.
        let usdToEur = try XCTUnwrap(CurrencyRates(fixed: ["EUR/USD": F.d("1.25")]).rate(from: "USD", to: "EUR"))
        XCTAssertEqual(m.commission(instrument: eurUsd, lots: 1, rateToAccount: usdToEur), F.d("2.8"))
        // Gold is a metal, the index an index: each its own schedule.
        XCTAssertEqual(InstrumentClass(instrument: .xauUsd), .metal)
        XCTAssertEqual(InstrumentClass(instrument: .us30), .index)
        XCTAssertEqual(InstrumentClass(instrument: .usdJpy), .fx)
    }

    func testLatencyIsSeededByOrderIdAndFollowsTheConfiguredDistribution() throws {
        let m = try model()
        XCTAssertEqual(m.latencyMicros(orderId: "sig-1:acct-1"), m.latencyMicros(orderId: "sig-1:acct-1"))
        let samples = (0..<4_000).map { m.latencyMicros(orderId: "sig-\($0):acct-1") }.sorted()
        // Distinct orders draw distinct latencies (a few µs-level coincidences among 4,000 draws
        // of ~40,000 µs are expected, a repeated stream would give far fewer distinct values).
        XCTAssertGreaterThan(Set(samples).count, 3_500, "latencies must differ between orders")
        let median = Double(samples[samples.count / 2]) / 1000
        let p99 = Double(samples[Int(Double(samples.count) * 0.99)]) / 1000
        // Median 40 ms and p99 150 ms configured; 4,000 draws land within a few percent.
        XCTAssertEqual(median, 40, accuracy: 3)
        XCTAssertEqual(p99, 150, accuracy: 20)
        XCTAssertLessThanOrEqual(samples.last!, 1_000_000)
        XCTAssertGreaterThan(samples.first!, 0)

        let other = try model { $0.latency.seed = 8 }
        XCTAssertNotEqual(other.latencyMicros(orderId: "sig-1:acct-1"), m.latencyMicros(orderId: "sig-1:acct-1"))
    }

    func testConfigurationValidationNamesTheField() throws {
        XCTAssertNoThrow(try FillModelConfiguration.staging.validate())
        var c = F.configuration()
        c.latency.p99Milliseconds = 20
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("latency.p99_ms"), "\($0)") }
        c = F.configuration()
        c.liquidity["US30"] = nil
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("liquidity.US30"), "\($0)") }
        c = F.configuration()
        c.liquidity["EUR_USD"]?.touchDepthLots = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("liquidity.EUR_USD.touch_depth_lots"), "\($0)") }
        c = F.configuration()
        c.commissions[.index] = nil
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("commissions.index"), "\($0)") }
    }

    func testConfigurationFromYAMLOverridesDefaultsAndRejectsUnknownKeys() throws {
        let yaml = """
        latency:
          median_ms: 25
          p99_ms: 90
        max_depth_levels: 3
        pending_order_ttl_s: gtc
        commissions:
          fx:
            per_lot_per_side: 2.5
        liquidity:
          EUR_USD:
            touch_depth_lots: 30
        """
        let c = try FillModelConfiguration(node: ConfigNode(file: "exec.yml", node: YAMLReader.parse(yaml, file: "exec.yml")))
        XCTAssertEqual(c.latency.medianMilliseconds, 25)
        XCTAssertEqual(c.latency.maxMilliseconds, 1_000, "unset keys keep their default")
        XCTAssertEqual(c.maxDepthLevels, 3)
        XCTAssertNil(c.pendingOrderTimeToLiveSeconds)
        XCTAssertEqual(c.commissions[.fx], CommissionRate(perLotPerSide: F.d("2.5"), currency: "USD"))
        XCTAssertEqual(c.liquidity["EUR_USD"]?.touchDepthLots, 30)
        XCTAssertEqual(c.liquidity["EUR_USD"]?.levelStepPoints, FillModelConfiguration.defaultLiquidity["EUR_USD"]?.levelStepPoints)

        let typo = "max_depth_level: 3\n"
        XCTAssertThrowsError(try FillModelConfiguration(node: ConfigNode(file: "exec.yml", node: YAMLReader.parse(typo, file: "exec.yml")))) {
            XCTAssertTrue("\($0)".contains("exec.yml:1"), "\($0)")
            XCTAssertTrue("\($0)".contains("max_depth_level"), "\($0)")
        }
        let bad = "latency:\n  median_ms: 50\n  p99_ms: 10\n"
        XCTAssertThrowsError(try FillModelConfiguration(node: ConfigNode(file: "exec.yml", node: YAMLReader.parse(bad, file: "exec.yml")))) {
            XCTAssertTrue("\($0)".contains("latency.p99_ms"), "\($0)")
        }
    }
}
