import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTStagingTools
import TMTTrading

/// The seeded scenario: the tester plays market data feed and Wyckoff (ticks and signals on
/// Kafka) and reads every outcome back from the trading database and the gateway's API.
final class PipelineScenario: @unchecked Sendable {
    let run: String
    let marketStart: Date
    private let endpoints: StackEndpoints
    private let options: IntegrationOptions
    private let report: ToolReport
    private let logger: Logger
    private let pool: PostgresPool
    private let producer: KafkaProducer
    /// Ticks' producer: on the market-data cluster when one is set (KAFKA_MARKET_BOOTSTRAP_*).
    private let tickProducer: KafkaProducer
    private let http = HTTPClient(timeout: 30)
    private let token: String?
    private let accounts: [(id: String, firm: String)]
    private let prices: [String: Decimal]
    private let pump = Locked(TickPump())
    private let pumpStopped = Atomic<Bool>(false)
    private let pumpDone = DispatchSemaphore(value: 0)

    /// The instruments and sides an order may use, in order of preference: when anti-correlation
    /// skips one (the accounts' books are the stack's, not the tester's), the next is tried.
    /// USD_JPY is kept for the news blackout.
    static let candidates: [(String, Side)] = [("EUR_USD", .buy), ("AUD_USD", .sell), ("XAU_USD", .buy), ("GBP_USD", .sell), ("US30", .buy)]

    init(endpoints: StackEndpoints, options: IntegrationOptions, report: ToolReport, logger: Logger) throws {
        self.endpoints = endpoints
        self.options = options
        self.report = report
        self.logger = logger
        let stamp = Int(Date().timeIntervalSince1970)
        run = "itest-\(stamp)-\(UInt16.random(in: 0...UInt16.max))"
        token = endpoints.apiToken
        let env = Environment()
        guard env.string("DATABASE_URL") != nil else { throw TMTError(.configuration, "DATABASE_URL is not set (eval \"$(deploy-staging.sh --env)\")") }
        pool = try PostgresPool(configuration: PostgresConfiguration(environment: env, key: "DATABASE_URL"), metrics: MetricsRegistry(), logger: logger)
        let (start, note) = try MarketTime.resolve(options.marketTime, endpoints: endpoints)
        if let note { print("pipeline: \(note)") }
        // Clear of the calendar's blackouts (its own news check adds a release of its own), for
        // the run's few market minutes; an explicit --market-time is taken as given.
        if ["now", "weekday"].contains(options.marketTime) {
            let (clear, moved) = try MarketTime.clearOfNews(start, span: 300, pool: pool)
            marketStart = clear
            if let moved { print("pipeline: \(moved)") }
        } else {
            marketStart = start
        }
        let kafka = try KafkaConfiguration.fromEnvironment(env, clientId: "integration-tester")
        producer = try KafkaProducer(configuration: kafka, metrics: MetricsRegistry(), logger: logger)
        producer.prepare(topics: [Topic.signalsGenerated.name])
        tickProducer = kafka.hasSeparateMarketData ? try KafkaProducer(configuration: kafka.forMarketData(), metrics: MetricsRegistry(), logger: logger)
            : producer
        tickProducer.prepare(topics: [Topic.marketTicks.name])
        let known = try pool.query("SELECT id, firm FROM accounts ORDER BY id").map {
            (id: try $0.decode(String.self, column: "id"), firm: try $0.decode(String.self, column: "firm"))
        }
        if let wanted = options.accounts {
            let missing = wanted.filter { w in !known.contains { $0.id == w } }
            guard missing.isEmpty else { throw TMTError(.configuration, "--accounts: \(missing.joined(separator: ", ")) not in the trading database") }
            accounts = wanted.compactMap { w in known.first { $0.id == w } }
        } else {
            accounts = known
        }
        // Start near the stack's own prices (latest bars) so the tester's ticks and a running
        // generator's stay close; the generator's starting prices otherwise.
        prices = StackPrices.latest(env, logger: logger)
        print("pipeline: run \(run), market time from \(Logger.timestamp(marketStart)), accounts \(accounts.map(\.id).joined(separator: ", "))")
        startTicks()
    }

    func close() {
        pumpStopped.store(true, ordering: .relaxed)
        pumpDone.wait()
        try? producer.flush(timeout: 10)
        try? tickProducer.flush(timeout: 10)
        producer.close()
        tickProducer.close()
        pool.shutdown()
    }

    func runAll() {
        guard accounts.count >= 3 else {
            report.run("pipeline", "accounts") { throw CheckFailure("the trading database has \(accounts.count) accounts; the scenario needs 3") }
            return
        }
        let ids = accounts.map(\.id)
        // Quotes first: every agent's market view must hold the tester's instruments.
        Thread.sleep(forTimeInterval: 2)
        // An account may refuse new risk for its firm's reasons (a running generator's trading
        // can use up its daily loss or trip the consistency rule): each scenario then moves on to
        // the next account, and is skipped, with the reasons, when none can take the order.
        report.run("pipeline", "fill: a signal is sized, approved, cleared and filled") {
            try onFirstAccepting(ids.map { [$0] }) { try fill(account: $0[0]) }
        }
        report.run("pipeline", "compliance: an order inside a news blackout is rejected") {
            try onFirstAccepting(ids.map { [$0] }) { try newsBlackout(account: $0[0]) }
        }
        report.run("pipeline", "anti-correlation: one signal for two accounts is acted on") {
            try onFirstAccepting([[ids[1], ids[2]], [ids[0], ids[1]], [ids[0], ids[2]]]) { try correlation($0[0], $0[1]) }
        }
        report.run("pipeline", "breaker: trip an account, its order is blocked, reset") {
            try onFirstAccepting(ids.reversed().map { [$0] }) { try breaker(account: $0[0]) }
        }
        report.run("pipeline", "mutating routes refuse a request without the token") {
            let body = ["tier": "account", "target": ids[0], "reason": "integration tester \(run): no token"]
            let r = try http.postJSON(endpoints.gateway + "/api/v1/breaker/trip", body)
            if r.status != 401, let token {
                // It went through: undo it before reporting, so the stack is not left halted.
                _ = try? http.postJSON(endpoints.gateway + "/api/v1/breaker/reset", body, headers: ["Authorization": "Bearer \(token)"])
            }
            try check(r.status == 401, "POST /api/v1/breaker/trip without a token answered \(r.status), not 401")
            return "401"
        }
    }

    // MARK: - Scenarios

    /// An order refused before anti-correlation for reasons of the account's state (sizing or a
    /// firm rule), not of the pipeline.
    struct Refused: Error, CustomStringConvertible { var description: String }

    /// Runs `body` for the first group of accounts it does not meet `Refused` with.
    private func onFirstAccepting(_ groups: [[String]], _ body: ([String]) throws -> String) throws -> String {
        var reasons: [String] = []
        for group in groups {
            do { return "\(group.joined(separator: " + ")): " + (try body(group)) } catch let r as Refused {
                reasons.append("\(group.joined(separator: " + ")): \(r.description)")
            }
        }
        throw ToolReport.Skip("no account can take the order now: \(reasons.joined(separator: " | "))")
    }

    private func fill(account: String) throws -> String {
        // An instrument whose breaker is tripped (a real gap: e.g. another tool's ticks left its
        // price elsewhere) halts that instrument, not the pipeline: the order is blocked as it
        // should be, and the fill is tried on the next candidate. The trips are reported.
        var halted: [String: String] = [:]
        var placed: (order: String, outcome: Outcome)?
        while placed == nil {
            guard Self.candidates.contains(where: { halted[$0.0] == nil }) else {
                throw CheckFailure("every candidate instrument's breaker is tripped: "
                                   + halted.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: " | "))
            }
            let (order, _) = try placePastAntiCorrelation(account: account, label: "fill-\(account)", skipping: Set(halted.keys))
            let outcome = try waitTerminal(order)
            if outcome.status == "blocked", let block = try breakerBlock(order) {
                switch block.rule {
                case "breaker-instrument":
                    halted[block.instrument] = block.detail
                    continue
                case "breaker-account":
                    // The account's own breaker (e.g. a drawdown an earlier run left): account
                    // state, like a firm rule's refusal; the next account is tried.
                    throw Refused(description: "order \(order) blocked by the account's breaker: \(block.detail)")
                default:
                    break
                }
            }
            placed = (order, outcome)
        }
        let (order, outcome) = placed!
        let haltedNote = halted.isEmpty ? "" : "; before it, blocked by instrument breakers: "
            + halted.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: "; ")
        try check(outcome.status == "filled", "order \(order) ended \(outcome.status): \(outcome.story)\(haltedNote)")
        let fills = try pool.queryOne("SELECT count(*)::bigint AS n, coalesce(sum(quantity), 0) AS q FROM fills WHERE order_id = $1", [order])!
        let fillCount = try fills.decode(Int64.self, column: "n"), filledQty = try fills.decode(Decimal.self, column: "q")
        let row = try pool.queryOne("SELECT quantity, filled_quantity, instrument FROM orders WHERE id = $1", [order])!
        let quantity = try row.decode(Decimal.self, column: "quantity"), filled = try row.decode(Decimal.self, column: "filled_quantity")
        let instrument = try row.decode(String.self, column: "instrument")
        try check(fillCount > 0 && filledQty == quantity && filled == quantity,
                  "order \(order): \(fillCount) fills for \(filledQty) lots, order quantity \(quantity), filled_quantity \(filled)")
        let position = try pool.queryOne("SELECT count(*)::bigint AS n FROM positions WHERE account_id = $1 AND instrument = $2", [account, instrument])!
        try check(try position.decode(Int64.self, column: "n") > 0, "no position row for \(account) \(instrument) after the fill")

        // The decision trail through the API: every agent on the way, the same fills.
        let trail = try api("/api/v1/orders/\(order)/trail")
        let agents = Set(((trail["decisions"] as? [[String: Any]]) ?? []).compactMap { $0["agent"] as? String })
        let expected: Set<String> = ["aria-risk", "compliance-engine", "anti-correlation", "human-behavior", "circuit-breaker"]
        try check(expected.isSubset(of: agents), "trail of \(order) lacks decisions of \(expected.subtracting(agents).sorted()); has \(agents.sorted())")
        let apiFills = (trail["fills"] as? [[String: Any]])?.count ?? -1
        try check(apiFills == Int(fillCount), "the API's trail lists \(apiFills) fills, the database \(fillCount)")
        let hops = ((trail["latency"] as? [String: Any])?["hops"] as? [[String: Any]])?.count ?? 0

        return "\(order): \(quantity) lots \(instrument) filled in \(fillCount) fill(s) in \(String(format: "%.1f", outcome.seconds)) s; "
            + "trail via API with \(agents.count) agents and \(hops) hops\(haltedNote)"
    }

    /// The breaker's first failed check on `order` (`breaker-system`, `breaker-agents`,
    /// `breaker-account` or `breaker-instrument`), with its detail (the trip's reason and when it
    /// may half-open) and the order's instrument; nil when the breaker did not block it.
    private func breakerBlock(_ order: String) throws -> (rule: String, detail: String, instrument: String)? {
        let rows = try pool.query("""
            SELECT c->>'rule' AS rule, c->>'detail' AS detail, o.instrument
            FROM orders o, jsonb_array_elements(o.decisions) d, jsonb_array_elements(d->'checks') WITH ORDINALITY AS c(c, n)
            WHERE o.id = $1 AND d->>'agent' = 'circuit-breaker' AND c->>'passed' = 'false'
            ORDER BY n
            """, [order])
        guard let row = rows.first else { return nil }
        return (try row.decode(String.self, column: "rule"), try row.decode(String.self, column: "detail"),
                try row.decode(String.self, column: "instrument"))
    }

    private func newsBlackout(account: String) throws -> String {
        let instrument = "USD_JPY"
        // High-impact JPY releases two minutes apart across the stretch of market time the
        // order can be judged in, so it lands inside every staging firm's blackout (±2 to ±5
        // minutes) however fast the stack's market clock runs (a generator may run it at many
        // times the wall clock). The compliance engine's own clock and its pace are read first.
        let (marketNow, pace) = try complianceClock()
        let span = max(600, pace * 180)
        let releases = stride(from: -120.0, through: span, by: 120).map { marketNow.addingTimeInterval($0) }
        let inserted = Date()
        _ = try pool.executeBatch("INSERT INTO news_events (id, time, currency, title, impact) VALUES ($1, $2, 'JPY', $3, 'high')",
                                  releases.enumerated().map { i, t in ["\(run)-news-\(i)", t, "Integration test release \(i + 1) (\(run))"] })
        defer { _ = try? pool.execute("DELETE FROM news_events WHERE id LIKE $1", ["\(run)-news-%"]) }
        try waitNewsReload(after: inserted)

        let signal = makeSignal(instrument: instrument, side: .buy, accounts: [account], label: "news-\(account)")
        try publish(signal)
        let order = "\(signal.id):\(account)"
        let outcome = try waitPast(order, agent: "compliance-engine")
        guard let row = try pool.queryOne("SELECT verdict, mode, checks::text AS checks FROM compliance_decisions WHERE order_id = $1", [order]) else {
            // ARIA could not size it for this account (its state, not the pipeline): next account.
            if outcome.status == "skipped" { throw Refused(description: "\(order) skipped before compliance: \(outcome.story)") }
            throw CheckFailure("no compliance decision for \(order): \(outcome.story)")
        }
        let verdict = try row.decode(String.self, column: "verdict"), mode = try row.decode(String.self, column: "mode")
        let checks = try PostgresJSON(try row.decode(String.self, column: "checks")).decode([Decision.Check].self)
        guard let news = checks.first(where: { $0.rule == ComplianceRule.newsBlackout.rawValue }) else {
            throw CheckFailure("the decision on \(order) has no news-blackout check")
        }
        try check(!news.passed, "news-blackout passed (\(news.detail)); verdict \(verdict)")
        if mode == "strict" {
            try check(verdict == "rejected", "verdict \(verdict) in strict mode; news-blackout: \(news.detail)")
            let status = try pool.queryOne("SELECT status FROM orders WHERE id = $1", [order])?.decode(String.self, column: "status")
            try check(status == "rejected", "order \(order) is \(status ?? "missing"), not rejected")
            let violations = try api("/api/v1/compliance/violations?account=\(account)&limit=50")
            let listed = ((violations["items"] as? [[String: Any]]) ?? []).contains { ($0["orderId"] as? String) == order }
            try check(listed, "GET /api/v1/compliance/violations does not list \(order)")
            return "\(order) rejected: \(news.detail)"
        }
        try check(verdict == "approvedWithWarnings", "verdict \(verdict) in \(mode) mode; news-blackout: \(news.detail)")
        return "\(order) approved with a warning (\(mode) mode): \(news.detail)"
    }

    private func correlation(_ first: String, _ second: String) throws -> String {
        // Anti-correlation judges the pair by what they already hold: accounts an earlier run left
        // with positions can make this order's effect on their likeness too small to act on (it
        // did: two accounts with five unrelated positions each read 0.04). The pair starts as
        // fresh challenges then, so the verdict depends on this scenario's orders alone.
        let restarted = try freshPair(first, second)
        // One signal for both accounts, on the first candidate both orders get through sizing and
        // compliance with (a running generator's trading or news can refuse one of them).
        var tried: [String] = []
        for (instrument, side) in Self.candidates {
            let signal = makeSignal(instrument: instrument, side: side, accounts: [first, second], label: "corr-\(first)-\(second)-\(instrument)")
            try publish(signal)
            var seen: [String] = []
            var acted: [String] = []
            var refused: String?
            for account in [first, second] {
                let order = "\(signal.id):\(account)"
                let outcome = try waitPast(order, agent: "anti-correlation")
                guard let d = try pool.queryOne("""
                    SELECT d->>'verdict' AS verdict, d->'figures'->>'action' AS action, d->'figures'->>'correlatedAccount' AS other,
                           d->'figures'->>'maxCorrelation' AS corr
                    FROM orders o, jsonb_array_elements(o.decisions) d WHERE o.id = $1 AND d->>'agent' = 'anti-correlation'
                    """, [order]) else {
                    refused = "\(order) never reached anti-correlation: \(outcome.story)"
                    continue
                }
                let action = try d.decode(String?.self, column: "action") ?? "?"
                let other = try d.decode(String?.self, column: "other") ?? ""
                let corr = try d.decode(String?.self, column: "corr") ?? "?"
                seen.append("\(account): \(action) (correlation \(corr)\(other.isEmpty ? "" : " with \(other)"))")
                if ["stagger", "resize", "block"].contains(action) { acted.append(account) }
            }
            if let refused {
                tried.append("\(instrument) \(side.rawValue): \(refused)")
                continue
            }
            try check(!acted.isEmpty, "\(instrument): neither order was staggered, resized or skipped: \(seen.joined(separator: "; "))")
            return "\(instrument): " + seen.joined(separator: "; ") + (restarted ? " (both restarted first: they held exposure from earlier runs)" : "")
        }
        throw Refused(description: "no candidate reached anti-correlation for both accounts: \(tried.joined(separator: " | "))")
    }

    /// Whether anti-correlation's book relates the two accounts already (a value in its matrix:
    /// exposure from positions or pending orders, or a return correlation); if so, restarts both
    /// (`POST /api/v1/accounts/restart`) and waits until the book holds nothing for them. Returns
    /// whether it restarted them.
    private func freshPair(_ first: String, _ second: String) throws -> Bool {
        guard let agent = endpoints.agents.first(where: { $0.name == "anti-correlation" }) else {
            throw ToolReport.Skip("AGENT_URLS names no anti-correlation")
        }
        func related() throws -> String? {
            var r = try http.get(agent.url + "/api/v1/correlation/5m")
            let body = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
            if r.status == 404, let message = (body?["error"] as? [String: Any])?["message"] as? String,
               let names = message.components(separatedBy: "must be one of ").last,
               let window = names.components(separatedBy: ",").first?.trimmingCharacters(in: .whitespaces), !window.isEmpty {
                r = try http.get(agent.url + "/api/v1/correlation/\(window)") // windows configured otherwise
            }
            try check(r.status == 200, "anti-correlation's GET /api/v1/correlation answered \(r.status): \(r.text.prefix(200))")
            let matrix = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
            let ids = matrix?["accounts"] as? [String] ?? []
            guard let i = ids.firstIndex(of: first), let j = ids.firstIndex(of: second),
                  let rows = matrix?["values"] as? [[Any]], i < rows.count, j < rows[i].count else { return nil }
            return rows[i][j] as? String
        }
        func positions() throws -> Int64 {
            try pool.queryOne("SELECT count(*)::bigint AS n FROM positions WHERE account_id = ANY($1) AND quantity <> 0",
                              [[first, second]])?.decode(Int64.self, column: "n") ?? 0
        }
        // Either relation counts: a pair where only one account holds positions reads nothing
        // yet, but the second order then meets that account's unrelated book.
        let value = try related(), held = try positions()
        guard value != nil || held > 0 else { return false }
        guard let token else {
            throw Refused(description: "they hold \(held) open position(s) and anti-correlation relates them (\(value ?? "n/a")); "
                          + "there is no API token to restart them")
        }
        let r = try http.postJSON(endpoints.gateway + "/api/v1/accounts/restart",
                                  AccountsCommand(accounts: [first, second], reason: "integration tester \(run): a pair without earlier exposure"),
                                  headers: ["Authorization": "Bearer \(token)"])
        try check(r.status == 200, "POST /api/v1/accounts/restart answered \(r.status): \(r.text.prefix(300))")
        // The restart's flat positions follow the account update on their own topic.
        let deadline = Date().addingTimeInterval(20)
        while try positions() > 0 || related() != nil {
            guard Date() < deadline else {
                throw CheckFailure("20 s after restarting \(first) and \(second): \(try positions()) open position(s), anti-correlation relates them (\(try related() ?? "n/a"))")
            }
            usleep(100_000)
        }
        return true
    }

    private func breaker(account: String) throws -> String {
        guard let token else { throw ToolReport.Skip("no API token (TMT_API_TOKEN or TMT_API_TOKEN_FILE)") }
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
        let reason = "integration tester \(run)"
        let trippedAt = try pool.queryOne("SELECT now() AS t")?.decode(Date.self, column: "t") ?? Date()
        let trip = try http.postJSON(endpoints.gateway + "/api/v1/breaker/trip", ["tier": "account", "target": account, "reason": reason], headers: headers)
        try check(trip.status == 200, "trip answered \(trip.status): \(trip.text.prefix(300))")
        var resetDone = false
        defer {
            if !resetDone {
                _ = try? http.postJSON(endpoints.gateway + "/api/v1/breaker/reset", ["tier": "account", "target": account, "reason": reason], headers: headers)
            }
        }
        let tripped = try JSONSerialization.jsonObject(with: Data(trip.body)) as? [String: Any]
        let state = (tripped?["breaker"] as? [String: Any])?["state"] as? String
        try check(state == "tripped" && (tripped?["tradingHalted"] as? Bool) == true, "after the trip: \(trip.text.prefix(300))")

        let (order, _) = try placePastAntiCorrelation(account: account, label: "breaker-\(account)")
        let outcome = try waitTerminal(order)
        try check(outcome.status == "blocked" && outcome.events.contains { $0.agent == "circuit-breaker" && $0.status == "blocked" },
                  "order \(order) of the tripped account ended \(outcome.status): \(outcome.story)")
        let blockedBy = outcome.events.last { $0.agent == "circuit-breaker" }?.detail ?? ""

        let reset = try http.postJSON(endpoints.gateway + "/api/v1/breaker/reset", ["tier": "account", "target": account, "reason": reason], headers: headers)
        try check(reset.status == 200, "reset answered \(reset.status): \(reset.text.prefix(300))")
        resetDone = true
        let after = try api("/api/v1/breaker?tier=account&target=\(account)")
        let breakers = after["breakers"] as? [[String: Any]] ?? []
        let now = breakers.first?["state"] as? String
        try check(now == "normal", "after the reset GET /api/v1/breaker shows \(account) \(now ?? "absent")")
        let audited = try pool.query("""
            SELECT action FROM audit_log WHERE target = $1 AND result = 'ok' AND at >= $2 AND action IN ('breaker.trip', 'breaker.reset')
            """, ["account:\(account)", trippedAt]).map { try $0.decode(String.self, column: "action") }
        try check(audited.contains("breaker.trip") && audited.contains("breaker.reset"),
                  "audit_log has \(audited) for account:\(account) since the trip, not both breaker.trip and breaker.reset")
        return "tripped → \(order) blocked (\(blockedBy.prefix(120))) → reset → normal; audited"
    }

    // MARK: - Orders

    struct Event { var agent: String; var status: String; var verdict: String?; var detail: String }
    struct Outcome {
        var status: String
        var events: [Event]
        var seconds: Double
        /// The failing compliance rules (`rule: detail`), when compliance rejected or warned.
        var violations: [String]
        var story: String {
            events.map { "\($0.agent) \($0.status)\($0.detail.isEmpty ? "" : ": " + String($0.detail.prefix(200)))" }.joined(separator: " → ")
                + (violations.isEmpty ? "" : "; compliance: " + violations.joined(separator: "; "))
        }
    }

    /// Publishes a signal for `account` on the first candidate instrument whose order gets past
    /// anti-correlation (and the news blackout); returns the order id.
    private func placePastAntiCorrelation(account: String, label: String, skipping: Set<String> = []) throws -> (String, Outcome) {
        var tried: [String] = []
        for (instrument, side) in Self.candidates where !skipping.contains(instrument) {
            let signal = makeSignal(instrument: instrument, side: side, accounts: [account], label: "\(label)-\(instrument)")
            try publish(signal)
            let order = "\(signal.id):\(account)"
            let outcome = try waitPast(order, agent: "anti-correlation")
            let skippedByCorrelation = outcome.events.contains { $0.agent == "anti-correlation" && $0.status == "skipped" }
            let blackout = outcome.status == "rejected" && outcome.violations.contains { $0.hasPrefix("news-blackout") }
            if skippedByCorrelation || blackout {
                tried.append("\(instrument) \(side.rawValue): \(outcome.story)")
                continue
            }
            // Past anti-correlation (it may already be cleared, blocked or filled: the pipeline is quick).
            if outcome.events.contains(where: { $0.agent == "anti-correlation" && $0.status == "decorrelated" }) {
                return (order, outcome)
            }
            throw Refused(description: "order \(order) ended \(outcome.status) before anti-correlation: \(outcome.story)")
        }
        throw Refused(description: "every candidate was skipped: \(tried.joined(separator: " | "))")
    }

    static let terminal: Set<String> = ["filled", "rejected", "skipped", "blocked", "cancelled", "expired"]

    private func outcome(_ order: String, since: Date) throws -> Outcome? {
        guard let row = try pool.queryOne("SELECT status FROM orders WHERE id = $1", [order]) else { return nil }
        let events = try pool.query("SELECT agent, status, verdict, detail::text AS detail FROM order_events WHERE order_id = $1 ORDER BY id", [order]).map {
            Event(agent: try $0.decode(String.self, column: "agent"), status: try $0.decode(String.self, column: "status"),
                  verdict: try $0.decode(String?.self, column: "verdict"), detail: try $0.decode(String.self, column: "detail"))
        }
        let violations = try pool.query("""
            SELECT (x->>'rule') || ': ' || coalesce(x->>'detail', '') AS v FROM compliance_decisions c, jsonb_array_elements(c.checks) x
            WHERE c.order_id = $1 AND NOT coalesce((x->>'passed')::boolean, true)
            """, [order]).map { try $0.decode(String.self, column: "v") }
        return Outcome(status: try row.decode(String.self, column: "status"), events: events, seconds: Date().timeIntervalSince(since),
                       violations: violations)
    }

    /// Waits until `order` is terminal or `agent` has recorded its verdict on it.
    private func waitPast(_ order: String, agent: String) throws -> Outcome {
        try wait(order) { o in Self.terminal.contains(o.status) || o.events.contains { $0.agent == agent } }
    }

    private func waitTerminal(_ order: String) throws -> Outcome {
        try wait(order) { Self.terminal.contains($0.status) }
    }

    private func wait(_ order: String, until done: (Outcome) -> Bool) throws -> Outcome {
        let started = Date()
        let deadline = started.addingTimeInterval(options.timeout)
        var last: Outcome?
        var lastProgress = Date()
        while Date() < deadline {
            if let o = try outcome(order, since: started) {
                last = o
                if done(o) { return o }
            }
            if Date().timeIntervalSince(lastProgress) >= 10 {
                lastProgress = Date()
                print("  … \(order): \(last?.status ?? "not sized yet") after \(Int(Date().timeIntervalSince(started))) s")
                fflush(nil)
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard let last else {
            throw CheckFailure("ARIA never recorded order \(order) within \(Int(options.timeout)) s (is aria-risk consuming signals.generated?)")
        }
        var why = "order \(order) still \(last.status) after \(Int(options.timeout)) s: \(last.story)"
        if last.status == "decorrelated" || last.status == "humanized" {
            why += try humanHold(order)
        }
        throw CheckFailure(why)
    }

    /// Where human behaviour parked the order, when it did (HUMAN_DELAY_SCALE > 0 holds orders
    /// for reaction delays and outside the trader's sessions).
    private func humanHold(_ order: String) throws -> String {
        guard let d = try pool.queryOne("""
            SELECT to_char(to_timestamp((d->'figures'->>'releaseAt')::float8 / 1e6) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS release,
                   d->'figures'->>'delayScale' AS scale
            FROM orders o, jsonb_array_elements(o.decisions) d WHERE o.id = $1 AND d->>'agent' = 'human-behavior'
            """, [order]) else { return "" }
        let release = try d.decode(String?.self, column: "release") ?? "?"
        let scale = try d.decode(String?.self, column: "scale") ?? "?"
        return " (human behaviour holds it until \(release), HUMAN_DELAY_SCALE \(scale); a bounded test run needs HUMAN_DELAY_SCALE=0)"
    }

    // MARK: - Kafka

    private func makeSignal(instrument: String, side: Side, accounts: [String], label: String) -> Signal {
        let spec = Instrument.catalog[instrument]!
        // The stack's own quote when it has one (a running generator's prices move on), the
        // tester's ticks' otherwise.
        let quote = stackQuote(instrument) ?? pump.withLock { $0.quote(instrument) }
        let entry = side == .buy ? quote.ask : quote.bid
        // A stop well clear of the spread and of a running generator's moves over a minute.
        let distance = max(spec.pipSize * 100, (quote.ask - quote.bid) * 20)
        let stop = side == .buy ? entry - distance : entry + distance
        let target = side == .buy ? entry + 2 * distance : entry - 2 * distance
        return Signal(id: "\(run)-\(label)", instrument: instrument, side: side, entry: entry, stopLoss: stop, takeProfit: target,
                      confidence: 0.7, pattern: "integration-test", phase: "test", evidence: ["run": run],
                      createdAt: HopClock.nowMicros(), accounts: accounts)
    }

    /// ARIA's newest quote of `instrument` (its market view's `tmt_market_quote`), rounded to
    /// the instrument's precision.
    private func stackQuote(_ instrument: String) -> Tick? {
        guard let aria = endpoints.agents.first(where: { $0.name == "aria-risk" }),
              let scrape = try? MetricsScrape.fetch(aria.url, client: HTTPClient(timeout: 3)) else { return nil }
        func side(_ s: String) -> Decimal? {
            scrape.samples.first { $0.name == "tmt_market_quote" && $0.labels["instrument"] == instrument && $0.labels["side"] == s }
                .flatMap { Decimal(string: String(format: "%.\(Instrument.catalog[instrument]?.pricePrecision ?? 5)f", $0.value)) }
        }
        guard let bid = side("bid"), let ask = side("ask"), bid > 0, ask >= bid else { return nil }
        return Tick(instrument: instrument, bid: bid, ask: ask, volume: 0, time: 0)
    }

    private func publish(_ signal: Signal) throws {
        let envelope = Envelope(id: signal.id, type: "signal.generated", traceId: signal.id, source: "integration-tester", payload: signal)
        _ = try producer.send(envelope, to: .signalsGenerated, key: signal.instrument).wait(timeout: 30)
    }

    /// Ticks for every instrument, 10 a second each, around the starting prices, timed from the
    /// market start and advancing with the wall clock.
    private func startTicks() {
        pump.withLock { $0 = TickPump(prices: prices, seed: options.seed) }
        let started = Date()
        Thread.detachNewThread { [self] in
            var failures = 0
            while !pumpStopped.load(ordering: .relaxed) {
                let time = Int64((marketStart.timeIntervalSince1970 + Date().timeIntervalSince(started)) * 1_000_000)
                let ticks = pump.withLock { $0.next(time: time) }
                for tick in ticks {
                    let id = "\(tick.instrument)-\(tick.time)-itest"
                    do {
                        _ = try tickProducer.send(Envelope(id: id, type: "market.tick", traceId: id, source: "integration-tester", payload: tick),
                                              to: .marketTicks, key: tick.instrument)
                    } catch {
                        failures += 1
                        if failures % 50 == 1 { logger.warning("tick not sent", ["error": "\(error)"]) }
                    }
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            pumpDone.signal()
        }
    }

    // MARK: - HTTP

    private func api(_ path: String) throws -> [String: Any] {
        let r = try http.get(endpoints.gateway + path)
        try check(r.status == 200, "GET \(path) answered \(r.status): \(r.text.prefix(300))")
        guard let object = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else {
            throw CheckFailure("GET \(path) is not a JSON object")
        }
        return object
    }

    /// The compliance engine's market clock now and its pace (market seconds per wall second),
    /// from two readings of its `tmt_market_clock_seconds` a second apart.
    private func complianceClock() throws -> (Date, Double) {
        guard let compliance = endpoints.agents.first(where: { $0.name == "compliance-engine" }) else {
            throw ToolReport.Skip("AGENT_URLS names no compliance-engine")
        }
        func read() throws -> Double {
            let m = try MetricsScrape.fetch(compliance.url)
            guard let v = m.samples.first(where: { $0.name == "tmt_market_clock_seconds" })?.value else {
                throw CheckFailure("the compliance engine reports no market clock (tmt_market_clock_seconds): has it seen a tick?")
            }
            return v
        }
        let a = try read(), t0 = Date()
        Thread.sleep(forTimeInterval: 1)
        let b = try read()
        let pace = max(1, (b - a) / Date().timeIntervalSince(t0))
        return (Date(timeIntervalSince1970: b), pace)
    }

    /// Waits until the compliance engine has re-read the news calendar after `time`.
    private func waitNewsReload(after time: Date) throws {
        guard let compliance = endpoints.agents.first(where: { $0.name == "compliance-engine" }) else {
            Thread.sleep(forTimeInterval: 12)
            return
        }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? http.get(compliance.url + "/metrics").text) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tmt_compliance_news_loaded_timestamp_seconds") }),
               let value = line.split(separator: " ").last.flatMap({ Double($0) }), value > time.timeIntervalSince1970 + 0.2 {
                return
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        throw CheckFailure("the compliance engine did not re-read the news calendar within 60 s (tmt_compliance_news_loaded_timestamp_seconds)")
    }
}

/// A tiny seeded walk around fixed prices: a few tenths of a pip either way, the generator's
/// spreads, so stops 40 pips away are never touched by the tester's own ticks.
struct TickPump {
    private var mids: [String: Decimal] = [:]
    private var centre: [String: Decimal] = [:]
    private var rng = SeededRandom(seed: 0)
    private var last: [String: Tick] = [:]

    init() {}

    init(prices: [String: Decimal], seed: UInt64) {
        mids = prices
        centre = prices
        rng = SeededRandom(seed: seed)
        for (symbol, price) in prices { last[symbol] = makeTick(symbol, mid: price, time: 0) }
    }

    func quote(_ symbol: String) -> Tick { last[symbol]! }

    private func makeTick(_ symbol: String, mid: Decimal, time: Int64) -> Tick {
        let spec = Instrument.catalog[symbol]!
        let spreadPips = InstrumentProfile.defaults.first { $0.instrument.symbol == symbol }?.baseSpreadPips ?? 1
        let half = spec.pipSize * Decimal(spreadPips) / 2
        func round(_ v: Decimal) -> Decimal {
            var x = v, r = Decimal()
            NSDecimalRound(&r, &x, spec.pricePrecision, .plain)
            return r
        }
        return Tick(instrument: symbol, bid: round(mid - half), ask: round(mid + half), volume: 10, time: time)
    }

    mutating func next(time: Int64) -> [Tick] {
        var out: [Tick] = []
        for symbol in mids.keys.sorted() {
            let spec = Instrument.catalog[symbol]!
            let step = spec.pipSize * Decimal(Int(rng.uniform() * 7) - 3) / 10
            var mid = mids[symbol]! + step
            // Mean-revert to the centre: never more than 2 pips away.
            let limit = spec.pipSize * 2
            if abs(mid - centre[symbol]!) > limit { mid = centre[symbol]! }
            mids[symbol] = mid
            let tick = makeTick(symbol, mid: mid, time: time)
            last[symbol] = tick
            out.append(tick)
        }
        return out
    }
}
