import Foundation
import TMTCore
import XCTest

/// The end-to-end run as its users see it: through the API gateway's routes (each answer
/// checked against PostgreSQL) and the Trading Dashboard in headless Chromium.
extension PipelineEndToEndTests {
    typealias Browser = (chromium: HeadlessChromium, page: DevToolsPage)

    static func object(_ r: HTTPClientResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
    }

    static func items(_ r: HTTPClientResponse) -> [[String: Any]] { object(r)["items"] as? [[String: Any]] ?? [] }

    static func get(_ gateway: AgentProcess, _ path: String) throws -> HTTPClientResponse {
        try HTTPClient(timeout: 20).get(gateway.base + path)
    }

    static func double(_ d: Decimal) -> Double { NSDecimalNumber(decimal: d).doubleValue }

    /// `/health` is 200 with every agent and the infrastructure healthy (agents may take a few
    /// seconds to report healthy after joining their groups).
    func checkHealthy(_ gateway: AgentProcess, stack: PipelineStack) throws {
        var last: HTTPClientResponse?
        let healthy = KafkaWait.until(timeout: 45) {
            last = try? Self.get(gateway, "/health")
            return last?.status == 200
        }
        XCTAssertTrue(healthy, "the gateway's /health never turned 200: \(last?.text ?? "-")\n\(stack.logs())")
        let components = (Self.object(try XCTUnwrap(last))["components"] as? [[String: Any]]) ?? []
        XCTAssertEqual(Set(components.compactMap { $0["name"] as? String }),
                       Set(PipelineStack.agents.map(\.service) + ["postgres", "market-db", "redis", "kafka"]))
        XCTAssertTrue(components.allSatisfy { $0["status"] as? String == "healthy" }, "\(components)")
    }

    /// The dashboard on `account`, loaded and connected to the live feed; nil (and a failure)
    /// when Chromium is missing.
    func openDashboard(port: Int, account: String, stack: PipelineStack) throws -> Browser? {
        guard HeadlessChromium.isAvailable else {
            XCTFail("\(HeadlessChromium.executable) is not installed (scripts/install-deps.sh): the dashboard is not checked")
            return nil
        }
        let chromium = try HeadlessChromium()
        let page = try DevToolsPage(webSocketURL: try chromium.pageWebSocketURL())
        try page.call("Page.enable")
        try page.call("Page.navigate", ["url": "http://127.0.0.1:\(port)/?account=\(account)"])
        XCTAssertTrue(page.waitFor("document.body && document.body.dataset.loaded === 'true'", timeout: 30),
                      "the dashboard never loaded:\n\(stack.logs(1500))")
        XCTAssertTrue(page.waitFor("document.querySelector('#sse-status').dataset.state === 'connected'", timeout: 20),
                      "the dashboard's live feed never connected")
        return (chromium, page)
    }

    /// The operator's reset of a tripped account breaker, through the gateway.
    func resetThroughGateway(_ gateway: AgentProcess, account: String, stack: PipelineStack) throws {
        let r = try HTTPClient(timeout: 30).post(gateway.base + "/api/v1/breaker/reset", body: Array("""
            {"tier":"account","target":"\(account)","reason":"end-to-end test: resume after the scripted drawdown"}
            """.utf8), headers: ["Authorization": "Bearer \(stack.gatewayToken)", "X-Operator": "e2e-\(stack.run)"])
        XCTAssertEqual(r.status, 200, "\(r.text)\n\(stack.logs(1500))")
        // The state the breaker's snapshot showed once it listed the command: normal, unless the
        // account tripped anew before the gateway read it (the daily limit here is tiny and
        // positions stay open). The caller checks the reset's own event and any re-trip's.
        let state = (Self.object(r)["breaker"] as? [String: Any])?["state"] as? String
        XCTAssertTrue(["normal", "warning", "tripped"].contains(state ?? ""), r.text)
    }

    /// Every read route against what PostgreSQL holds for this run.
    func checkRoutes(_ gateway: AgentProcess, stack: PipelineStack, pool: PostgresPool, tripped: String) throws {
        let watched = stack.accounts[1].id
        // Accounts: the run's three, with the stored balances and the firm's limits.
        let accounts = Self.items(try Self.get(gateway, "/api/v1/accounts"))
        for account in stack.accounts {
            let view = try XCTUnwrap(accounts.first { $0["id"] as? String == account.id }, "\(account.id) not in /api/v1/accounts")
            let stored = try XCTUnwrap(try pool.queryOne("SELECT balance FROM accounts WHERE id = $1", [account.id])).decode(Decimal.self, column: "balance")
            XCTAssertEqual(view["balance"] as? Double ?? .nan, Self.double(stored), accuracy: 0.005, account.id)
            XCTAssertNotNil((view["dailyLoss"] as? [String: Any])?["limit"] as? Double, "\(view)")
        }
        XCTAssertEqual(try Self.get(gateway, "/api/v1/accounts/\(watched)/equity").status, 200)

        // Orders: pages of 3 by cursor cover the account's orders exactly once.
        let storedOrders = Set(try pool.query("SELECT id FROM orders WHERE account_id = $1", [watched]).map { try $0.decode(String.self, column: "id") })
        var paged: [String] = []
        var cursor: String?
        repeat {
            let r = try Self.get(gateway, "/api/v1/orders?account=\(watched)&limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""))
            XCTAssertEqual(r.status, 200, r.text)
            paged += Self.items(r).compactMap { $0["id"] as? String }
            cursor = Self.object(r)["nextCursor"] as? String
        } while cursor != nil && paged.count <= storedOrders.count + 3
        XCTAssertEqual(paged.count, Set(paged).count, "a page repeated an order")
        XCTAssertEqual(Set(paged), storedOrders)
        let filled = Self.items(try Self.get(gateway, "/api/v1/orders?account=\(watched)&status=filled&limit=500"))
        XCTAssertTrue(filled.allSatisfy { $0["status"] as? String == "filled" })
        let filledCount = try XCTUnwrap(try pool.queryOne("SELECT count(*)::bigint AS n FROM orders WHERE account_id = $1 AND status = 'filled'",
                                                          [watched])).decode(Int64.self, column: "n")
        XCTAssertEqual(Int64(filled.count), filledCount)

        // The newest filled signal order's trail: signal → sizing → compliance (every rule) →
        // anti-correlation → human delay → breaker → fills, with a latency per hop.
        let row = try XCTUnwrap(try pool.queryOne("""
            SELECT id, signal_id, jsonb_array_length(hops) AS hops FROM orders
            WHERE account_id = $1 AND status = 'filled' AND signal_id IS NOT NULL ORDER BY created_at DESC LIMIT 1
            """, [watched]), "\(watched) has no filled order")
        let orderId = try row.decode(String.self, column: "id")
        let trail = Self.object(try Self.get(gateway, "/api/v1/orders/\(orderId)/trail"))
        XCTAssertEqual((trail["signal"] as? [String: Any])?["id"] as? String, try row.decode(String.self, column: "signal_id"))
        XCTAssertEqual((trail["decisions"] as? [[String: Any]] ?? []).compactMap { $0["stage"] as? String },
                       ["sizing", "compliance", "antiCorrelation", "humanDelay", "breaker", "execution"])
        let rules = try XCTUnwrap(try pool.queryOne("SELECT jsonb_array_length(checks) AS n FROM compliance_decisions WHERE order_id = $1",
                                                    [orderId])).decode(Int.self, column: "n")
        XCTAssertEqual(((trail["compliance"] as? [String: Any])?["checks"] as? [Any])?.count, rules)
        let fills = try pool.query("SELECT id FROM fills WHERE order_id = $1", [orderId])
        XCTAssertEqual((trail["fills"] as? [Any])?.count, fills.count)
        XCTAssertFalse(fills.isEmpty)
        let latency = trail["latency"] as? [String: Any] ?? [:]
        XCTAssertEqual((latency["hops"] as? [Any])?.count, try row.decode(Int.self, column: "hops"))
        XCTAssertGreaterThan(latency["endToEndMs"] as? Double ?? 0, 0)

        // Fills, positions: the stored rows.
        let storedFills = try XCTUnwrap(try pool.queryOne("SELECT count(*)::bigint AS n FROM fills WHERE account_id = $1", [watched]))
            .decode(Int64.self, column: "n")
        XCTAssertEqual(Int64(Self.items(try Self.get(gateway, "/api/v1/fills?account=\(watched)&limit=500")).count), storedFills)
        let storedPositions = try XCTUnwrap(try pool.queryOne("""
            SELECT count(*)::bigint AS n FROM positions WHERE account_id = $1 AND quantity <> 0
            """, [watched])).decode(Int64.self, column: "n")
        XCTAssertEqual(Int64(Self.items(try Self.get(gateway, "/api/v1/positions?account=\(watched)")).count), storedPositions)
        XCTAssertFalse(Self.items(try Self.get(gateway, "/api/v1/signals?limit=50")).isEmpty)
        XCTAssertEqual(try Self.get(gateway, "/api/v1/compliance/violations?account=\(watched)").status, 200)

        // The breaker: the tripped account's trip and the operator's reset are in its history.
        let breaker = Self.object(try Self.get(gateway, "/api/v1/breaker?tier=account&target=\(tripped)&limit=200"))
        let transitions = (breaker["events"] as? [[String: Any]] ?? []).compactMap { $0["to"] as? String }
        XCTAssertTrue(transitions.contains("tripped") && transitions.contains("normal"), "\(breaker)")

        // Latency per agent of the chain and end to end; every agent up with its version.
        let summary = Self.object(try Self.get(gateway, "/api/v1/latency"))
        let perAgent = Dictionary((summary["agents"] as? [[String: Any]] ?? []).compactMap { a in (a["agent"] as? String).map { ($0, a) } },
                                  uniquingKeysWith: { a, _ in a })
        for agent in ["aria-risk", "compliance-engine", "anti-correlation", "human-behavior", "circuit-breaker", "execution-engine"] {
            XCTAssertGreaterThan(perAgent[agent]?["count"] as? Int ?? 0, 0, "no latency for \(agent): \(summary)")
            XCTAssertNotNil(perAgent[agent]?["p95Ms"] as? Double, "\(agent)")
        }
        XCTAssertGreaterThan((summary["endToEnd"] as? [String: Any])?["count"] as? Int ?? 0, 0, "\(summary)")
        let agents = Self.items(try Self.get(gateway, "/api/v1/agents"))
        XCTAssertEqual(agents.compactMap { $0["name"] as? String }, PipelineStack.agents.map(\.service))
        for a in agents {
            XCTAssertEqual(a["status"] as? String, "up", "\(a)")
            XCTAssertFalse((a["version"] as? String ?? "").isEmpty, "\(a)")
            XCTAssertGreaterThan(a["uptimeSeconds"] as? Double ?? 0, 0, "\(a)")
        }
        // The reset is audited under the operator who sent it.
        XCTAssertNotNil(try pool.queryOne("SELECT 1 AS x FROM audit_log WHERE actor = $1 AND action = 'breaker.reset' AND result = 'ok'",
                                          ["e2e-\(stack.run)"]))
    }

    /// What the page shows after the run: the account with its stored balance, its open
    /// positions, the live feed's fills, and an order's trail expanded by a click.
    func checkDashboard(_ page: DevToolsPage, gateway: AgentProcess, stack: PipelineStack, pool: PostgresPool, account: String) throws {
        let fillEvents = (try? page.evaluate("Number(document.querySelector('#event-count').dataset.fill || 0)")) as? Int ?? 0
        XCTAssertGreaterThan(fillEvents, 0, "no fill reached the page over the live feed")
        // Reload now that the pipeline has drained (the page also refreshes every 30 s).
        try page.call("Page.reload")
        XCTAssertTrue(page.waitFor("document.body && document.body.dataset.loaded === 'true' && document.querySelector('#sse-status').dataset.state === 'connected'",
                                   timeout: 30), "the dashboard did not load again")
        let row = #"document.querySelector('#accounts tr[data-account-id="\#(account)"]')"#
        let balance = try XCTUnwrap(try pool.queryOne("SELECT balance FROM accounts WHERE id = $1", [account])).decode(Decimal.self, column: "balance")
        XCTAssertTrue(page.waitFor("\(row) && Math.abs(Number(\(row).querySelector('[data-field=balance]').dataset.value) - \(Self.double(balance))) < 0.005",
                                   timeout: 20), "the account row does not show the stored balance \(balance)")
        let positions = try XCTUnwrap(try pool.queryOne("SELECT count(*)::int AS n FROM positions WHERE account_id = $1 AND quantity <> 0",
                                                        [account])).decode(Int.self, column: "n")
        XCTAssertTrue(page.waitFor("document.querySelectorAll('#positions tr[data-position]').length === \(positions)", timeout: 20),
                      "the page does not list the \(positions) open positions")
        let order = try XCTUnwrap(try pool.queryOne("""
            SELECT id FROM orders WHERE account_id = $1 AND status = 'filled' AND signal_id IS NOT NULL ORDER BY created_at DESC LIMIT 1
            """, [account])).decode(String.self, column: "id")
        let orderRow = #"document.querySelector('#orders tr[data-order-id="\#(order)"]')"#
        XCTAssertTrue(page.waitFor(orderRow, timeout: 20), "the filled order \(order) is not listed")
        _ = try page.evaluate("\(orderRow).click(), true")
        XCTAssertTrue(page.waitFor(#"document.querySelector('#trail[data-order-id="\#(order)"][data-state=loaded]')"#, timeout: 20),
                      "the trail of \(order) never loaded")
        let stages = try page.evaluate("[...document.querySelectorAll('#trail [data-stage]')].map(e => e.dataset.stage).join(',')") as? String ?? ""
        for stage in ["signal", "sizing", "compliance", "antiCorrelation", "humanDelay", "breaker", "fills"] {
            XCTAssertTrue(stages.split(separator: ",").contains(Substring(stage)), "no \(stage) in the trail: \(stages)")
        }
        XCTAssertGreaterThanOrEqual(try page.evaluate("document.querySelectorAll('#trail [data-hop]').length") as? Int ?? 0, 6)
        try page.saveScreenshot(name: "e2e-dashboard-\(stack.run)")
    }

    /// "New day" from the dashboard's breaker panel for every account: declining the
    /// confirmation sends nothing; accepting it is answered once execution, compliance and the
    /// breaker acknowledged, and each of the run's accounts starts its day at its balance.
    func newDayFromDashboard(_ page: DevToolsPage, gateway: AgentProcess, stack: PipelineStack, pool: PostgresPool) throws {
        let reason = "e2e new day \(stack.run)"
        _ = try page.evaluate("""
            window.__asked = []; window.__answer = false; window.confirm = (m) => { window.__asked.push(m); return window.__answer; };
            document.querySelector('#token').value = '\(stack.gatewayToken)';
            document.querySelector('#breaker-tier').value = 'system'; document.querySelector('#breaker-reason').value = '\(reason)';
            document.querySelector('#breaker-form [data-action="new-day"]').click(), true
            """)
        XCTAssertTrue((try page.evaluate("window.__asked.join('|')") as? String ?? "").contains("every account"))
        usleep(500_000)
        XCTAssertNotEqual(try page.evaluate("document.querySelector('#breaker-result').dataset.status") as? String, "pending", "sent though declined")
        XCTAssertNil(try pool.queryOne("SELECT 1 AS x FROM audit_log WHERE action = 'day.reset' AND detail->>'reason' = $1", [reason]))

        _ = try page.evaluate("window.__answer = true, document.querySelector('#breaker-form [data-action=\"new-day\"]').click(), true")
        XCTAssertTrue(page.waitFor("document.querySelector('#breaker-result').dataset.status === '200'", timeout: 45),
                      "the new day was not acknowledged: \((try? page.evaluate("document.querySelector('#breaker-result').textContent")) as? String ?? "-")\n\(stack.logs(1500))")
        let text = try page.evaluate("document.querySelector('#breaker-result').textContent") as? String ?? ""
        for agent in ["execution-engine", "compliance-engine", "circuit-breaker"] { XCTAssertTrue(text.contains(agent), text) }
        let audit = try XCTUnwrap(try pool.queryOne("""
            SELECT actor, result, detail->>'commandId' AS id FROM audit_log WHERE action = 'day.reset' AND detail->>'reason' = $1
            """, [reason]))
        XCTAssertEqual(try audit.decode(String.self, column: "actor"), "dashboard")
        XCTAssertEqual(try audit.decode(String.self, column: "result"), "ok")
        let command = try audit.decode(String.self, column: "id")
        let acks = try pool.query("SELECT agent, detail FROM staging_command_acks WHERE command_id = $1 ORDER BY agent", [command])
        // (Anti-correlation acknowledges it too, though it keeps nothing per day.)
        XCTAssertEqual(try acks.map { try $0.decode(String.self, column: "agent") },
                       ["anti-correlation", "circuit-breaker", "compliance-engine", "execution-engine"])
        for account in stack.accounts {
            let row = try XCTUnwrap(try pool.queryOne("SELECT balance, equity, daily_pnl FROM accounts WHERE id = $1", [account.id]))
            let balance = try row.decode(Decimal.self, column: "balance"), equity = try row.decode(Decimal.self, column: "equity")
            XCTAssertEqual(try row.decode(Decimal.self, column: "daily_pnl"), equity - balance,
                           "\(account.id): the new day's P&L is the open P&L only")
        }
        let execution = try acks.first { try $0.decode(String.self, column: "agent") == "execution-engine" }?.decode(String.self, column: "detail") ?? ""
        for account in stack.accounts { XCTAssertTrue(execution.contains(account.id), execution) }
    }
}

extension PipelineEndToEndTests {
    /// "Restart account" from the dashboard's breaker panel on `account` (one that traded and
    /// holds positions): every agent keeping per-account state acknowledges, the row is the
    /// initial balance again at epoch 1 with no positions or working orders, the fills stay, the
    /// compliance engine's view has the fresh account, and the page shows the new challenge.
    func restartFromDashboard(_ page: DevToolsPage, gateway: AgentProcess, stack: PipelineStack, pool: PostgresPool,
                              account: (id: String, firm: String, initial: Decimal)) throws {
        func count(_ sql: String) throws -> Int64 {
            try pool.queryOne(sql, [account.id])?.decode(Int64.self, column: "n") ?? -1
        }
        let fillsBefore = try count("SELECT count(*)::bigint AS n FROM fills WHERE account_id = $1")
        XCTAssertGreaterThan(fillsBefore, 0, "the restarted account should have traded")
        let epochBefore = try XCTUnwrap(try pool.queryOne("SELECT epoch FROM accounts WHERE id = $1", [account.id])).decode(Int.self, column: "epoch")
        let reason = "e2e restart \(stack.run)"
        // Tier system: the dashboard refuses to restart every account, and sends nothing.
        _ = try page.evaluate("""
            window.__asked = []; window.confirm = (m) => { window.__asked.push(m); return true; };
            document.querySelector('#token').value = '\(stack.gatewayToken)';
            document.querySelector('#breaker-tier').value = 'system'; document.querySelector('#breaker-reason').value = '\(reason)';
            document.querySelector('#breaker-form [data-action="restart"]').click(), true
            """)
        XCTAssertTrue(page.waitFor("document.querySelector('#breaker-result').dataset.status === 'error'", timeout: 5))
        XCTAssertEqual(try page.evaluate("window.__asked.length") as? Double, 0)

        _ = try page.evaluate("""
            document.querySelector('#breaker-tier').value = 'account'; document.querySelector('#breaker-target').value = '\(account.id)';
            document.querySelector('#breaker-form [data-action="restart"]').click(), true
            """)
        XCTAssertTrue(page.waitFor("document.querySelector('#breaker-result').dataset.status === '200'", timeout: 45),
                      "the restart was not acknowledged: \((try? page.evaluate("document.querySelector('#breaker-result').textContent")) as? String ?? "-")\n\(stack.logs(1500))")
        XCTAssertTrue((try page.evaluate("window.__asked.join('|')") as? String ?? "").contains("fresh challenge"))
        let text = try page.evaluate("document.querySelector('#breaker-result').textContent") as? String ?? ""
        let audit = try XCTUnwrap(try pool.queryOne("""
            SELECT actor, result, target, detail->>'commandId' AS id FROM audit_log WHERE action = 'account.restart' AND detail->>'reason' = $1
            """, [reason]))
        XCTAssertEqual(try audit.decode(String.self, column: "result"), "ok")
        XCTAssertEqual(try audit.decode(String.self, column: "target"), "accounts:\(account.id)")
        let acks = try pool.query("SELECT agent, detail FROM staging_command_acks WHERE command_id = $1 ORDER BY agent",
                                  [try audit.decode(String.self, column: "id")])
        XCTAssertEqual(try acks.map { try $0.decode(String.self, column: "agent") },
                       ["anti-correlation", "circuit-breaker", "compliance-engine", "execution-engine"], text)
        for ack in acks { XCTAssertTrue(try ack.decode(String.self, column: "detail").contains("\(account.id)"), text) }

        let row = try XCTUnwrap(try pool.queryOne("""
            SELECT balance, equity, high_water_mark, daily_pnl, realized_pnl, commission, epoch, restarted_at FROM accounts WHERE id = $1
            """, [account.id]))
        for column in ["balance", "equity", "high_water_mark"] {
            XCTAssertEqual(try row.decode(Decimal.self, column: column), account.initial, column)
        }
        for column in ["daily_pnl", "realized_pnl", "commission"] { XCTAssertEqual(try row.decode(Decimal.self, column: column), 0, column) }
        XCTAssertEqual(try row.decode(Int.self, column: "epoch"), epochBefore + 1)
        XCTAssertNotNil(try row.decode(Date?.self, column: "restarted_at"))
        XCTAssertEqual(try count("SELECT count(*)::bigint AS n FROM positions WHERE account_id = $1"), 0)
        XCTAssertEqual(try count("SELECT count(*)::bigint AS n FROM orders WHERE account_id = $1 AND working IS NOT NULL"), 0)
        XCTAssertEqual(try count("SELECT count(*)::bigint AS n FROM fills WHERE account_id = $1"), fillsBefore, "the fills stay for the record")

        // Compliance judges from the fresh account (its book had the new epoch before acknowledging).
        let compliance = try XCTUnwrap(stack.first("compliance-engine"))
        let seen = (try? JSONSerialization.jsonObject(with: Data(try HTTPClient(timeout: 10).get(compliance.base + "/api/v1/accounts").body)))
            as? [[String: Any]] ?? []
        let mine = try XCTUnwrap(seen.first { $0["id"] as? String == account.id })
        XCTAssertEqual(mine["epoch"] as? Int, epochBefore + 1)
        XCTAssertEqual((mine["balance"] as? NSNumber)?.doubleValue, Self.double(account.initial))
        // The dashboard marks the account's new challenge (in the table of all accounts).
        _ = try page.evaluate("(() => { const s = document.querySelector('#account-filter'); s.value = ''; s.dispatchEvent(new Event('change')); return true; })()")
        XCTAssertTrue(page.waitFor("(document.querySelector('#accounts tr[data-account-id=\"\(account.id)\"] [data-field=epoch]') || {}).dataset?.value === '\(epochBefore + 1)'",
                                   timeout: 15), "the dashboard does not show the restarted account's epoch")
    }
}
