import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading
import XCTest

/// Staged rollouts end to end: an account-scoped ConfigUpdate makes `tmt-wyckoff-analysis` run a
/// variant detector whose signals name the variant's accounts (the baseline's name everyone
/// else), and `tmt-aria-risk` sizes a signal only for the accounts it names.
final class AccountRoutingTests: XCTestCase {
    var staging: [String] {
        get throws {
            try ComplianceConfiguration.load(path: TestServices.repoRoot.appendingPathComponent("config/compliance-staging.yml").path)
                .accounts.map(\.id).sorted()
        }
    }

    func testWyckoffVariantSignalsNameTheVariantAccountsAndBaselineSignalsTheOthers() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let accounts = try staging
        XCTAssertGreaterThanOrEqual(accounts.count, 2)
        let experiment = "routing-test-\(UUID().uuidString.prefix(8).lowercased())"
        let testStarted = HopClock.nowMicros()
        let agent = try AgentProcess(executable: "tmt-wyckoff-analysis", port: AgentProcess.freePort(), environment: [
            "MARKET_DATABASE_URL": try TestServices.marketDatabaseURL(), "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "CONSUMER_GROUP": "routing-test-\(UUID().uuidString.prefix(8))", "KAFKA_AUTO_OFFSET_RESET": "latest",
            "HEARTBEAT_INTERVAL_SECONDS": "1", "CONFIG_DIR": "/nonexistent",
            "COMPLIANCE_CONFIG": TestServices.repoRoot.appendingPathComponent("config/compliance-staging.yml").path,
        ])
        try agent.waitUntilReady()
        XCTAssertTrue(KafkaWait.until(timeout: 40) {
            let m = (try? agent.metrics()) ?? ""
            return m.contains("tmt_kafka_consumer_lag{topic=\"market.ticks\"") && m.contains("tmt_kafka_consumer_lag{topic=\"config.updates\"")
        }, "the agent never joined its groups:\n\(agent.log)")

        // The first staging account gets a lower confidence floor (the variant signals at least
        // where the baseline does).
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "routing-test"),
                                         metrics: MetricsRegistry())
        defer { producer.close() }
        func send(_ update: ConfigUpdate, _ id: String) throws {
            _ = try producer.send(Envelope(id: id, type: "config.update", traceId: experiment, source: "test", payload: update),
                                  to: .configUpdates, key: "wyckoff-analysis").wait(timeout: 10)
        }
        // Resent until the agent logs it (a resend has the same id: applying it again changes nothing).
        let start = ConfigUpdate(service: "wyckoff-analysis", parameters: ["minConfidence": "0.45"], requestedBy: experiment,
                                 reason: "routing test", accounts: [accounts[0]])
        defer {
            try? send(ConfigUpdate(service: "wyckoff-analysis", parameters: [:], requestedBy: experiment,
                                   reason: "routing test over", accounts: [accounts[0]]), "\(experiment):end")
        }
        var attempt = 0
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            if attempt % 20 == 0 { try? send(start, "\(experiment):start") }
            attempt += 1
            return agent.log.contains("variant of \(experiment) started")
        }, "the update was not applied:\n\(agent.log.suffix(2000))")
        let variants = try HTTPClient(timeout: 5).get(agent.base + "/api/v1/variants").text
        XCTAssertTrue(variants.contains(experiment) && variants.contains(accounts[0]), variants)

        // The scripted accumulation of WyckoffAgentTests.
        let startMicros = ScriptedAccumulation.startMicros
        try ScriptedAccumulation.feed(agent, bootstrap: bootstrap)

        let found = Mutex<[Signal]>([])
        let reader = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "routing-test"),
                                       groupId: "routing-test-reader-\(UUID().uuidString)", topics: [Topic.signalsGenerated.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.startEnvelopes(Signal.self) { envelope, _ in
            let s = envelope.payload
            if s.instrument == "EUR_USD", envelope.createdAt >= testStarted, s.createdAt >= startMicros, s.createdAt < startMicros + 6_000_000_000 {
                found.withLock { $0.append(s) }
            }
        }
        defer { reader.stop(timeout: 10) }
        let routed = KafkaWait.until(timeout: 150) {
            found.withLock { all in
                all.contains { $0.experiment == experiment && $0.side == .buy } && all.contains { $0.experiment == nil && $0.side == .buy }
            }
        }
        let signals = found.withLock { $0 }
        XCTAssertTrue(routed, "signals: \(signals.map { "\($0.id) \($0.accounts ?? [])" })\nagent log:\n\(agent.log.suffix(3000))")
        for s in signals {
            if s.experiment == experiment {
                XCTAssertEqual(s.accounts, [accounts[0]])
                XCTAssertTrue(s.id.hasSuffix("~\(experiment)"), s.id)
                XCTAssertEqual(s.evidence["experiment"], experiment)
            } else {
                XCTAssertNil(s.experiment)
                XCTAssertEqual(s.accounts, Array(accounts.dropFirst()), "the baseline's signals are for everyone else")
            }
        }
        XCTAssertGreaterThanOrEqual(metricValue(in: try agent.metrics(), "tmt_wyckoff_variant_signals_total{experiment=\"\(experiment)\"}"), 1)
        XCTAssertEqual(agent.terminate(), 0)
    }

    /// A restart rebuilds the rollout from config.updates (event sourcing): the variant applied
    /// before the restart routes again after it, without anyone re-sending the update; a revert
    /// (an account-scoped update without parameters) ends it, and that survives a restart too.
    func testARestartedWyckoffRebuildsItsVariantsFromConfigUpdates() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let accounts = try staging
        let experiment = "replay-test-\(UUID().uuidString.prefix(8).lowercased())"
        func start() throws -> AgentProcess {
            let agent = try AgentProcess(executable: "tmt-wyckoff-analysis", port: AgentProcess.freePort(), environment: [
                "MARKET_DATABASE_URL": try TestServices.marketDatabaseURL(), "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "CONSUMER_GROUP": "replay-test-\(UUID().uuidString.prefix(8))",
                // Ticks from the latest offset; config.updates is replayed from the beginning regardless.
                "KAFKA_AUTO_OFFSET_RESET": "latest", "HEARTBEAT_INTERVAL_SECONDS": "1", "CONFIG_DIR": "/nonexistent",
                "COMPLIANCE_CONFIG": TestServices.repoRoot.appendingPathComponent("config/compliance-staging.yml").path,
            ])
            // /ready waits for the replay to catch up.
            try agent.waitUntilReady(timeout: 90)
            return agent
        }
        func variants(_ agent: AgentProcess) throws -> [[String: Any]] {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(HTTPClient(timeout: 5).get(agent.base + "/api/v1/variants").body))
                as? [[String: Any]])
        }
        func ours(_ agent: AgentProcess) throws -> [String]? {
            try variants(agent).first { $0["experiment"] as? String == experiment }.map { $0["accounts"] as? [String] ?? [] }
        }
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "replay-test"),
                                         metrics: MetricsRegistry())
        defer { producer.close() }
        func send(_ update: ConfigUpdate, _ id: String) throws {
            _ = try producer.send(Envelope(id: id, type: "config.update", traceId: experiment, source: "test", payload: update),
                                  to: .configUpdates, key: "wyckoff-analysis").wait(timeout: 10)
        }
        let revert = ConfigUpdate(service: "wyckoff-analysis", parameters: [:], requestedBy: experiment, reason: "replay test over",
                                  accounts: [accounts[0]])
        var reverted = false
        defer { if !reverted { try? send(revert, "\(experiment):revert") } }

        let first = try start()
        let update = ConfigUpdate(service: "wyckoff-analysis", parameters: ["minConfidence": "0.45"], requestedBy: experiment,
                                  reason: "replay test", accounts: [accounts[0]])
        try send(update, "\(experiment):start")
        // The same envelope twice (a redelivery), and one for another service that this one
        // does not know: neither changes anything nor goes to the DLQ.
        try send(update, "\(experiment):start")
        try send(ConfigUpdate(service: "execution-engine", parameters: ["noSuchWyckoffField": "1"], requestedBy: experiment,
                              reason: "not for wyckoff", accounts: [accounts[0]]), "\(experiment):other-service")
        XCTAssertTrue(KafkaWait.until(timeout: 30) { (try? ours(first)) == [accounts[0]] && first.log.contains("config update applied already id=\(experiment):start") },
                      "the update was not applied once:\n\(first.log.suffix(3000))")
        XCTAssertTrue(KafkaWait.until(timeout: 10) {
            metricValue(in: (try? first.metrics()) ?? "", "tmt_wyckoff_config_updates_total{result=\"other_service\"}") >= 1
        })
        // An update Wyckoff refuses is dead-lettered once, by the process that first refuses it.
        try send(ConfigUpdate(service: "wyckoff-analysis", parameters: ["noSuchWyckoffField": "1"], requestedBy: experiment,
                              reason: "a bad update", accounts: nil), "\(experiment):bad")
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            metricValue(in: (try? first.metrics()) ?? "", "tmt_kafka_dlq_total{topic=\"config.updates\",reason=\"invalid_config\"}") >= 1
        }, "the bad update was not dead-lettered:\n\(first.log.suffix(2000))")
        XCTAssertEqual(first.terminate(), 0, first.log.suffix(2000).description)

        // A new process, nobody re-sends anything: the variant is back, from the log.
        let second = try start()
        let afterRestart = try variants(second)
        XCTAssertEqual(try ours(second), [accounts[0]], "variants after the restart: \(afterRestart)\n\(second.log.suffix(3000))")
        XCTAssertTrue(second.log.contains("config.updates replayed"), second.log.suffix(2000).description)
        XCTAssertFalse(second.log.contains("\(experiment):other-service"), "another service's update is ignored silently")
        // The replay refuses the bad update again without a second dead letter (each start used
        // to add one per bad update in the log: enough of them tripped the breaker's error rate).
        XCTAssertTrue(second.log.contains("config update refused again; dead-lettered when first refused id=\(experiment):bad"),
                      second.log.suffix(3000).description)
        XCTAssertEqual(metricValue(in: try second.metrics(), "tmt_kafka_dlq_total{topic=\"config.updates\",reason=\"invalid_config\"}"), 0)

        // The revert ends it, and a restart does not bring it back.
        try send(revert, "\(experiment):revert")
        reverted = true
        XCTAssertTrue(KafkaWait.until(timeout: 30) { (try? ours(second)) == nil }, "the revert was not applied:\n\(second.log.suffix(2000))")
        XCTAssertEqual(second.terminate(), 0, second.log.suffix(2000).description)
        let third = try start()
        XCTAssertNil(try ours(third), "a reverted variant stays ended after a restart")
        XCTAssertEqual(third.terminate(), 0)
    }

    func testAriaSizesASignalOnlyForTheAccountsItNames() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let accounts = try staging
        let agent = try AgentProcess(executable: "tmt-aria-risk", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": databaseURL, "MARKET_DATABASE_URL": try TestServices.marketDatabaseURL(),
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": "routing-aria-\(UUID().uuidString.prefix(8))",
            "KAFKA_AUTO_OFFSET_RESET": "latest", "RISK_MULTIPLIER": "1",
        ])
        try agent.waitUntilReady()
        XCTAssertTrue(KafkaWait.until(timeout: 40) {
            ((try? agent.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"signals.generated\"")
        }, "the agent never joined its group:\n\(agent.log)")

        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "routing-test"),
                                         metrics: MetricsRegistry())
        defer { producer.close() }
        let id = "EUR_USD-routing-\(UUID().uuidString.prefix(8))"
        let signal = Signal(id: id, instrument: "EUR_USD", side: .buy, entry: Decimal(string: "1.08508")!, stopLoss: Decimal(string: "1.08308")!,
                            takeProfit: Decimal(string: "1.08908")!, confidence: 0.8, pattern: "spring", phase: "accumulation",
                            evidence: [:], createdAt: HopClock.nowMicros(), accounts: [accounts[1]], experiment: "exp-routing")
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        // Resent until handled (a consumer starting from the latest offset may join just after
        // it); the orders are keyed by signal and account, so a second delivery adds nothing.
        var attempt = 0
        XCTAssertTrue(KafkaWait.until(timeout: 60) {
            if attempt % 20 == 0 {
                _ = try? producer.send(Envelope(id: id, type: "signal.generated", traceId: id, source: "wyckoff-analysis", payload: signal),
                                       to: .signalsGenerated, key: "EUR_USD").wait(timeout: 10)
            }
            attempt += 1
            return (try? pool.queryOne("SELECT id FROM signals WHERE id = $1", [id])) != nil
        }, "the signal was not handled:\n\(agent.log.suffix(3000))")
        let orders = try pool.query("SELECT account_id FROM orders WHERE signal_id = $1", [id]).map { try $0.decode(String.self, column: "account_id") }
        XCTAssertEqual(orders, [accounts[1]], "only the named account has an order (sized or skipped)")
        // Logged once the proposed order is acknowledged by the broker, after the rows above.
        XCTAssertTrue(KafkaWait.until(timeout: 20) { agent.log.contains("signal sized signal=\(id) orders=1 skipped=0 accounts=1 experiment=exp-routing") },
                      agent.log.suffix(2000).description)
        XCTAssertEqual(agent.terminate(), 0)
    }
}
