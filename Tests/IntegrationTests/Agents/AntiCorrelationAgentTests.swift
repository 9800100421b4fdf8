import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import XCTest

/// `tmt-anti-correlation` as a process: an order that would make two accounts hold the same book
/// is skipped with the reason; an unrelated order and a risk-reducing one pass on.
final class AntiCorrelationAgentTests: XCTestCase {
    func testSkipsAnOrderThatClonesAnotherAccountAndPassesTheOthers() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let run = UUID().uuidString.prefix(6).lowercased()
        let (a, b, c) = ("corr-a-\(run)", "corr-b-\(run)", "corr-c-\(run)")
        let agent = try AgentProcess(executable: "tmt-anti-correlation", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "anticorr-test-\(run)",
            "KAFKA_AUTO_OFFSET_RESET": "latest",
        ])
        try agent.waitUntilReady()
        XCTAssertTrue(KafkaWait.until(timeout: 40) {
            let m = (try? agent.metrics()) ?? ""
            return ["orders.approved", "market.ticks", "positions.updates"].allSatisfy { m.contains("tmt_kafka_consumer_lag{topic=\"\($0)\"") }
        }, "the agent never joined its groups:\n\(agent.log)")
        // Orders are judged only once the account state has been replayed: the orders group is
        // joined after the replay is reported.
        let log = agent.log
        let replayed = try XCTUnwrap(log.range(of: "account state replayed"), log)
        let ordersJoined = try XCTUnwrap(log.range(of: #"partitions assigned .*orders\.approved"#, options: .regularExpression), log)
        XCTAssertLessThan(replayed.lowerBound, ordersJoined.lowerBound, log)

        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "anticorr-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            let t = HopClock.nowMicros()
            for tick in [Tick(instrument: "EUR_USD", bid: Decimal(string: "1.08500")!, ask: Decimal(string: "1.08508")!, volume: 1, time: t),
                         Tick(instrument: "USD_JPY", bid: Decimal(string: "149.500")!, ask: Decimal(string: "149.509")!, volume: 1, time: t)] {
                _ = try? producer.send(Envelope(id: "\(tick.instrument)-\(t)", type: "market.tick", traceId: "t", source: "test", payload: tick),
                                       to: .marketTicks, key: tick.instrument).wait(timeout: 5)
            }
            usleep(200_000)
            return metricValue(in: (try? agent.metrics()) ?? "", "tmt_market_view_instruments") >= 2
        }, "quotes never reached the agent:\n\(agent.log.suffix(2000))")

        // Accounts a and b each hold 1 lot of EUR_USD long.
        for account in [a, b] {
            let p = Position(accountId: account, instrument: "EUR_USD", quantity: 1, averagePrice: Decimal(string: "1.085")!)
            _ = try producer.send(Envelope(id: "pos-\(account)", type: "position.update", traceId: "t", source: "execution-engine", payload: p),
                                  to: .positionsUpdates, key: account).wait(timeout: 5)
        }
        usleep(500_000)

        func approved(_ id: String, account: String, instrument: String, side: Side, reducing: Bool = false) -> Order {
            var o = Order(id: "\(id)-\(run)", signalId: "sig-\(run)", accountId: account, instrument: instrument, side: side, type: .market,
                          quantity: 1, stopLoss: nil, takeProfit: nil, riskReducing: reducing, createdAt: HopClock.nowMicros())
            try? o.advance(to: .approved, decision: Decision(agent: "compliance-engine", verdict: .approved, decidedAt: o.createdAt))
            return o
        }
        let clone = approved("clone", account: a, instrument: "EUR_USD", side: .buy)          // a would stay identical to b
        let unrelated = approved("other", account: c, instrument: "USD_JPY", side: .buy)      // nothing in common with a or b
        let reduce = approved("reduce", account: a, instrument: "EUR_USD", side: .sell, reducing: true)
        for o in [clone, unrelated, reduce] {
            _ = try producer.send(Envelope(id: "\(o.id):compliance", type: "order.approved", traceId: "trace-\(o.id)", source: "compliance-engine",
                                           payload: o), to: .ordersApproved, key: o.accountId).wait(timeout: 5)
        }

        let passed = Mutex<[String: Order]>([:])
        let reader = try KafkaConsumer(configuration: config, groupId: "anticorr-reader-\(UUID().uuidString)", topics: [Topic.ordersDecorrelated.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.startEnvelopes(Order.self) { envelope, _ in
            if envelope.payload.id.hasSuffix(run) { passed.withLock { $0[envelope.payload.id] = envelope.payload } }
        }
        defer { reader.stop(timeout: 10) }
        XCTAssertTrue(KafkaWait.until(timeout: 60) { passed.withLock { $0.count } >= 2 }, "passed: \(passed.withLock { $0.keys })\n\(agent.log.suffix(2000))")
        usleep(1_000_000)
        let out = passed.withLock { $0 }
        XCTAssertNil(out[clone.id], "the cloning order must not pass")
        XCTAssertEqual(out[unrelated.id]?.status, .decorrelated)
        XCTAssertEqual(out[unrelated.id]?.quantity, 1)
        XCTAssertEqual(out[reduce.id]?.status, .decorrelated, "a risk-reducing order always passes")
        XCTAssertEqual(out[reduce.id]?.quantity, 1)
        XCTAssertEqual(out[reduce.id]?.decisions.last?.agent, "anti-correlation")

        // The skip is on record with the correlated account named.
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let row = try XCTUnwrap(pool.queryOne("SELECT status, verdict, detail FROM order_events WHERE message_id = $1", ["\(clone.id):anti-correlation"]))
        XCTAssertEqual(try row.decode(String.self, column: "status"), "skipped")
        let figures = try row.decode(PostgresJSON.self, column: "detail").decode([String: String].self)
        XCTAssertEqual(figures["correlatedAccount"], b)
        XCTAssertEqual(try Promtool.checkMetrics(try agent.metrics()).status, 0)

        // The pair's gauge: b (long EUR_USD) and c (USD_JPY let through) share nothing, 0; once b is
        // flat the pair is unknown and its series goes, instead of keeping the last value.
        let pair = "tmt_account_correlation{a=\"\(b)\",b=\"\(c)\",window=\"5m\"}"
        XCTAssertTrue(KafkaWait.until(timeout: 10) { ((try? agent.metrics()) ?? "").contains(pair) }, (try? agent.metrics()) ?? "")
        let flat = Position(accountId: b, instrument: "EUR_USD", quantity: 0, averagePrice: 0)
        _ = try producer.send(Envelope(id: "pos-flat-\(b)", type: "position.update", traceId: "t", source: "execution-engine", payload: flat),
                              to: .positionsUpdates, key: b).wait(timeout: 5)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { !((try? agent.metrics()) ?? pair).contains(pair) },
                      "the gauge kept a pair that is no longer known:\n\((try? agent.metrics()) ?? "")")
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}
