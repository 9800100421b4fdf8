import Foundation
import TMTCore
import XCTest

/// `tmt-api-gateway` as a process on the test services: aggregated health, authentication and
/// audit of the mutating routes, the error shapes, and the OpenAPI description kept true.
final class GatewayAPITests: XCTestCase {
    /// Every route the gateway registers is in docs/api/openapi.yaml, and every path there is served.
    func testOpenAPIDescribesExactlyTheRegisteredRoutes() throws {
        let p = Process()
        p.executableURL = TestServices.executable("tmt-api-gateway")
        p.arguments = ["--print-routes"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let registered = Set(out.split(separator: "\n").map(String.init))
        XCTAssertTrue(registered.contains("POST /api/v1/breaker/trip"), out)
        let spec = try GatewayTest.specRoutes()
        XCTAssertEqual(registered.subtracting(spec).sorted(), [], "registered but not in docs/api/openapi.yaml")
        XCTAssertEqual(spec.subtracting(registered).sorted(), [], "in docs/api/openapi.yaml but not registered")
    }

    /// The aggregated report answers for HEALTH_CACHE_SECONDS: calls within it share one probe
    /// round (same checkedAt), a call after it probes again.
    func testAggregatedHealthIsSharedForItsCacheTime() throws {
        let gateway = try GatewayTest.start(["AGENT_URLS": "aria-risk=http://127.0.0.1:\(AgentProcess.freePort())", "HEALTH_CACHE_SECONDS": "1"])
        let first = GatewayTest.object(try GatewayTest.get(gateway, "/health"))["checkedAt"] as? String
        let second = GatewayTest.object(try GatewayTest.get(gateway, "/health"))["checkedAt"] as? String
        XCTAssertNotNil(first)
        XCTAssertEqual(first, second, "a report younger than HEALTH_CACHE_SECONDS is served again")
        Thread.sleep(forTimeInterval: 1.3)
        let third = GatewayTest.object(try GatewayTest.get(gateway, "/health"))["checkedAt"] as? String
        XCTAssertNotEqual(first, third, "an older report is replaced by a new probe round")
    }

    /// With agents down, /health is 503 and names them; the infrastructure is still reported healthy.
    func testHealthIs503AndNamesTheAgentsThatAreDown() throws {
        let (a, b) = (AgentProcess.freePort(), AgentProcess.freePort())
        let gateway = try GatewayTest.start(["AGENT_URLS": "aria-risk=http://127.0.0.1:\(a),human-behavior=http://127.0.0.1:\(b)/"])
        let r = try GatewayTest.get(gateway, "/health")
        XCTAssertEqual(r.status, 503, r.text)
        let body = GatewayTest.object(r)
        XCTAssertEqual(body["status"] as? String, "unhealthy")
        XCTAssertEqual((body["failing"] as? [String] ?? []).sorted(), ["aria-risk", "human-behavior"], r.text)
        let components = body["components"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(components.compactMap { $0["name"] as? String }),
                       ["aria-risk", "human-behavior", "postgres", "market-db", "redis", "kafka"])
        for c in components {
            XCTAssertNotNil(c["latencyMs"] as? Double, "\(c)")
            if ["aria-risk", "human-behavior"].contains(c["name"] as? String ?? "") {
                XCTAssertEqual(c["status"] as? String, "unhealthy")
                XCTAssertFalse((c["error"] as? String ?? "").isEmpty, "\(c)")
            } else {
                XCTAssertEqual(c["status"] as? String, "healthy", "\(c)")
            }
        }
        XCTAssertEqual(try GatewayTest.get(gateway, "/ready").status, 200)
        XCTAssertTrue(try GatewayTest.get(gateway, "/metrics").text.contains("tmt_service_info{"))
    }

    /// Every mutating route (every POST of docs/api/openapi.yaml, which the test above holds
    /// equal to the route table) answers 401 without a token and with a wrong one (JSON error,
    /// WWW-Authenticate), and each refusal is in audit_log.
    func testMutatingRoutesRequireTheTokenAndAuditEveryRefusal() throws {
        let gateway = try GatewayTest.start()
        let actor = "unauth-\(UUID().uuidString.prefix(8).lowercased())"
        let body = #"{"tier":"system","reason":"should never be applied"}"#
        let routes = try GatewayTest.mutatingRoutes()
        XCTAssertEqual(routes.count, 7, "\(routes)")
        for route in routes {
            for token in [nil, "wrong-\(GatewayTest.token)", GatewayTest.token + "x", ""] as [String?] {
                let r = try GatewayTest.post(gateway, route, json: body, token: token, operator: actor)
                GatewayTest.assertError(r, 401, code: "unauthorized")
                XCTAssertEqual(r.headers["WWW-Authenticate"], "Bearer realm=\"tmt-api-gateway\"", route)
            }
        }
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let rows = try pool.query("SELECT action, result FROM audit_log WHERE actor = $1", [actor])
        XCTAssertEqual(rows.count, routes.count * 4)
        let actions = try rows.map { try $0.decode(String.self, column: "action") }
        for action in ["breaker.trip", "breaker.reset", "breaker.flatten", "experiment.approve", "experiment.stop", "day.reset",
                       "account.restart"] {
            XCTAssertEqual(actions.filter { $0 == action }.count, 4, "\(action) in \(actions)")
        }
        XCTAssertTrue(try rows.allSatisfy { try $0.decode(String.self, column: "result") == "refused: unauthorized" })
    }

    /// Without TMT_API_TOKEN every mutating route is disabled with a 503 that names the setting.
    func testMutatingRoutesAre503WhenNoTokenIsConfigured() throws {
        let gateway = try GatewayTest.start(["TMT_API_TOKEN": ""])
        for route in try GatewayTest.mutatingRoutes() {
            let r = try GatewayTest.post(gateway, route, json: #"{"tier":"system","reason":"x"}"#)
            GatewayTest.assertError(r, 503, code: "not_configured", mentions: "TMT_API_TOKEN")
        }
    }

    /// A day reset: the body checked (400 naming the field, 404 for an unknown account); with no
    /// agent consuming staging.commands, 504 naming the agents that did not acknowledge; all audited.
    func testDayResetValidatesAndTimesOutNamingTheSilentAgents() throws {
        let gateway = try GatewayTest.start(["DAY_RESET_TIMEOUT_SECONDS": "1", "DAY_RESET_AGENTS": "execution-engine,compliance-engine"])
        let actor = "day-\(UUID().uuidString.prefix(8).lowercased())"
        let route = "/api/v1/day/reset"
        GatewayTest.assertError(try GatewayTest.post(gateway, route, json: "{}", operator: actor), 400, code: "invalid_body", mentions: "'reason'")
        GatewayTest.assertError(try GatewayTest.post(gateway, route, json: #"{"reason":"r","accounts":"all"}"#, operator: actor), 400,
                                code: "invalid_body")
        GatewayTest.assertError(try GatewayTest.post(gateway, route, json: #"{"reason":"r","accounts":[""]}"#, operator: actor), 400,
                                mentions: "'accounts'")
        GatewayTest.assertError(try GatewayTest.post(gateway, route, json: #"{"reason":"r","accounts":["no-such-\#(actor)"]}"#, operator: actor),
                                404, code: "unknown_account", mentions: "no-such-\(actor)")
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let account = "day-\(actor)"
        try pool.execute("INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, high_water_mark) VALUES ($1, 'ftmo-like', 'USD', 1000, 1000, 1000, 1000)",
                         [account])
        defer { _ = try? pool.execute("DELETE FROM accounts WHERE id = $1", [account]) }
        // No agent runs in this test, so nobody acknowledges: 504 naming both.
        let timeout = try GatewayTest.post(gateway, route, json: #"{"reason":"nobody listens","accounts":["\#(account)"]}"#, operator: actor)
        GatewayTest.assertError(timeout, 504, code: "day_reset_timeout", mentions: "compliance-engine, execution-engine")

        let rows = try pool.query("SELECT action, target, result FROM audit_log WHERE actor = $1 ORDER BY id", [actor])
        XCTAssertEqual(try rows.map { try $0.decode(String.self, column: "action") }, Array(repeating: "day.reset", count: 5))
        XCTAssertEqual(try rows.map { try $0.decode(String.self, column: "result") },
                       ["refused: invalid_body", "refused: invalid_body", "refused: invalid_body", "refused: unknown_account",
                        "timeout"])
        XCTAssertEqual(try rows.last?.decode(String.self, column: "target"), "accounts:\(account)")
    }

    /// An account restart: the same checks as a day reset (it shares the control), its own 504
    /// code naming ACCOUNT_RESTART_AGENTS, and the command published carries the target epoch
    /// (the account's epoch + 1), read here from the acknowledgement-less command on the topic.
    func testAccountRestartValidatesAndTimesOutNamingTheSilentAgents() throws {
        let gateway = try GatewayTest.start(["ACCOUNT_RESTART_TIMEOUT_SECONDS": "1", "ACCOUNT_RESTART_AGENTS": "execution-engine,anti-correlation"])
        let actor = "restart-\(UUID().uuidString.prefix(8).lowercased())"
        let route = "/api/v1/accounts/restart"
        GatewayTest.assertError(try GatewayTest.post(gateway, route, json: #"{"accounts":["x"]}"#, operator: actor), 400, code: "invalid_body",
                                mentions: "'reason'")
        // A misspelt field or a query parameter must not read as "no accounts named", which
        // means every account (it did: both restarted every configured account).
        GatewayTest.assertError(try GatewayTest.post(gateway, route, json: #"{"account":"ACC-1","reason":"r"}"#, operator: actor), 400,
                                code: "invalid_body", mentions: "unknown field 'account'")
        GatewayTest.assertError(try GatewayTest.post(gateway, route + "?accounts=ACC-1", json: #"{"reason":"r"}"#, operator: actor), 400,
                                code: "invalid_parameter", mentions: "'accounts'")
        GatewayTest.assertError(try GatewayTest.post(gateway, route, json: #"{"reason":"r","accounts":["no-such-\#(actor)"]}"#, operator: actor),
                                404, code: "unknown_account", mentions: "no-such-\(actor)")
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let account = "restart-\(actor)"
        try pool.execute("""
            INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, high_water_mark, epoch)
            VALUES ($1, 'ftmo-like', 'USD', 1000, 900, 900, 1000, 4)
            """, [account])
        defer { _ = try? pool.execute("DELETE FROM accounts WHERE id = $1", [account]) }
        let timeout = try GatewayTest.post(gateway, route, json: #"{"reason":"nobody listens","accounts":["\#(account)"]}"#, operator: actor)
        GatewayTest.assertError(timeout, 504, code: "account_restart_timeout", mentions: "anti-correlation, execution-engine")
        // Nothing applied it: the row is as it was.
        let row = try XCTUnwrap(try pool.queryOne("SELECT balance, epoch FROM accounts WHERE id = $1", [account]))
        XCTAssertEqual(try row.decode(Decimal.self, column: "balance"), 900)
        XCTAssertEqual(try row.decode(Int.self, column: "epoch"), 4)

        let rows = try pool.query("SELECT action, target, result, detail->>'commandId' AS command_id FROM audit_log WHERE actor = $1 ORDER BY id", [actor])
        let commandId = try XCTUnwrap(try rows.last?.decode(String?.self, column: "command_id"))
        let published = try KafkaTestSupport.readAll(["staging.commands"], count: 1) { $0.valueString.contains(commandId) }
        let command = try KafkaConsumer.decodeEnvelope(StagingCommand.self, from: try XCTUnwrap(published.first)).payload
        XCTAssertEqual(command.action, .accountRestart)
        XCTAssertEqual(command.accounts, [account])
        XCTAssertEqual(command.epochs, [account: 5])
        XCTAssertEqual(command.requestedBy, actor)
        XCTAssertEqual(try rows.map { try $0.decode(String.self, column: "action") }, Array(repeating: "account.restart", count: 5))
        XCTAssertEqual(try rows.map { try $0.decode(String.self, column: "result") },
                       ["refused: invalid_body", "refused: invalid_body", "refused: invalid_parameter", "refused: unknown_account", "timeout"])
        XCTAssertEqual(try rows.last?.decode(String.self, column: "target"), "accounts:\(account)")
    }

    /// 404, 405, 400 naming the field (body and query), 413: all JSON errors.
    func testErrorsAreJSONWithTheRightStatus() throws {
        let gateway = try GatewayTest.start(["API_MAX_BODY_BYTES": "1024"])
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/nothing-here"), 404, code: "not_found")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders/no-such-order-\(UUID().uuidString)"), 404, code: "not_found")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders/no-such-order-\(UUID().uuidString)/trail"), 404)

        let wrongMethod = try HTTPClient(timeout: 10).post(gateway.base + "/api/v1/orders", body: [])
        GatewayTest.assertError(wrongMethod, 405, code: "method_not_allowed")
        XCTAssertEqual(wrongMethod.headers["Allow"], "GET, HEAD")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/breaker/trip"), 405)

        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders?limit=501"), 400, mentions: "'limit'")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders?status=flying"), 400, mentions: "'status'")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders?since=yesterday"), 400, mentions: "'since'")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders?cursor=%21%21"), 400, mentions: "'cursor'")
        // Times PostgreSQL cannot hold (a 500 before) or that the encoder sent as NULL (an empty 200).
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders?since=-1e12"), 400, mentions: "'since'")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders?until=1e13"), 400, mentions: "'until'")
        let farCursor = Data("9000000000000000000|x".utf8).base64EncodedString().replacing("=", with: "")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders?cursor=\(farCursor)"), 400, mentions: "'cursor'")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/orders/x/trail?foo=1"), 400, code: "invalid_parameter", mentions: "'foo'")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/fills?acount=x"), 400, mentions: "'acount'")
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/latency?window=0"), 400, mentions: "'window'")

        let actor = "bad-\(UUID().uuidString.prefix(8).lowercased())"
        let trip = "/api/v1/breaker/trip"
        GatewayTest.assertError(try GatewayTest.post(gateway, trip, json: "{not json", operator: actor), 400, code: "invalid_body")
        GatewayTest.assertError(try GatewayTest.post(gateway, trip, json: #"{"target":"a"}"#, operator: actor), 400, mentions: "'tier'")
        GatewayTest.assertError(try GatewayTest.post(gateway, trip, json: #"{"tier":"galaxy"}"#, operator: actor), 400, mentions: "'tier'")
        GatewayTest.assertError(try GatewayTest.post(gateway, trip, json: #"{"tier":"account","reason":"r"}"#, operator: actor), 400,
                                mentions: "'target'")
        GatewayTest.assertError(try GatewayTest.post(gateway, trip, json: #"{"tier":"account","target":"a"}"#, operator: actor), 400,
                                mentions: "'reason'")
        GatewayTest.assertError(try GatewayTest.post(gateway, "/api/v1/breaker/flatten", json: #"{"tier":"agent","target":"aria-risk","reason":"r"}"#,
                                                     operator: actor), 400, mentions: "'tier'")
        GatewayTest.assertError(try GatewayTest.post(gateway, trip, json: #"{"tier":5}"#, operator: actor), 400, mentions: "'tier'")
        GatewayTest.assertError(try GatewayTest.post(gateway, "/api/v1/breaker/flatten", json: #"{"tier":"account","targt":"a","reason":"r"}"#,
                                                     operator: actor), 400, code: "invalid_body", mentions: "unknown field 'targt'")
        let big = "{\"tier\":\"system\",\"reason\":\"" + String(repeating: "x", count: 2000) + "\"}"
        GatewayTest.assertError(try GatewayTest.post(gateway, trip, json: big, operator: actor), 413, code: "content_too_large")

        // The refused mutations that reached the handler are audited with the reason.
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let rows = try pool.query("SELECT result FROM audit_log WHERE actor = $1", [actor])
        XCTAssertEqual(rows.count, 8)
        XCTAssertTrue(try rows.allSatisfy { try $0.decode(String.self, column: "result") == "refused: invalid_body" })
    }
}
