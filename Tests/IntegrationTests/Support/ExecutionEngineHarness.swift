import Foundation
import TMTCore
import TMTPipeline
import XCTest

/// A `tmt-execution-engine` of one test against the test services: a fresh account on the
/// ftmo-like firm (100,000), the engine joined to its consumer groups, a producer, and helpers
/// to send a cleared market order and read the account's row.
final class ExecutionEngineHarness {
    let pool: PostgresPool
    let producer: KafkaProducer
    let agent: AgentProcess
    let accountId: String
    let bootstrap: String

    /// - Parameters:
    ///   - label: names the consumer group, the account and the client.
    ///   - topics: the engine's topics whose lag series must exist before the test goes on.
    init(_ label: String, topics: [String] = ["orders.cleared", "market.ticks", "staging.commands"]) throws {
        bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        agent = try AgentProcess(executable: "tmt-execution-engine", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "execution-\(label)-\(UUID().uuidString.prefix(8))",
            "KAFKA_AUTO_OFFSET_RESET": "latest", "PAPER_TRADING": "true",
        ])
        try agent.waitUntilReady()
        accountId = "acct-\(label)-\(UUID().uuidString.prefix(8))"
        try AccountStore(pool: pool).ensure([Account(id: accountId, firm: "ftmo-like", initialBalance: 100_000)])
        let agent = agent
        XCTAssertTrue(KafkaWait.until(timeout: 40) {
            let m = (try? agent.metrics()) ?? ""
            return topics.allSatisfy { m.contains("tmt_kafka_consumer_lag{topic=\"\($0)\"") }
        }, "the agent never joined its groups:\n\(agent.log)")
        producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "execution-\(label)-test"),
                                     metrics: MetricsRegistry())
    }

    deinit {
        producer.close()
        pool.shutdown()
    }

    /// Sends a cleared market order of `lots` EUR_USD for the account, as human behaviour does.
    func sendMarket(_ side: Side, lots: Decimal, label: String, riskReducing: Bool = false) throws {
        let order = Order(id: "\(label)-\(UUID().uuidString.prefix(8)):\(accountId)", signalId: "no-such-signal", accountId: accountId,
                          instrument: "EUR_USD", side: side, type: .market, quantity: lots, price: nil, stopLoss: nil, takeProfit: nil,
                          riskReducing: riskReducing, status: .cleared, createdAt: HopClock.nowMicros())
        var envelope = Envelope(id: order.id, type: "order.cleared", traceId: "trace-\(order.id)", source: "human-behavior", payload: order)
        envelope.hops = [Hop(agent: "human-behavior", inMicros: HopClock.nowMicros(), outMicros: HopClock.nowMicros())]
        _ = try producer.send(envelope, to: .ordersCleared, key: accountId).wait(timeout: 10)
    }

    /// A numeric column of the account's row (nil when NULL or unreadable).
    func accountDecimal(_ column: String) -> Decimal? {
        ((try? pool.queryOne("SELECT \(column) AS v FROM accounts WHERE id = $1", [accountId])) ?? nil)
            .flatMap { try? $0.decode(Decimal?.self, column: "v") }
    }

    /// The account's EUR_USD position quantity (nil when there is no row).
    func eurUsdQuantity() -> Decimal? {
        ((try? pool.queryOne("SELECT quantity AS v FROM positions WHERE account_id = $1 AND instrument = 'EUR_USD'", [accountId])) ?? nil)
            .flatMap { try? $0.decode(Decimal.self, column: "v") }
    }
}
