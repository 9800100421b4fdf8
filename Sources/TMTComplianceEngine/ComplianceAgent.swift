import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

/// Wires the compliance core to Kafka and the trading database.
final class ComplianceAgent: Sendable {
    private let runtime: ServiceRuntime
    private let engine: ComplianceEngine
    private let configuredAccounts: [Account]
    private let dayStarts = Locked<[String: ComplianceDayStart]>([:])
    /// Per account: its realised results on the firm days before today (read once per day and
    /// challenge), and the orders filled today (counted again after `tradesRefresh` seconds).
    private struct DayHistory {
        var epoch: Int
        var day: String
        /// Read less than `settleSeconds` of market time after the day began: a fill stamped just
        /// before the reset by the execution engine's own clock may not have been stored yet, so
        /// the earlier days are read once more after that.
        var unsettled: Bool
        var history: [ComplianceContext.DayResult]
        var tradesToday: Int
        var countedAt: UInt64
    }
    private let histories = Locked<[String: DayHistory]>([:])
    private let tradesRefresh = 5.0
    private let settleSeconds = 60.0
    private let news = Locked(NewsCalendar(events: []))
    private let metrics: AgentMetrics
    private let violations: CounterFamily
    private let decisions: CounterFamily
    private let newsEvents: Gauge
    private let newsLoadedAt: Gauge
    /// Seconds between news calendar reloads (`NEWS_REFRESH_SECONDS`, default 10).
    private let newsRefresh: Double

    init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let env = Environment()
        let path = env.string("COMPLIANCE_CONFIG", default: "\(runtime.options.configDirectory)/compliance-staging.yml")
        let configuration = try ComplianceConfiguration.load(path: path)
        engine = ComplianceEngine(configuration: configuration, mode: try ComplianceMode(environment: env))
        configuredAccounts = configuration.accounts.map { $0.makeAccount() }
        metrics = AgentMetrics(registry: runtime.metrics)
        violations = runtime.metrics.counter("tmt_compliance_violations_total", help: "Orders rejected by a compliance rule, by account and rule.",
                                             labels: ["account", "rule"])
        decisions = runtime.metrics.counter("tmt_compliance_decisions_total", help: "Compliance decisions, by account and verdict.",
                                            labels: ["account", "verdict"])
        newsEvents = runtime.metrics.gauge("tmt_compliance_news_events", help: "News releases in the calendar the blackout rule uses now.").labels()
        newsLoadedAt = runtime.metrics.gauge("tmt_compliance_news_loaded_timestamp_seconds",
                                             help: "Wall-clock time the news calendar was last read from the database.").labels()
        newsRefresh = try env.double("NEWS_REFRESH_SECONDS", default: 10, range: 1...3600)
        runtime.logger.info("rules loaded", ["file": path, "firms": String(configuration.firms.count),
                                             "accounts": String(configuration.accounts.count), "mode": engine.mode.rawValue])
    }

    func start() throws {
        let env = Environment()
        let log = runtime.logger
        let pool = try runtime.openTradingDatabase(env)
        // The configured accounts exist in the database; their stored state (kept by the execution
        // engine) wins over the configured initial figures.
        let store = AccountStore(pool: pool)
        try store.ensure(configuredAccounts)
        try reloadNews(pool: pool, around: Date())

        let (kafka, producer) = try runtime.openKafka(env)
        let market = try runtime.openMarketView(env, kafka: kafka, deadLetterProducer: producer)
        let state = try AccountBook(initial: try store.all(), positions: try store.openPositions(), kafka: kafka,
                                    service: runtime.options.service, instanceId: runtime.options.instanceId,
                                    deadLetterProducer: producer, metrics: runtime.metrics, logger: log,
                                    now: { market.marketNow() ?? Date() })
        let orders = try KafkaConsumer(configuration: kafka, groupId: env.string("CONSUMER_GROUP", default: "compliance-engine"),
                                       topics: [Topic.ordersProposed.name], deadLetterProducer: producer,
                                       metrics: runtime.metrics, logger: log)
        runtime.lifecycle.onShutdown("consumers") {
            orders.stop(timeout: 10)
            state.stop()
            market.stop()
        }

        var router = HTTPRouter()
        router.get("/api/v1/accounts") { _ in try .json(state.allAccounts) }
        try runtime.startHTTP(router: router)
        runtime.startHeartbeat(producer: producer)

        try market.start()
        try state.start()
        // News is written by the data generator (and the integration tester) while the stack runs;
        // refresh it every NEWS_REFRESH_SECONDS, around market time.
        TMTThread.detach { [self] in
            var next = Date().addingTimeInterval(newsRefresh)
            while !runtime.lifecycle.isStopping {
                usleep(200_000)
                guard Date() >= next else { continue }
                next = Date().addingTimeInterval(newsRefresh)
                do { try reloadNews(pool: pool, around: market.marketNow() ?? Date()) } catch {
                    log.warning("news calendar not refreshed", ["error": "\(error)"])
                }
            }
        }
        try orders.startEnvelopes(Order.self) { [self] envelope, _ in
            try handle(envelope, market: market, book: state, pool: pool, producer: producer)
        }
        try runtime.consumeStagingCommands(kafka: kafka, producer: producer, pool: pool) { [self] command in
            switch command.action {
            case .dayReset:
                return resetDay(command, market: market, book: state)
            case .accountRestart:
                // Each order's day start is taken again when its account's epoch differs from the
                // one the stored start was taken in; this waits until the book has the new epochs.
                let seen = try command.awaitEpochs { id in state.account(id)?.epoch }
                return "limits measured from the initial balance again: " + StagingCommand.list(seen)
            }
        }
    }

    /// The account's results on earlier firm days of its current challenge (`fills.account_epoch`)
    /// and its orders filled today, for the consistency rule (best day against total profit) and
    /// the trading-day count. Earlier days are fixed, so they are read once per day and challenge;
    /// today's count is read again after `tradesRefresh` seconds (it only informs).
    private func history(of account: Account, rules: FirmRules, today: FirmTradingDay, at now: Date,
                         pool: PostgresPool) throws -> (history: [ComplianceContext.DayResult], tradesToday: Int) {
        var entry = histories.withLock { $0[account.id] }
        let settled = now.timeIntervalSince(today.start) >= settleSeconds
        if entry == nil || entry!.epoch != account.epoch || entry!.day != today.label || (entry!.unsettled && settled) {
            let fills = try pool.query("""
                SELECT order_id, filled_at, realized_pnl, commission FROM fills
                WHERE account_id = $1 AND account_epoch = $2 AND filled_at < $3 ORDER BY filled_at
                """, [account.id, account.epoch, today.start], prepared: true).map {
                ComplianceHistory.Fill(orderId: try $0.decode(String.self, column: "order_id"), filledAt: try $0.decode(Date.self, column: "filled_at"),
                                       realizedPnL: try $0.decode(Decimal.self, column: "realized_pnl"),
                                       commission: try $0.decode(Decimal.self, column: "commission"))
            }
            entry = DayHistory(epoch: account.epoch, day: today.label, unsettled: !settled,
                               history: ComplianceHistory.days(of: fills, rules: rules, today: today).history, tradesToday: 0, countedAt: 0)
        }
        if entry!.countedAt == 0 || Monotonic.secondsSince(entry!.countedAt) >= tradesRefresh {
            entry!.tradesToday = Int(try pool.queryOne("""
                SELECT count(DISTINCT order_id)::bigint AS n FROM fills
                WHERE account_id = $1 AND account_epoch = $2 AND filled_at >= $3 AND filled_at < $4
                """, [account.id, account.epoch, today.start, today.end], prepared: true)?.decode(Int64.self, column: "n") ?? 0)
            entry!.countedAt = Monotonic.nanos()
        }
        let fresh = entry!
        histories.withLock { $0[account.id] = fresh }
        return (fresh.history, fresh.tradesToday)
    }

    /// `staging.commands` day reset: the daily limits of every account in scope are measured
    /// from its balance and equity now (the firm day's label stays); the one-line acknowledgement.
    private func resetDay(_ command: StagingCommand, market: MarketView, book: AccountBook) -> String {
        let now = market.marketNow() ?? Date()
        var reset: [String] = [], skipped: [String] = []
        for account in book.allAccounts where command.applies(to: account.id) {
            guard let rules = engine.configuration.rules(forFirm: account.firm) else {
                skipped.append("\(account.id) (firm \(account.firm) not configured)")
                continue
            }
            let start = ComplianceDayStart.now(at: now, rules: rules, account: account)
            dayStarts.withLock { $0[account.id] = start }
            reset.append("\(account.id) from balance \(account.balance), equity \(account.equity)")
        }
        for id in command.accounts where book.account(id) == nil { skipped.append("\(id) (unknown)") }
        var text = "daily limits re-measured for \(reset.count) account\(reset.count == 1 ? "" : "s")"
        if !reset.isEmpty { text += ": " + StagingCommand.list(reset) }
        if !skipped.isEmpty { text += "; skipped: " + StagingCommand.list(skipped) }
        return text
    }

    /// Reads the releases from a week before to 60 days after `time` (market time: the rule
    /// judges orders at market time, which a simulation or replay may put far from the wall clock).
    private func reloadNews(pool: PostgresPool, around time: Date) throws {
        let now = Int64(time.timeIntervalSince1970 * 1_000_000)
        let calendar = try NewsStore(pool: pool).calendar(fromMicros: now - 7 * 86_400_000_000, toMicros: now + 60 * 86_400_000_000)
        news.withLock { $0 = calendar }
        newsEvents.set(Double(calendar.events.count))
        newsLoadedAt.set(Date().timeIntervalSince1970)
    }

    private func handle(_ envelope: Envelope<Order>, market: MarketView, book: AccountBook, pool: PostgresPool, producer: KafkaProducer) throws {
        let received = HopClock.nowMicros()
        let started = Monotonic.nanos()
        var order = envelope.payload
        // Rules are judged at market time (the simulation's or a replay's clock, as the news
        // calendar, sessions and the weekend are), the wall clock until the first tick.
        let now = market.marketNow() ?? Date()
        let clock = ManualClock(start: now)
        let decision: ComplianceDecision
        let account = book.account(order.accountId)
        if let account, let rules = engine.configuration.rules(forFirm: account.firm) {
            let dayStart = dayStarts.withLock { map -> ComplianceDayStart in
                let d = map[account.id].map { $0.current(at: now, rules: rules, account: account) }
                    ?? .fresh(at: now, rules: rules, account: account)
                map[account.id] = d
                return d
            }
            var pricing: ComplianceContext.OrderPricing?
            if let instrument = Instrument.catalog[order.instrument], let quote = market.quote(order.instrument),
               let rate = market.converter().rate(from: instrument.quoteCurrency, to: account.currency) {
                pricing = .init(instrument: instrument, marketPrice: order.side == .buy ? quote.ask : quote.bid, quoteToAccountRate: rate)
            }
            let past = try history(of: account, rules: rules, today: rules.tradingDay(containing: now), at: now, pool: pool)
            var context = ComplianceContext(account: account,
                                            positions: book.openPositions(account.id).map { .init(position: $0.position, openedAt: $0.openedAt) },
                                            dayStart: dayStart, history: past.history, tradesToday: past.tradesToday,
                                            news: news.withLock { $0 }, clock: clock, pricing: pricing)
            // The challenge's balance moves by exactly its fills' realised P&L net of commission,
            // so today's share is what the earlier days do not account for: live, and including
            // what was booked between the firm's reset and the day's first baseline.
            context.realizedToday = account.balance - account.initialBalance - past.history.reduce(Decimal(0)) { $0 + $1.realizedPnL }
            decision = engine.evaluate(order: order, context: context)
        } else {
            // Unknown account (or its firm): evaluating with no rules would approve blindly.
            decision = engine.evaluate(order: order, context: ComplianceContext(
                account: Account(id: order.accountId, firm: "unknown", initialBalance: 1),
                dayStart: ComplianceDayStart(day: FirmTradingDay(start: now, end: now, label: "unknown"), balance: 1, equity: 1),
                clock: clock, pricing: nil))
        }

        // Durable first: the decision row (keyed by order id, so a redelivered order is a no-op)
        // and the order's event, together (one round trip, all or nothing).
        let firm = account?.firm ?? "unknown"
        let checksJSON = try PostgresJSON(encoding: decision.decision.checks)
        let figuresJSON = try PostgresJSON(encoding: decision.figures)
        let approved = decision.verdict != .rejected
        try order.advance(to: approved ? .approved : .rejected, decision: decision.decision)
        let event = try OrderStore(pool: pool).eventStatement(
            order: order, agent: runtime.options.service, messageId: "\(order.id):compliance-engine",
            processingMs: Monotonic.secondsSince(started) * 1000,
            hops: envelope.hops + [Hop(agent: runtime.options.service, inMicros: received, outMicros: HopClock.nowMicros())])
        try pool.executeTogether([("""
            INSERT INTO compliance_decisions (order_id, account_id, firm, verdict, mode, checks, figures, decided_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (order_id) DO NOTHING
            """, [order.id, order.accountId, firm, decision.verdict.rawValue, engine.mode.rawValue, checksJSON, figuresJSON, now]),
            event])
        let out = envelope.derive(id: "\(order.id):compliance", type: approved ? "order.approved" : "order.rejected",
                                  source: runtime.options.service, receivedMicros: received, payload: order)
        let topic: Topic = approved ? .ordersApproved : .complianceViolations
        _ = try producer.send(out, to: topic, key: order.accountId).wait(timeout: 30)

        decisions.labels(order.accountId, decision.verdict.rawValue).inc()
        for v in decision.violations { violations.labels(order.accountId, v.rule.rawValue).inc() }
        metrics.processing.labels(runtime.options.service, "order").observeSince(started)
        metrics.handled.labels(runtime.options.service, "order", decision.verdict.rawValue).inc()
        runtime.logger.info(approved ? "order approved" : "order rejected", traceId: envelope.traceId,
                            ["order": order.id, "verdict": decision.verdict.rawValue, "reason": decision.rejectionReason ?? "-"])
    }
}
