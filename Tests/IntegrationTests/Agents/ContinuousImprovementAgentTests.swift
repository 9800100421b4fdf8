import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading
import XCTest

/// `tmt-continuous-improvement` as a process against the test services: analytics of real closed
/// trades seeded in the trading database (figures checked by hand), gauges, a shadow cycle over
/// seeded bars, and an authenticated approval that starts a rollout at 10 % with a ConfigUpdate
/// on config.updates; the rollout survives a restart and a stop restores the baseline.
final class ContinuousImprovementAgentTests: XCTestCase {
    let token = "ci-test-token-\(UUID().uuidString)"

    /// One-minute US30 bars of the data generator's scripted accumulation (spring, then markup)
    /// from Wednesday 2026-01-07 14:00 UTC, plus an hour after the script: fixed seed and times,
    /// so reruns rewrite the same rows; no other test stores US30 bars.
    static func seedBars() throws -> [Bar] {
        // A Wednesday 14:00 UTC in 2099: newer than any other test's US30 bars, so the shadow cycle's
        // "most recent bars" are these without deleting anyone else's.
        let start: Int64 = 4_071_477_600_000_000
        let scenario = WyckoffScenario.accumulation(symbol: "US30", minutes: 30)
        var simulator = MarketSimulator(.init(seed: 7, startMicros: start, profiles: [InstrumentProfile.defaults[5]], scenarios: [scenario]))
        var builder = try BarBuilder(timeframeSeconds: 60)
        let end = start + Int64((scenario.duration + 3_600) * 1e6)
        var bars: [Bar] = []
        while true {
            let tick = simulator.next()
            if tick.time > end { break }
            bars += builder.apply(tick)
        }
        return bars
    }

    func testAnalyticsShadowCycleAndAnAuthenticatedApprovalThatRollsOutTenPercent() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let databaseURL = try TestServices.postgresURL()
        let marketURL = try TestServices.marketDatabaseURL()
        let u = UUID().uuidString.prefix(8).lowercased()
        let account = "ci-\(u)"
        let pattern = "ci-pattern-\(u)"
        let experiment = "exp-test-\(u)"

        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        try TradingSchema.migrate(pool: pool, logger: Logger(service: "test", level: .warning))
        // A rollout left running by an interrupted earlier run would block approvals (one at a time).
        try pool.execute("UPDATE experiments SET status = 'stopped', outbox = NULL WHERE id LIKE 'exp-test-%' AND status = 'rolling'")
        defer { _ = try? pool.execute("UPDATE experiments SET status = 'stopped', outbox = NULL WHERE id = $1 AND status = 'rolling'", [experiment]) }

        // Three round trips of 1 lot EUR_USD: +200, −100, +300 gross, 3.5 USD commission per side.
        try pool.execute("""
            INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, daily_pnl, high_water_mark)
            VALUES ($1, 'ftmo-like', 'USD', 100000, 100000, 100000, 0, 100000)
            """, [account])
        let day: Int64 = 1_767_600_000_000_000 // Monday 2026-01-05 08:00 UTC
        for (k, (exit, pnl)) in [("1.10200", "200"), ("1.09900", "-100"), ("1.10300", "300")].enumerated() {
            let signal = "ci-sig-\(u)-\(k)"
            let opened = day + Int64(k) * 3_600_000_000, closed = opened + 1_800_000_000
            func at(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1e6) }
            try pool.execute("""
                INSERT INTO signals (id, instrument, side, entry, stop_loss, take_profit, confidence, pattern, phase, trace_id, created_at)
                VALUES ($1, 'EUR_USD', 'buy', 1.1, 1.098, 1.104, 0.7, $2, 'accumulation', $1, $3)
                """, [signal, pattern, at(opened)])
            let entryOrder = Order.id(signalId: signal, accountId: account)
            let exitOrder = "\(account):EUR_USD:\(pnl.hasPrefix("-") ? "stop-loss" : "take-profit")@\(closed)"
            for (order, side, time) in [(entryOrder, "buy", opened), (exitOrder, "sell", closed)] {
                try pool.execute("""
                    INSERT INTO orders (id, signal_id, account_id, instrument, side, type, quantity, status, filled_quantity, trace_id, created_at)
                    VALUES ($1, $2, $3, 'EUR_USD', $4, 'market', 1, 'filled', 1, $2, $5)
                    """, [order, signal, account, side, at(time)])
            }
            try pool.execute("""
                INSERT INTO fills (id, order_id, account_id, instrument, side, quantity, price, spread, slippage, commission, realized_pnl, filled_at)
                VALUES ($1, $2, $3, 'EUR_USD', 'buy', 1, 1.10000, 0.00008, 0, 3.5, 0, $4),
                       ($5, $6, $3, 'EUR_USD', 'sell', 1, $7::numeric, 0.00008, 0, 3.5, $8::numeric, $9)
                """, ["\(entryOrder)#1", entryOrder, account, at(opened), "\(exitOrder)#1", exitOrder, exit, pnl, at(closed)])
        }
        // The experiment to approve, as a shadow cycle would have stored it.
        try pool.execute("""
            INSERT INTO experiments (id, service, parameters, status, baseline, p_value, improvement_percent)
            VALUES ($1, 'wyckoff-analysis', '{"stopATR": "0.6"}', 'pending', '{"stopATR": "0.5"}', 0.012, 4.2)
            """, [experiment])
        // One proposed against a baseline that is no longer the live one (stopATR 0.45, live 0.5).
        let drifted = "exp-test-drift-\(u)"
        try pool.execute("""
            INSERT INTO experiments (id, service, parameters, status, baseline, p_value, improvement_percent)
            VALUES ($1, 'wyckoff-analysis', '{"stopATR": "0.7"}', 'pending', '{"stopATR": "0.45"}', 0.01, 5)
            """, [drifted])
        defer { _ = try? pool.execute("UPDATE experiments SET status = 'stopped' WHERE id = $1", [drifted]) }
        let market = try PostgresPool(configuration: PostgresConfiguration(url: marketURL), metrics: MetricsRegistry())
        defer { market.shutdown() }
        try MarketSchema.migrate(pool: market, logger: Logger(service: "test", level: .warning))
        let seeded = try Self.seedBars()
        try BarStore(pool: market).save(seeded)

        let configFile = FileManager.default.temporaryDirectory.appendingPathComponent("ci-\(u).yml")
        // Exactly the seeded bars: they are the newest US30 bars there are (2099).
        try "shadow:\n  instruments:\n    - US30\n  bars: \(seeded.count)\n".write(to: configFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configFile) }
        let environment = [
            "DATABASE_URL": databaseURL, "MARKET_DATABASE_URL": marketURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "CONSUMER_GROUP": "ci-test-\(u)", "KAFKA_AUTO_OFFSET_RESET": "latest", "HEARTBEAT_INTERVAL_SECONDS": "1",
            "IMPROVEMENT_CYCLE_FAST": "true", "IMPROVEMENT_ANALYTICS_INTERVAL_SECONDS": "2", "IMPROVEMENT_ROLLOUT_INTERVAL_SECONDS": "1",
            "IMPROVEMENT_API_TOKEN": token, "CONFIG_FILE": configFile.path,
        ]
        let agent = try AgentProcess(executable: "tmt-continuous-improvement", port: AgentProcess.freePort(), environment: environment)
        try agent.waitUntilReady()

        // Analytics, read back from PostgreSQL: the account's and the pattern's rows.
        func row(_ dimension: String, _ key: String) -> PostgresRow? {
            try? pool.queryOne("SELECT * FROM analytics WHERE dimension = $1 AND key = $2 AND trades = 3", [dimension, key])
        }
        XCTAssertTrue(KafkaWait.until(timeout: 60) { row("account", account) != nil && row("pattern", pattern) != nil },
                      "no analytics rows:\n\(agent.log.suffix(3000))")
        // Net P&L per trade: 200 − 7 = 193, −100 − 7 = −107, 300 − 7 = 293.
        let r = [193.0 / 100_000, -107.0 / 100_193, 293.0 / 100_086] // each over the equity before it
        let mean = r.reduce(0, +) / 3
        let sd = (r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
        for key in [("account", account), ("pattern", pattern)] {
            let a = try XCTUnwrap(row(key.0, key.1))
            XCTAssertEqual(try a.decode(Int.self, column: "wins"), 2)
            XCTAssertEqual(try a.decode(Int.self, column: "losses"), 1)
            XCTAssertEqual(try a.decode(Double.self, column: "win_rate"), 2.0 / 3, accuracy: 1e-12)
            XCTAssertEqual(try a.decode(Decimal.self, column: "gross_profit"), 486)
            XCTAssertEqual(try a.decode(Decimal.self, column: "gross_loss"), 107)
            XCTAssertEqual(try a.decode(Double.self, column: "profit_factor"), 486.0 / 107, accuracy: 1e-12)
            XCTAssertEqual(try a.decode(Decimal.self, column: "net_profit"), 379)
            XCTAssertEqual(try a.decode(Decimal.self, column: "expectancy"), Decimal(string: "126.3333333333"))
            // Equity 100,000 → 100,193 (peak) → 100,086: the only fall is 107.
            XCTAssertEqual(try a.decode(Decimal.self, column: "max_drawdown"), 107)
            XCTAssertEqual(try a.decode(Double.self, column: "max_drawdown_percent"), 107.0 / 100_193 * 100, accuracy: 1e-9)
            XCTAssertEqual(try a.decode(Double.self, column: "sharpe"), mean / sd, accuracy: 1e-9)
        }

        // The same figures over HTTP and as gauges.
        let http = HTTPClient(timeout: 10)
        let analytics = try http.get(agent.base + "/api/v1/analytics?dimension=account")
        XCTAssertEqual(analytics.status, 200)
        let rows = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(analytics.body)) as? [String: Any])?["rows"] as? [[String: Any]])
        let mine = try XCTUnwrap(rows.first { $0["key"] as? String == account })
        XCTAssertEqual(mine["trades"] as? Int, 3)
        XCTAssertEqual(mine["winRate"] as? Double ?? 0, 2.0 / 3, accuracy: 1e-12)
        XCTAssertTrue(rows.allSatisfy { $0["dimension"] as? String == "account" })
        XCTAssertEqual(try http.get(agent.base + "/api/v1/analytics?dimension=planet").status, 400)
        let metrics = try agent.metrics()
        let labels = "{dimension=\"account\",key=\"\(account)\"}"
        XCTAssertEqual(metricValue(in: metrics, "tmt_improvement_trades" + labels), 3)
        XCTAssertEqual(metricValue(in: metrics, "tmt_improvement_win_rate" + labels), 2.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(metricValue(in: metrics, "tmt_improvement_expectancy_usd" + labels), 379.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(metricValue(in: metrics, "tmt_improvement_profit_factor" + labels), 486.0 / 107, accuracy: 1e-9)
        XCTAssertEqual(metricValue(in: metrics, "tmt_improvement_max_drawdown_usd" + labels), 107)
        XCTAssertEqual(metricValue(in: metrics, "tmt_improvement_sharpe" + labels), mean / sd, accuracy: 1e-9)
        XCTAssertTrue(metrics.contains("tmt_agent_processing_duration_seconds_bucket{agent=\"continuous-improvement\",type=\"analytics\""))
        XCTAssertEqual(try Promtool.checkMetrics(metrics).status, 0)

        // The shadow cycle replayed exactly the seeded US30 bars and traded the spring; with so
        // few trades every variant is turned down, with the reasons.
        XCTAssertTrue(KafkaWait.until(timeout: 60) { ((try? http.get(agent.base + "/api/v1/shadow"))?.status) == 200 },
                      "no shadow cycle:\n\(agent.log.suffix(3000))")
        let shadow = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(http.get(agent.base + "/api/v1/shadow").body)) as? [String: Any])
        XCTAssertEqual(shadow["instruments"] as? [String], ["US30"])
        XCTAssertEqual(shadow["bars"] as? Int, seeded.count)
        XCTAssertGreaterThanOrEqual(shadow["baselineTrades"] as? Int ?? 0, 1, "the spring should trade: \(shadow)")
        let variants = try XCTUnwrap(shadow["variants"] as? [[String: Any]])
        XCTAssertEqual(variants.count, ImprovementSettingsDefaults.variantCount)
        for v in variants {
            XCTAssertEqual(v["outcome"] as? String, "rejected")
            XCTAssertTrue((v["reasons"] as? [String] ?? []).contains { $0.contains("fewer than the minimum 30") }, "\(v)")
        }
        XCTAssertGreaterThanOrEqual(metricValue(in: try agent.metrics(),
                                                "tmt_improvement_shadow_evaluations_total{variant=\"stop-0.75atr\",outcome=\"rejected\"}"), 1)
        XCTAssertTrue(agent.log.contains("variant not proposed"))

        // Approvals need the bearer token.
        let approveURL = agent.base + "/api/v1/experiments/\(experiment)/approve"
        let anonymous = try http.post(approveURL, body: [])
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertNotNil(anonymous.headers["WWW-Authenticate"])
        XCTAssertEqual(try http.post(approveURL, body: [], headers: ["Authorization": "Bearer wrong"]).status, 401)
        XCTAssertEqual(try pool.queryOne("SELECT status FROM experiments WHERE id = $1", [experiment])?.decode(String.self, column: "status"),
                       "pending")

        // Every config update of this experiment, read back from the broker.
        let updates = Mutex<[Envelope<ConfigUpdate>]>([])
        let reader = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "ci-test"),
                                       groupId: "ci-test-reader-\(UUID().uuidString)", topics: [Topic.configUpdates.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.startEnvelopes(ConfigUpdate.self) { envelope, _ in
            if envelope.payload.requestedBy == experiment { updates.withLock { $0.append(envelope) } }
        }
        defer { reader.stop(timeout: 10) }

        let staging = try ComplianceConfiguration.load(path: TestServices.repoRoot.appendingPathComponent("config/compliance-staging.yml").path)
            .accounts.map(\.id)
        // Whatever happens below, leave no staging account on the variant for agents that later
        // replay config.updates from the beginning (a revert of accounts already on the baseline
        // changes nothing).
        let cleanup = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "ci-test"), metrics: MetricsRegistry())
        defer {
            let restore = ConfigUpdate(service: "wyckoff-analysis", parameters: [:], requestedBy: experiment,
                                       reason: "test cleanup", accounts: staging)
            _ = try? cleanup.send(Envelope(id: "\(experiment):cleanup", type: "config.update", traceId: experiment, source: "test",
                                           payload: restore), to: .configUpdates, key: "wyckoff-analysis").wait(timeout: 10)
            cleanup.close()
        }
        let auth: HTTPHeaders = ["Authorization": "Bearer \(token)", "X-Operator": "alice"]
        // Its shadow evidence compared the variant with another baseline: refused, with the reason.
        let stale = try http.post(agent.base + "/api/v1/experiments/\(drifted)/approve", body: [], headers: auth)
        XCTAssertEqual(stale.status, 409, stale.text)
        XCTAssertTrue(stale.text.contains("baseline_changed") && stale.text.contains("stopATR was 0.45, is now 0.5"), stale.text)
        XCTAssertEqual(try pool.queryOne("SELECT status FROM experiments WHERE id = $1", [drifted])?.decode(String.self, column: "status"),
                       "pending")
        let approved = try http.post(approveURL, body: [], headers: auth)
        XCTAssertEqual(approved.status, 200, approved.text)
        let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(approved.body)) as? [String: Any])
        XCTAssertEqual(body["status"] as? String, "rolling")
        XCTAssertEqual(body["rolloutPercent"] as? Int, 10)
        let stored = try XCTUnwrap(try pool.queryOne("SELECT status, rollout_percent, rollout_stage, outbox FROM experiments WHERE id = $1",
                                                     [experiment]))
        XCTAssertEqual(try stored.decode(String.self, column: "status"), "rolling")
        XCTAssertEqual(try stored.decode(Int.self, column: "rollout_percent"), 10)
        XCTAssertEqual(try stored.decode(Int.self, column: "rollout_stage"), 0)
        XCTAssertTrue(try stored.isNull(column: "outbox"), "the update was acknowledged, so the outbox is empty")

        // 10 % of the three staging accounts is one account (⌈0.3⌉), with the variant's parameters.
        XCTAssertTrue(KafkaWait.until(timeout: 30) { !updates.withLock { $0.isEmpty } }, "no config update:\n\(agent.log.suffix(2000))")
        let first = try XCTUnwrap(updates.withLock { $0.first })
        XCTAssertEqual(first.id, "\(experiment):rolling:10:0")
        XCTAssertEqual(first.payload.service, "wyckoff-analysis")
        XCTAssertEqual(first.payload.parameters, ["stopATR": "0.6"])
        let variantAccounts = try XCTUnwrap(first.payload.accounts)
        XCTAssertEqual(variantAccounts.count, 1)
        XCTAssertTrue(staging.contains(variantAccounts[0]), "\(variantAccounts) not in \(staging)")
        XCTAssertEqual(try http.post(approveURL, body: [], headers: auth).status, 409, "a rolling experiment cannot be approved again")

        // A restart resumes the rollout from the experiments row.
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
        let restarted = try AgentProcess(executable: "tmt-continuous-improvement", port: AgentProcess.freePort(), environment: environment)
        try restarted.waitUntilReady()
        let resumed = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(http.get(restarted.base + "/api/v1/experiments/\(experiment)").body)) as? [String: Any])
        XCTAssertEqual(resumed["status"] as? String, "rolling")
        XCTAssertEqual(resumed["rolloutPercent"] as? Int, 10)
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            let r = try? JSONSerialization.jsonObject(with: Data(http.get(restarted.base + "/api/v1/experiments/\(experiment)").body)) as? [String: Any]
            return (r?["observation"] as? [String: Any])?["stagePercent"] as? Int == 10
        }, "the restarted agent does not observe the rollout:\n\(restarted.log.suffix(2000))")

        // One rolling experiment per service, held by the database too (migration 5).
        XCTAssertThrowsError(try pool.execute("UPDATE experiments SET status = 'rolling' WHERE id = $1", [drifted])) { error in
            XCTAssertTrue("\(error)".contains("experiments_one_rolling_per_service"), "\(error)")
        }

        // Stop: the variant's account goes back to the live baseline, by a revert (no
        // parameters), never by the baseline values recorded at proposal time.
        let stopped = try http.postJSON(restarted.base + "/api/v1/experiments/\(experiment)/stop", ["reason": "integration test"], headers: auth)
        XCTAssertEqual(stopped.status, 200, stopped.text)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { updates.withLock { $0.count } >= 2 })
        let restore = try XCTUnwrap(updates.withLock { $0.last })
        XCTAssertEqual(restore.payload.parameters, [:])
        XCTAssertEqual(restore.payload.accounts, variantAccounts)
        XCTAssertEqual(try pool.queryOne("SELECT status, rollout_percent FROM experiments WHERE id = $1", [experiment])?
            .decode(String.self, column: "status"), "stopped")
        let audit = try pool.query("SELECT actor, action, result FROM audit_log WHERE target = $1 ORDER BY id", [experiment])
            .map { "\(try $0.decode(String.self, column: "actor")) \(try $0.decode(String.self, column: "action")) \(try $0.decode(String.self, column: "result"))" }
        XCTAssertEqual(audit, ["alice experiment.approve ok", "alice experiment.approve refused: invalid_command", "alice experiment.stop ok"])
        XCTAssertEqual(restarted.terminate(), 0, restarted.log.suffix(2000).description)

        // Without a configured token the mutating endpoints are off, and say which setting is missing.
        var noToken = environment
        noToken["IMPROVEMENT_API_TOKEN"] = nil
        noToken["IMPROVEMENT_SHADOW_INTERVAL_SECONDS"] = "3600"
        let locked = try AgentProcess(executable: "tmt-continuous-improvement", port: AgentProcess.freePort(), environment: noToken)
        try locked.waitUntilReady()
        let refused = try http.post(locked.base + "/api/v1/experiments/\(experiment)/stop", body: [], headers: auth)
        XCTAssertEqual(refused.status, 503)
        XCTAssertTrue(refused.text.contains("IMPROVEMENT_API_TOKEN"), refused.text)
        XCTAssertEqual(locked.terminate(), 0)
    }

    func testAnInvalidCycleSettingStopsStartUpNamingTheVariable() throws {
        let agent = try AgentProcess(executable: "tmt-continuous-improvement", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": try TestServices.postgresURL(), "MARKET_DATABASE_URL": try TestServices.marketDatabaseURL(),
            "KAFKA_BOOTSTRAP_SERVERS": try TestServices.kafkaBootstrap(), "IMPROVEMENT_CYCLE_FAST": "sometimes",
        ])
        XCTAssertTrue(KafkaWait.until(timeout: 30) { !agent.process.isRunning })
        XCTAssertNotEqual(agent.process.terminationStatus, 0)
        XCTAssertTrue(agent.log.contains("IMPROVEMENT_CYCLE_FAST"), agent.log)
    }
}

/// The number of variants the agent tries without a `variants:` section.
enum ImprovementSettingsDefaults {
    static let variantCount = 5
}
