import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading
import XCTest

/// `tmt-circuit-breaker` started as deployed (its per-process readers replay their topics from
/// the start) on a dev broker of its own whose topics already hold history: dead letters from an
/// hour ago and an hour-old account update showing a 10 % daily loss. History is not a reading:
/// neither trips anything, both are counted as skipped, and trading is ACTIVE once the live
/// inputs arrive. A fresh burst of dead letters still counts, against the agent whose reader
/// gave up on the messages as well.
final class CircuitBreakerReplayTests: XCTestCase {
    func testARestartedBreakerDoesNotTakeTopicHistoryForNow() throws {
        let brokerFile = FileManager.default.temporaryDirectory.appendingPathComponent("breaker-replay-\(UUID().uuidString).bootstrap")
        let broker = try AgentProcess(executable: "tmt-kafka-dev-broker", port: 0, environment: [:],
                                      arguments: ["--bootstrap-file", brokerFile.path])
        defer { _ = broker.terminate() }
        XCTAssertTrue(KafkaWait.until(timeout: 20) { FileManager.default.fileExists(atPath: brokerFile.path) }, broker.log)
        let bootstrap = try String(contentsOf: brokerFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "breaker-replay-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }

        let databaseURL = try TestServices.postgresURL()
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        // The staging accounts (as the breaker itself ensures them), as stored.
        let staging = try ComplianceConfiguration.load(path: TestServices.repoRoot.path + "/config/compliance-staging.yml").accounts
            .map { $0.makeAccount() }
        try AccountStore(pool: pool).ensure(staging)
        let accounts = try AccountStore(pool: pool).all().filter { a in staging.contains { $0.id == a.id } }
        XCTAssertEqual(accounts.count, 3)
        let target = try XCTUnwrap(accounts.first { $0.id == "acct-ftmo-100k" })

        // History: an hour ago, 40 dead letters (the staging trip level is 30 a minute) and the
        // account 10 % down on its day.
        let hourAgo = HopClock.nowMicros() - 3_600_000_000
        for i in 0..<40 {
            let origin = KafkaMessage(topic: Topic.ordersProposed.name, partition: 0, offset: Int64(i), key: nil, value: Array("{".utf8))
            let letter = KafkaDeadLetter(message: origin, category: "decode", reason: "history \(i)", consumerGroup: "compliance-engine",
                                         attempts: 1, failedAtMicros: hourAgo)
            _ = try producer.send(topic: .dlq, key: nil, value: letter.value, headers: letter.headers).wait(timeout: 10)
        }
        var loss = target
        loss.equity = target.equity - target.equity / 10
        loss.dailyPnL = loss.equity - target.equity
        _ = try producer.send(Envelope(id: "\(target.id)-history", type: "account.update", traceId: "a", createdAt: hourAgo, source: "test",
                                       payload: loss), to: .accountsUpdates, key: target.id).wait(timeout: 10)

        let run = UUID().uuidString.prefix(8).lowercased()
        let agent = try AgentProcess(executable: "tmt-circuit-breaker", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "REDIS_URL": try TestServices.redisURL(), "BREAKER_SNAPSHOT_KEY": "tmt:test:breaker-replay:\(run)",
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        ])
        defer {
            if let redis = try? RedisClient(url: (try? TestServices.redisURL()) ?? "", metrics: MetricsRegistry()) {
                _ = try? redis.execute(.del(["tmt:test:breaker-replay:\(run)", "tmt:test:breaker-replay:\(run):epoch"]))
                redis.close()
            }
        }
        try agent.waitUntilReady()

        // Live inputs: heartbeats of every critical agent, a EUR_USD tick, the accounts as stored.
        let inputs = BreakerLiveInputs(producer: producer, accounts: accounts)
        defer { inputs.stop() }

        func metric(_ sample: String) -> Double { metricValue(in: (try? agent.metrics()) ?? "", sample) }
        func tradingState(_ account: String) -> String {
            guard let r = try? HTTPClient(timeout: 5).get(agent.base + "/api/v1/breaker/\(account)"), r.status == 200,
                  let json = try? JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: Any] else { return "" }
            return json["tradingState"] as? String ?? ""
        }
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            metric("tmt_breaker_stale_readings_total{topic=\"dlq\"}") == 40
                && metric("tmt_breaker_stale_readings_total{topic=\"accounts.updates\"}") >= 1
        }, "the history was not read and skipped:\n\((try? agent.metrics()) ?? "")\n\(agent.log.suffix(3000))")
        XCTAssertTrue(KafkaWait.until(timeout: 20) { tradingState(target.id) == "ACTIVE" },
                      "history tripped the breaker: \(tradingState(target.id))\n\((try? HTTPClient(timeout: 5).get(agent.base + "/api/v1/breaker").text) ?? "")\n\(agent.log.suffix(3000))")
        XCTAssertEqual(metric("tmt_circuit_breaker_state{tier=\"system\",target=\"system\"}"), 0)
        XCTAssertEqual(metric("tmt_circuit_breaker_state{tier=\"account\",target=\"\(target.id)\"}"), 0)

        // Errors happening now still count: 12 fresh dead letters (warning level 10 a minute),
        // from the execution engine's per-process tick reader, so they count against that agent
        // too (warning level 5 a minute).
        for i in 0..<12 {
            let origin = KafkaMessage(topic: Topic.marketTicks.name, partition: 0, offset: Int64(1000 + i), key: nil, value: Array("{".utf8))
            let letter = KafkaDeadLetter(message: origin, category: "decode", reason: "now \(i)", consumerGroup: "execution-engine-ticks-vm-4711",
                                         attempts: 1)
            _ = try producer.send(topic: .dlq, key: nil, value: letter.value, headers: letter.headers).wait(timeout: 10)
        }
        XCTAssertTrue(KafkaWait.until(timeout: 20) { metric("tmt_circuit_breaker_state{tier=\"system\",target=\"system\"}") == 1 },
                      "fresh dead letters did not raise the error rate:\n\((try? agent.metrics()) ?? "")")
        XCTAssertTrue(KafkaWait.until(timeout: 10) { metric("tmt_circuit_breaker_state{tier=\"agent\",target=\"execution-engine\"}") == 1 },
                      "the dead letters were not charged to the execution engine:\n\((try? agent.metrics()) ?? "")")
        XCTAssertEqual(metric("tmt_breaker_stale_readings_total{topic=\"dlq\"}"), 40)
        inputs.stop()
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }

    /// Every start replays breaker.commands from the beginning (a reader per process) and skips
    /// the commands applied before. Those were known from the Redis snapshot alone, so a lost
    /// snapshot re-applied every command in the log. They are recorded in `breaker_commands`.
    func testALostSnapshotDoesNotReapplyTheCommandsInTheLog() throws {
        let brokerFile = FileManager.default.temporaryDirectory.appendingPathComponent("breaker-commands-\(UUID().uuidString).bootstrap")
        let broker = try AgentProcess(executable: "tmt-kafka-dev-broker", port: 0, environment: [:],
                                      arguments: ["--bootstrap-file", brokerFile.path])
        defer { _ = broker.terminate() }
        XCTAssertTrue(KafkaWait.until(timeout: 20) { FileManager.default.fileExists(atPath: brokerFile.path) }, broker.log)
        let bootstrap = try String(contentsOf: brokerFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "breaker-commands-test"),
                                         metrics: MetricsRegistry())
        defer { producer.close() }
        let databaseURL = try TestServices.postgresURL()
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let run = UUID().uuidString.prefix(8).lowercased()
        let key = "tmt:test:breaker-commands:\(run)"
        let redis = try RedisClient(url: try TestServices.redisURL(), metrics: MetricsRegistry())
        defer { _ = try? redis.execute(.del([key, key + ":epoch"])); redis.close() }
        // As deployed: every reader of its own from the beginning of this broker's topics.
        func start() throws -> AgentProcess {
            let agent = try AgentProcess(executable: "tmt-circuit-breaker", port: AgentProcess.freePort(), environment: [
                "DATABASE_URL": databaseURL, "REDIS_URL": try TestServices.redisURL(), "BREAKER_SNAPSHOT_KEY": key,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            ])
            try agent.waitUntilReady()
            return agent
        }
        let target = "acct-ftmo-100k"
        func stored(_ commandId: String) -> Int {
            (try? pool.queryOne("SELECT count(*)::bigint AS n FROM breaker_events WHERE detail->>'commandId' = $1", [commandId]))
                .flatMap { $0 }.flatMap { try? $0.decode(Int.self, column: "n") } ?? 0
        }
        func send(_ action: BreakerCommand.Action) throws -> String {
            let c = BreakerCommand(id: "\(run)-\(action.rawValue)", action: action, tier: .account, target: target,
                                   reason: "lost snapshot test", requestedBy: "tester", issuedAt: HopClock.nowMicros())
            _ = try producer.send(Envelope(id: c.id, type: "breaker.command", traceId: "cmd-\(c.id)", source: "api-gateway", payload: c),
                                  to: .breakerCommands, key: target).wait(timeout: 10)
            return c.id
        }

        let first = try start()
        let trip = try send(.trip), reset = try send(.reset)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { stored(trip) == 1 && stored(reset) == 1 },
                      "the commands were not applied:\n\(first.log.suffix(3000))")
        // Recorded as applied once their transitions are stored and published.
        func recorded() -> [String] {
            ((try? pool.query("SELECT id FROM breaker_commands WHERE id = ANY($1) ORDER BY id", [[trip, reset]])) ?? [])
                .compactMap { try? $0.decode(String.self, column: "id") }
        }
        XCTAssertTrue(KafkaWait.until(timeout: 10) { recorded() == [reset, trip] }, "recorded: \(recorded())")
        XCTAssertEqual(first.terminate(), 0, first.log.suffix(2000).description)

        // Redis loses the snapshot; the next process replays both commands and applies neither.
        _ = try redis.execute(.del([key])).check(command: "DEL")
        let second = try start()
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            metricValue(in: (try? second.metrics()) ?? "", "tmt_agent_messages_total{agent=\"circuit-breaker\",type=\"command\",outcome=\"duplicate\"}") >= 2
        }, "the log was not replayed:\n\(second.log.suffix(3000))")
        XCTAssertEqual(metricValue(in: try second.metrics(), "tmt_agent_messages_total{agent=\"circuit-breaker\",type=\"command\",outcome=\"applied\"}"), 0)
        XCTAssertEqual(stored(trip), 1, "the trip was applied again")
        XCTAssertEqual(stored(reset), 1, "the reset was applied again")
        XCTAssertEqual(second.terminate(), 0, second.log.suffix(2000).description)
    }

    /// The snapshot a restarted breaker restores can be older than the transitions it stored
    /// since (it is saved every 30 s, or lost with Redis). The transitions after the restart are
    /// new ones and must be stored as such, not dropped as duplicates of ids already stored.
    func testTransitionsAfterRestoringAnOlderSnapshotAreStored() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let run = UUID().uuidString.prefix(8).lowercased()
        let key = "tmt:test:breaker-restore:\(run)"
        let redis = try RedisClient(url: try TestServices.redisURL(), metrics: MetricsRegistry())
        defer { _ = try? redis.execute(.del([key, key + ":epoch"])); redis.close() }
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "breaker-restore-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        func start() throws -> AgentProcess {
            let agent = try AgentProcess(executable: "tmt-circuit-breaker", port: AgentProcess.freePort(), environment: [
                "DATABASE_URL": databaseURL, "REDIS_URL": try TestServices.redisURL(), "BREAKER_SNAPSHOT_KEY": key,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "breaker-restore-\(run)", "KAFKA_AUTO_OFFSET_RESET": "latest",
            ])
            try agent.waitUntilReady()
            XCTAssertTrue(KafkaWait.until(timeout: 40) {
                ((try? agent.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"breaker.commands\"")
            }, "the agent never joined its groups:\n\(agent.log.suffix(3000))")
            return agent
        }
        let target = "acct-trail-50k"
        func stored(_ commandId: String) -> Int {
            (try? pool.queryOne("SELECT count(*)::bigint AS n FROM breaker_events WHERE detail->>'commandId' = $1", [commandId]))
                .flatMap { $0 }.flatMap { try? $0.decode(Int.self, column: "n") } ?? 0
        }
        // A new group reads from the end once its partition is assigned, which can be after the
        // first send: the command is sent again (same id, applied once) until its transition is
        // stored or 20 s pass.
        func command(_ action: BreakerCommand.Action, _ n: Int) throws -> String {
            let c = BreakerCommand(id: "\(run)-\(action.rawValue)-\(n)", action: action, tier: .account, target: target,
                                   reason: "restore test \(action.rawValue)", requestedBy: "tester", issuedAt: HopClock.nowMicros())
            let end = Date().addingTimeInterval(20)
            while stored(c.id) == 0, Date() < end {
                _ = try producer.send(Envelope(id: c.id, type: "breaker.command", traceId: "cmd-\(c.id)", source: "api-gateway", payload: c),
                                      to: .breakerCommands, key: target).wait(timeout: 10)
                _ = KafkaWait.until(timeout: 2) { stored(c.id) > 0 }
            }
            return c.id
        }

        var agent = try start()
        XCTAssertTrue(KafkaWait.until(timeout: 20) { (try? redis.execute(.get(key)).bytes()) != nil }, "no snapshot:\n\(agent.log.suffix(3000))")
        let older = try XCTUnwrap(try redis.execute(.get(key)).bytes())
        let trip = try command(.trip, 1)
        XCTAssertEqual(stored(trip), 1, "the first trip was not stored:\n\(agent.log.suffix(3000))")
        let reset = try command(.reset, 1)
        XCTAssertEqual(stored(reset), 1, "the reset was not stored:\n\(agent.log.suffix(3000))")
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)

        // The snapshot from before both transitions comes back (as after a Redis restart).
        _ = try redis.execute(.set(key, older)).check(command: "SET")
        agent = try start()
        let again = try command(.trip, 2)
        XCTAssertEqual(stored(again), 1,
                       "the trip after the restart was dropped as a duplicate:\n\(agent.log.suffix(3000))")
        _ = try command(.reset, 2)
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }

    /// A transition whose record fails (the database refuses it) has already moved the breaker,
    /// so the command's retries find nothing new to report: the transition is kept and recorded
    /// and published once the database takes it again, not lost.
    func testATransitionThatCouldNotBeRecordedIsRecordedLater() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let run = UUID().uuidString.prefix(8).lowercased()
        let key = "tmt:test:breaker-outbox:\(run)"
        let target = "outbox-\(run)"
        let redis = try RedisClient(url: try TestServices.redisURL(), metrics: MetricsRegistry())
        defer { _ = try? redis.execute(.del([key, key + ":epoch"])); redis.close() }
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        // The target's transitions are refused until accepted again.
        let refusing = try RefusingTrigger(pool: pool, table: "breaker_events", column: "target", type: "text")
        defer { refusing.remove() }
        try refusing.refuse(target)

        let agent = try AgentProcess(executable: "tmt-circuit-breaker", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "REDIS_URL": try TestServices.redisURL(), "BREAKER_SNAPSHOT_KEY": key,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "breaker-outbox-\(run)", "KAFKA_AUTO_OFFSET_RESET": "latest",
        ])
        try agent.waitUntilReady()
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "breaker-outbox-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        func stored(_ commandId: String) -> Int {
            (try? pool.queryOne("SELECT count(*)::bigint AS n FROM breaker_events WHERE detail->>'commandId' = $1", [commandId]))
                .flatMap { $0 }.flatMap { try? $0.decode(Int.self, column: "n") } ?? 0
        }
        // The trip: sent until the breaker has applied it (a new group reads from the end once
        // assigned); its record is refused (the trigger's RAISE, SQLSTATE P0001) and it is kept.
        let trip = BreakerCommand(id: "\(run)-trip", action: .trip, tier: .account, target: target, reason: "outbox test",
                                  requestedBy: "tester", issuedAt: HopClock.nowMicros())
        let applied = KafkaWait.until(timeout: 30) {
            _ = try? producer.send(Envelope(id: trip.id, type: "breaker.command", traceId: "cmd-\(trip.id)", source: "api-gateway", payload: trip),
                                   to: .breakerCommands, key: target).wait(timeout: 10)
            return KafkaWait.until(timeout: 2) { agent.log.contains("SQLSTATE P0001") }
        }
        XCTAssertTrue(applied, "the refused record never failed the trip:\n\(agent.log.suffix(3000))")
        usleep(1_500_000)
        XCTAssertEqual(stored(trip.id), 0)
        // The command itself is not failed over it (its retries would find nothing new to
        // report, and a dead letter per message would feed the breaker's own error rate).
        XCTAssertFalse(((try? agent.metrics()) ?? "").contains("tmt_kafka_dlq_total{"), (try? agent.metrics()) ?? "")

        // The database takes it again: the kept transition is recorded (by the timer's next step).
        try refusing.accept(target)
        XCTAssertTrue(KafkaWait.until(timeout: 15) { stored(trip.id) == 1 }, "the kept transition was never recorded:\n\(agent.log.suffix(3000))")
        let row = try XCTUnwrap(try pool.queryOne("SELECT to_state FROM breaker_events WHERE detail->>'commandId' = $1", [trip.id]))
        XCTAssertEqual(try row.decode(String.self, column: "to_state"), "tripped")
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}
