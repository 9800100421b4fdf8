import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import XCTest

/// `tmt-execution-engine` applying an `account.restart` from `staging.commands`: the account's
/// working order is cancelled, its position dropped without a fill, the row is the initial
/// balance again at the next epoch, the fresh account and a flat position are published, the
/// fills stay; an order whose trail began before the restart is cancelled, a new one fills in the
/// new epoch.
final class ExecutionAccountRestartTests: XCTestCase {
    func testRestartStartsTheAccountAgainAndRefusesOrdersFromBeforeIt() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let agent = try AgentProcess(executable: "tmt-execution-engine", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "execution-restart-\(UUID().uuidString.prefix(8))",
            "KAFKA_AUTO_OFFSET_RESET": "latest", "PAPER_TRADING": "true",
        ])
        try agent.waitUntilReady()
        let accountId = "acct-restart-test-\(UUID().uuidString.prefix(8))"
        let initial = Decimal(100_000)
        try AccountStore(pool: pool).ensure([Account(id: accountId, firm: "ftmo-like", initialBalance: initial)])
        XCTAssertTrue(KafkaWait.until(timeout: 40) {
            let m = (try? agent.metrics()) ?? ""
            return ["orders.cleared", "market.ticks", "staging.commands"].allSatisfy { m.contains("tmt_kafka_consumer_lag{topic=\"\($0)\"") }
        }, "the agent never joined its groups:\n\(agent.log)")

        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "execution-restart-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let feed = QuoteFeed(producer: producer)
        defer { feed.stop() }

        let published = Mutex<(accounts: [Account], positions: [Position])>(([], []))
        let reader = try KafkaConsumer(configuration: config, groupId: "execution-restart-reader-\(UUID().uuidString)",
                                       topics: [Topic.accountsUpdates.name, Topic.positionsUpdates.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.start { message in
            if message.topic == Topic.accountsUpdates.name {
                let a = try KafkaConsumer.decodeEnvelope(Account.self, from: message).payload
                if a.id == accountId { published.withLock { $0.accounts.append(a) } }
            } else {
                let p = try KafkaConsumer.decodeEnvelope(Position.self, from: message).payload
                if p.accountId == accountId { published.withLock { $0.positions.append(p) } }
            }
        }
        defer { reader.stop(timeout: 10) }

        func order(_ label: String, type: OrderType = .market, price: Decimal? = nil) -> Order {
            Order(id: "restart-\(label)-\(UUID().uuidString.prefix(8)):\(accountId)", signalId: "no-such-signal", accountId: accountId,
                  instrument: "EUR_USD", side: .buy, type: type, quantity: 1, price: price, stopLoss: nil, takeProfit: nil,
                  riskReducing: false, status: .cleared, createdAt: HopClock.nowMicros())
        }
        func send(_ o: Order, trailBegan: Int64 = HopClock.nowMicros()) throws {
            var envelope = Envelope(id: o.id, type: "order.cleared", traceId: "trace-\(o.id)", source: "human-behavior", payload: o)
            envelope.hops = [Hop(agent: "wyckoff-analysis", inMicros: trailBegan, outMicros: trailBegan)]
            _ = try producer.send(envelope, to: .ordersCleared, key: accountId).wait(timeout: 10)
        }
        func status(_ id: String) -> String? {
            ((try? pool.queryOne("SELECT status FROM orders WHERE id = $1", [id])) ?? nil).flatMap { try? $0.decode(String.self, column: "status") }
        }
        func count(_ sql: String) -> Int64 { ((try? pool.queryOne(sql, [accountId])) ?? nil).flatMap { try? $0.decode(Int64.self, column: "n") } ?? -1 }

        // A filled position and a working limit order far below the market.
        let filled = order("fill")
        try send(filled)
        XCTAssertTrue(KafkaWait.until(timeout: 40) { status(filled.id) == "filled" }, "the first order never filled:\n\(agent.log.suffix(4000))")
        let resting = order("limit", type: .limit, price: Decimal(string: "1.00000")!)
        try send(resting)
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            count("SELECT count(*)::bigint AS n FROM orders WHERE account_id = $1 AND working IS NOT NULL") == 1
        }, "the limit order never rested:\n\(agent.log.suffix(4000))")
        XCTAssertEqual(count("SELECT count(*)::bigint AS n FROM positions WHERE account_id = $1 AND quantity <> 0"), 1)
        let beforeRestart = HopClock.nowMicros()
        usleep(20_000)

        let command = StagingCommand(id: "test-restart-\(UUID().uuidString.prefix(8))", action: .accountRestart, accounts: [accountId],
                                     reason: "integration test", requestedBy: "tester", issuedAt: HopClock.nowMicros(), epochs: [accountId: 1])
        _ = try producer.send(Envelope(id: command.id, type: "staging.command", traceId: "cmd-\(command.id)", source: "test", payload: command),
                              to: .stagingCommands, key: "staging").wait(timeout: 10)
        let acks = StagingCommandStore(pool: pool)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { ((try? acks.acknowledgements(command.id)) ?? []).contains { $0.agent == "execution-engine" } },
                      "the restart was never acknowledged:\n\(agent.log.suffix(4000))")
        let detail = try XCTUnwrap(try acks.acknowledgements(command.id).first).detail
        XCTAssertEqual(detail, "restarted 1 account: \(accountId) at epoch 1, balance 100000 (1 position dropped, 1 working order cancelled)")

        let row = try XCTUnwrap(try pool.queryOne("""
            SELECT balance, equity, high_water_mark, daily_pnl, realized_pnl, commission, epoch, restarted_at FROM accounts WHERE id = $1
            """, [accountId]))
        for column in ["balance", "equity", "high_water_mark"] { XCTAssertEqual(try row.decode(Decimal.self, column: column), initial, column) }
        for column in ["daily_pnl", "realized_pnl", "commission"] { XCTAssertEqual(try row.decode(Decimal.self, column: column), 0, column) }
        XCTAssertEqual(try row.decode(Int.self, column: "epoch"), 1)
        XCTAssertNotNil(try row.decode(Date?.self, column: "restarted_at"))
        XCTAssertEqual(count("SELECT count(*)::bigint AS n FROM positions WHERE account_id = $1"), 0)
        XCTAssertEqual(status(resting.id), "cancelled")
        XCTAssertEqual(count("SELECT count(*)::bigint AS n FROM fills WHERE account_id = $1 AND account_epoch = 0"), 1, "the fill stays")
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            published.withLock { p in
                p.accounts.contains { $0.epoch == 1 && $0.balance == initial && $0.equity == initial }
                    && p.positions.last.map { $0.instrument == "EUR_USD" && $0.quantity == 0 } == true
            }
        }, "the fresh account and the flat position were not published: \(published.withLock { $0 })")

        // An order whose signal arrived before the restart is cancelled; a new one fills in epoch 1.
        let stale = order("stale")
        try send(stale, trailBegan: beforeRestart)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { status(stale.id) == "cancelled" }, "the stale order was not cancelled:\n\(agent.log.suffix(4000))")
        let reason = try XCTUnwrap(try pool.queryOne("SELECT decisions::text AS d FROM orders WHERE id = $1", [stale.id])).decode(String.self, column: "d")
        XCTAssertTrue(reason.contains("after this order's trail began") && reason.contains("belongs to the previous challenge"), reason)
        // One sized for the previous epoch (ARIA stamps it) is cancelled whenever its trail began.
        var sizedBefore = order("sized-before")
        sizedBefore.accountEpoch = 0
        try send(sizedBefore)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { status(sizedBefore.id) == "cancelled" }, agent.log.suffix(4000).description)
        let why = try XCTUnwrap(try pool.queryOne("SELECT decisions::text AS d FROM orders WHERE id = $1", [sizedBefore.id])).decode(String.self, column: "d")
        XCTAssertTrue(why.contains("it was sized for epoch 0, the account is at epoch 1"), why)
        var fresh = order("fresh")
        fresh.accountEpoch = 1
        try send(fresh)
        XCTAssertTrue(KafkaWait.until(timeout: 40) { status(fresh.id) == "filled" }, "the new challenge's order never filled:\n\(agent.log.suffix(4000))")
        XCTAssertEqual(count("SELECT count(*)::bigint AS n FROM fills WHERE account_id = $1 AND account_epoch = 1"), 1)
        XCTAssertEqual(count("SELECT count(*)::bigint AS n FROM fills WHERE account_id = $1"), 2)

        // A command for the same target epoch again (a retry or a second operator): nothing is
        // restarted twice — the new challenge's position and epoch stay.
        let again = StagingCommand(id: "test-restart-again-\(UUID().uuidString.prefix(8))", action: .accountRestart, accounts: [accountId],
                                   reason: "integration test, again", requestedBy: "tester", issuedAt: HopClock.nowMicros(), epochs: [accountId: 1])
        _ = try producer.send(Envelope(id: again.id, type: "staging.command", traceId: "cmd-\(again.id)", source: "test", payload: again),
                              to: .stagingCommands, key: "staging").wait(timeout: 10)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { ((try? acks.acknowledgements(again.id)) ?? []).contains { $0.agent == "execution-engine" } })
        XCTAssertEqual(try acks.acknowledgements(again.id).first?.detail, "restarted 0 accounts; already restarted: \(accountId) (at epoch 1)")
        XCTAssertEqual(count("SELECT epoch::bigint AS n FROM accounts WHERE id = $1"), 1)
        XCTAssertEqual(count("SELECT count(*)::bigint AS n FROM positions WHERE account_id = $1 AND quantity <> 0"), 1)
        XCTAssertEqual(agent.terminate(), 0, String(agent.log.suffix(2000)))
    }
}
