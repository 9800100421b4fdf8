import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import XCTest

/// `tmt-compliance-engine` as a process: proposed orders in, decisions stored with every rule's
/// result, approved orders and violations out on their topics.
final class ComplianceAgentTests: XCTestCase {
    func testApprovesAReasonableOrderAndRejectsAnOversizedOneNamingTheRule() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let group = "compliance-test-\(UUID().uuidString.prefix(8))"
        let agent = try AgentProcess(executable: "tmt-compliance-engine", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": group,
            "KAFKA_AUTO_OFFSET_RESET": "latest",
            // Lenient: the test may run on a Friday night or next to a simulated news release;
            // those soft rules then only warn, while max lots still rejects.
            "COMPLIANCE_MODE": "lenient",
        ])
        try agent.waitUntilReady()
        // Both the order consumer and the quote view have joined once they report lag.
        XCTAssertTrue(agent.joined(["orders.proposed", "market.ticks"]), "the agent never joined its groups:\n\(agent.log)")

        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "compliance-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        // A live market: ticks keep coming until the agent's quote view holds one (a consumer
        // that starts at the latest offset may begin just after the first tick).
        let now = HopClock.nowMicros()
        XCTAssertTrue(agent.fedAQuote(through: producer), "the agent never saw a quote:\n\(agent.log.suffix(2000))")

        let run = UUID().uuidString.prefix(8)
        func order(_ id: String, lots: String) -> Order {
            Order(id: "\(id)-\(run)", signalId: "sig-\(run)", accountId: "acct-ftmo-100k", instrument: "EUR_USD", side: .buy, type: .market,
                  quantity: Decimal(string: lots)!, stopLoss: Decimal(string: "1.08300")!, takeProfit: Decimal(string: "1.08900")!,
                  createdAt: now)
        }
        let good = order("good", lots: "1"), huge = order("huge", lots: "500")
        for o in [good, huge] {
            _ = try producer.send(Envelope(id: o.id, type: "order.proposed", traceId: "trace-\(o.id)", source: "aria-risk", payload: o),
                                  to: .ordersProposed, key: o.accountId).wait(timeout: 10)
        }

        let seen = Mutex<[String: (topic: String, order: Order)]>([:])
        let reader = try KafkaConsumer(configuration: config, groupId: "compliance-reader-\(UUID().uuidString)",
                                       topics: [Topic.ordersApproved.name, Topic.complianceViolations.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.startEnvelopes(Order.self) { envelope, message in
            if [good.id, huge.id].contains(envelope.payload.id) {
                seen.withLock { $0[envelope.payload.id] = (message.topic, envelope.payload) }
            }
        }
        defer { reader.stop(timeout: 10) }
        XCTAssertTrue(KafkaWait.until(timeout: 60) { seen.withLock { $0.count } == 2 }, "outcomes: \(seen.withLock { $0.keys })\n\(agent.log.suffix(3000))")

        let outcomes = seen.withLock { $0 }
        XCTAssertEqual(outcomes[good.id]?.topic, Topic.ordersApproved.name)
        XCTAssertEqual(outcomes[good.id]?.order.status, .approved)
        XCTAssertEqual(outcomes[good.id]?.order.decisions.last?.agent, "compliance-engine")
        XCTAssertEqual(outcomes[huge.id]?.topic, Topic.complianceViolations.name)
        XCTAssertEqual(outcomes[huge.id]?.order.status, .rejected)
        let failed = outcomes[huge.id]?.order.decisions.last?.checks.filter { !$0.passed }.map(\.rule) ?? []
        XCTAssertTrue(failed.contains("max-lots"), "failed rules: \(failed)")

        // Stored with every rule's result.
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let row = try XCTUnwrap(pool.queryOne("SELECT verdict, mode, checks FROM compliance_decisions WHERE order_id = $1", [huge.id]))
        XCTAssertEqual(try row.decode(String.self, column: "verdict"), "rejected")
        XCTAssertEqual(try row.decode(String.self, column: "mode"), "lenient")
        let checks = try row.decode(PostgresJSON.self, column: "checks").decode([Decision.Check].self)
        XCTAssertEqual(checks.count, 14, "every rule's result is stored")
        XCTAssertEqual(checks.first { $0.rule == "max-lots" }?.passed, false)
        XCTAssertEqual(try pool.queryOne("SELECT verdict FROM compliance_decisions WHERE order_id = $1", [good.id])?
            .decode(String.self, column: "verdict").hasPrefix("approved"), true)

        let metrics = try agent.metrics()
        XCTAssertGreaterThanOrEqual(metricValue(in: metrics, "tmt_compliance_violations_total{account=\"acct-ftmo-100k\",rule=\"max-lots\"}"), 1)
        XCTAssertEqual(try Promtool.checkMetrics(metrics).status, 0)
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }

    /// The consistency rule and the trading-day count see the account's earlier days (its fills
    /// of the current challenge, grouped by the firm's day), not only today.
    func testEarlierDaysFromTheFillsReachTheConsistencyAndTradingDayRules() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let run = UUID().uuidString.prefix(8).lowercased()
        let accountId = "acct-history-\(run)"
        // The staging config plus one account of its own on trailing-6 (best day ≤ 30 %, seven
        // trading days), so the fills below touch no other test's account.
        let configDir = FileManager.default.temporaryDirectory.appendingPathComponent("compliance-history-\(run)")
        try FileManager.default.createDirectory(at: configDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: configDir) }
        let original = try String(contentsOf: TestServices.repoRoot.appendingPathComponent("config/compliance-staging.yml"), encoding: .utf8)
        let configFile = configDir.appendingPathComponent("compliance-staging.yml")
        try (original + "  - id: \(accountId)\n    firm: trailing-6\n    initial_balance: 50000\n    currency: USD\n")
            .write(to: configFile, atomically: true, encoding: .utf8)

        let agent = try AgentProcess(executable: "tmt-compliance-engine", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "compliance-history-\(run)",
            "KAFKA_AUTO_OFFSET_RESET": "latest", "COMPLIANCE_MODE": "lenient", "COMPLIANCE_CONFIG": configFile.path,
        ])
        try agent.waitUntilReady()
        XCTAssertTrue(agent.joined(["orders.proposed", "market.ticks"]), "the agent never joined its groups:\n\(agent.log)")
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "compliance-history-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        XCTAssertTrue(agent.fedAQuote(through: producer), "the agent never saw a quote:\n\(agent.log.suffix(2000))")

        // Three earlier days with profit (the account row exists: the agent ensured it). Each day
        // at 12:00 UTC, well inside trailing-6's day (17:00 New York resets).
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let epoch = try XCTUnwrap(pool.queryOne("SELECT epoch FROM accounts WHERE id = $1", [accountId])?.decode(Int.self, column: "epoch"))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let noonToday = calendar.date(bySettingHour: 12, minute: 0, second: 0, of: Date())!
        for (i, pnl) in ["400", "300", "300"].enumerated() {
            let at = noonToday.addingTimeInterval(-Double(i + 2) * 86_400)
            let orderId = "hist-\(run)-\(i)"
            try pool.execute("""
                INSERT INTO orders (id, account_id, instrument, side, type, quantity, status, trace_id, created_at)
                VALUES ($1, $2, 'EUR_USD', 'buy', 'market', 1, 'filled', 't', $3)
                """, [orderId, accountId, at])
            try pool.execute("""
                INSERT INTO fills (id, order_id, account_id, instrument, side, quantity, price, spread, slippage, commission, realized_pnl, filled_at, account_epoch)
                VALUES ($1, $2, $3, 'EUR_USD', 'sell', 1, 1.085, 0.0001, 0, 5, $4, $5, $6)
                """, ["\(orderId)-fill", orderId, accountId, Decimal(string: pnl)!, at, epoch])
        }

        // The account's balance moved with those fills (+1,000 realised, −15 commission), as the
        // execution engine would have announced it.
        var account = Account(id: accountId, firm: "trailing-6", initialBalance: 50_000, epoch: epoch)
        account.balance = 50_985
        account.equity = 50_985
        account.highWaterMark = 50_985
        _ = try producer.send(Envelope(id: "\(accountId)-update", type: "account.update", traceId: "a", source: "test", payload: account),
                              to: .accountsUpdates, key: accountId).wait(timeout: 10)
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            let body = (try? HTTPClient(timeout: 5).get(agent.base + "/api/v1/accounts").text) ?? ""
            return body.contains("50985")
        }, "the agent never saw the account's new balance:\n\(agent.log.suffix(2000))")

        let order = Order(id: "hist-order-\(run)", signalId: "sig-\(run)", accountId: accountId, instrument: "EUR_USD", side: .buy, type: .market,
                          quantity: Decimal(string: "0.1")!, stopLoss: Decimal(string: "1.08300")!, takeProfit: Decimal(string: "1.08900")!,
                          createdAt: HopClock.nowMicros())
        _ = try producer.send(Envelope(id: order.id, type: "order.proposed", traceId: "trace-\(order.id)", source: "aria-risk", payload: order),
                              to: .ordersProposed, key: accountId).wait(timeout: 10)
        var checks: [Decision.Check] = []
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            guard let row = try? pool.queryOne("SELECT checks FROM compliance_decisions WHERE order_id = $1", [order.id]) else { return false }
            checks = (try? row.decode(PostgresJSON.self, column: "checks").decode([Decision.Check].self)) ?? []
            return !checks.isEmpty
        }, "no decision stored:\n\(agent.log.suffix(3000))")
        let days = try XCTUnwrap(checks.first { $0.rule == "trading-days" }, "\(checks.map(\.rule))")
        XCTAssertTrue(days.detail.hasPrefix("3 trading days of minimum 7"), days.detail)
        let consistency = try XCTUnwrap(checks.first { $0.rule == "consistency" })
        // 1,000 realised in total, less 15 commission, nothing yet today: the best day (395) is
        // 40 % of 985.
        XCTAssertTrue(consistency.detail.contains("985.00") && consistency.detail.contains("best day"), consistency.detail)
        XCTAssertTrue(consistency.passed, consistency.detail)
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}
