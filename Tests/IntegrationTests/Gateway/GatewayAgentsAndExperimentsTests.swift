import Foundation
import TMTCore
import TMTPipeline
import XCTest

/// The gateway's agent overview and improvement experiments: `/api/v1/agents` against a real
/// `tmt-continuous-improvement` process and agents that do not answer; experiment and proposal
/// reads on seeded rows; approve/stop forwarded to the real agent with its token, its answers
/// (200, 404, 409) passed back, 401/503/502 from the gateway, and every attempt audited.
final class GatewayAgentsAndExperimentsTests: XCTestCase {
    let improvementToken = "gw-improvement-token-\(UUID().uuidString)"

    /// A continuous-improvement agent that reads from the latest offsets with its own group, does
    /// one shadow cycle an hour over the improvement test's US30 bars (no proposals from so few
    /// trades) and accepts `improvementToken`.
    private func startImprovementAgent(_ run: String) throws -> (AgentProcess, URL) {
        let configFile = FileManager.default.temporaryDirectory.appendingPathComponent("gw-ci-\(run).yml")
        try "shadow:\n  instruments:\n    - US30\n  bars: 200\n".write(to: configFile, atomically: true, encoding: .utf8)
        let agent = try AgentProcess(executable: "tmt-continuous-improvement", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": try TestServices.postgresURL(), "MARKET_DATABASE_URL": try TestServices.marketDatabaseURL(),
            "KAFKA_BOOTSTRAP_SERVERS": try TestServices.kafkaBootstrap(), "KAFKA_AUTO_OFFSET_RESET": "latest",
            "CONSUMER_GROUP": "gw-ci-\(run)", "IMPROVEMENT_API_TOKEN": improvementToken, "CONFIG_FILE": configFile.path,
            "IMPROVEMENT_SHADOW_INTERVAL_SECONDS": "3600",
        ])
        try agent.waitUntilReady()
        return (agent, configFile)
    }

    private func tradingPool() throws -> PostgresPool {
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        try TradingSchema.migrate(pool: pool, logger: Logger(service: "test", level: .warning))
        return pool
    }

    func testAgentsListsALiveAgentWithVersionUptimeAndLagAndTheUnreachableOnesAsDown() throws {
        let run = UUID().uuidString.prefix(8).lowercased()
        let (agent, configFile) = try startImprovementAgent(run)
        defer { try? FileManager.default.removeItem(at: configFile) }
        // The lag gauge appears once the consumer has its partitions of executions.fills.
        XCTAssertTrue(KafkaWait.until(timeout: 60) {
            ((try? agent.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"executions.fills\"")
        }, "the agent never joined executions.fills:\n\(agent.log.suffix(3000))")
        let (a, b) = (AgentProcess.freePort(), AgentProcess.freePort())
        let gateway = try GatewayTest.start([
            "AGENT_URLS": "aria-risk=http://127.0.0.1:\(a),continuous-improvement=\(agent.base),human-behavior=http://127.0.0.1:\(b)",
            "HEALTH_PROBE_TIMEOUT_SECONDS": "1",
        ])

        let r = try GatewayTest.get(gateway, "/api/v1/agents")
        XCTAssertEqual(r.status, 200, r.text)
        let body = GatewayTest.object(r)
        let items = body["items"] as? [[String: Any]] ?? []
        XCTAssertEqual(items.compactMap { $0["name"] as? String }, ["aria-risk", "continuous-improvement", "human-behavior"], r.text)
        XCTAssertEqual(body["failing"] as? [String], ["aria-risk", "human-behavior"], r.text)

        let live = try XCTUnwrap(items.first { $0["name"] as? String == "continuous-improvement" })
        XCTAssertEqual(live["status"] as? String, "up", r.text)
        XCTAssertEqual(live["url"] as? String, agent.base)
        XCTAssertEqual(live["version"] as? String, TMTVersion.current)
        XCTAssertFalse((live["instanceId"] as? String ?? "").isEmpty, r.text)
        XCTAssertGreaterThan(live["uptimeSeconds"] as? Double ?? 0, 0, r.text)
        XCTAssertTrue(live["lastError"] is NSNull || live["lastError"] == nil, r.text)
        let lag = try XCTUnwrap(live["consumerLag"] as? [String: Any], r.text)
        XCTAssertNotNil(lag["executions.fills"] as? Double, r.text)
        XCTAssertEqual(live["totalLag"] as? Double, lag.values.compactMap { $0 as? Double }.reduce(0, +))
        XCTAssertGreaterThanOrEqual(lag["executions.fills"] as? Double ?? -1, 0, r.text)
        XCTAssertGreaterThan(live["latencyMs"] as? Double ?? 0, 0, r.text)

        for name in ["aria-risk", "human-behavior"] {
            let down = try XCTUnwrap(items.first { $0["name"] as? String == name })
            XCTAssertEqual(down["status"] as? String, "down", "\(down)")
            XCTAssertTrue((down["lastError"] as? String ?? "").contains("/health"), "\(down)")
            XCTAssertEqual((down["consumerLag"] as? [String: Any])?.count, 0)
            XCTAssertTrue(down["version"] is NSNull || down["version"] == nil, "\(down)")
        }

        // With the agent gone it is listed as down too, not dropped.
        XCTAssertEqual(agent.terminate(), 0)
        let after = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/agents"))
        XCTAssertEqual(after["failing"] as? [String], ["aria-risk", "continuous-improvement", "human-behavior"], "\(after)")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/agents?x=1"), 400, mentions: "'x'")
    }

    /// An agent that answers /health but fails a readiness check is `degraded`, with the failing
    /// check as its last error, and the aggregated /health is 503: a real circuit breaker whose
    /// own Redis (a redis-server started for this test) goes away while it runs.
    func testAnAgentWhoseDependencyFailsIsListedAsDegraded() throws {
        let run = UUID().uuidString.prefix(8).lowercased()
        let port = AgentProcess.freePort()
        let redis = Process()
        redis.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        redis.arguments = ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"]
        redis.standardOutput = FileHandle.nullDevice
        try redis.run()
        defer { if redis.isRunning { redis.terminate(); redis.waitUntilExit() } }
        let breaker = try AgentProcess(executable: "tmt-circuit-breaker", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": try TestServices.postgresURL(), "REDIS_URL": "redis://127.0.0.1:\(port)",
            "KAFKA_BOOTSTRAP_SERVERS": try TestServices.kafkaBootstrap(), "KAFKA_AUTO_OFFSET_RESET": "latest",
            "CONSUMER_GROUP": "gateway-degraded-\(run)", "BREAKER_SNAPSHOT_KEY": "tmt:test:degraded:\(run)",
        ])
        try breaker.waitUntilReady()
        let gateway = try GatewayTest.start(["AGENT_URLS": "circuit-breaker=\(breaker.base)", "HEALTH_PROBE_TIMEOUT_SECONDS": "2"])
        func agent() throws -> [String: Any] {
            try XCTUnwrap((GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/agents"))["items"] as? [[String: Any]])?.first)
        }
        XCTAssertEqual(try agent()["status"] as? String, "up")

        redis.terminate()
        redis.waitUntilExit()
        var seen: [String: Any] = [:]
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            seen = (try? agent()) ?? [:]
            return seen["status"] as? String == "degraded"
        }, "not degraded: \(seen)\n\(breaker.log.suffix(2000))")
        XCTAssertTrue((seen["lastError"] as? String ?? "").contains("redis"), "\(seen)")
        XCTAssertNotNil(seen["version"] as? String, "a degraded agent still reports its version: \(seen)")
        let health = try GatewayTest.get(gateway, "/health")
        XCTAssertEqual(health.status, 503, health.text)
        XCTAssertEqual(GatewayTest.object(health)["failing"] as? [String], ["circuit-breaker"], health.text)
        XCTAssertEqual(breaker.terminate(), 0, breaker.log.suffix(2000).description)
    }

    func testExperimentsAndProposalsAreReadFromTheExperimentsTable() throws {
        let run = UUID().uuidString.prefix(8).lowercased()
        let service = "gw-read-\(run)"
        let pending = "exp-gw-pending-\(run)", rolling = "exp-gw-rolling-\(run)"
        let pool = try tradingPool()
        defer { pool.shutdown() }
        try pool.execute("""
            INSERT INTO experiments (id, service, parameters, status, baseline, p_value, improvement_percent, created_at)
            VALUES ($1, $2, '{"stopATR": "0.6"}', 'pending', '{"stopATR": "0.5"}', 0.012, 4.25, now() - interval '1 minute')
            """, [pending, service])
        try pool.execute("""
            INSERT INTO experiments (id, service, parameters, status, rollout_percent, rollout_stage, baseline, results, p_value,
                                     improvement_percent)
            VALUES ($1, $2, '{"minConfidence": "0.7"}', 'stopped', 10, 0, '{"minConfidence": "0.65"}',
                    '{"history": [{"from": "pending", "to": "rolling", "at": "2026-01-05T10:00:00Z", "reason": "approved by alice",
                                   "percent": 10, "variantAccounts": ["acct-a"]},
                                  {"from": "rolling", "to": "stopped", "at": "2026-01-05T11:00:00Z", "reason": "manual stop",
                                   "percent": 0, "variantAccounts": []}],
                      "proposal": {"variant": "conf-0.7"}}', 0.03, 2.5)
            """, [rolling, service])
        defer { _ = try? pool.execute("DELETE FROM experiments WHERE service = $1", [service]) }
        let gateway = try GatewayTest.start()

        let list = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/experiments?service=\(service)"))
        let items = list["items"] as? [[String: Any]] ?? []
        XCTAssertEqual(items.compactMap { $0["id"] as? String }, [rolling, pending], "newest first: \(list)")
        let first = items.first ?? [:]
        XCTAssertEqual(first["status"] as? String, "stopped")
        XCTAssertEqual(first["rolloutPercent"] as? Int, 10)
        XCTAssertEqual(first["parameters"] as? [String: String], ["minConfidence": "0.7"])
        XCTAssertEqual(first["baseline"] as? [String: String], ["minConfidence": "0.65"])
        XCTAssertEqual(first["pValue"] as? Double, 0.03)
        XCTAssertEqual(first["improvementPercent"] as? Double, 2.5)
        XCTAssertEqual((first["history"] as? [[String: Any]])?.compactMap { $0["to"] as? String }, ["rolling", "stopped"])
        XCTAssertEqual((items.last?["history"] as? [Any])?.count, 0)

        // Filters and pagination.
        let stopped = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/experiments?service=\(service)&status=stopped"))
        XCTAssertEqual((stopped["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, [rolling])
        let page1 = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/experiments?service=\(service)&limit=1"))
        let cursor = try XCTUnwrap(page1["nextCursor"] as? String, "\(page1)")
        let page2 = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/experiments?service=\(service)&limit=1&cursor=\(cursor)"))
        XCTAssertEqual((page2["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, [pending])
        XCTAssertTrue(page2["nextCursor"] is NSNull, "\(page2)")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/experiments?status=dreaming"), 400, mentions: "'status'")

        // Proposals: only the pending one.
        let proposals = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/proposals?service=\(service)"))
        XCTAssertEqual((proposals["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, [pending], "\(proposals)")
        let all = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/proposals?limit=500"))
        XCTAssertTrue((all["items"] as? [[String: Any]] ?? []).allSatisfy { $0["status"] as? String == "pending" })

        // One experiment, with its whole results document.
        let one = try GatewayTest.get(gateway, "/api/v1/experiments/\(rolling)")
        XCTAssertEqual(one.status, 200, one.text)
        let detail = GatewayTest.object(one)
        XCTAssertEqual(detail["service"] as? String, service)
        XCTAssertEqual(((detail["results"] as? [String: Any])?["proposal"] as? [String: Any])?["variant"] as? String, "conf-0.7")
        XCTAssertEqual((detail["history"] as? [[String: Any]])?.first?["reason"] as? String, "approved by alice")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/experiments/exp-gw-none-\(run)"), 404, code: "not_found")

        // Commands need the gateway token (401, audited) and, behind it, IMPROVEMENT_API_TOKEN (503 naming it).
        let actor = "gw-unauth-\(run)"
        for route in ["approve", "stop"] {
            for token in [nil, "wrong"] as [String?] {
                let r = try GatewayTest.post(gateway, "/api/v1/experiments/\(pending)/\(route)", json: "", token: token, operator: actor)
                GatewayTest.assertError(r, 401, code: "unauthorized")
                XCTAssertEqual(r.headers["WWW-Authenticate"], "Bearer realm=\"tmt-api-gateway\"")
            }
            GatewayTest.assertError(try GatewayTest.post(gateway, "/api/v1/experiments/\(pending)/\(route)", json: "", operator: actor),
                                    503, code: "not_configured", mentions: "IMPROVEMENT_API_TOKEN")
        }
        let audit = try pool.query("SELECT action, target, result, detail->>'via' AS via FROM audit_log WHERE actor = $1 ORDER BY id", [actor])
        XCTAssertEqual(try audit.map { "\(try $0.decode(String.self, column: "action")) \(try $0.decode(String.self, column: "result"))" }, [
            "experiment.approve refused: unauthorized", "experiment.approve refused: unauthorized", "experiment.approve refused: not_configured",
            "experiment.stop refused: unauthorized", "experiment.stop refused: unauthorized", "experiment.stop refused: not_configured",
        ])
        XCTAssertTrue(try audit.allSatisfy { try $0.decode(String.self, column: "target") == pending && $0.decode(String.self, column: "via") == "api-gateway" })
        XCTAssertEqual(try pool.queryOne("SELECT status FROM experiments WHERE id = $1", [pending])?.decode(String.self, column: "status"), "pending")
    }

    /// Approve and stop through the gateway against a real agent. The experiment is of a service
    /// of its own, so no other test's rolling experiment or baseline change can refuse it, and the
    /// config updates it publishes concern no running agent.
    func testApproveAndStopAreForwardedToTheImprovementAgentAndAudited() throws {
        let run = UUID().uuidString.prefix(8).lowercased()
        let service = "gw-approve-\(run)"
        let experiment = "exp-gw-approve-\(run)"
        let actor = "gw-desk-\(run)"
        let pool = try tradingPool()
        defer { pool.shutdown() }
        try pool.execute("""
            INSERT INTO experiments (id, service, parameters, status, baseline, p_value, improvement_percent)
            VALUES ($1, $2, '{"stopATR": "0.6"}', 'pending', '{"stopATR": "0.5"}', 0.012, 4.2)
            """, [experiment, service])
        // Whatever happens below, leave nothing rolling.
        defer { _ = try? pool.execute("UPDATE experiments SET status = 'stopped', outbox = NULL WHERE service = $1", [service]) }
        let (agent, configFile) = try startImprovementAgent(run)
        defer { try? FileManager.default.removeItem(at: configFile) }
        let gateway = try GatewayTest.start(["AGENT_URLS": "continuous-improvement=\(agent.base)", "IMPROVEMENT_API_TOKEN": improvementToken])

        // Without the gateway token: refused at the gateway, nothing reaches the agent.
        GatewayTest.assertError(try GatewayTest.post(gateway, "/api/v1/experiments/\(experiment)/approve", json: "", token: nil, operator: actor),
                                401, code: "unauthorized")

        let approved = try GatewayTest.post(gateway, "/api/v1/experiments/\(experiment)/approve", json: "", operator: actor)
        XCTAssertEqual(approved.status, 200, "\(approved.text)\n\(agent.log.suffix(3000))")
        XCTAssertEqual(GatewayTest.object(approved)["status"] as? String, "rolling", approved.text)
        XCTAssertEqual(GatewayTest.object(approved)["rolloutPercent"] as? Int, 10, approved.text)
        let rollingRead = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/experiments/\(experiment)"))
        XCTAssertEqual(rollingRead["status"] as? String, "rolling")
        XCTAssertEqual((rollingRead["history"] as? [[String: Any]])?.last?["to"] as? String, "rolling", "\(rollingRead)")
        XCTAssertTrue(((rollingRead["history"] as? [[String: Any]])?.last?["reason"] as? String ?? "").contains(actor), "\(rollingRead)")

        // The agent's refusals come back as it sent them.
        let again = try GatewayTest.post(gateway, "/api/v1/experiments/\(experiment)/approve", json: "", operator: actor)
        GatewayTest.assertError(again, 409, code: "invalid_command")
        GatewayTest.assertError(try GatewayTest.post(gateway, "/api/v1/experiments/exp-gw-none-\(run)/approve", json: "", operator: actor),
                                404, code: "not_found")
        GatewayTest.assertError(try GatewayTest.post(gateway, "/api/v1/experiments/\(experiment)/stop", json: "{not json", operator: actor),
                                400, code: "invalid_body")

        // Stop the rollout this test started.
        let stopped = try GatewayTest.post(gateway, "/api/v1/experiments/\(experiment)/stop", json: #"{"reason":"gateway test done"}"#,
                                           operator: actor)
        XCTAssertEqual(stopped.status, 200, "\(stopped.text)\n\(agent.log.suffix(3000))")
        XCTAssertEqual(GatewayTest.object(stopped)["status"] as? String, "stopped", stopped.text)
        XCTAssertEqual(try pool.queryOne("SELECT status FROM experiments WHERE id = $1", [experiment])?.decode(String.self, column: "status"),
                       "stopped")

        // A gateway holding the wrong agent token: the operator's token is fine, so not a 401
        // (the dashboard forgets the operator's token on a 401) but a 502 naming the setting.
        let misconfigured = try GatewayTest.start(["AGENT_URLS": "continuous-improvement=\(agent.base)",
                                                   "IMPROVEMENT_API_TOKEN": "not-the-agents-token"])
        GatewayTest.assertError(try GatewayTest.post(misconfigured, "/api/v1/experiments/\(experiment)/stop", json: "", operator: "gw-mis-\(run)"),
                                502, code: "agent_refused_gateway", mentions: "IMPROVEMENT_API_TOKEN")
        // A misspelt field or a query parameter is refused before anything is forwarded.
        GatewayTest.assertError(try GatewayTest.post(gateway, "/api/v1/experiments/\(experiment)/stop", json: #"{"reson":"x"}"#,
                                                     operator: "gw-mis-\(run)"), 400, code: "invalid_body", mentions: "unknown field 'reson'")
        GatewayTest.assertError(try GatewayTest.post(gateway, "/api/v1/experiments/\(experiment)/approve?percent=100", json: "",
                                                     operator: "gw-mis-\(run)"), 400, code: "invalid_parameter")

        // The agent down: 502 with a JSON error, audited too.
        XCTAssertEqual(agent.terminate(), 0)
        GatewayTest.assertError(try GatewayTest.post(gateway, "/api/v1/experiments/\(experiment)/stop", json: "", operator: actor),
                                502, code: "agent_unreachable")

        // One audit row per attempt, all marked as coming through the gateway: the gateway's for
        // what it refused or could not forward, the agent's (with the operator the gateway
        // forwarded) for what reached it.
        let rows = try pool.query("""
            SELECT action, result, detail->>'via' AS via, detail->>'remote' AS remote FROM audit_log WHERE actor = $1 ORDER BY id
            """, [actor])
        XCTAssertEqual(try rows.map { "\(try $0.decode(String.self, column: "action")) \(try $0.decode(String.self, column: "result"))" }, [
            "experiment.approve refused: unauthorized", "experiment.approve ok", "experiment.approve refused: invalid_command",
            "experiment.approve refused: not_found", "experiment.stop refused: invalid_body", "experiment.stop ok",
            "experiment.stop failed: agent_unreachable",
        ])
        XCTAssertTrue(try rows.allSatisfy { try $0.decode(String?.self, column: "via") == "api-gateway" })
        XCTAssertTrue(try rows.allSatisfy { try $0.decode(String?.self, column: "remote")?.hasPrefix("127.0.0.1") == true },
                      "the operator's address, not the gateway's hop, is recorded")
    }
}
