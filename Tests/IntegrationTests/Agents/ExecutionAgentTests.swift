import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import XCTest

/// `tmt-execution-engine` as a process: a cleared market order fills at the ask plus adverse
/// slippage with commission, the position and account are booked exactly, and the take-profit
/// closes the position on a later tick; an order it cannot margin ends on `orders.blocked`; and
/// it refuses to start unless paper trading is on.
final class ExecutionAgentTests: XCTestCase {
    func testFillsAClearedOrderAndClosesItAtTheTakeProfit() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let group = "execution-test-\(UUID().uuidString.prefix(8))"
        let agent = try AgentProcess(executable: "tmt-execution-engine", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": group,
            "KAFKA_AUTO_OFFSET_RESET": "latest", "PAPER_TRADING": "true",
        ])
        try agent.waitUntilReady()
        // A fresh account of a configured firm, so earlier runs cannot interfere.
        let accountId = "acct-exec-test-\(UUID().uuidString.prefix(8))"
        let initial = Decimal(100_000)
        try AccountStore(pool: pool).ensure([Account(id: accountId, firm: "ftmo-like", initialBalance: initial)])
        XCTAssertTrue(KafkaWait.until(timeout: 40) {
            let m = (try? agent.metrics()) ?? ""
            return m.contains("tmt_kafka_consumer_lag{topic=\"orders.cleared\"") && m.contains("tmt_kafka_consumer_lag{topic=\"market.ticks\"")
        }, "the agent never joined its groups:\n\(agent.log)")

        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "execution-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let bid = Decimal(string: "1.08500")!, ask = Decimal(string: "1.08508")!
        let quote = Mutex<(bid: Decimal, ask: Decimal)>((bid, ask))
        let running = Atomic<Bool>(true)
        let ticker = Thread {
            while running.load(ordering: .relaxed) {
                let t = HopClock.nowMicros()
                let (b, a) = quote.withLock { $0 }
                let tick = Tick(instrument: "EUR_USD", bid: b, ask: a, volume: 100_000, time: t)
                _ = try? producer.send(Envelope(id: "EUR_USD-\(t)", type: "market.tick", traceId: "t", source: "test", payload: tick),
                                       to: .marketTicks, key: "EUR_USD").wait(timeout: 10)
                usleep(100_000)
            }
        }
        ticker.start()
        defer { running.store(false, ordering: .relaxed) }
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            metricValue(in: (try? agent.metrics()) ?? "",
                        "tmt_agent_processing_duration_seconds_count{agent=\"execution-engine\",type=\"tick\"}") >= 3
        }, "no tick reached the agent:\n\(agent.log.suffix(2000))")

        let fills = Mutex<[Fill]>([])
        let accounts = Mutex<[Account]>([])
        let ended = Mutex<[Order]>([])
        let reader = try KafkaConsumer(configuration: config, groupId: "execution-reader-\(UUID().uuidString)",
                                       topics: [Topic.executionsFills.name, Topic.accountsUpdates.name, Topic.ordersBlocked.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.start { message in
            if message.topic == Topic.ordersBlocked.name {
                let order = try KafkaConsumer.decodeEnvelope(Order.self, from: message).payload
                if order.id.hasSuffix(accountId) || order.id.hasPrefix("exec-test-margin-") { ended.withLock { $0.append(order) } }
            } else if message.topic == Topic.executionsFills.name {
                let fill = try KafkaConsumer.decodeEnvelope(Fill.self, from: message).payload
                if fill.accountId == accountId { fills.withLock { $0.append(fill) } }
            } else {
                let account = try KafkaConsumer.decodeEnvelope(Account.self, from: message).payload
                if account.id == accountId { accounts.withLock { $0.append(account) } }
            }
        }
        defer { reader.stop(timeout: 10) }

        let takeProfit = Decimal(string: "1.09000")!
        let order = Order(id: "exec-test-\(UUID().uuidString.prefix(8)):\(accountId)", signalId: "no-such-signal", accountId: accountId,
                          instrument: "EUR_USD", side: .buy, type: .market, quantity: 1, price: nil,
                          stopLoss: Decimal(string: "1.08000")!, takeProfit: takeProfit, riskReducing: false, status: .cleared,
                          createdAt: HopClock.nowMicros())
        _ = try producer.send(Envelope(id: order.id, type: "order.cleared", traceId: "trace-\(order.id)", source: "human-behavior",
                                       payload: order), to: .ordersCleared, key: accountId).wait(timeout: 10)

        // The entry fill: at the ask plus adverse (non-negative) slippage, with commission.
        XCTAssertTrue(KafkaWait.until(timeout: 40) { fills.withLock { $0.contains { $0.orderId == order.id } } },
                      "no fill published:\n\(agent.log.suffix(9000))")
        let entries = fills.withLock { $0.filter { $0.orderId == order.id } }
        guard !entries.isEmpty else { return }
        let entryQuantity = entries.reduce(Decimal(0)) { $0 + $1.quantity }
        for f in entries {
            XCTAssertEqual(f.side, .buy)
            XCTAssertGreaterThanOrEqual(f.slippage, 0)
            XCTAssertEqual(f.price, ask + f.slippage)
            XCTAssertGreaterThan(f.commission, 0)
        }
        let entryCommission = entries.reduce(Decimal(0)) { $0 + $1.commission }
        func decimal(_ sql: String, _ params: [any PostgresEncodable]) -> Decimal? {
            (try? pool.queryOne(sql, params)).flatMap { $0 }.flatMap { try? $0.decode(Decimal.self, column: "v") }
        }
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            decimal("SELECT quantity AS v FROM positions WHERE account_id = $1 AND instrument = 'EUR_USD'", [accountId]) == entryQuantity
        })
        XCTAssertEqual(entryQuantity, 1)
        XCTAssertEqual(decimal("SELECT sum(quantity) AS v FROM fills WHERE order_id = $1", [order.id]), entryQuantity)
        XCTAssertEqual(decimal("SELECT balance AS v FROM accounts WHERE id = $1", [accountId]), initial - entryCommission)
        XCTAssertEqual(decimal("SELECT commission AS v FROM accounts WHERE id = $1", [accountId]), entryCommission)
        XCTAssertEqual(try pool.queryOne("SELECT status FROM orders WHERE id = $1", [order.id])?.decode(String.self, column: "status"), "filled")

        // Ticks reach the take-profit: the position closes at the target or better.
        quote.withLock { $0 = (Decimal(string: "1.09010")!, Decimal(string: "1.09018")!) }
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            decimal("SELECT quantity AS v FROM positions WHERE account_id = $1 AND instrument = 'EUR_USD'", [accountId]) == 0
        }, "the take-profit never closed the position:\n\(agent.log.suffix(3000))")
        let closes = try pool.query("SELECT price, quantity, commission, realized_pnl FROM fills WHERE account_id = $1 AND order_id <> $2",
                                    [accountId, order.id])
        XCTAssertFalse(closes.isEmpty)
        let entryPrice = entries[0].price
        var realized = Decimal(0), closeCommission = Decimal(0)
        for row in closes {
            let price = try row.decode(Decimal.self, column: "price")
            let quantity = try row.decode(Decimal.self, column: "quantity")
            XCTAssertGreaterThanOrEqual(price, takeProfit)
            let pnl = try row.decode(Decimal.self, column: "realized_pnl")
            // USD account, USD quote currency: lots × (exit − entry) × 100 000, rounded to 4 places.
            var exact = quantity * (price - entryPrice) * 100_000, rounded = Decimal()
            NSDecimalRound(&rounded, &exact, 4, .plain)
            XCTAssertEqual(pnl, rounded)
            realized += pnl
            closeCommission += try row.decode(Decimal.self, column: "commission")
        }
        XCTAssertGreaterThan(realized, 0)
        XCTAssertEqual(decimal("SELECT realized_pnl AS v FROM accounts WHERE id = $1", [accountId]), realized)
        XCTAssertEqual(decimal("SELECT balance AS v FROM accounts WHERE id = $1", [accountId]),
                       initial + realized - entryCommission - closeCommission)
        XCTAssertEqual(decimal("SELECT realized_pnl AS v FROM positions WHERE account_id = $1", [accountId]), realized)
        XCTAssertGreaterThanOrEqual(decimal("SELECT count(*) AS v FROM account_snapshots WHERE account_id = $1", [accountId]) ?? 0, 2)
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            accounts.withLock { $0.contains { $0.balance == initial + realized - entryCommission - closeCommission } }
        }, "no account update with the final balance")

        // A redelivered order is not worked twice.
        let fillCount = decimal("SELECT count(*) AS v FROM fills WHERE account_id = $1", [accountId])
        _ = try producer.send(Envelope(id: order.id, type: "order.cleared", traceId: "trace-\(order.id)", source: "human-behavior",
                                       payload: order), to: .ordersCleared, key: accountId).wait(timeout: 10)
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            metricValue(in: (try? agent.metrics()) ?? "",
                        "tmt_agent_messages_total{agent=\"execution-engine\",type=\"order\",outcome=\"duplicate\"}") >= 1
        }, "the redelivered order was not recognised:\n\(agent.log.suffix(2000))")
        XCTAssertEqual(decimal("SELECT count(*) AS v FROM fills WHERE account_id = $1", [accountId]), fillCount)
        XCTAssertEqual(decimal("SELECT balance AS v FROM accounts WHERE id = $1", [accountId]),
                       initial + realized - entryCommission - closeCommission)

        // An order its account cannot margin (one dollar of equity: not even the first lot step
        // of a pass, whatever the session's depth) ends without a fill, and is published on
        // orders.blocked (anti-correlation stops counting it as exposure); filled orders are not.
        let thin = "acct-exec-thin-\(UUID().uuidString.prefix(8))"
        try AccountStore(pool: pool).ensure([Account(id: thin, firm: "ftmo-like", initialBalance: 1)])
        let huge = Order(id: "exec-test-margin-\(UUID().uuidString.prefix(8)):\(thin)", signalId: "no-such-signal", accountId: thin,
                         instrument: "EUR_USD", side: .buy, type: .market, quantity: 1, price: nil,
                         stopLoss: Decimal(string: "1.08000")!, takeProfit: takeProfit, riskReducing: false, status: .cleared,
                         createdAt: HopClock.nowMicros())
        _ = try producer.send(Envelope(id: huge.id, type: "order.cleared", traceId: "trace-\(huge.id)", source: "human-behavior",
                                       payload: huge), to: .ordersCleared, key: thin).wait(timeout: 10)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { ended.withLock { $0.contains { $0.id == huge.id } } },
                      "the unmarginable order was not published as ended:\n\(agent.log.suffix(3000))")
        let published = try XCTUnwrap(ended.withLock { $0.first { $0.id == huge.id } })
        XCTAssertTrue(published.status.isTerminal && published.status != .filled, "\(published.status)")
        XCTAssertEqual(try pool.queryOne("SELECT status FROM orders WHERE id = $1", [huge.id])?.decode(String.self, column: "status"),
                       published.status.rawValue)
        XCTAssertEqual(decimal("SELECT count(*) AS v FROM fills WHERE order_id = $1", [huge.id]), 0)
        XCTAssertFalse(ended.withLock { $0.contains { $0.id == order.id } }, "a filled order is not an ended one")

        let metrics = try agent.metrics()
        XCTAssertGreaterThanOrEqual(metricValue(in: metrics,
            "tmt_trade_execution_total{account=\"\(accountId)\",instrument=\"EUR_USD\",side=\"buy\"}"), 1)
        XCTAssertGreaterThanOrEqual(metricValue(in: metrics,
            "tmt_trade_execution_total{account=\"\(accountId)\",instrument=\"EUR_USD\",side=\"sell\"}"), 1)
        XCTAssertEqual(try Promtool.checkMetrics(metrics).status, 0)
        running.store(false, ordering: .relaxed)
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }

    func testRefusesToStartWithoutPaperTrading() throws {
        for (env, name) in [(["PAPER_TRADING": "false"], "PAPER_TRADING"),
                            (["PAPER_TRADING": "true", "MT4_ENABLED": "true"], "MT4_ENABLED"),
                            (["PAPER_TRADING": "true", "SIMULATION_MODE": "false"], "SIMULATION_MODE")] {
            var environment = env
            environment["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"
            let agent = try AgentProcess(executable: "tmt-execution-engine", port: AgentProcess.freePort(), environment: environment)
            let end = Date().addingTimeInterval(30)
            while agent.process.isRunning, Date() < end { usleep(50_000) }
            XCTAssertFalse(agent.process.isRunning)
            XCTAssertNotEqual(agent.process.terminationStatus, 0)
            XCTAssertTrue(agent.log.contains(name), agent.log)
        }
    }
}
