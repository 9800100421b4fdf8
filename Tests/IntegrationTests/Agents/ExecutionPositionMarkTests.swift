import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import XCTest

/// `tmt-execution-engine` stores each open position's mark (the price it would close at) and its
/// unrealised P&L: at the fill, then with the account's periodic marks as the market moves; the
/// positions add up to the account's equity less its balance, and a closed position has none.
final class ExecutionPositionMarkTests: XCTestCase {
    func testOpenPositionsCarryTheirMarkAndUnrealisedPnL() throws {
        let engine = try ExecutionEngineHarness("marks", topics: ["orders.cleared", "market.ticks"])
        let (agent, pool, producer, accountId) = (engine.agent, engine.pool, engine.producer, engine.accountId)
        let feed = QuoteFeed(producer: producer)
        defer { feed.stop() }
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            metricValue(in: (try? agent.metrics()) ?? "", "tmt_agent_processing_duration_seconds_count{agent=\"execution-engine\",type=\"tick\"}") >= 3
        }, "no tick reached the agent:\n\(agent.log.suffix(2000))")
        func send(_ side: Side, _ label: String) throws { try engine.sendMarket(side, lots: 2, label: "marks-\(label)", riskReducing: side == .sell) }
        struct Row { var quantity: Decimal; var average: Decimal; var mark: Decimal?; var pnl: Decimal?; var markedAt: Date? }
        func position() -> Row? {
            guard let r = (try? pool.queryOne("""
                SELECT quantity, average_price, mark_price, unrealized_pnl, marked_at FROM positions WHERE account_id = $1 AND instrument = 'EUR_USD'
                """, [accountId])) ?? nil else { return nil }
            return try? Row(quantity: r.decode(Decimal.self, column: "quantity"), average: r.decode(Decimal.self, column: "average_price"),
                            mark: r.decode(Decimal?.self, column: "mark_price"), pnl: r.decode(Decimal?.self, column: "unrealized_pnl"),
                            markedAt: r.decode(Date?.self, column: "marked_at"))
        }
        /// Two lots of EUR_USD (100,000 each, quoted in USD, the account's currency) marked at `mark`.
        func expectedPnL(_ row: Row, at mark: Decimal) -> Double {
            DecimalMath.double(row.quantity * (mark - row.average) * 100_000)
        }

        // Filled at the ask: marked at once, at the bid, the spread and commission-free open loss.
        try send(.buy, "entry")
        XCTAssertTrue(KafkaWait.until(timeout: 40) { position()?.quantity == 2 }, "the entry never filled:\n\(agent.log.suffix(4000))")
        let opened = try XCTUnwrap(position())
        XCTAssertEqual(opened.mark, Decimal(string: "1.085"), "marked at the bid")
        let openedPnL = try XCTUnwrap(opened.pnl, "no unrealised P&L stored with the fill")
        XCTAssertEqual(DecimalMath.double(openedPnL), expectedPnL(opened, at: Decimal(string: "1.085")!), accuracy: 0.005)
        XCTAssertLessThan(openedPnL, 0)
        XCTAssertNotNil(opened.markedAt)

        // The market rises: the periodic marks follow it, and agree with the account's equity.
        feed.set(bid: "1.08700", ask: "1.08708")
        XCTAssertTrue(KafkaWait.until(timeout: 30) { position()?.mark == Decimal(string: "1.087") },
                      "the position's mark never followed the market:\n\(agent.log.suffix(3000))")
        let risen = try XCTUnwrap(position())
        let risenPnL = try XCTUnwrap(risen.pnl)
        XCTAssertEqual(DecimalMath.double(risenPnL), expectedPnL(risen, at: Decimal(string: "1.087")!), accuracy: 0.005)
        XCTAssertGreaterThan(risenPnL, 300)
        XCTAssertGreaterThan(try XCTUnwrap(risen.markedAt), try XCTUnwrap(opened.markedAt))
        XCTAssertTrue(KafkaWait.until(timeout: 15) {
            guard let r = (try? pool.queryOne("SELECT equity - balance AS open FROM accounts WHERE id = $1", [accountId])) ?? nil else { return false }
            return (try? r.decode(Decimal.self, column: "open")) == risenPnL
        }, "the account's equity less balance is not the position's unrealised P&L \(risenPnL)")

        // Closed: no mark is left on the flat row.
        try send(.sell, "exit")
        XCTAssertTrue(KafkaWait.until(timeout: 40) { position()?.quantity == 0 }, "the exit never filled:\n\(agent.log.suffix(4000))")
        let closed = try XCTUnwrap(position())
        XCTAssertNil(closed.mark)
        XCTAssertNil(closed.pnl)
        XCTAssertNil(closed.markedAt)
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}
