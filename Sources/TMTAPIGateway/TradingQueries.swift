import TMTBase
import TMTCore
import TMTTrading

/// The read side of the API: SQL against the trading database. Rows are rendered to JSON by
/// PostgreSQL (`jsonb_build_object`), which keeps `numeric` money exact; lists are newest first
/// with keyset pagination on (time, id), so a page never skips or repeats a row while new rows
/// arrive.
struct TradingQueries: Sendable {
    let pool: PostgresPool

    /// Default and largest page size.
    static let defaultLimit = 100
    static let maxLimit = 500

    // MARK: JSON shapes (SQL expressions over the table's columns)

    static let orderJSON = """
        jsonb_build_object('id', o.id, 'signalId', o.signal_id, 'accountId', o.account_id, 'instrument', o.instrument,
            'side', o.side, 'type', o.type, 'quantity', o.quantity, 'price', o.price, 'stopLoss', o.stop_loss,
            'takeProfit', o.take_profit, 'riskReducing', o.risk_reducing, 'status', o.status,
            'filledQuantity', o.filled_quantity, 'traceId', o.trace_id, 'createdAt', o.created_at, 'updatedAt', o.updated_at)
        """
    static let fillJSON = """
        jsonb_build_object('id', f.id, 'orderId', f.order_id, 'accountId', f.account_id, 'instrument', f.instrument,
            'side', f.side, 'quantity', f.quantity, 'price', f.price, 'spread', f.spread, 'slippage', f.slippage,
            'commission', f.commission, 'realizedPnl', f.realized_pnl, 'filledAt', f.filled_at)
        """
    static let signalJSON = """
        jsonb_build_object('id', s.id, 'instrument', s.instrument, 'side', s.side, 'entry', s.entry, 'stopLoss', s.stop_loss,
            'takeProfit', s.take_profit, 'confidence', s.confidence, 'pattern', s.pattern, 'phase', s.phase,
            'evidence', s.evidence, 'traceId', s.trace_id, 'createdAt', s.created_at)
        """
    /// A decision's `beforeRestart`: its order was created (wall clock, by ARIA) before the
    /// account's last restart (wall clock); `decided_at` is market time and cannot be compared.
    static let complianceJSON = """
        jsonb_build_object('orderId', c.order_id, 'accountId', c.account_id, 'firm', c.firm, 'verdict', c.verdict,
            'mode', c.mode, 'figures', c.figures, 'decidedAt', c.decided_at, 'checks', c.checks,
            'beforeRestart', coalesce((SELECT o.created_at FROM orders o WHERE o.id = c.order_id)
                                      < (SELECT r.restarted_at FROM accounts r WHERE r.id = c.account_id), false),
            'violations', (SELECT coalesce(jsonb_agg(x), '[]'::jsonb) FROM jsonb_array_elements(c.checks) x
                           WHERE NOT coalesce((x->>'passed')::boolean, true)))
        """
    static let breakerEventJSON = """
        jsonb_build_object('id', b.id, 'tier', b.tier, 'target', b.target, 'from', b.from_state, 'to', b.to_state,
            'reason', b.reason, 'detail', b.detail, 'at', b.at)
        """

    // MARK: Paged lists

    /// A keyset-paginated list query, built filter by filter.
    struct Paged {
        var json: String
        var from: String
        var timeColumn: String
        var idColumn: String
        var conditions: [String] = []
        var parameters: [any PostgresEncodable] = []

        /// Adds a condition; each `?` in `template` becomes the next `$n` bound to `value`.
        mutating func filter(_ template: String, _ value: any PostgresEncodable) {
            parameters.append(value)
            conditions.append(template.replacing("?", with: "$\(parameters.count)"))
        }

        /// Adds the usual time-window filters.
        mutating func window(_ q: QueryParameters) throws {
            if let since = try q.time("since") { filter("\(timeColumn) >= ?", since) }
            if let until = try q.time("until") { filter("\(timeColumn) < ?", until) }
        }
    }

    /// Runs `query` for one page: `{ "items": [...], "nextCursor": "…" | null, "limit": n }`.
    func page(_ query: Paged, _ q: QueryParameters) throws -> HTTPResponse {
        var query = query
        let limit = try q.int("limit", default: Self.defaultLimit, range: 1...Self.maxLimit)
        if let c = try q.cursor() {
            query.parameters.append(c.micros)
            let m = query.parameters.count
            query.parameters.append(c.id)
            query.conditions.append("(\(query.timeColumn), \(query.idColumn)) < (timestamptz 'epoch' + $\(m)::bigint * interval '1 microsecond', $\(m + 1))")
        }
        let whereClause = query.conditions.isEmpty ? "" : "WHERE " + query.conditions.joined(separator: " AND ")
        let rows = try pool.query("""
            SELECT (\(query.json))::text AS j, (extract(epoch FROM \(query.timeColumn)) * 1000000)::bigint AS cursor_micros,
                   \(query.idColumn) AS cursor_id
            FROM \(query.from) \(whereClause)
            ORDER BY \(query.timeColumn) DESC, \(query.idColumn) DESC LIMIT \(limit + 1)
            """, query.parameters, retryOnConnectionLoss: true)
        var items: [String] = []
        var next: String?
        for (i, row) in rows.enumerated() {
            if i == limit {
                let last = rows[i - 1]
                next = PageCursor(micros: try last.decode(Int64.self, column: "cursor_micros"),
                                  id: try last.decode(String.self, column: "cursor_id")).encoded
                break
            }
            items.append(try row.decode(String.self, column: "j"))
        }
        var out = RawJSON()
        out.array("items", items)
        try out.value("nextCursor", next)
        try out.value("limit", limit)
        return out.response()
    }

    static let statuses = OrderStatus.allCases.map(\.rawValue)

    func orders(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["account", "status", "instrument", "since", "until", "limit", "cursor"])
        var p = Paged(json: Self.orderJSON, from: "orders o", timeColumn: "o.created_at", idColumn: "o.id")
        if let a = try q.string("account") { p.filter("o.account_id = ?", a) }
        if let s = try q.choice("status", Self.statuses) { p.filter("o.status = ?", s) }
        if let i = try q.string("instrument") { p.filter("o.instrument = ?", i) }
        try p.window(q)
        return try page(p, q)
    }

    func fills(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["account", "order", "instrument", "since", "until", "limit", "cursor"])
        var p = Paged(json: Self.fillJSON, from: "fills f", timeColumn: "f.filled_at", idColumn: "f.id")
        if let a = try q.string("account") { p.filter("f.account_id = ?", a) }
        if let o = try q.string("order") { p.filter("f.order_id = ?", o) }
        if let i = try q.string("instrument") { p.filter("f.instrument = ?", i) }
        try p.window(q)
        return try page(p, q)
    }

    func signals(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["instrument", "pattern", "since", "until", "limit", "cursor"])
        var p = Paged(json: Self.signalJSON, from: "signals s", timeColumn: "s.created_at", idColumn: "s.id")
        if let i = try q.string("instrument") { p.filter("s.instrument = ?", i) }
        if let pattern = try q.string("pattern") { p.filter("s.pattern = ?", pattern) }
        try p.window(q)
        return try page(p, q)
    }

    /// Compliance decisions that were not a clean approval (rejections and warnings), with the
    /// failed checks under `violations`.
    func violations(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["account", "verdict", "since", "until", "limit", "cursor"])
        var p = Paged(json: Self.complianceJSON, from: "compliance_decisions c", timeColumn: "c.decided_at", idColumn: "c.order_id")
        p.conditions.append("c.verdict <> 'approved'")
        if let a = try q.string("account") { p.filter("c.account_id = ?", a) }
        if let v = try q.choice("verdict", ["rejected", "approvedWithWarnings"]) { p.filter("c.verdict = ?", v) }
        try p.window(q)
        return try page(p, q)
    }

    /// Open positions (quantity not zero), by account and instrument, each with its mark as the
    /// execution engine last stored it (price and unrealised P&L; null until first marked).
    func positions(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["account", "instrument"])
        var params: [any PostgresEncodable] = []
        var conditions = ["p.quantity <> 0"]
        if let a = try q.string("account") { params.append(a); conditions.append("p.account_id = $\(params.count)") }
        if let i = try q.string("instrument") { params.append(i); conditions.append("p.instrument = $\(params.count)") }
        let rows = try pool.query("""
            SELECT jsonb_build_object('accountId', p.account_id, 'instrument', p.instrument, 'quantity', p.quantity,
                'side', CASE WHEN p.quantity > 0 THEN 'long' ELSE 'short' END, 'averagePrice', p.average_price,
                'realizedPnl', p.realized_pnl, 'stopLoss', p.stop_loss, 'takeProfit', p.take_profit,
                'sourceOrderId', p.source_order_id, 'openedAt', p.opened_at, 'updatedAt', p.updated_at,
                'markPrice', p.mark_price, 'unrealizedPnl', p.unrealized_pnl, 'markedAt', p.marked_at)::text AS j
            FROM positions p WHERE \(conditions.joined(separator: " AND ")) ORDER BY p.account_id, p.instrument LIMIT 5000
            """, params, retryOnConnectionLoss: true)
        var out = RawJSON()
        out.array("items", try rows.map { try $0.decode(String.self, column: "j") })
        return out.response()
    }

    // MARK: Equity series

    /// An account's balance/equity series from `account_snapshots` (the execution engine writes
    /// one per throttled account update): the newest `limit` points since `since`, oldest first,
    /// ready to draw. By default only the current challenge's (`challenge=current`: from its
    /// restart on; the curve used to run on from the challenge before, with the jump back to the
    /// initial balance in it); `challenge=all` gives every snapshot.
    func equity(_ id: String, _ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["since", "limit", "challenge"])
        let limit = try q.int("limit", default: 500, range: 1...5000)
        let all = try q.choice("challenge", ["current", "all"]) == "all"
        guard let account = try pool.queryOne("SELECT epoch, restarted_at FROM accounts WHERE id = $1", [id], retryOnConnectionLoss: true) else {
            throw HTTPError.notFound("no account \(String(id.prefix(200)))")
        }
        let restartedAt = try account.decode(Date?.self, column: "restarted_at")
        var params: [any PostgresEncodable] = [id]
        var clauses = ""
        if let since = try q.time("since") { params.append(since); clauses += " AND s.at >= $\(params.count)" }
        if !all, let restartedAt { params.append(restartedAt); clauses += " AND s.at >= $\(params.count)" }
        let rows = try pool.query("""
            SELECT jsonb_build_object('at', t.at, 'balance', t.balance, 'equity', t.equity, 'dailyPnl', t.daily_pnl,
                'drawdownPercent', t.drawdown_percent)::text AS j
            FROM (SELECT s.* FROM account_snapshots s WHERE s.account_id = $1\(clauses)
                  ORDER BY s.at DESC, s.id DESC LIMIT \(limit)) t
            ORDER BY t.at, t.id
            """, params, retryOnConnectionLoss: true)
        var out = RawJSON()
        try out.value("accountId", id)
        try out.value("epoch", try account.decode(Int.self, column: "epoch"))
        try out.value("restartedAt", restartedAt.map { Logger.timestamp($0) })
        try out.value("challenge", all ? "all" : "current")
        out.array("items", try rows.map { try $0.decode(String.self, column: "j") })
        return out.response()
    }

    // MARK: Orders

    func order(_ id: String) throws -> HTTPResponse {
        guard let row = try pool.queryOne("""
            SELECT (\(Self.orderJSON) || jsonb_build_object('decisions', o.decisions, 'hops', o.hops))::text AS j
            FROM orders o WHERE o.id = $1
            """, [id], retryOnConnectionLoss: true) else {
            throw HTTPError.notFound("no order \(String(id.prefix(200)))")
        }
        return .bytes(Array(try row.decode(String.self, column: "j").utf8), contentType: "application/json")
    }

    /// An order's whole decision trail: signal → sizing → compliance (every rule) →
    /// anti-correlation → human delay → breaker verdict → fills, with per-hop latency.
    func trail(_ id: String) throws -> HTTPResponse {
        guard let row = try pool.queryOne("""
            SELECT (\(Self.orderJSON))::text AS j, o.signal_id, o.decisions::text AS decisions, o.hops::text AS hops
            FROM orders o WHERE o.id = $1
            """, [id], retryOnConnectionLoss: true) else {
            throw HTTPError.notFound("no order \(String(id.prefix(200)))")
        }
        let decisions = try PostgresJSON(try row.decode(String.self, column: "decisions")).decode([Decision].self)
        let hops = try PostgresJSON(try row.decode(String.self, column: "hops")).decode([Hop].self)
        let signalId = try row.decode(String?.self, column: "signal_id")
        let signal = try signalId.flatMap {
            try pool.queryOne("SELECT (\(Self.signalJSON))::text AS j FROM signals s WHERE s.id = $1", [$0])
        }.map { try $0.decode(String.self, column: "j") }
        let compliance = try pool.queryOne("SELECT (\(Self.complianceJSON))::text AS j FROM compliance_decisions c WHERE c.order_id = $1", [id])
            .map { try $0.decode(String.self, column: "j") }
        let events = try pool.query("""
            SELECT jsonb_build_object('agent', e.agent, 'status', e.status, 'verdict', e.verdict, 'detail', e.detail,
                'processingMs', e.processing_ms, 'at', e.at)::text AS j FROM order_events e WHERE e.order_id = $1 ORDER BY e.id
            """, [id]).map { try $0.decode(String.self, column: "j") }
        let fills = try pool.query("SELECT (\(Self.fillJSON))::text AS j FROM fills f WHERE f.order_id = $1 ORDER BY f.filled_at, f.id", [id])
            .map { try $0.decode(String.self, column: "j") }

        var out = RawJSON()
        out.raw("order", try row.decode(String.self, column: "j"))
        out.raw("signal", signal)
        try out.value("decisions", decisions.map(DecisionView.init))
        out.raw("compliance", compliance)
        out.array("events", events)
        out.array("fills", fills)
        try out.value("latency", LatencyTrail(hops))
        return out.response()
    }

    // MARK: Breaker history

    func breakerEvents(limit: Int, tier: String?, target: String?) throws -> [String] {
        var params: [any PostgresEncodable] = []
        var conditions: [String] = []
        if let tier { params.append(tier); conditions.append("b.tier = $\(params.count)") }
        if let target { params.append(target); conditions.append("b.target = $\(params.count)") }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try pool.query("SELECT (\(Self.breakerEventJSON))::text AS j FROM breaker_events b \(whereClause) ORDER BY b.at DESC, b.id DESC LIMIT \(limit)",
                              params, retryOnConnectionLoss: true).map { try $0.decode(String.self, column: "j") }
    }

    /// The stored events a breaker command caused (its id is in each row's detail).
    func breakerEvents(commandId: String) throws -> [String] {
        try pool.query("SELECT (\(Self.breakerEventJSON))::text AS j FROM breaker_events b WHERE b.detail->>'commandId' = $1 ORDER BY b.at, b.id",
                       [commandId]).map { try $0.decode(String.self, column: "j") }
    }

    // MARK: Latency

    /// p50/p95/p99 of each agent's processing time (hop out − in) and of the end-to-end time
    /// (last hop out − first hop in) over orders created in the last `window` seconds.
    func latency(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["window"])
        let window = try q.int("window", default: 3600, range: 1...(30 * 86_400))
        let perAgent = try pool.query("""
            SELECT jsonb_build_object('agent', h->>'agent', 'count', count(*),
                'p50Ms', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 3),
                'p95Ms', round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ms))::numeric, 3),
                'p99Ms', round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 3), 'maxMs', round(max(ms), 3))::text AS j
            FROM (SELECT h, ((h->>'out')::bigint - (h->>'in')::bigint) / 1000.0 AS ms
                  FROM orders o, jsonb_array_elements(o.hops) h
                  WHERE o.created_at >= now() - $1::bigint * interval '1 second' AND jsonb_typeof(o.hops) = 'array') t
            GROUP BY h->>'agent' ORDER BY h->>'agent'
            """, [Int64(window)], retryOnConnectionLoss: true).map { try $0.decode(String.self, column: "j") }
        let endToEnd = try pool.queryOne("""
            SELECT jsonb_build_object('count', count(*),
                'p50Ms', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 3),
                'p95Ms', round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ms))::numeric, 3),
                'p99Ms', round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 3), 'maxMs', round(max(ms), 3))::text AS j
            FROM (SELECT ((o.hops->-1->>'out')::bigint - (o.hops->0->>'in')::bigint) / 1000.0 AS ms FROM orders o
                  WHERE o.created_at >= now() - $1::bigint * interval '1 second' AND jsonb_typeof(o.hops) = 'array'
                    AND jsonb_array_length(o.hops) > 0) t
            """, [Int64(window)], retryOnConnectionLoss: true).map { try $0.decode(String.self, column: "j") }
        var out = RawJSON()
        try out.value("windowSeconds", window)
        out.array("agents", perAgent)
        out.raw("endToEnd", endToEnd)
        return out.response()
    }
}

/// One decision of the trail, labelled with its pipeline stage.
struct DecisionView: Encodable {
    /// `sizing`, `compliance`, `antiCorrelation`, `humanDelay`, `breaker`, `execution`, or the agent name.
    var stage: String
    var agent: String
    var verdict: String
    var checks: [Decision.Check]
    var figures: [String: String]
    var decidedAt: Int64

    init(_ d: Decision) {
        switch d.agent {
        case "aria-risk": stage = "sizing"
        case "compliance-engine": stage = "compliance"
        case "anti-correlation": stage = "antiCorrelation"
        case "human-behavior": stage = "humanDelay"
        case "circuit-breaker": stage = "breaker"
        case "execution-engine": stage = "execution"
        default: stage = d.agent
        }
        agent = d.agent
        verdict = d.verdict.rawValue
        checks = d.checks
        figures = d.figures
        decidedAt = d.decidedAt
    }
}

/// The hops of one order with the time spent in each agent and between agents.
struct LatencyTrail: Encodable {
    struct HopView: Encodable {
        var agent: String
        /// Received and sent on, µs since the epoch.
        var inMicros: Int64
        var outMicros: Int64
        /// Time inside the agent.
        var processingMs: Double
        /// Time from the previous hop's send to this hop's receive (queue and transport); nil for the first.
        var transitMs: Double?
    }

    var hops: [HopView]
    /// First hop in to last hop out; nil without hops.
    var endToEndMs: Double?

    init(_ hops: [Hop]) {
        var views: [HopView] = []
        for (i, h) in hops.enumerated() {
            views.append(HopView(agent: h.agent, inMicros: h.inMicros, outMicros: h.outMicros,
                                 processingMs: Double(h.outMicros - h.inMicros) / 1000,
                                 transitMs: i == 0 ? nil : Double(h.inMicros - hops[i - 1].outMicros) / 1000))
        }
        self.hops = views
        endToEndMs = hops.isEmpty ? nil : Double(hops.last!.outMicros - hops.first!.inMicros) / 1000
    }
}
