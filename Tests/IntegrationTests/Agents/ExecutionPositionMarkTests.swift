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
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let agent = try AgentProcess(executable: "tmt-execution-engine", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "execution-marks-\(UUID().uuidString.prefix(8))",
            "KAFKA_AUTO_OFFSET_RESET": "latest", "PAPER_TRADING": "true",
        ])
        try agent.waitUntilReady()
        let accountId = "acct-marks-\(UUID().uuidString.prefix(8))"
        try AccountStore(pool: pool).ensure([Account(id: accountId, firm: "ftmo-like", initialBalance: 100_000)])
        XCTAssertTrue(KafkaWait.until(timeout: 40) {
            let m = (try? agent.metrics()) ?? ""
            return ["orders.cleared", "market.ticks"].allSatisfy { m.contains("tmt_kafka_consumer_lag{topic=\"\($0)\"") }
        }, "the agent never joined its groups:\n\(agent.log)")

        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "execution-marks-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let feed = QuoteFeed(producer: producer)
        defer { feed.stop() }
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            metricValue(in: (try? agent.metrics()) ?? "", "tmt_agent_processing_duration_seconds_count{agent=\"execution-engine\",type=\"tick\"}") >= 3
        }, "no tick reached the agent:\n\(agent.log.suffix(2000))")
        func send(_ side: Side, _ label: String) throws {
            let order = Order(id: "marks-\(label)-\(UUID().uuidString.prefix(8)):\(accountId)", signalId: "no-such-signal", accountId: accountId,
                              instrument: "EUR_USD", side: side, type: .market, quantity: 2, price: nil, stopLoss: nil, takeProfit: nil,
                              riskReducing: side == .sell, status: .cleared, createdAt: HopClock.nowMicros())
            var envelope = Envelope(id: order.id, type: "order.cleared", traceId: "trace-\(order.id)", source: "human-behavior", payload: order)
            envelope.hops = [Hop(agent: "human-behavior", inMicros: HopClock.nowMicros(), outMicros: HopClock.nowMicros())]
            _ = try producer.send(envelope, to: .ordersCleared, key: accountId).wait(timeout: 10)
        }
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
