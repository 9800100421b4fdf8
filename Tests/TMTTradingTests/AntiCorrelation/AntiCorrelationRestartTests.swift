import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// A restarted account (higher `Account.epoch`) in the anti-correlation book: its equity series
/// and let-through orders start again, so neither the jump back to the initial balance nor the
/// previous challenge's unfilled orders weigh on the next challenge's orders; its positions are
/// left to the engine's flat position updates; the other accounts keep theirs.
final class AntiCorrelationRestartTests: XCTestCase {
    typealias F = AntiCorrelationFixture

    func testAHigherEpochStartsTheAccountAgainAndLeavesTheOthersAlone() throws {
        var book = AntiCorrelationBook(windows: [F.small])
        let returns = F.alternating(8)
        F.feed(&book, "acct-a", returns: returns)
        F.feed(&book, "acct-b", returns: returns)
        book.update(position: F.position("acct-a", "EUR_USD", "1"))
        book.recordForwarded(F.order("sig-9:acct-a"), quantity: 1, at: 5 * F.second)
        let asOf = 100 * F.second
        XCTAssertFalse(book.returns(of: "acct-a", window: F.small, asOf: asOf).isEmpty)
        XCTAssertEqual(book.epoch(of: "acct-a"), 0)
        let bReturns = book.returns(of: "acct-b", window: F.small, asOf: asOf)
        XCTAssertFalse(bReturns.isEmpty)

        XCTAssertFalse(book.observe(epoch: 0, accountId: "acct-a"), "the same epoch is no restart")
        XCTAssertTrue(book.isPending(orderId: "sig-9:acct-a", accountId: "acct-a"))

        XCTAssertTrue(book.observe(epoch: 1, accountId: "acct-a"))
        XCTAssertEqual(book.epoch(of: "acct-a"), 1)
        XCTAssertFalse(book.isPending(orderId: "sig-9:acct-a", accountId: "acct-a"))
        XCTAssertEqual(book.returns(of: "acct-a", window: F.small, asOf: asOf), [:])
        XCTAssertEqual(book.accounts["acct-a"]?.positions, ["EUR_USD": 1], "until the engine's flat update")
        book.update(position: F.position("acct-a", "EUR_USD", "0"))
        XCTAssertTrue(book.exposure(of: "acct-a", pricing: F.pricing).vector.isEmpty)
        XCTAssertEqual(book.returns(of: "acct-b", window: F.small, asOf: asOf), bReturns, "acct-b keeps its series")

        // A late update of the old challenge (lower epoch) does not take it back.
        XCTAssertFalse(book.observe(epoch: 0, accountId: "acct-a"))
        XCTAssertEqual(book.epoch(of: "acct-a"), 1)
        // An account first seen at a later epoch is simply registered at it.
        XCTAssertTrue(book.observe(epoch: 3, accountId: "acct-new"))
        XCTAssertEqual(book.epoch(of: "acct-new"), 3)
    }
}
