import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

final class MarginCheckTests: XCTestCase {
    private typealias F = ExecutionFixture
    private let engine = F.engine()

    func testOrderNeedingMoreMarginThanIsFreeIsRejectedWithTheFigures() throws {
        let r = try F.fillAtArrival(engine, F.order("m-3", .buy, "3"), bid: "1.08500", ask: "1.08508", ledger: F.ledger("10000"))
        // 3 lots × 100,000 × 1.08508 × 0.0333 = 10,839.9492 USD > 10,000 free.
        XCTAssertEqual(r.outcome, .rejectedForMargin)
        XCTAssertEqual(r.transitions, [.init(from: .cleared, to: .cancelled)])
        XCTAssertEqual(r.order.order.status, .cancelled)
        XCTAssertEqual(r.margin?.requiredMargin, F.d("10839.9492"))
        XCTAssertEqual(r.margin?.freeMargin, 10_000)
        XCTAssertEqual(r.margin?.passed, false)
        let check = try XCTUnwrap(r.decision?.checks.first { $0.rule == "margin" })
        XCTAssertFalse(check.passed)
        XCTAssertEqual(check.detail, "required margin 10,839.95 USD > free margin 10,000.00 USD (equity 10,000.00 USD − used 0.00 USD) for 3 lots at 1.08508")
        XCTAssertEqual(r.decision?.verdict, .rejected)
        XCTAssertEqual(r.decision?.figures["requiredMargin"], "10839.9492")
        XCTAssertTrue(r.fills.isEmpty)
        XCTAssertEqual(r.ledger.balance, 10_000)
        XCTAssertEqual(r.position.quantity, 0)
    }

    func testRequiredMarginExactlyEqualToFreeMarginFits() throws {
        // 2 lots × 100,000 × 1.08508 × 0.0333 = 7,226.6328 USD.
        let fits = try F.fillAtArrival(engine, F.order("m-eq", .buy, "2"), bid: "1.08500", ask: "1.08508", ledger: F.ledger("7226.6328"))
        XCTAssertEqual(fits.outcome, .filled)
        XCTAssertEqual(fits.margin?.requiredMargin, F.d("7226.6328"))
        let short = try F.fillAtArrival(engine, F.order("m-lt", .buy, "2"), bid: "1.08500", ask: "1.08508", ledger: F.ledger("7226.6327"))
        XCTAssertEqual(short.outcome, .rejectedForMargin)
    }

    func testJpyMarginIsConvertedToTheAccountCurrency() throws {
        // 1 lot × 100,000 × 150.010 × 0.0333 = 499,533.3 JPY; / mid 150.005 = 3,330.110996… → 3,330.1110 USD (4 places).
        let r = try F.fillAtArrival(engine, F.order("m-jpy", .buy, "1", instrument: "USD_JPY"), bid: "150.000", ask: "150.010",
                                    ledger: F.ledger("3000"))
        XCTAssertEqual(r.outcome, .rejectedForMargin)
        XCTAssertEqual(r.margin?.requiredMargin, F.d("3330.1110"))
    }

    func testRiskReducingOrdersAreNeverRefusedForMargin() throws {
        let opened = try F.fillAtArrival(engine, F.order("m-open", .buy, "2"), bid: "1.08500", ask: "1.08508", ledger: F.ledger("10000"))
        XCTAssertEqual(opened.fills.map(\.fill.price), [F.d("1.08509")])
        // The market falls 250 pips: open P&L 2 × (1.06000 − 1.08509) × 100,000 = −5,018;
        // equity 9,993 − 5,018 = 4,975; used 2 × 100,000 × 1.06004 × 0.0333 = 7,059.8664;
        // free margin −2,084.8664.
        let later = F.t0 + 60_000_000
        func send(_ id: String, _ side: Side, _ lots: String) throws -> ExecutionResult {
            try F.fillAtArrival(engine, F.order(id, side, lots), bid: "1.06000", ask: "1.06008", ledger: opened.ledger, receivedAt: later)
        }
        let add = try send("m-add", .buy, "0.1")
        XCTAssertEqual(add.outcome, .rejectedForMargin)
        XCTAssertEqual(add.margin?.freeMargin, F.d("-2084.8664"))
        XCTAssertEqual(add.margin?.equity, 4_975)

        let reduce = try send("m-reduce", .sell, "1")
        XCTAssertEqual(reduce.outcome, .filled)
        XCTAssertNil(reduce.margin)
        XCTAssertEqual(reduce.decision?.checks.first { $0.rule == "margin" }?.detail,
                       "risk-reducing: adds no exposure, no margin required")
        XCTAssertEqual(reduce.position.quantity, 1)

        // Selling 3 flips to 1 short: smaller than the 2 long, so still no added exposure.
        XCTAssertEqual(try send("m-flip-small", .sell, "3").outcome, .filled)
        // Selling 5 flips to 3 short: 1 lot more exposure than before, which needs margin.
        let flip = try send("m-flip-big", .sell, "5")
        XCTAssertEqual(flip.outcome, .rejectedForMargin)
        XCTAssertEqual(flip.margin?.addedLots, 1)
        // 1 × 100,000 × 1.06000 (the bid a sell takes) × 0.0333 = 3,529.8.
        XCTAssertEqual(flip.margin?.requiredMargin, F.d("3529.8"))
    }
}
