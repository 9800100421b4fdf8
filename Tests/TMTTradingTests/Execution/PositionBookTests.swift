import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

final class PositionBookTests: XCTestCase {
    private typealias F = ExecutionFixture

    private var seq = 0
    private func fill(_ side: Side, _ lots: String, at price: String, _ instrument: String = "EUR_USD") -> Fill {
        seq += 1
        return Fill(id: "f\(seq)", orderId: "o\(seq)", accountId: "acct-1", instrument: instrument, side: side, quantity: F.d(lots),
                    price: F.d(price), spread: 0, slippage: 0, commission: 0, time: F.t0 + Int64(seq))
    }

    @discardableResult
    private func apply(_ book: inout PositionBook, _ f: Fill, contractSize: Decimal = 100_000, rate: Decimal = 1) -> PositionChange {
        book.apply(f, contractSize: contractSize, conversionRate: rate, moneyScale: 4, averagePriceScale: 10)
    }

    /// The opening time is the market time of the fill that opened the position from flat or
    /// flipped it: adds and partial closes keep it, a flip restarts it, going flat clears it.
    func testTheOpeningTimeIsTheOpeningFillsAndSurvivesAddsAndPartialCloses() {
        var book = PositionBook(accountId: "acct-1")
        let open = fill(.buy, "1", at: "1.08500")
        XCTAssertEqual(apply(&book, open).after.openedAt, open.time)
        XCTAssertEqual(apply(&book, fill(.buy, "2", at: "1.08600")).after.openedAt, open.time, "an add keeps it")
        XCTAssertEqual(apply(&book, fill(.sell, "1", at: "1.08700")).after.openedAt, open.time, "a partial close keeps it")
        XCTAssertEqual(book.position("EUR_USD").openedAt, open.time)
        let flip = fill(.sell, "3", at: "1.08650")
        let flipped = apply(&book, flip)
        XCTAssertEqual(flipped.after.quantity, -1)
        XCTAssertEqual(flipped.after.openedAt, flip.time, "a flip opens a new position")
        XCTAssertNil(apply(&book, fill(.buy, "1", at: "1.08600")).after.openedAt, "flat: not held")
        XCTAssertNil(book.position("EUR_USD").openedAt)
        let again = fill(.buy, "1", at: "1.08600")
        XCTAssertEqual(apply(&book, again).after.openedAt, again.time)
    }

    func testSameDirectionFillsAverageIn() {
        var book = PositionBook(accountId: "acct-1")
        apply(&book, fill(.buy, "1", at: "1.08500"))
        let c = apply(&book, fill(.buy, "3", at: "1.08600"))
        // (1 × 1.08500 + 3 × 1.08600) / 4 = 4.34300 / 4 = 1.08575.
        XCTAssertEqual(c.after.quantity, 4)
        XCTAssertEqual(c.after.averagePrice, F.d("1.08575"))
        XCTAssertEqual(c.openedQuantity, 3)
        XCTAssertEqual(c.realizedPnL, 0)
    }

    func testPartialCloseRealisesPnLOnTheClosedPartOnly() {
        var book = PositionBook(accountId: "acct-1")
        apply(&book, fill(.buy, "1", at: "1.08500"))
        apply(&book, fill(.buy, "3", at: "1.08600"))
        let c = apply(&book, fill(.sell, "1.5", at: "1.08700"))
        // 1.5 × (1.08700 − 1.08575) × 100,000 = 1.5 × 0.00125 × 100,000 = 187.5 USD.
        XCTAssertEqual(c.closedQuantity, F.d("1.5"))
        XCTAssertEqual(c.realizedPnL, F.d("187.5"))
        XCTAssertEqual(c.after.quantity, F.d("2.5"))
        XCTAssertEqual(c.after.averagePrice, F.d("1.08575"), "closing does not move the entry")
        XCTAssertEqual(c.after.realizedPnL, F.d("187.5"))
    }

    func testAnOppositeFillLargerThanThePositionClosesItAndFlips() {
        var book = PositionBook(accountId: "acct-1")
        apply(&book, fill(.buy, "2.5", at: "1.08575"))
        let flip = apply(&book, fill(.sell, "4", at: "1.08400"))
        // Closes 2.5: 2.5 × (1.08400 − 1.08575) × 100,000 = −437.5; opens 1.5 short at 1.08400.
        XCTAssertEqual(flip.closedQuantity, F.d("2.5"))
        XCTAssertEqual(flip.openedQuantity, F.d("1.5"))
        XCTAssertEqual(flip.realizedPnL, F.d("-437.5"))
        XCTAssertEqual(flip.after.quantity, F.d("-1.5"))
        XCTAssertEqual(flip.after.averagePrice, F.d("1.08400"))
        // The short gains when bought back lower: 1.5 × (1.08300 − 1.08400) × 100,000 × −1 = +150.
        let cover = apply(&book, fill(.buy, "1.5", at: "1.08300"))
        XCTAssertEqual(cover.realizedPnL, 150)
        XCTAssertEqual(cover.after.quantity, 0)
        XCTAssertEqual(cover.after.averagePrice, 0)
        XCTAssertEqual(cover.after.realizedPnL, F.d("-287.5"))
    }

    func testUsdJpyCloseIsConvertedToUsdAtTheRateOfTheFill() throws {
        var book = PositionBook(accountId: "acct-1")
        apply(&book, fill(.buy, "1", at: "149.500", "USD_JPY"))
        let quote = F.tick("USD_JPY", bid: "150.000", ask: "150.010", at: F.t0)
        let rate = try XCTUnwrap(CurrencyRates(ticks: [quote]).rate(from: "JPY", to: "USD"))
        let c = apply(&book, fill(.sell, "1", at: "150.000", "USD_JPY"), rate: rate)
        // 1 × (150.000 − 149.500) × 100,000 = 50,000 JPY; at 1 / mid 150.005:
        // 50,000 / 150.005 = 333.32222259… → 333.3222 USD (four places, half-to-even).
        XCTAssertEqual(c.realizedPnLInQuote, 50_000)
        XCTAssertEqual(c.realizedPnL, F.d("333.3222"))
    }

    func testProtectiveLevelsFollowTheOpeningOrder() {
        var book = PositionBook(accountId: "acct-1")
        book.apply(fill(.buy, "1", at: "1.08500"), contractSize: 100_000, conversionRate: 1, moneyScale: 4, averagePriceScale: 10,
                   stopLoss: F.d("1.08000"), takeProfit: F.d("1.09000"), sourceOrderId: "o-a", sourceSignalId: "s-a")
        // Adding without levels keeps them; a partial close keeps them.
        apply(&book, fill(.buy, "1", at: "1.08600"))
        apply(&book, fill(.sell, "0.5", at: "1.08700"))
        XCTAssertEqual(book.entry("EUR_USD").stopLoss, F.d("1.08000"))
        XCTAssertEqual(book.entry("EUR_USD").sourceOrderId, "o-a")
        // A flip without levels clears them: they were for the long.
        apply(&book, fill(.sell, "3", at: "1.08700"))
        XCTAssertNil(book.entry("EUR_USD").stopLoss)
        XCTAssertNil(book.entry("EUR_USD").takeProfit)
    }
}
