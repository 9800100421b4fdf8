import Foundation
import TMTCore
import XCTest

/// The Trading Dashboard in headless Chromium (Debian's package), driven over the DevTools
/// protocol: the page served on the dashboard port renders the seeded account, position and
/// order, expands the order's decision trail, and changes when an `accounts.updates` message
/// arrives over the live feed (one page session throughout). A screenshot is saved as a test
/// artifact (`$TMT_TEST_ARTIFACTS`, default `.build/test-artifacts`). Named `Gateway…` so the
/// gateway filter `IntegrationTests.Gateway` selects it.
final class GatewayDashboardBrowserTests: XCTestCase {
    func testDashboardRendersSeededStateTrailAndLiveAccountUpdate() throws {
        try XCTSkipUnless(HeadlessChromium.isAvailable, "\(HeadlessChromium.executable) is not installed (scripts/install-deps.sh)")
        let run = String(UUID().uuidString.prefix(8).lowercased())
        let account = "dash-\(run)-ftmo"
        let order = "dash-\(run)-order"
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let dashboardPort = AgentProcess.freePort()
        let gateway = try GatewayTest.start(["DASHBOARD_PORT": String(dashboardPort), "STREAM_HEARTBEAT_SECONDS": "2"])
        try seed(pool, run: run, account: account, order: order)
        let experiment = "exp-dash-\(run)"
        try pool.execute("""
            INSERT INTO experiments (id, service, parameters, status, baseline, p_value, improvement_percent)
            VALUES ($1, $2, '{"stopATR": "0.6"}', 'pending', '{"stopATR": "0.5"}', 0.012, 4.2)
            """, [experiment, "dash-\(run)"])
        defer { _ = try? pool.execute("DELETE FROM experiments WHERE id = $1", [experiment]) }

        let browser = try HeadlessChromium()
        defer { browser.shutdown() }
        let page = try DevToolsPage(webSocketURL: try browser.pageWebSocketURL())
        defer { page.close() }
        try page.call("Page.enable")
        try page.call("Page.navigate", ["url": "http://127.0.0.1:\(dashboardPort)/?account=\(account)"])
        let accountRow = #"document.querySelector('#accounts tr[data-account-id="\#(account)"]')"#
        XCTAssertTrue(page.waitFor("document.body && document.body.dataset.loaded === 'true' && \(accountRow)", timeout: 20),
                      "the dashboard never rendered the seeded account:\n\(diagnostics(page, gateway))")
        XCTAssertTrue(page.waitFor("document.querySelector('#sse-status').dataset.state === 'connected'", timeout: 15),
                      "the live feed never connected:\n\(diagnostics(page, gateway))")

        // Accounts, with the firm's limits; the equity curve from the seeded snapshots.
        XCTAssertEqual(try page.evaluate("\(accountRow).querySelector('[data-field=balance]').dataset.value") as? String, "101234.5")
        XCTAssertEqual(try page.evaluate("\(accountRow).querySelector('[data-field=dailyLoss] .meter').dataset.status") as? String, "ok")
        XCTAssertTrue(page.waitFor("document.querySelector('#equity-chart').dataset.points === '5' && document.querySelector('#equity-chart svg path.equity')",
                                   timeout: 10), "no equity curve:\n\(diagnostics(page, gateway))")
        // The open position and the health grid.
        XCTAssertTrue(page.waitFor(#"document.querySelector('#positions tr[data-position="\#(account)|EUR_USD"]')"#, timeout: 10),
                      "the seeded position is not listed:\n\(diagnostics(page, gateway))")
        // With its mark and unrealised P&L as the execution engine stored them.
        let positionRow = #"document.querySelector('#positions tr[data-position="\#(account)|EUR_USD"]')"#
        XCTAssertEqual(try page.evaluate("\(positionRow).querySelector('[data-field=mark]').textContent") as? String, "1.08712")
        XCTAssertEqual(try page.evaluate("\(positionRow).querySelector('[data-field=unrealized]').dataset.value") as? String, "300.5")
        XCTAssertEqual(try page.evaluate("\(positionRow).querySelector('[data-field=unrealized]').textContent") as? String, "300.50")
        XCTAssertEqual(try page.evaluate("\(positionRow).querySelector('[data-field=unrealized]').className") as? String, "r num pos")
        XCTAssertTrue(page.waitFor("document.querySelector('#health [data-component=postgres][data-status=healthy]')", timeout: 10))
        // No breaker has reported here: trading is HALTED for everyone, and the badge says why.
        XCTAssertTrue(page.waitFor("document.querySelector('#trading-state').dataset.state === 'HALTED'", timeout: 10),
                      "the trading badge:\n\(diagnostics(page, gateway))")
        XCTAssertTrue((try page.evaluate("document.querySelector('#trading-state').title") as? String ?? "").contains("has not reported"))

        // The order and its decision trail, expanded by a click.
        let orderRow = #"document.querySelector('#orders tr[data-order-id="\#(order)"]')"#
        XCTAssertTrue(page.waitFor(orderRow, timeout: 10), "the seeded order is not listed:\n\(diagnostics(page, gateway))")
        _ = try page.evaluate("\(orderRow).click(), true")
        XCTAssertTrue(page.waitFor(#"document.querySelector('#trail[data-order-id="\#(order)"][data-state=loaded]')"#, timeout: 10),
                      "the trail never loaded:\n\(diagnostics(page, gateway))")
        let stages = try page.evaluate("[...document.querySelectorAll('#trail [data-stage]')].map(e => e.dataset.stage).join(',')") as? String
        XCTAssertEqual(stages, "signal,sizing,compliance,antiCorrelation,humanDelay,breaker,compliance-record,fills")
        XCTAssertEqual(try page.evaluate("document.querySelectorAll('#trail [data-hop]').length") as? Int, 4)
        XCTAssertEqual(try page.evaluate("document.querySelector('#trail [data-rule=\"daily-loss\"]').dataset.passed") as? String, "true")

        // Live: an accounts.updates message changes the balance in the same page session. The
        // stream's consumer starts at the latest offsets, so a message sent before it has
        // resolved them would be skipped: publish until the page shows it (bounded).
        let eventsBefore = try page.evaluate("Number(document.querySelector('#event-count').textContent)") as? Int ?? -1
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: TestServices.kafkaBootstrap(), clientId: "dashboard-test"),
                                         metrics: MetricsRegistry())
        defer { producer.close(timeout: 5) }
        var update = Account(id: account, firm: "ftmo-like", currency: "USD", initialBalance: 100_000)
        update.balance = Decimal(string: "123456.78")!
        update.equity = Decimal(string: "123400.5")!
        update.dailyPnL = Decimal(string: "-1500")!
        update.highWaterMark = Decimal(string: "123456.78")!
        var n = 0
        /// Publishes `account` until the page shows it (`shown`, a JavaScript condition), at most 30 s.
        func publish(_ account: Account, until shown: String) throws -> Bool {
            let end = Date().addingTimeInterval(30)
            while Date() < end {
                n += 1
                _ = try producer.send(Envelope(id: "dash-\(run)-acct-\(n)", type: "account.update", traceId: "dash-\(run)", source: "test",
                                               payload: account), to: .accountsUpdates, key: account.id).wait(timeout: 10)
                if page.waitFor(shown, timeout: 2) { return true }
            }
            return false
        }
        XCTAssertTrue(try publish(update, until: "\(accountRow).querySelector('[data-field=balance]').dataset.value === '123456.78'"),
                      "the account update never reached the page:\n\(diagnostics(page, gateway))")
        let eventsAfter = try page.evaluate("Number(document.querySelector('#event-count').textContent)") as? Int ?? -1
        XCTAssertGreaterThan(eventsAfter, eventsBefore)
        XCTAssertEqual(try page.evaluate("\(accountRow).dataset.live") as? String, "true")
        XCTAssertEqual(try page.evaluate("\(accountRow).querySelector('[data-field=dailyPnl]').dataset.value") as? String, "-1500")
        XCTAssertTrue(try page.evaluate(#"document.querySelector('#events li[data-event=account]').textContent"# ) as? String ?? "" != "")

        // A live loss on the stored row's day (start balance 101,300 − 250 = 101,050): the meters
        // and the drawdown are measured at the live equity, as compliance measures them, not left
        // at the stored row's. Daily (ftmo-like: 5,000 from the day's start balance): 6,050 lost,
        // breached; maximum (10,000 below the initial 100,000): 5,000, 50 %; drawdown from the
        // mark 101,300: 6.22 %.
        var loss = update
        loss.balance = Decimal(string: "101234.5")!
        loss.equity = 95_000
        loss.dailyPnL = -6_050
        loss.highWaterMark = 101_300
        XCTAssertTrue(try publish(loss, until: "\(accountRow).querySelector('[data-field=equity]').dataset.value === '95000'"),
                      "the loss never reached the page:\n\(diagnostics(page, gateway))")
        func meter(_ field: String, _ key: String) throws -> String? {
            try page.evaluate("\(accountRow).querySelector('[data-field=\(field)] .meter').dataset.\(key)") as? String
        }
        XCTAssertEqual(try meter("dailyLoss", "status"), "breached")
        XCTAssertEqual(try meter("dailyLoss", "percent"), "121.0")
        XCTAssertEqual(try meter("maxLoss", "percent"), "50.0")
        XCTAssertEqual(try meter("maxLoss", "status"), "ok")
        XCTAssertEqual(try page.evaluate("\(accountRow).querySelector('[data-field=drawdown]').textContent") as? String, "6.22%")
        XCTAssertTrue(page.waitFor(#"document.querySelector('#compliance li[data-account="\#(account)"][data-limit="daily loss"][data-status=breached]')"#,
                                   timeout: 5), "the warnings list does not follow the live meter:\n\(diagnostics(page, gateway))")

        // A breaker command from the page: a wrong token is refused with 401, shown to the user.
        _ = try page.evaluate("document.querySelector('#token').value = 'wrong-\(run)', document.querySelector('#breaker-form [data-action=trip]').click(), true")
        XCTAssertTrue(page.waitFor("document.querySelector('#breaker-result').dataset.status === '401'", timeout: 10),
                      "no 401 shown for a wrong token:\n\(diagnostics(page, gateway))")
        XCTAssertTrue((try page.evaluate("document.querySelector('#breaker-result').textContent") as? String ?? "").contains("401"))

        // The agents table lists the (unreachable) circuit breaker as down; the seeded proposal has
        // an approve button, and a wrong token is refused with 401 there too.
        XCTAssertTrue(page.waitFor("document.querySelector('#agents[data-state=loaded] tr[data-agent-name=circuit-breaker][data-status=down]')",
                                   timeout: 10), "no agents table:\n\(diagnostics(page, gateway))")
        let proposal = #"document.querySelector('#experiments tr[data-experiment-id="\#(experiment)"][data-status=pending]')"#
        XCTAssertTrue(page.waitFor(proposal, timeout: 10), "no proposal row:\n\(diagnostics(page, gateway))")
        _ = try page.evaluate("document.querySelector('#token').value = 'wrong-\(run)', \(proposal).querySelector('[data-action=approve]').click(), true")
        XCTAssertTrue(page.waitFor("document.querySelector('#experiment-result').dataset.status === '401'", timeout: 10),
                      "no 401 shown for a wrong token:\n\(diagnostics(page, gateway))")

        // Stop asks first: declined, nothing is sent; accepted, the request goes out (and the
        // wrong token is refused, audited under the dashboard's operator name).
        func stops() throws -> Int {
            try XCTUnwrap(try pool.queryOne("SELECT count(*)::int AS n FROM audit_log WHERE action = 'experiment.stop' AND target = $1",
                                            [experiment])).decode(Int.self, column: "n")
        }
        _ = try page.evaluate("""
            window.__asked = []; window.__answer = false; window.confirm = (m) => { window.__asked.push(m); return window.__answer; };
            document.querySelector('#token').value = 'wrong-\(run)'; \(proposal).querySelector('[data-action=stop]').click(), true
            """)
        XCTAssertTrue((try page.evaluate("window.__asked.join('|')") as? String ?? "").contains(experiment), "no confirmation asked")
        usleep(500_000)
        XCTAssertEqual(try stops(), 0, "a declined stop was sent")
        XCTAssertEqual(try page.evaluate("document.querySelector('#experiment-result').dataset.status") as? String, "401")
        _ = try page.evaluate("window.__answer = true, document.querySelector('#experiment-result').dataset.status = '', \(proposal).querySelector('[data-action=stop]').click(), true")
        XCTAssertTrue(page.waitFor("document.querySelector('#experiment-result').dataset.status === '401'", timeout: 10),
                      "an accepted stop was not sent:\n\(diagnostics(page, gateway))")
        XCTAssertEqual(try stops(), 1)

        try page.saveScreenshot(name: "dashboard-\(run)")
    }

    /// An account with five equity snapshots, an open position, and a filled order with its
    /// whole trail (signal, five decisions, a compliance record, order events, a fill, hops).
    private func seed(_ pool: PostgresPool, run: String, account: String, order: String) throws {
        try pool.execute("""
            INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, daily_pnl, high_water_mark)
            VALUES ($1, 'ftmo-like', 'USD', 100000, 101234.5, 101300, 250, 101300)
            """, [account])
        for i in 0..<5 {
            try pool.execute("""
                INSERT INTO account_snapshots (account_id, balance, equity, daily_pnl, drawdown_percent, at)
                VALUES ($1, $2, $3, 0, 0, now() - $4::int * interval '1 minute')
                """, [account, Double(100_000 + i * 300), Double(100_050 + i * 310), 5 - i])
        }
        try pool.execute("""
            INSERT INTO positions (account_id, instrument, quantity, average_price, realized_pnl, opened_at, stop_loss, take_profit, source_order_id,
                                   mark_price, unrealized_pnl, marked_at)
            VALUES ($1, 'EUR_USD', 1.5, 1.08512, 0, now(), 1.083, 1.089, $2, 1.08712, 300.5, now())
            """, [account, order])
        let signal = "dash-\(run)-sig"
        try pool.execute("""
            INSERT INTO signals (id, instrument, side, entry, stop_loss, take_profit, confidence, pattern, phase, trace_id, created_at)
            VALUES ($1, 'EUR_USD', 'buy', 1.08500, 1.08300, 1.08900, 0.8, 'spring', 'accumulation', 'trace', now())
            """, [signal])
        let t0 = HopClock.nowMicros() - 30_000_000
        let hops = [Hop(agent: "wyckoff-analysis", inMicros: t0, outMicros: t0 + 2_000),
                    Hop(agent: "aria-risk", inMicros: t0 + 3_000, outMicros: t0 + 8_000),
                    Hop(agent: "compliance-engine", inMicros: t0 + 9_000, outMicros: t0 + 10_500),
                    Hop(agent: "circuit-breaker", inMicros: t0 + 12_000, outMicros: t0 + 12_250)]
        let compliance = Decision(agent: "compliance-engine", verdict: .approved,
                                  checks: [Decision.Check(rule: "daily-loss", passed: true, severity: "hard", detail: "within limit")],
                                  figures: [:], decidedAt: t0 + 10_000)
        let decisions = [
            Decision(agent: "aria-risk", verdict: .approved, checks: [], figures: ["riskPercent": "1", "units": "150000"], decidedAt: t0 + 8_000),
            compliance,
            Decision(agent: "anti-correlation", verdict: .approved, checks: [], figures: ["action": "none"], decidedAt: t0 + 10_600),
            Decision(agent: "human-behavior", verdict: .delayed, checks: [], figures: ["delayMs": "1200"], decidedAt: t0 + 11_000),
            Decision(agent: "circuit-breaker", verdict: .cleared, checks: [], figures: ["tradingState": "ACTIVE"], decidedAt: t0 + 12_200),
        ]
        try pool.execute("""
            INSERT INTO orders (id, signal_id, account_id, instrument, side, type, quantity, stop_loss, take_profit, status,
                                filled_quantity, decisions, hops, trace_id, created_at)
            VALUES ($1, $2, $3, 'EUR_USD', 'buy', 'market', 1.5, 1.08300, 1.08900, 'filled', 1.5, $4, $5, 'trace', now())
            """, [order, signal, account, try PostgresJSON(encoding: decisions), try PostgresJSON(encoding: hops)])
        try pool.execute("""
            INSERT INTO compliance_decisions (order_id, account_id, firm, verdict, mode, checks, decided_at)
            VALUES ($1, $2, 'ftmo-like', 'approved', 'strict', $3, now())
            """, [order, account, try PostgresJSON(encoding: compliance.checks)])
        try pool.execute("INSERT INTO order_events (message_id, order_id, agent, status, processing_ms) VALUES ($1, $2, 'execution-engine', 'filled', 0.4)",
                         ["\(order):execution-engine", order])
        try pool.execute("""
            INSERT INTO fills (id, order_id, account_id, instrument, side, quantity, price, spread, slippage, commission, filled_at)
            VALUES ($1, $2, $3, 'EUR_USD', 'buy', 1.5, 1.08512, 0.00008, 0.00001, 5.25, now())
            """, ["\(order)#1", order, account])
    }

    /// What the page and the gateway say, for failure messages.
    private func diagnostics(_ page: DevToolsPage, _ gateway: AgentProcess) -> String {
        let state = (try? page.evaluate("""
            JSON.stringify({loaded: document.body && document.body.dataset.loaded, sse: document.querySelector('#sse-status') && document.querySelector('#sse-status').dataset.state,
              events: document.querySelector('#event-count') && document.querySelector('#event-count').textContent,
              accounts: document.querySelectorAll('#accounts tr[data-account-id]').length, orders: document.querySelectorAll('#orders tr[data-order-id]').length,
              positions: document.querySelectorAll('#positions tr[data-position]').length, url: location.href})
            """) as? String) ?? "(page state unavailable)"
        return "page: \(state)\ngateway log:\n\(gateway.log.suffix(3000))"
    }
}
