import Foundation
import TMTCore
import XCTest

/// The read routes on rows seeded for this run (unique ids; other tests share the database):
/// cursor pagination that neither skips nor repeats, an order's decision trail in pipeline
/// order with per-hop latency, and an account's drawdown against its firm's limits.
final class GatewayReadTests: XCTestCase {
    func testOrderPaginationTrailAndAccountLimits() throws {
        let run = UUID().uuidString.prefix(8).lowercased()
        let account = "gw-\(run)-ftmo"
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let gateway = try GatewayTest.start()   // migrates the schema if this is the first run

        // An ftmo-like account (5 % daily of 100k = 5000; warning at 80 %) down 4500 today: warning.
        try pool.execute("""
            INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, daily_pnl, high_water_mark)
            VALUES ($1, 'ftmo-like', 'USD', 100000, 96000, 95500, -4500, 100000)
            """, [account])
        // strict-4-8 (4 % of the day's start, measured from the higher of its start balance and
        // equity): balance 50,000 with +1,500 open at the reset, so the day starts at 51,500;
        // equity 49,400 now is 2,100 down against 2,060 allowed, breached (the day's P&L from the
        // start balance reads only −600). trailing-6 (6 % trailing, stopping at the initial
        // 50,000): the mark 54,000 puts the floor at 50,000, so 4,000 is allowed from the mark
        // and equity 50,400 is 3,600 down, 90 %: warning.
        try pool.execute("""
            INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, daily_pnl, high_water_mark, day_start_equity)
            VALUES ($1, 'strict-4-8', 'USD', 50000, 50000, 49400, -600, 51500, 51500),
                   ($2, 'trailing-6', 'USD', 50000, 50400, 50400, 0, 54000, NULL)
            """, ["\(account)-strict", "\(account)-trail"])
        let signal = "gw-\(run)-sig"
        try pool.execute("""
            INSERT INTO signals (id, instrument, side, entry, stop_loss, take_profit, confidence, pattern, phase, trace_id, created_at)
            VALUES ($1, 'EUR_USD', 'buy', 1.08500, 1.08300, 1.08900, 0.8, 'spring', 'accumulation', 'trace', now())
            """, [signal])
        let t0 = HopClock.nowMicros() - 60_000_000
        let hops = [Hop(agent: "wyckoff-analysis", inMicros: t0, outMicros: t0 + 2_000),
                    Hop(agent: "aria-risk", inMicros: t0 + 3_000, outMicros: t0 + 8_000),
                    Hop(agent: "compliance-engine", inMicros: t0 + 9_000, outMicros: t0 + 10_500),
                    Hop(agent: "circuit-breaker", inMicros: t0 + 12_000, outMicros: t0 + 12_250)]
        let decisions = [
            Decision(agent: "aria-risk", verdict: .approved, checks: [], figures: ["riskPercent": "1", "volatilityFactor": "0.9"], decidedAt: t0 + 8_000),
            Decision(agent: "compliance-engine", verdict: .approved,
                     checks: [Decision.Check(rule: "daily-loss", passed: true, severity: "hard", detail: "within limit")], figures: [:], decidedAt: t0 + 10_000),
            Decision(agent: "anti-correlation", verdict: .approved, checks: [], figures: ["action": "none"], decidedAt: t0 + 10_600),
            Decision(agent: "human-behavior", verdict: .delayed, checks: [], figures: ["delayMs": "1200"], decidedAt: t0 + 11_000),
            Decision(agent: "circuit-breaker", verdict: .cleared, checks: [], figures: ["tradingState": "ACTIVE"], decidedAt: t0 + 12_200),
        ]
        var ids: [String] = []
        for i in 0..<5 {
            let id = "gw-\(run)-order-\(i)"
            ids.append(id)
            try pool.execute("""
                INSERT INTO orders (id, signal_id, account_id, instrument, side, type, quantity, stop_loss, take_profit, status,
                                    decisions, hops, trace_id, created_at)
                VALUES ($1, $2, $3, 'EUR_USD', 'buy', 'market', 1.5, 1.08300, 1.08900, $4, $5, $6, 'trace', now() - $7::int * interval '1 second')
                """, [id, signal, account, i == 0 ? "filled" : "cleared", try PostgresJSON(encoding: decisions), try PostgresJSON(encoding: hops), i * 10])
        }
        let trailed = ids[0]
        try pool.execute("""
            INSERT INTO compliance_decisions (order_id, account_id, firm, verdict, mode, checks, decided_at)
            VALUES ($1, $2, 'ftmo-like', 'approved', 'strict', $3, now())
            """, [trailed, account, try PostgresJSON(encoding: decisions[1].checks)])
        for (n, agent) in ["aria-risk", "compliance-engine", "circuit-breaker"].enumerated() {
            try pool.execute("INSERT INTO order_events (message_id, order_id, agent, status, processing_ms) VALUES ($1, $2, $3, 'x', $4)",
                             ["\(trailed):\(agent)", trailed, agent, Double(n + 1)])
        }
        try pool.execute("""
            INSERT INTO fills (id, order_id, account_id, instrument, side, quantity, price, spread, slippage, commission, filled_at)
            VALUES ($1, $2, $3, 'EUR_USD', 'buy', 1.5, 1.08512, 0.00008, 0.00001, 5.25, now())
            """, ["\(trailed)#1", trailed, account])

        // Pages of 2, newest first: 2 + 2 + 1, no repeats, then no cursor.
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let path = "/api/v1/orders?account=\(account)&limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
            let r = try GatewayTest.get(gateway, path)
            XCTAssertEqual(r.status, 200, r.text)
            let body = GatewayTest.object(r)
            seen += (body["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            cursor = body["nextCursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10
        XCTAssertEqual(pages, 3)
        XCTAssertEqual(seen, ids, "newest first, every order exactly once")
        let filled = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/orders?account=\(account)&status=filled"))
        XCTAssertEqual((filled["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, [trailed])
        let exact = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/orders/\(trailed)"))
        XCTAssertEqual(exact["quantity"] as? Double, 1.5)
        XCTAssertEqual((exact["hops"] as? [Any])?.count, 4)

        // The trail: stages in pipeline order, compliance checks, events, fills, per-hop latency.
        let r = try GatewayTest.get(gateway, "/api/v1/orders/\(trailed)/trail")
        XCTAssertEqual(r.status, 200, r.text)
        let trail = GatewayTest.object(r)
        XCTAssertEqual((trail["signal"] as? [String: Any])?["id"] as? String, signal)
        let stages = (trail["decisions"] as? [[String: Any]] ?? []).compactMap { $0["stage"] as? String }
        XCTAssertEqual(stages, ["sizing", "compliance", "antiCorrelation", "humanDelay", "breaker"])
        let sizing = (trail["decisions"] as? [[String: Any]])?.first?["figures"] as? [String: String]
        XCTAssertEqual(sizing?["volatilityFactor"], "0.9")
        XCTAssertEqual(((trail["compliance"] as? [String: Any])?["checks"] as? [Any])?.count, 1)
        XCTAssertEqual((trail["events"] as? [[String: Any]] ?? []).compactMap { $0["agent"] as? String },
                       ["aria-risk", "compliance-engine", "circuit-breaker"])
        XCTAssertEqual((trail["fills"] as? [[String: Any]])?.first?["price"] as? Double, 1.08512)
        let latency = trail["latency"] as? [String: Any] ?? [:]
        XCTAssertEqual(latency["endToEndMs"] as? Double, 12.25)
        let hopViews = latency["hops"] as? [[String: Any]] ?? []
        XCTAssertEqual(hopViews.compactMap { $0["processingMs"] as? Double }, [2, 5, 1.5, 0.25])
        XCTAssertEqual(hopViews.map { $0["transitMs"] as? Double }, [nil, 1, 1, 1.5])

        // The account against its firm's limits.
        let accounts = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/accounts"))
        let mine = try XCTUnwrap((accounts["items"] as? [[String: Any]])?.first { $0["id"] as? String == account })
        // Written by hand (JSONWriter) for speed: every member of the Encodable view is there
        // (`tradingDay` is NULL in this row and left out, as JSONEncoder leaves nil out).
        XCTAssertEqual(Set(mine.keys), ["balance", "commission", "currency", "dailyLoss", "dailyPnl", "drawdownPercent", "epoch", "equity", "firm",
                                        "firmName", "highWaterMark", "id", "initialBalance", "maxLoss", "openPnl", "realizedPnl",
                                        "updatedAt"])
        XCTAssertEqual(mine["balance"] as? Double, 96000)
        XCTAssertEqual(mine["equity"] as? Double, 95500)
        XCTAssertEqual(mine["openPnl"] as? Double, -500)
        let daily = mine["dailyLoss"] as? [String: Any] ?? [:]
        XCTAssertEqual(Set(daily.keys), ["allowed", "limit", "reference", "status", "used", "usedPercent", "warningPercent"])
        XCTAssertEqual(daily["limit"] as? Double, 5000)
        XCTAssertEqual(daily["allowed"] as? Double, 5000)
        XCTAssertEqual(daily["reference"] as? Double, 100000, "the day's start balance: equity − daily P&L")
        XCTAssertEqual(daily["used"] as? Double, 4500)
        XCTAssertEqual(daily["usedPercent"] as? Double, 90)
        XCTAssertEqual(daily["status"] as? String, "warning")
        let overall = mine["maxLoss"] as? [String: Any] ?? [:]
        XCTAssertEqual(overall["limit"] as? Double, 90000, "static 10 % floor")
        XCTAssertEqual(overall["used"] as? Double, 4500)
        XCTAssertEqual(overall["status"] as? String, "ok")
        XCTAssertEqual(overall["reference"] as? Double, 100000)
        XCTAssertEqual(overall["allowed"] as? Double, 10000)

        func limits(_ id: String) throws -> ([String: Any], [String: Any]) {
            let row = try XCTUnwrap((accounts["items"] as? [[String: Any]])?.first { $0["id"] as? String == id }, id)
            return (row["dailyLoss"] as? [String: Any] ?? [:], row["maxLoss"] as? [String: Any] ?? [:])
        }
        let (strictDaily, _) = try limits("\(account)-strict")
        XCTAssertEqual(strictDaily["reference"] as? Double, 51500, "the higher of the day's start balance and equity")
        XCTAssertEqual(strictDaily["allowed"] as? Double, 2060)
        XCTAssertEqual(strictDaily["used"] as? Double, 2100)
        XCTAssertEqual(strictDaily["status"] as? String, "breached")
        let (_, trailMax) = try limits("\(account)-trail")
        XCTAssertEqual(trailMax["limit"] as? Double, 50000, "the floor stops at the initial balance")
        XCTAssertEqual(trailMax["reference"] as? Double, 54000)
        XCTAssertEqual(trailMax["allowed"] as? Double, 4000)
        XCTAssertEqual(trailMax["used"] as? Double, 3600)
        XCTAssertEqual(trailMax["usedPercent"] as? Double, 90)
        XCTAssertEqual(trailMax["status"] as? String, "warning")

        // The other lists answer with the seeded rows.
        let fills = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/fills?account=\(account)"))
        XCTAssertEqual((fills["items"] as? [[String: Any]])?.count, 1)
        let signals = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/signals?instrument=EUR_USD&limit=500"))
        XCTAssertTrue((signals["items"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == signal })
        let lat = try GatewayTest.get(gateway, "/api/v1/latency?window=600")
        XCTAssertEqual(lat.status, 200, lat.text)
        let agents = GatewayTest.object(lat)["agents"] as? [[String: Any]] ?? []
        XCTAssertTrue(agents.contains { $0["agent"] as? String == "aria-risk" && ($0["count"] as? Int ?? 0) >= 5 }, lat.text)
        XCTAssertNotNil((GatewayTest.object(lat)["endToEnd"] as? [String: Any])?["p99Ms"] as? Double, lat.text)
        for path in ["/api/v1/positions?account=\(account)", "/api/v1/compliance/violations?account=\(account)", "/api/v1/breaker"] {
            XCTAssertEqual(try GatewayTest.get(gateway, path).status, 200, path)
        }

        // A finding says whether it is from before the account's restart (an earlier challenge).
        func findings() throws -> [[String: Any]] {
            GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/compliance/violations?account=\(account)"))["items"] as? [[String: Any]] ?? []
        }
        let rejected = try XCTUnwrap(ids.first { $0 != trailed })
        try pool.execute("""
            INSERT INTO compliance_decisions (order_id, account_id, firm, verdict, mode, checks, decided_at)
            VALUES ($1, $2, 'ftmo-like', 'rejected', 'strict', '[{"rule": "daily-loss", "passed": false, "detail": "seeded"}]', now())
            """, [rejected, account])
        XCTAssertEqual(try findings().compactMap { $0["beforeRestart"] as? Bool }, [false])
        // Compared on the wall clock: the order's creation (by ARIA) against the restart, not the
        // decision's market time.
        try pool.execute("UPDATE orders SET created_at = now() - interval '1 minute' WHERE id = $1", [rejected])
        try pool.execute("UPDATE accounts SET restarted_at = now(), epoch = epoch + 1 WHERE id = $1", [account])
        try pool.execute("UPDATE compliance_decisions SET decided_at = now() + interval '1 day' WHERE order_id = $1", [rejected])
        XCTAssertEqual(try findings().compactMap { $0["beforeRestart"] as? Bool }, [true])
    }

    /// The equity curve is the current challenge's: an account restarted 30 s ago shows the
    /// snapshots from then on (the curve used to run on from the challenge before, with its
    /// jump back to the initial balance); `challenge=all` still gives every one.
    func testTheEquitySeriesIsTheCurrentChallengesUnlessAllAreAskedFor() throws {
        let account = "gw-eq-\(UUID().uuidString.prefix(8).lowercased())"
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let gateway = try GatewayTest.start()
        try pool.execute("""
            INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, daily_pnl, high_water_mark, epoch, restarted_at)
            VALUES ($1, 'ftmo-like', 'USD', 100000, 100000, 100000, 0, 100000, 1, now() - interval '30 seconds')
            """, [account])
        for (secondsAgo, equity) in [(120, 91_000), (90, 90_500), (60, 90_000), (30, 100_000), (10, 100_250)] {
            try pool.execute("""
                INSERT INTO account_snapshots (account_id, balance, equity, daily_pnl, drawdown_percent, at)
                VALUES ($1, $2, $2, 0, 0, now() - $3::int * interval '1 second')
                """, [account, Decimal(equity), secondsAgo])
        }
        func equities(_ query: String) throws -> [Double] {
            let r = try GatewayTest.get(gateway, "/api/v1/accounts/\(account)/equity\(query)")
            XCTAssertEqual(r.status, 200, r.text)
            let items = GatewayTest.object(r)["items"] as? [[String: Any]] ?? []
            return items.compactMap { ($0["equity"] as? NSNumber)?.doubleValue }
        }
        XCTAssertEqual(try equities(""), [100_000, 100_250])
        XCTAssertEqual(try equities("?challenge=current&limit=1"), [100_250])
        XCTAssertEqual(try equities("?challenge=all"), [91_000, 90_500, 90_000, 100_000, 100_250])
        let body = GatewayTest.object(try GatewayTest.get(gateway, "/api/v1/accounts/\(account)/equity"))
        XCTAssertEqual(body["epoch"] as? Int, 1)
        XCTAssertEqual(body["challenge"] as? String, "current")
        XCTAssertNotNil(body["restartedAt"] as? String)
        GatewayTest.assertError(try GatewayTest.get(gateway, "/api/v1/accounts/\(account)/equity?challenge=last"), 400, code: "invalid_parameter")
        XCTAssertEqual(gateway.terminate(), 0)
    }
}
