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

    /// An order let through counts as exposure until it ends. When its end never reaches the
    /// agent (a dead-lettered record, or one no longer retained at a replay), the trading
    /// database's status ends it: an expired order is forgotten, one still held is not.
    func testForgetsPendingOrdersTheDatabaseShowsEnded() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let run = UUID().uuidString.prefix(6).lowercased()
        let account = "corr-db-\(run)"
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        try AccountStore(pool: pool).ensure([Account(id: account, firm: "ftmo-like", initialBalance: 100_000)])
        let agent = try AgentProcess(executable: "tmt-anti-correlation", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "anticorr-db-test-\(run)",
            "KAFKA_AUTO_OFFSET_RESET": "latest", "ANTI_CORRELATION_RECONCILE_SECONDS": "1",
        ])
        try agent.waitUntilReady()
        XCTAssertTrue(KafkaWait.until(timeout: 40) {
            ((try? agent.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"orders.decorrelated\"")
        }, "the agent never joined its state group:\n\(agent.log)")

        // Two orders of one signal, stored as ARIA stores them; one then expires in the execution
        // engine, the other is still held by human behaviour.
        let signalId = "corr-db-signal-\(run)"
        let now = HopClock.nowMicros()
        let signal = Envelope(id: signalId, type: "signal.generated", traceId: "trace-\(run)", source: "test",
                              payload: Signal(id: signalId, instrument: "EUR_USD", side: .buy, entry: Decimal(string: "1.0850")!,
                                              stopLoss: Decimal(string: "1.0800")!, takeProfit: Decimal(string: "1.0900")!, confidence: 0.7,
                                              pattern: "spring", phase: "C", evidence: [:], createdAt: now))
        func order(_ name: String) -> Order {
            var o = Order(id: "corr-db-\(name)-\(run)", signalId: signalId, accountId: account, instrument: "EUR_USD", side: .buy,
                          type: .limit, quantity: 1, price: Decimal(string: "1.0800")!, stopLoss: Decimal(string: "1.0750")!,
                          takeProfit: Decimal(string: "1.0900")!, createdAt: now)
            o.decisions = [Decision(agent: "aria-risk", verdict: .approved, decidedAt: now)]
            return o
        }
        let (expired, held) = (order("expired"), order("held"))
        try OrderStore(pool: pool).recordSizing(signal: signal, orders: [(expired, []), (held, [])], agent: "aria-risk", processingMs: 1)
        _ = try pool.execute("UPDATE orders SET status = 'expired' WHERE id = $1", [expired.id])
        _ = try pool.execute("UPDATE orders SET status = 'humanized' WHERE id = $1", [held.id])

        // Both were let through a minute ago (their records on orders.decorrelated); the expiry's
        // own message never comes.
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "anticorr-db-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let letThrough = now - 60_000_000
        for o in [expired, held] {
            var out = o
            out.status = .decorrelated
            var envelope = Envelope(id: "\(o.id):decorrelated", type: "order.decorrelated", traceId: "trace-\(run)", source: "anti-correlation",
                                    payload: out)
            envelope.hops = [Hop(agent: "anti-correlation", inMicros: letThrough, outMicros: letThrough + 1_000)]
            _ = try producer.send(envelope, to: .ordersDecorrelated, key: account).wait(timeout: 10)
        }

        XCTAssertTrue(KafkaWait.until(timeout: 30) { agent.log.contains("pending orders ended per the database") && agent.log.contains(expired.id) },
                      "the expired order was never ended:\n\(agent.log.suffix(3000))")
        usleep(2_500_000)  // two more rounds: the held order must still be pending after them
        let ended = agent.log.split(separator: "\n").filter { $0.contains("pending orders ended per the database") }
        XCTAssertFalse(ended.contains { $0.contains(held.id) }, "an order still held was forgotten:\n\(ended.joined(separator: "\n"))")
        let metrics = try agent.metrics()
        XCTAssertGreaterThanOrEqual(metricValue(in: metrics, "tmt_anti_correlation_pending_ended_in_database_total"), 1)
        XCTAssertGreaterThanOrEqual(metricValue(in: metrics, "tmt_anti_correlation_pending_orders"), 1, "the held order counts")
        XCTAssertEqual(try Promtool.checkMetrics(metrics).status, 0)
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}
