import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import XCTest

/// `tmt-aria-risk` as a process: one signal in, one sized order per staging account out on
/// `orders.proposed`, with the breakdown, and the signal, orders and events in the database.
final class AriaAgentTests: XCTestCase {
    func testSizesASignalForEveryStagingAccountAndRecordsIt() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let group = "aria-test-\(UUID().uuidString.prefix(8))"
        let agent = try AgentProcess(executable: "tmt-aria-risk", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "MARKET_DATABASE_URL": try TestServices.marketDatabaseURL(),
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": group, "KAFKA_AUTO_OFFSET_RESET": "latest",
            "RISK_MULTIPLIER": "1",
        ])
        try agent.waitUntilReady()
        XCTAssertTrue(agent.joined(["signals.generated", "market.ticks"]), "the agent never joined its groups:\n\(agent.log)")

        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "aria-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        // A live EUR_USD quote in the agent's market view (the stop distance and conversions use it).
        XCTAssertTrue(agent.fedAQuote(through: producer), "no quote reached the agent:\n\(agent.log.suffix(2000))")

        let now = HopClock.nowMicros()
        let signal = Signal(id: "EUR_USD-test-\(UUID().uuidString.prefix(8))", instrument: "EUR_USD", side: .buy,
                            entry: Decimal(string: "1.08508")!, stopLoss: Decimal(string: "1.08308")!, takeProfit: Decimal(string: "1.08908")!,
                            confidence: 0.8, pattern: "spring", phase: "accumulation", evidence: ["volumeRatio": "2.1"], createdAt: now)
        _ = try producer.send(Envelope(id: signal.id, type: "signal.generated", traceId: "trace-\(signal.id)", source: "wyckoff-analysis",
                                       payload: signal), to: .signalsGenerated, key: "EUR_USD").wait(timeout: 10)

        let seen = Mutex<[Envelope<Order>]>([])
        let reader = try KafkaConsumer(configuration: config, groupId: "aria-reader-\(UUID().uuidString)", topics: [Topic.ordersProposed.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.startEnvelopes(Order.self) { envelope, _ in
            if envelope.payload.signalId == signal.id { seen.withLock { $0.append(envelope) } }
        }
        defer { reader.stop(timeout: 10) }

        // Every staging account ends in exactly one recorded outcome.
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let accounts = try pool.query("SELECT id FROM accounts ORDER BY id").map { try $0.decode(String.self, column: "id") }
        XCTAssertGreaterThanOrEqual(accounts.count, 3)
        func recorded() -> Int {
            guard let row = try? pool.queryOne("SELECT count(*)::bigint AS n FROM orders WHERE signal_id = $1", [signal.id]) else { return 0 }
            return (try? row.decode(Int.self, column: "n")) ?? 0
        }
        XCTAssertTrue(KafkaWait.until(timeout: 60) { recorded() >= 3 }, "orders not recorded:\n\(agent.log.prefix(3000))\n…\n\(agent.log.suffix(3000))")
        let rows = try pool.query("SELECT account_id, status, quantity, decisions FROM orders WHERE signal_id = $1 ORDER BY account_id", [signal.id])
        XCTAssertEqual(rows.count, 3)
        let proposedCount = try rows.filter { try $0.decode(String.self, column: "status") == "proposed" }.count
        XCTAssertTrue(KafkaWait.until(timeout: 30) { seen.withLock { $0.count } == proposedCount })
        XCTAssertGreaterThan(proposedCount, 0, "no account could be sized:\n\(agent.log.suffix(2000))")
        for row in rows {
            let status = try row.decode(String.self, column: "status")
            XCTAssertTrue(["proposed", "skipped"].contains(status))
            let decisions = try row.decode(PostgresJSON.self, column: "decisions").decode([Decision].self)
            XCTAssertEqual(decisions.last?.agent, "aria-risk")
            if status == "proposed" {
                XCTAssertGreaterThan(try row.decode(Decimal.self, column: "quantity"), 0)
                // The breakdown travels with the order.
                for key in decisions.last?.figures.keys.sorted() ?? [] where key.hasPrefix("riskAmount") || key.hasPrefix("finalLots") {
                    XCTAssertFalse(decisions.last?.figures[key]?.isEmpty ?? true)
                }
                XCTAssertGreaterThan(decisions.last?.figures.count ?? 0, 5)
            }
        }
        for envelope in seen.withLock({ $0 }) {
            XCTAssertEqual(envelope.traceId, "trace-\(signal.id)")
            XCTAssertEqual(envelope.hops.last?.agent, "aria-risk")
            // The hop leaves ARIA once the sizing is stored: later than the sizing decision the
            // stored trail records (the write used to show as the next hop's latency).
            let trail = try XCTUnwrap(pool.queryOne("SELECT hops FROM orders WHERE id = $1", [envelope.payload.id]))
                .decode(PostgresJSON.self, column: "hops").decode([Hop].self)
            XCTAssertGreaterThan(try XCTUnwrap(envelope.hops.last?.outMicros), try XCTUnwrap(trail.last?.outMicros))
            XCTAssertEqual(envelope.payload.id, Order.id(signalId: signal.id, accountId: envelope.payload.accountId))
            XCTAssertEqual(envelope.payload.stopLoss, signal.stopLoss)
        }
        XCTAssertNotNil(try pool.queryOne("SELECT id FROM signals WHERE id = $1", [signal.id]))
        XCTAssertEqual(try pool.queryOne("SELECT count(*)::bigint AS n FROM order_events WHERE order_id LIKE $1", ["\(signal.id):%"])?
            .decode(Int.self, column: "n"), 3)
        XCTAssertEqual(try Promtool.checkMetrics(try agent.metrics()).status, 0)
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}
