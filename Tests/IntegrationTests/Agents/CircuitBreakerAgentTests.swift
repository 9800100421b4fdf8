import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading
import XCTest

/// `tmt-circuit-breaker` as a process: with every critical agent heard and every account and the
/// instrument reported, an order clears; a manual account trip (stored and published) blocks that
/// account's next order with the reason while another account still clears; a reset clears it again.
final class CircuitBreakerAgentTests: XCTestCase {
    func testGatesOrdersAndObeysTripAndResetCommands() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let run = UUID().uuidString.prefix(8).lowercased()
        let agent = try AgentProcess(executable: "tmt-circuit-breaker", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "REDIS_URL": try TestServices.redisURL(), "BREAKER_SNAPSHOT_KEY": "tmt:test:breaker:\(run)",
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "breaker-test-\(run)", "KAFKA_AUTO_OFFSET_RESET": "latest",
        ])
        try agent.waitUntilReady()
        XCTAssertTrue(KafkaWait.until(timeout: 40) {
            let m = (try? agent.metrics()) ?? ""
            return [Topic.ordersHumanized, .breakerCommands, .agentsHealth, .marketTicks, .accountsUpdates].allSatisfy {
                m.contains("tmt_kafka_consumer_lag{topic=\"\($0.name)\"")
            }
        }, "the agent never joined its groups:\n\(agent.log.suffix(3000))")

        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "breaker-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let accounts = try AccountStore(pool: pool).all().filter { ["acct-ftmo-100k", "acct-strict-50k"].contains($0.id) }
        XCTAssertEqual(accounts.count, 2)
        let (target, other) = ("acct-ftmo-100k", "acct-strict-50k")

        // Live inputs while the test runs: heartbeats of every critical agent, a EUR_USD tick, the accounts.
        let inputs = BreakerLiveInputs(producer: producer, accounts: accounts)
        defer { inputs.stop() }

        func tradingState(_ account: String) -> String {
            guard let r = try? HTTPClient(timeout: 5).get(agent.base + "/api/v1/breaker/\(account)"), r.status == 200,
                  let json = try? JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: Any] else { return "" }
            return json["tradingState"] as? String ?? ""
        }
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            tradingState(target) == "ACTIVE" && tradingState(other) == "ACTIVE"
                && metricValue(in: (try? agent.metrics()) ?? "", "tmt_circuit_breaker_state{tier=\"instrument\",target=\"EUR_USD\"}") == 0
                && (try? agent.metrics())?.contains("tmt_circuit_breaker_state{tier=\"instrument\",target=\"EUR_USD\"} 0") == true
        }, "trading never became ACTIVE: \(tradingState(target))\n\((try? HTTPClient(timeout: 5).get(agent.base + "/api/v1/breaker").text) ?? "")\n\(agent.log.suffix(3000))")

        // Outputs, read with fresh groups from the beginning and filtered by this run's ids.
        let cleared = Mutex<[String: Order]>([:])
        let blocked = Mutex<[String: Order]>([:])
        let events = Mutex<[BreakerEvent]>([])
        func reader(_ topic: Topic) throws -> KafkaConsumer {
            try KafkaConsumer(configuration: config, groupId: "breaker-reader-\(UUID().uuidString)", topics: [topic.name],
                              metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        }
        let readers = try [reader(.ordersCleared), reader(.ordersBlocked)]
        try readers[0].startEnvelopes(Order.self) { e, _ in if e.payload.signalId.hasPrefix(run) { cleared.withLock { $0[e.payload.id] = e.payload } } }
        try readers[1].startEnvelopes(Order.self) { e, _ in if e.payload.signalId.hasPrefix(run) { blocked.withLock { $0[e.payload.id] = e.payload } } }
        let eventReader = try reader(.breakerEvents)
        try eventReader.startEnvelopes(BreakerEvent.self) { e, _ in
            if e.payload.reason.commandId?.hasPrefix(run) == true { events.withLock { $0.append(e.payload) } }
        }
        defer { for r in readers + [eventReader] { r.stop(timeout: 10) } }

        var counter = 0
        func send(_ account: String) throws -> String {
            counter += 1
            let order = Order(id: "\(run)-\(counter):\(account)", signalId: "\(run)-\(counter)", accountId: account, instrument: "EUR_USD",
                              side: .buy, type: .market, quantity: 1, stopLoss: Decimal(string: "1.08308")!,
                              takeProfit: Decimal(string: "1.08908")!, status: .humanized, createdAt: HopClock.nowMicros())
            _ = try producer.send(Envelope(id: "\(order.id):humanized", type: "order.humanized", traceId: "trace-\(order.id)",
                                           source: "human-behavior", payload: order), to: .ordersHumanized, key: account).wait(timeout: 10)
            return order.id
        }
        func command(_ action: BreakerCommand.Action) throws -> String {
            let c = BreakerCommand(id: "\(run)-\(action.rawValue)", action: action, tier: .account, target: target,
                                   reason: "integration test \(action.rawValue)", requestedBy: "tester", issuedAt: HopClock.nowMicros())
            _ = try producer.send(Envelope(id: c.id, type: "breaker.command", traceId: "cmd-\(c.id)", source: "api-gateway", payload: c),
                                  to: .breakerCommands, key: target).wait(timeout: 10)
            return c.id
        }

        // (1) Normal: the order clears, carrying the breaker's decision, and the event is recorded.
        let first = try send(target)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { cleared.withLock { $0[first] } != nil }, "first order not cleared:\n\(agent.log.suffix(3000))")
        let decision = try XCTUnwrap(cleared.withLock { $0[first] }?.decisions.last)
        XCTAssertEqual(decision.agent, "circuit-breaker")
        XCTAssertEqual(decision.verdict, .cleared)
        XCTAssertEqual(decision.figures["tradingState"], "ACTIVE")
        let event = try XCTUnwrap(try pool.queryOne("SELECT status, verdict FROM order_events WHERE message_id = $1", ["\(first):circuit-breaker"]))
        XCTAssertEqual(try event.decode(String.self, column: "status"), "cleared")

        // (2) A manual trip: stored and published, then the account's orders are blocked with the reason.
        let trip = try command(.trip)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { events.withLock { $0.contains { $0.reason.commandId == trip && $0.to == .tripped } } },
                      "no trip event:\n\(agent.log.suffix(3000))")
        let row = try XCTUnwrap(try pool.queryOne("""
            SELECT tier, target, to_state, reason FROM breaker_events WHERE detail->>'commandId' = $1
            """, [trip]))
        XCTAssertEqual(try row.decode(String.self, column: "tier"), "account")
        XCTAssertEqual(try row.decode(String.self, column: "target"), target)
        XCTAssertEqual(try row.decode(String.self, column: "to_state"), "tripped")
        XCTAssertEqual(tradingState(target), "HALTED")
        let second = try send(target)
        let otherOrder = try send(other)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { blocked.withLock { $0[second] } != nil && cleared.withLock { $0[otherOrder] } != nil },
                      "tripped account not blocked / other account not cleared:\n\(agent.log.suffix(3000))")
        let block = try XCTUnwrap(blocked.withLock { $0[second] }?.decisions.last)
        XCTAssertEqual(block.verdict, .blocked)
        XCTAssertEqual(block.figures["blockedBy"], "account \(target)")
        XCTAssertTrue(block.checks.contains { !$0.passed && $0.detail.contains("integration test trip") }, "\(block.checks)")
        XCTAssertEqual(try pool.queryOne("SELECT status FROM order_events WHERE message_id = $1", ["\(second):circuit-breaker"])?
            .decode(String.self, column: "status"), "blocked")

        // (3) A reset: the account trades again.
        let reset = try command(.reset)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { events.withLock { $0.contains { $0.reason.commandId == reset && $0.to == .normal } } },
                      "no reset event:\n\(agent.log.suffix(3000))")
        let third = try send(target)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { cleared.withLock { $0[third] } != nil }, "order after reset not cleared:\n\(agent.log.suffix(3000))")
        XCTAssertNil(blocked.withLock { $0[third] })

        // (3b) An order already on its way before this breaker started (held by human behaviour
        // across a restart, say): gated as any other, but its latency measures the restart and is
        // not counted.
        let now = HopClock.nowMicros()
        let held = Order(id: "\(run)-held:\(other)", signalId: "\(run)-held", accountId: other, instrument: "EUR_USD",
                         side: .buy, type: .market, quantity: 1, stopLoss: Decimal(string: "1.08308")!,
                         takeProfit: Decimal(string: "1.08908")!, status: .humanized, createdAt: now - 3_600_000_000)
        _ = try producer.send(Envelope(id: "\(held.id):humanized", type: "order.humanized", traceId: "trace-\(held.id)", source: "human-behavior",
                                       hops: [Hop(agent: "aria-risk", inMicros: now - 3_600_000_000, outMicros: now - 3_599_999_000),
                                              Hop(agent: "human-behavior", inMicros: now - 3_599_998_000, outMicros: now)],
                                       payload: held), to: .ordersHumanized, key: other).wait(timeout: 10)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { cleared.withLock { $0[held.id] } != nil }, "held order not cleared:\n\(agent.log.suffix(3000))")
        XCTAssertTrue(KafkaWait.until(timeout: 10) {
            metricValue(in: (try? agent.metrics()) ?? "", "tmt_breaker_latency_orders_skipped_total") == 1
        }, (try? agent.metrics()) ?? "")
        XCTAssertTrue(agent.log.contains("an order already on its way when this breaker started: its latency is not counted"), agent.log.suffix(3000).description)

        // (4) Metrics and shutdown.
        let metrics = try agent.metrics()
        XCTAssertEqual(metricValue(in: metrics, "tmt_circuit_breaker_state{tier=\"account\",target=\"\(target)\"}"), 0)
        XCTAssertEqual(metricValue(in: metrics, "tmt_breaker_orders_total{verdict=\"blocked\"}"), 1)
        XCTAssertEqual(metricValue(in: metrics, "tmt_breaker_orders_total{verdict=\"cleared\"}"), 4)
        XCTAssertEqual(metricValue(in: metrics, "tmt_breaker_latency_orders_skipped_total"), 1, "only the held order")
        XCTAssertEqual(try Promtool.checkMetrics(metrics).status, 0)
        inputs.stop()
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)

        // The state was snapshotted to Redis (the account's breaker normal again after the reset).
        let redis = try RedisClient(url: try TestServices.redisURL(), metrics: MetricsRegistry())
        defer { redis.close() }
        let key = "tmt:test:breaker:\(run)"
        let bytes = try XCTUnwrap(try redis.execute(.get(key)).bytes(), "no snapshot in Redis")
        let snapshot = try BreakerSnapshot.decode(bytes)
        XCTAssertTrue(snapshot.appliedCommands.contains(trip) && snapshot.appliedCommands.contains(reset))
        XCTAssertEqual(snapshot.breakers.first { $0.key == .account(target) }?.state, .normal)
        _ = try redis.execute(.del([key, key + ":epoch"]))
    }
}
