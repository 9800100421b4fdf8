import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading
import XCTest

/// `tmt-execution-engine` and a firm that wants its accounts flat before the weekend
/// (strict-4-8 in config/compliance-staging.yml: flat by Friday 20:45 UTC). The rule was parsed
/// but nothing applied it: a position stayed open over the weekend.
final class ExecutionFlatByTests: XCTestCase {
    func testPositionsOfAFlatByFirmAreClosedAtItsFridayDeadline() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let accountId = "acct-flat-\(UUID().uuidString.prefix(8))"
        try AccountStore(pool: pool).ensure([Account(id: accountId, firm: "strict-4-8", initialBalance: 50_000)])
        let agent = try AgentProcess(executable: "tmt-execution-engine", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "execution-flat-\(UUID().uuidString.prefix(8))",
            "KAFKA_AUTO_OFFSET_RESET": "latest", "PAPER_TRADING": "true",
        ])
        try agent.waitUntilReady()
        XCTAssertTrue(agent.joined(["orders.cleared", "market.ticks"]), "the agent never joined its groups:\n\(agent.log)")

        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "execution-flat-test"),
                                         metrics: MetricsRegistry())
        defer { producer.close() }
        // Ticks on a market clock moved to Friday evening below.
        let feed = QuoteFeed(producer: producer)
        defer { feed.stop() }
        func quantity() -> Decimal? {
            (try? pool.queryOne("SELECT quantity FROM positions WHERE account_id = $1 AND instrument = 'EUR_USD'", [accountId]))
                .flatMap { $0 }.flatMap { try? $0.decode(Decimal.self, column: "quantity") }
        }

        let order = Order(id: "flat-entry-\(UUID().uuidString.prefix(8)):\(accountId)", signalId: "none", accountId: accountId,
                          instrument: "EUR_USD", side: .buy, type: .market, quantity: 1, stopLoss: Decimal(string: "1.07000")!,
                          takeProfit: nil, status: .cleared, createdAt: HopClock.nowMicros())
        // Sent again (same id: a redelivery is never worked twice) until it fills: a group that
        // starts at the end can miss a message sent while it looks up its first offsets.
        var filled = false
        for _ in 0..<6 where !filled {
            _ = try producer.send(Envelope(id: order.id, type: "order.cleared", traceId: "trace-\(order.id)", source: "human-behavior",
                                           hops: [Hop(agent: "human-behavior", inMicros: HopClock.nowMicros(), outMicros: HopClock.nowMicros())],
                                           payload: order), to: .ordersCleared, key: accountId).wait(timeout: 10)
            filled = KafkaWait.until(timeout: 5) { quantity() == 1 }
        }
        XCTAssertTrue(filled, "the entry never filled:\n\(agent.log.suffix(3000))")

        // Friday 20:46 UTC at least a day ahead: a minute past the firm's flat-by time.
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let friday = utc.nextDate(after: Date().addingTimeInterval(86_400), matching: DateComponents(hour: 20, minute: 46, weekday: 6),
                                  matchingPolicy: .nextTime)!
        feed.move(to: friday)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { quantity() == 0 }, "the position was not closed at the flat-by time:\n\(agent.log.suffix(4000))")
        let closes = try pool.query("SELECT id, status, risk_reducing FROM orders WHERE account_id = $1 AND id LIKE 'flat-by@%'", [accountId])
        XCTAssertEqual(closes.count, 1)
        XCTAssertEqual(try closes.first?.decode(String.self, column: "status"), "filled")
        XCTAssertEqual(try closes.first?.decode(Bool.self, column: "risk_reducing"), true)
        XCTAssertTrue(agent.log.contains("flat before the weekend"), agent.log.suffix(3000).description)
        feed.stop()
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}
