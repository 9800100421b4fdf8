import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading
import XCTest

/// `tmt-execution-engine` across a restart and a firm midnight: a pending limit order and an
/// open position's stop-loss survive SIGTERM and a new process; the stop closes the position and
/// the limit fills in the new process; a tick past the firm's day reset starts a new trading day.
final class ExecutionRestartTests: XCTestCase {
    func testWorkingOrdersAndStopsSurviveARestartAndTheDayRollsAtTheFirmReset() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let group = "execution-restart-\(UUID().uuidString.prefix(8))"
        let environment = ["DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": group,
                           "KAFKA_AUTO_OFFSET_RESET": "latest", "PAPER_TRADING": "true"]
        func startEngine() throws -> AgentProcess {
            let agent = try AgentProcess(executable: "tmt-execution-engine", port: AgentProcess.freePort(), environment: environment)
            try agent.waitUntilReady()
            XCTAssertTrue(KafkaWait.until(timeout: 40) {
                let m = (try? agent.metrics()) ?? ""
                return m.contains("tmt_kafka_consumer_lag{topic=\"orders.cleared\"") && m.contains("tmt_kafka_consumer_lag{topic=\"market.ticks\"")
            }, "the agent never joined its groups:\n\(agent.log)")
            return agent
        }
        let accountId = "acct-restart-\(UUID().uuidString.prefix(8))"
        let initial = Decimal(100_000)
        try AccountStore(pool: pool).ensure([Account(id: accountId, firm: "ftmo-like", initialBalance: initial)])

        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "execution-restart-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        // Tick times are the market clock; the feed's offset moves them (past the firm's midnight at the end).
        let quote = QuoteFeed(producer: producer)
        defer { quote.stop() }
        func send(_ order: Order) throws {
            _ = try producer.send(Envelope(id: order.id, type: "order.cleared", traceId: "trace-\(order.id)", source: "human-behavior",
                                           hops: [Hop(agent: "human-behavior", inMicros: HopClock.nowMicros(), outMicros: HopClock.nowMicros())],
                                           payload: order), to: .ordersCleared, key: accountId).wait(timeout: 10)
        }
        func decimal(_ sql: String) -> Decimal? {
            (try? pool.queryOne(sql, [accountId])).flatMap { $0 }.flatMap { try? $0.decode(Decimal?.self, column: "v") }
        }
        func text(_ sql: String, _ id: String) -> String? {
            (try? pool.queryOne(sql, [id])).flatMap { $0 }.flatMap { try? $0.decode(String?.self, column: "v") }
        }
        let positionSQL = "SELECT quantity AS v FROM positions WHERE account_id = $1 AND instrument = 'EUR_USD'"

        // First process: a market buy with a stop fills; a limit buy below the market waits.
        var agent = try startEngine()
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            metricValue(in: (try? agent.metrics()) ?? "", "tmt_agent_processing_duration_seconds_count{agent=\"execution-engine\",type=\"tick\"}") >= 3
        }, "no tick reached the agent:\n\(agent.log.suffix(2000))")
        let stop = Decimal(string: "1.08300")!
        let entry = Order(id: "restart-entry-\(UUID().uuidString.prefix(8)):\(accountId)", signalId: "none", accountId: accountId,
                          instrument: "EUR_USD", side: .buy, type: .market, quantity: 1, price: nil, stopLoss: stop,
                          takeProfit: Decimal(string: "1.10000")!, riskReducing: false, status: .cleared, createdAt: HopClock.nowMicros())
        try send(entry)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { decimal(positionSQL) == 1 }, "entry never filled:\n\(agent.log.suffix(4000))")
        let limitPrice = Decimal(string: "1.08000")!
        let limit = Order(id: "restart-limit-\(UUID().uuidString.prefix(8)):\(accountId)", signalId: "none", accountId: accountId,
                          instrument: "EUR_USD", side: .buy, type: .limit, quantity: 1, price: limitPrice, stopLoss: nil,
                          takeProfit: nil, riskReducing: false, status: .cleared, createdAt: HopClock.nowMicros())
        try send(limit)
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            text("SELECT status AS v FROM orders WHERE id = $1", limit.id) == "pending"
        }, "the limit order never became pending:\n\(agent.log.suffix(4000))")
        XCTAssertNotNil(text("SELECT working::text AS v FROM orders WHERE id = $1", limit.id), "no working state stored")
        // An order still waiting for its first quote (no GBP_USD tick yet) is stored when it is
        // accepted, so the restart below restores it (it used to be lost: its offset was
        // committed and nothing about it stored).
        let waiting = Order(id: "restart-wait-\(UUID().uuidString.prefix(8)):\(accountId)", signalId: "none", accountId: accountId,
                            instrument: "GBP_USD", side: .buy, type: .market, quantity: 1, price: nil, stopLoss: nil,
                            takeProfit: nil, riskReducing: false, status: .cleared, createdAt: HopClock.nowMicros())
        try send(waiting)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { text("SELECT working::text AS v FROM orders WHERE id = $1", waiting.id) != nil },
                      "the waiting order was not stored:\n\(agent.log.suffix(3000))")
        XCTAssertEqual(text("SELECT status AS v FROM orders WHERE id = $1", waiting.id), "cleared")
        XCTAssertEqual(decimal("SELECT stop_loss AS v FROM positions WHERE account_id = $1 AND instrument = 'EUR_USD'"), stop)
        // The position is held from its opening fill's market time (what a minimum-hold rule
        // measures from), not from when the row was written.
        let openedSQL = """
            SELECT (p.opened_at = f.filled_at AND p.opened_at IS NOT NULL)::text AS v FROM positions p JOIN fills f ON f.order_id = $2
            WHERE p.account_id = $1 AND p.instrument = 'EUR_USD'
            """
        func openedAtFill(of order: Order) -> String? {
            (try? pool.queryOne(openedSQL, [accountId, order.id])).flatMap { $0 }.flatMap { try? $0.decode(String?.self, column: "v") }
        }
        XCTAssertEqual(openedAtFill(of: entry), "true")
        // The price rises after the fill: the high-water mark rises with the equity, and the row
        // (written at fills) must keep it across the restart (it used to reload the fill's).
        let storedAtFill = try XCTUnwrap(decimal("SELECT high_water_mark AS v FROM accounts WHERE id = $1"))
        let equityAtFill = try XCTUnwrap(decimal("SELECT equity AS v FROM accounts WHERE id = $1"))
        let dayStartAtFill = try XCTUnwrap(decimal("SELECT equity - daily_pnl AS v FROM accounts WHERE id = $1"))
        quote.set(bid: "1.08700", ask: "1.08708")
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            metricValue(in: (try? agent.metrics()) ?? "", "tmt_daily_pnl_usd{account=\"\(accountId)\"}") > 100
        }, "the equity never rose:\n\(agent.log.suffix(3000))")
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
        let storedAtStop = try XCTUnwrap(decimal("SELECT high_water_mark AS v FROM accounts WHERE id = $1"))
        XCTAssertGreaterThan(storedAtStop, storedAtFill + 100, "the risen high-water mark was not stored")
        // The row's equity and daily P&L are the marked ones too, not the fill's beside a newer
        // mark (a reader of the row saw a drawdown from a high it was at).
        XCTAssertGreaterThan(try XCTUnwrap(decimal("SELECT equity AS v FROM accounts WHERE id = $1")), equityAtFill + 100)
        XCTAssertEqual(decimal("SELECT equity - daily_pnl AS v FROM accounts WHERE id = $1"), dayStartAtFill, "the day's start is unchanged")
        XCTAssertGreaterThan(try XCTUnwrap(decimal("SELECT count(*) AS v FROM account_snapshots WHERE account_id = $1 AND equity > \(equityAtFill + 100)")), 0,
                             "no equity snapshot of the marked equity")
        quote.set(bid: "1.08500", ask: "1.08508")

        // Second process: both come back; the stop closes the position, then the limit fills.
        agent = try startEngine()
        XCTAssertTrue(agent.log.contains("working orders restored orders=2"), agent.log.suffix(3000).description)
        // The first GBP_USD quote fills the order that waited across the restart, once.
        let gbp = Tick(instrument: "GBP_USD", bid: Decimal(string: "1.26500")!, ask: Decimal(string: "1.26510")!, volume: 100_000,
                       time: HopClock.nowMicros() + 1_000_000)
        _ = try producer.send(Envelope(id: "GBP_USD-\(gbp.time)", type: "market.tick", traceId: "t", source: "test", payload: gbp),
                              to: .marketTicks, key: "GBP_USD").wait(timeout: 10)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { text("SELECT status AS v FROM orders WHERE id = $1", waiting.id) == "filled" },
                      "the restored waiting order never filled:\n\(agent.log.suffix(4000))")
        XCTAssertEqual(try pool.query("SELECT id FROM fills WHERE order_id = $1", [waiting.id]).count, 1)
        quote.set(bid: "1.08290", ask: "1.08298")
        XCTAssertTrue(KafkaWait.until(timeout: 30) { decimal(positionSQL) == 0 },
                      "the restored stop never closed the position:\n\(agent.log.suffix(4000))")
        let stopFills = try pool.query("SELECT price, realized_pnl FROM fills WHERE account_id = $1 AND order_id LIKE '%stop%'", [accountId])
        XCTAssertEqual(stopFills.count, 1)
        for row in stopFills { XCTAssertLessThan(try row.decode(Decimal.self, column: "realized_pnl"), 0) }
        XCTAssertEqual(text("SELECT status AS v FROM orders WHERE id = $1", limit.id), "pending")
        quote.set(bid: "1.07990", ask: "1.07998")
        XCTAssertTrue(KafkaWait.until(timeout: 30) { text("SELECT status AS v FROM orders WHERE id = $1", limit.id) == "filled" },
                      "the restored limit order never filled:\n\(agent.log.suffix(4000))")
        XCTAssertNil(text("SELECT working::text AS v FROM orders WHERE id = $1", limit.id))
        XCTAssertEqual(decimal(positionSQL), 1)
        XCTAssertEqual(openedAtFill(of: limit), "true", "reopened after the stop: held from the limit's fill")
        let limitFill = try XCTUnwrap(try pool.queryOne("SELECT price FROM fills WHERE order_id = $1", [limit.id]))
        XCTAssertLessThanOrEqual(try limitFill.decode(Decimal.self, column: "price"), limitPrice)
        // Exact books: balance = initial + realised − commission, from the fills.
        let sums = try XCTUnwrap(try pool.queryOne("""
            SELECT sum(realized_pnl) AS pnl, sum(commission) AS commission FROM fills WHERE account_id = $1
            """, [accountId]))
        let realized = try sums.decode(Decimal.self, column: "pnl"), commission = try sums.decode(Decimal.self, column: "commission")
        XCTAssertEqual(decimal("SELECT balance AS v FROM accounts WHERE id = $1"), initial + realized - commission)

        // A third process, so the day starts while the GBP_USD position has no quote (only
        // EUR_USD ticks follow): the equity cannot be marked, yet the stored daily P&L must be
        // the new day's (equity − balance), not yesterday's under the new day's label. A limit
        // far below the market rests across the restart, so the new process loads the account.
        let far = Order(id: "restart-far-\(UUID().uuidString.prefix(8)):\(accountId)", signalId: "none", accountId: accountId,
                        instrument: "EUR_USD", side: .buy, type: .limit, quantity: 1, price: Decimal(string: "1.00000")!, stopLoss: nil,
                        takeProfit: nil, riskReducing: false, status: .cleared, createdAt: HopClock.nowMicros())
        try send(far)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { text("SELECT status AS v FROM orders WHERE id = $1", far.id) == "pending" },
                      "the far limit order never became pending:\n\(agent.log.suffix(3000))")
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
        agent = try startEngine()
        XCTAssertTrue(agent.log.contains("working orders restored orders=1"), agent.log.suffix(3000).description)

        // The firm (ftmo-like: Europe/Prague, 00:00) starts a new day: ticks from 1 s after the
        // next reset on the market clock. Daily P&L then counts from the balance (open P&L only).
        let rules = try XCTUnwrap(ComplianceConfiguration.load(path: TestServices.repoRoot.path + "/config/compliance-staging.yml")
            .rules(forFirm: "ftmo-like"))
        let today = try XCTUnwrap(text("SELECT trading_day AS v FROM accounts WHERE id = $1", accountId))
        let nextReset = rules.tradingDay(containing: Date()).end
        XCTAssertEqual(today, rules.tradingDay(containing: Date()).label)
        quote.move(to: nextReset, plus: 1)
        let tomorrow = rules.tradingDay(containing: nextReset.addingTimeInterval(1)).label
        XCTAssertTrue(KafkaWait.until(timeout: 30) { text("SELECT trading_day AS v FROM accounts WHERE id = $1", accountId) == tomorrow },
                      "the trading day never rolled:\n\(agent.log.suffix(4000))")
        let row = try XCTUnwrap(try pool.queryOne("SELECT balance, equity, daily_pnl, day_start_equity FROM accounts WHERE id = $1", [accountId]))
        XCTAssertEqual(try row.decode(Decimal.self, column: "daily_pnl"),
                       try row.decode(Decimal.self, column: "equity") - row.decode(Decimal.self, column: "balance"))
        // The day's start is stored and published with the account, for the compliance engine's
        // daily loss: the day it belongs to, and the equity at the roll when it could be marked
        // (not here: GBP_USD had no quote, so it is unknown rather than stale).
        XCTAssertNil(try row.decode(Decimal?.self, column: "day_start_equity"))
        let stored = try XCTUnwrap(try AccountStore(pool: pool).all().first { $0.id == accountId })
        XCTAssertEqual(stored.tradingDay, tomorrow)
        XCTAssertNil(stored.dayStartEquity)
        let published = try KafkaTestSupport.readAll([Topic.accountsUpdates.name], count: 1, filter: { message in
            guard let a = try? KafkaConsumer.decodeEnvelope(Account.self, from: message).payload else { return false }
            return a.id == accountId && a.tradingDay == tomorrow
        })
        let update = try KafkaConsumer.decodeEnvelope(Account.self, from: try XCTUnwrap(published.first)).payload
        XCTAssertEqual(update.dailyPnL, try row.decode(Decimal.self, column: "daily_pnl"))
        // With a GBP_USD quote (consumed within milliseconds; the wait leaves it ample time) the
        // next day's start is marked: its start equity is the equity at the roll.
        let gbpLater = Tick(instrument: "GBP_USD", bid: Decimal(string: "1.26500")!, ask: Decimal(string: "1.26510")!, volume: 100_000,
                            time: HopClock.nowMicros() + quote.offset + 1_000_000)
        _ = try producer.send(Envelope(id: "GBP_USD-\(gbpLater.time)", type: "market.tick", traceId: "t", source: "test", payload: gbpLater),
                              to: .marketTicks, key: "GBP_USD").wait(timeout: 10)
        usleep(2_000_000)
        let secondReset = rules.tradingDay(containing: nextReset.addingTimeInterval(1)).end
        quote.move(to: secondReset, plus: 1)
        let dayAfter = rules.tradingDay(containing: secondReset.addingTimeInterval(1)).label
        XCTAssertTrue(KafkaWait.until(timeout: 30) { text("SELECT trading_day AS v FROM accounts WHERE id = $1", accountId) == dayAfter },
                      "the second trading day never rolled:\n\(agent.log.suffix(4000))")
        let marked = try XCTUnwrap(try pool.queryOne("SELECT equity, day_start_equity FROM accounts WHERE id = $1", [accountId]))
        XCTAssertEqual(try marked.decode(Decimal?.self, column: "day_start_equity"), try marked.decode(Decimal.self, column: "equity"))
        XCTAssertEqual(metricValue(in: try agent.metrics(), "tmt_execution_day_rolls_total{account=\"\(accountId)\"}"), 2)
        quote.stop()
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}
