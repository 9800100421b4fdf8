import Foundation
import TMTCore
import TMTTrading
import XCTest

/// The gateway in front of a real `tmt-circuit-breaker` process: /health turns 200 once the
/// agent it watches is up, and a trip and a reset through the API are applied by the breaker and
/// answered with the resulting state, stored in breaker_events and audited.
final class GatewayBreakerTests: XCTestCase {
    func testTripAndResetRoundTripThroughTheCircuitBreaker() throws {
        let run = UUID().uuidString.prefix(8).lowercased()
        let snapshotKey = "tmt:test:gateway-breaker:\(run)"
        let account = "gw-\(run)-ftmo"
        // The staging firms with a fresh account id, so earlier runs cannot interfere.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tmt-gateway-\(run)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var compliance = try String(contentsOf: TestServices.repoRoot.appendingPathComponent("config/compliance-staging.yml"), encoding: .utf8)
        XCTAssertTrue(compliance.contains("id: acct-ftmo-100k"))
        compliance = compliance.replacingOccurrences(of: "id: acct-ftmo-100k", with: "id: \(account)")
        let compliancePath = folder.appendingPathComponent("compliance.yml").path
        try compliance.write(toFile: compliancePath, atomically: true, encoding: .utf8)

        let breaker = try AgentProcess(executable: "tmt-circuit-breaker", port: AgentProcess.freePort(), environment: [
            "DATABASE_URL": try TestServices.postgresURL(), "REDIS_URL": try TestServices.redisURL(),
            "KAFKA_BOOTSTRAP_SERVERS": try TestServices.kafkaBootstrap(), "KAFKA_AUTO_OFFSET_RESET": "latest",
            "CONSUMER_GROUP": "gateway-breaker-\(run)", "BREAKER_SNAPSHOT_KEY": snapshotKey, "COMPLIANCE_CONFIG": compliancePath,
        ])
        try breaker.waitUntilReady()
        // Commands are read from the latest offset: wait until the breaker consumes breaker.commands.
        XCTAssertTrue(KafkaWait.until(timeout: 60) {
            ((try? breaker.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"breaker.commands\"")
        }, "the breaker never joined breaker.commands:\n\(breaker.log.suffix(3000))")

        let gateway = try GatewayTest.start(["BREAKER_SNAPSHOT_KEY": snapshotKey, "AGENT_URLS": "circuit-breaker=\(breaker.base)",
                                             "COMPLIANCE_CONFIG": compliancePath, "BREAKER_COMMAND_TIMEOUT_SECONDS": "15"])

        // Health: the one watched agent and the infrastructure are up.
        let health = try GatewayTest.get(gateway, "/health")
        XCTAssertEqual(health.status, 200, health.text)
        XCTAssertEqual(GatewayTest.object(health)["status"] as? String, "healthy")

        // Trip: applied by the breaker and answered with the tripped state.
        let trip = try GatewayTest.post(gateway, "/api/v1/breaker/trip",
                                        json: #"{"tier":"account","target":"\#(account)","reason":"gateway test trip"}"#, operator: "desk-\(run)")
        XCTAssertEqual(trip.status, 200, "\(trip.text)\n\(breaker.log.suffix(3000))")
        let tripped = GatewayTest.object(trip)
        let tripId = try XCTUnwrap(tripped["commandId"] as? String)
        XCTAssertEqual(tripped["operator"] as? String, "desk-\(run)")
        XCTAssertEqual(tripped["tradingHalted"] as? Bool, true)
        let state = tripped["breaker"] as? [String: Any] ?? [:]
        XCTAssertEqual(state["state"] as? String, "tripped", trip.text)
        XCTAssertEqual(state["manual"] as? Bool, true)
        XCTAssertTrue((state["reason"] as? String ?? "").contains("gateway test trip"), trip.text)

        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let event = try XCTUnwrap(try pool.queryOne("SELECT target, to_state FROM breaker_events WHERE detail->>'commandId' = $1", [tripId]))
        XCTAssertEqual(try event.decode(String.self, column: "target"), account)
        XCTAssertEqual(try event.decode(String.self, column: "to_state"), "tripped")

        // The overview shows it, with the stored transition.
        let overview = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/breaker?tier=account&target=\(account)"))
        XCTAssertEqual((overview["breakers"] as? [[String: Any]])?.first?["state"] as? String, "tripped")
        XCTAssertTrue((overview["events"] as? [[String: Any]] ?? []).contains { ($0["detail"] as? [String: Any])?["commandId"] as? String == tripId })
        // What every account may do: no critical agent has been heard from in this test, so the
        // breaker halts everything, whatever the system breaker's own state; the overview says so
        // and why (it used to look at the system breaker alone).
        XCTAssertEqual(overview["tradingState"] as? String, "HALTED")
        XCTAssertEqual(overview["tradingHalted"] as? Bool, true)
        let reasons = overview["tradingReasons"] as? [String] ?? []
        XCTAssertTrue(reasons.contains { $0.contains("aria-risk") && $0.contains("critical agents down") }, "\(reasons)")
        XCTAssertLessThan(overview["snapshotAgeSeconds"] as? Double ?? 99, 60)

        // Reset: normal again (a reset confirms the state).
        let reset = try GatewayTest.post(gateway, "/api/v1/breaker/reset", json: #"{"tier":"account","target":"\#(account)"}"#,
                                         operator: "desk-\(run)")
        XCTAssertEqual(reset.status, 200, "\(reset.text)\n\(breaker.log.suffix(3000))")
        let after = GatewayTest.object(reset)["breaker"] as? [String: Any] ?? [:]
        XCTAssertEqual(after["state"] as? String, "normal", reset.text)
        XCTAssertEqual(after["awaitingData"] as? Bool, false)

        // Flatten (no open positions here): zero closing orders, the account tripped.
        let flatten = try GatewayTest.post(gateway, "/api/v1/breaker/flatten",
                                           json: #"{"tier":"account","target":"\#(account)","reason":"gateway test flatten"}"#, operator: "desk-\(run)")
        XCTAssertEqual(flatten.status, 200, "\(flatten.text)\n\(breaker.log.suffix(3000))")
        XCTAssertEqual((GatewayTest.object(flatten)["breaker"] as? [String: Any])?["state"] as? String, "tripped", flatten.text)

        // With the breaker gone, a command is answered 504 and /health names it. (A throwaway
        // account, so a breaker that later replays the queued command trips nothing real.)
        XCTAssertEqual(breaker.terminate(), 0)
        let lost = try GatewayTest.post(gateway, "/api/v1/breaker/trip",
                                        json: #"{"tier":"account","target":"\#(account)-ghost","reason":"nobody listens"}"#, operator: "desk-\(run)")
        GatewayTest.assertError(lost, 504, code: "breaker_timeout")
        let down = try GatewayTest.get(gateway, "/health")
        XCTAssertEqual(down.status, 503)
        XCTAssertEqual(GatewayTest.object(down)["failing"] as? [String], ["circuit-breaker"])
        // A snapshot the breaker stopped refreshing (two minutes old, all clear when taken): it
        // clears nothing any more, so trading is HALTED, not the ACTIVE it last said.
        let redis = try RedisClient(url: try TestServices.redisURL(), metrics: MetricsRegistry())
        defer { _ = try? redis.execute(.del([snapshotKey, snapshotKey + ":epoch"])); redis.close() }
        var frozen = try BreakerSnapshot.decode(try XCTUnwrap(try redis.execute(.get(snapshotKey)).bytes()))
        frozen.takenAt = HopClock.nowMicros() - 120_000_000
        frozen.systemTrading = SystemTrading(state: .active, reasons: [])
        _ = try redis.execute(.set(snapshotKey, try frozen.encoded())).check(command: "SET")
        let stale = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/breaker"))
        XCTAssertEqual(stale["tradingState"] as? String, "HALTED")
        XCTAssertTrue((stale["tradingReasons"] as? [String] ?? []).contains { $0.contains("not running") }, "\(stale)")

        // Every mutation audited with its result.
        let audit = try pool.query("SELECT action, target, result FROM audit_log WHERE actor = $1 ORDER BY id", ["desk-\(run)"])
        XCTAssertEqual(try audit.map { try $0.decode(String.self, column: "action") }, ["breaker.trip", "breaker.reset", "breaker.flatten", "breaker.trip"])
        XCTAssertEqual(try audit.map { try $0.decode(String.self, column: "result") }, ["ok", "ok", "ok", "timeout"])
        XCTAssertEqual(try audit.map { try $0.decode(String.self, column: "target") },
                       ["account:\(account)", "account:\(account)", "account:\(account)", "account:\(account)-ghost"])
    }
}
