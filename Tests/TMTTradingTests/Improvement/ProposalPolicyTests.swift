import Foundation
import TMTModels
import XCTest
@testable import TMTTrading

final class ProposalPolicyTests: XCTestCase {
    private let policy = ProposalPolicy()

    func testPValueBoundaryAtFivePercent() {
        let passes = policy.decide(pValue: 0.049, relativeImprovement: 0.05, variantCount: 30, baselineCount: 30)
        XCTAssertTrue(passes.propose)
        XCTAssertEqual(passes.reasons, [])
        let fails = policy.decide(pValue: 0.051, relativeImprovement: 0.05, variantCount: 30, baselineCount: 30)
        XCTAssertFalse(fails.propose)
        XCTAssertEqual(fails.reasons, ["p-value 0.051 is not below 0.05"])
    }

    func testImprovementBoundaryAtOnePercent() {
        XCTAssertTrue(policy.decide(pValue: 0.01, relativeImprovement: 0.0101, variantCount: 30, baselineCount: 30).propose)
        let fails = policy.decide(pValue: 0.01, relativeImprovement: 0.0099, variantCount: 30, baselineCount: 30)
        XCTAssertFalse(fails.propose)
        XCTAssertEqual(fails.reasons.count, 1)
        XCTAssertTrue(fails.reasons[0].hasPrefix("expectancy improvement 0.99"), fails.reasons[0])
    }

    func testMinimumSampleSizeIsConfigurable() {
        XCTAssertFalse(policy.decide(pValue: 0.01, relativeImprovement: 0.5, variantCount: 29, baselineCount: 30).propose)
        let small = ProposalPolicy(minimumSampleSize: 10)
        XCTAssertTrue(small.decide(pValue: 0.01, relativeImprovement: 0.5, variantCount: 10, baselineCount: 10).propose)
    }

    func testImprovementWithoutSignificanceIsNotProposedButWithItIs() throws {
        // Both samples repeat −8, −4, 0, +4, +8 around their mean 6 times: s² = 160·6/29 = 33.10.
        // SE = √(2·33.10/30) = 1.4856.
        let spread: [Double] = (0..<30).map { Double($0 % 5 - 2) * 4 }
        let baseline = closedTrades(spread.map { $0 + 10 }, prefix: "base")
        // +2 per trade: +20 % but t = 2/1.4856 = 1.35, p ≈ 0.18 → not significant.
        let modest = policy.decide(variant: closedTrades(spread.map { $0 + 12 }, prefix: "var"), baseline: baseline)
        XCTAssertFalse(modest.propose)
        XCTAssertEqual(try XCTUnwrap(modest.relativeImprovement), 0.2, accuracy: 1e-12)
        XCTAssertGreaterThan(try XCTUnwrap(modest.pValue), 0.05)
        // +5 per trade: +50 %, t = 5/1.4856 = 3.37, p ≈ 0.0014 → proposed.
        let strong = policy.decide(variant: closedTrades(spread.map { $0 + 15 }, prefix: "var"), baseline: baseline)
        XCTAssertTrue(strong.propose, "\(strong.reasons)")
        XCTAssertEqual(try XCTUnwrap(strong.test).t, 5 / (2 * 960.0 / 29 / 30).squareRoot(), accuracy: 1e-9)
        XCTAssertLessThan(try XCTUnwrap(strong.pValue), 0.002)
    }

    func testRelativeImprovementUsesBaselineMagnitude() {
        // A loss of 5 per trade against 10 is 50 % better; a zero baseline has no relative change.
        XCTAssertEqual(ImprovementMetric.relativeChange(variant: -5, baseline: -10), 0.5)
        XCTAssertNil(ImprovementMetric.relativeChange(variant: 3, baseline: 0))
        XCTAssertFalse(policy.decide(pValue: 0.001, relativeImprovement: nil, variantCount: 50, baselineCount: 50).propose)
    }

    func testShadowEvaluatorRunsBothParameterSetsThroughTheSimulator() throws {
        // 60 one-minute EURUSD bars: two of every three rise 5 pips, the third falls 3 pips.
        let bars: [Bar] = (0..<60).map { index in
            let open = Decimal(string: "1.1000")! + Decimal(index) * Decimal(string: "0.0001")!
            let move = index % 3 == 0 ? Decimal(string: "-0.0003")! : Decimal(string: "0.0005")!
            return Bar(instrument: "EURUSD", timeframeSeconds: 60, start: Int64(index) * 60_000, open: open,
                       high: max(open, open + move), low: min(open, open + move), close: open + move,
                       volume: 100, tickCount: 10)
        }
        // Trades every bar open → close in the `side` parameter's direction, 10 000 units:
        // a 5 pip rise is +5 USD for a buyer, −5 for a seller.
        let simulator = ClosureShadowTradeSimulator { bars, parameters in
            let direction: Decimal = parameters["side"] == "buy" ? 1 : -1
            return bars.enumerated().map { index, bar in
                ClosedTrade(id: "shadow-\(index)", account: "shadow", instrument: bar.instrument, pattern: "spring",
                            side: direction > 0 ? .buy : .sell, entryTime: bar.start, entryPrice: bar.open,
                            exitTime: bar.start + 60_000, exitPrice: bar.close, quantity: 10_000,
                            pnl: (bar.close - bar.open) * 10_000 * direction)
            }
        }
        let evaluator = ShadowEvaluator(simulator: simulator)
        let evaluation = try evaluator.evaluate(bars: bars, baseline: ["side": "sell"], variant: ["side": "buy"])
        // Buyer: 40 × +5 + 20 × −3 = 140 over 60 trades; the seller mirrors it at −140.
        XCTAssertEqual(evaluation.variantStatistics.netProfit, 140)
        XCTAssertEqual(evaluation.baselineStatistics.netProfit, -140)
        XCTAssertTrue(evaluation.decision.propose, "\(evaluation.decision.reasons)")
        // (7/3 − (−7/3)) / (7/3) = +200 %.
        XCTAssertEqual(try XCTUnwrap(evaluation.decision.relativeImprovement), 2, accuracy: 1e-9)

        let same = try evaluator.evaluate(bars: bars, baseline: ["side": "buy"], variant: ["side": "buy"])
        XCTAssertFalse(same.decision.propose)
        XCTAssertEqual(try XCTUnwrap(same.decision.pValue), 1, accuracy: 1e-12)
    }
}
