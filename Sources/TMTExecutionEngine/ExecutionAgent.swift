import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

/// Wires the paper execution core to Kafka (orders.cleared and market.ticks in; fills, positions
/// and accounts out), the trading database and HTTP. One instance: it holds the working orders
/// and every account's ledger in memory, and all work runs under one lock, in tick order.
///
/// Restart-safe: a working order's state is stored with its order row (`orders.working`) and each
/// position's protective levels with the position, so a restarted engine resumes pending orders
/// and keeps checking stops and targets. Each account's trading day follows its firm's reset
/// (timezone and time of day) on the market clock: at the reset the daily P&L starts again from
/// the balance.
final class ExecutionAgent: Sendable {
    /// In-memory state: everything the engine returns is kept here for the next call.
    private struct State: Sendable {
        var ledgers: [String: AccountLedger] = [:]
        var accounts: [String: Account] = [:]
        var working: [String: (order: WorkingOrder, source: Envelope<Order>?, nextCheckAt: Int64?)] = [:]
        var rates = CurrencyRates()
        var clock = MarketClock(clock: SystemClock())
        var throttle = AccountUpdateThrottle(minimumInterval: 0.25, clock: SystemClock())
        /// The firm trading day each loaded account is in (by the market clock).
        var days: [String: FirmTradingDay] = [:]
        /// The firm day label stored with each account row when its ledger was loaded.
        var storedDays: [String: String?] = [:]
        /// When every loaded account was last published (monotonic ns), for the periodic refresh.
        var lastFullPublish: UInt64 = 0
        /// When each loaded account was last restarted (wall clock µs, from `accounts.restarted_at`):
        /// an order whose trail began before it belongs to the previous challenge and is refused.
        var restartedAt: [String: Int64] = [:]
        /// Each loaded account's high-water mark as last stored in its row: the mark rises with
        /// every valuation, but the row is written only at fills, so rises in between are stored
        /// with the periodic refresh, at a day start and at shutdown (a restart reloaded the
        /// lower mark: a trailing floor fell and a drawdown looked smaller than it was).
        var storedHighWaterMarks: [String: Decimal] = [:]
        /// Each loaded account's equity and daily P&L as last written by `storeMarks` (the row
        /// held the figures of its last fill, while open positions moved them).
        var storedMarks: [String: StoredMark] = [:]
        /// When each account was last checked against its firm's flat-by time (market µs).
        var flatByCheckedAt: [String: Int64] = [:]
        /// Accounts whose last day start could not be written: their row kept the previous day's
        /// start, so no mark matched it until a retry by `storeMarks` stores the day.
        var unstoredDays: Set<String> = []
    }

    struct StoredMark {
        var equity: Decimal
        var dailyPnL: Decimal
        /// When an equity snapshot was last written from a mark (monotonic ns).
        var snapshotAt: UInt64
    }

    private let runtime: ServiceRuntime
    private let engine: ExecutionEngine
    private let state = Locked(State())
    private let metrics: AgentMetrics
    /// `metrics.processing` for ticks, looked up once (a lookup hashes the labels under a lock).
    private let tickProcessing: Histogram
    private let executions: CounterFamily
    private let failures: CounterFamily
    private let signalLatency: HistogramFamily
    private let dailyPnL: GaugeFamily
    private let drawdown: GaugeFamily
    private let dayRolls: CounterFamily
    /// The staging accounts and their firms' rules (COMPLIANCE_CONFIG).
    private let firms: ComplianceConfiguration

    init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let env = Environment()
        // ARCHITECTURE.md: paper trading is enforced; never start against a live bridge.
        guard env.string("PAPER_TRADING", default: "").lowercased() == "true" else {
            throw TMTError(.configuration, "PAPER_TRADING must be set to true: tmt-execution-engine only runs paper trading")
        }
        let mt4 = env.string("MT4_ENABLED", default: "false").lowercased()
        guard ["", "false", "0", "no"].contains(mt4) else {
            throw TMTError(.configuration, "MT4_ENABLED=\(mt4) is refused: live execution is disabled in staging (unset it or set it to false)")
        }
        // Staging fills against simulated quotes only (the data generator); no live feed exists.
        let simulation = env.string("SIMULATION_MODE", default: "true").lowercased()
        guard ["true", "1", "yes"].contains(simulation) else {
            throw TMTError(.configuration, "SIMULATION_MODE=\(simulation) is refused: staging trades simulated market data only (unset it or set it to true)")
        }
        engine = try ExecutionEngine(configuration: .staging)
        let path = env.string("COMPLIANCE_CONFIG", default: "\(runtime.options.configDirectory)/compliance-staging.yml")
        firms = try ComplianceConfiguration.load(path: path)
        metrics = AgentMetrics(registry: runtime.metrics)
        tickProcessing = metrics.processing.labels(runtime.options.service, "tick")
        let m = runtime.metrics
        executions = m.counter("tmt_trade_execution_total", help: "Fills booked, by account, instrument and side.",
                               labels: ["account", "instrument", "side"])
        failures = m.counter("tmt_trade_execution_failures_total",
                             help: "Orders that ended without a fill or could not be worked yet, by reason.", labels: ["reason"])
        signalLatency = m.histogram("tmt_signal_execution_duration_seconds",
                                    help: "Seconds from a signal (the first hop's receipt) to its order's fill.",
                                    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60])
        dailyPnL = m.gauge("tmt_daily_pnl_usd", help: "Today's P&L (realised, open, net of commission), account currency.",
                           labels: ["account"])
        drawdown = m.gauge("tmt_account_drawdown_percentage", help: "Drawdown of equity from the high-water mark, percent.",
                           labels: ["account"])
        let marketClock = m.gauge("tmt_market_clock_seconds",
                                  help: "Market time now on this service's clock (newest tick time, advanced by the wall time since), seconds since the epoch.")
            .labels()
        dayRolls = m.counter("tmt_execution_day_rolls_total", help: "Trading days started at the account's firm reset, by account.",
                             labels: ["account"])
        m.addCollector { [weak self] in
            if let now = self?.state.withLock({ $0.clock.now() }) { marketClock.set(Double(now) / 1e6) }
        }
    }

    func start() throws {
        let env = Environment()
        let log = runtime.logger
        let pool = try runtime.openTradingDatabase(env)
        try AccountStore(pool: pool).ensure(firms.accounts.map { $0.makeAccount() })
        try restoreWorkingOrders(pool: pool)

        let (kafka, producer) = try runtime.openKafka(env)
        // The quote board (Redis) the agents with MARKET_QUOTES=redis read instead of following
        // every tick themselves; stopped after the consumers, with a last write.
        let quoteBoard = try runtime.openQuotePublisher(env)
        runtime.lifecycle.onShutdown("quote board") { quoteBoard?.stop() }
        // Runs after the consumers have stopped (steps run in reverse): the marks they raised.
        runtime.lifecycle.onShutdown("high-water marks") { [self] in storeMarks(pool: pool, final: true) }
        let orders = try KafkaConsumer(configuration: kafka, groupId: env.string("CONSUMER_GROUP", default: "execution-engine"),
                                       topics: [Topic.ordersCleared.name], deadLetterProducer: producer,
                                       metrics: runtime.metrics, logger: log)
        var tickConfig = kafka.forMarketData()
        tickConfig.autoOffsetReset = "latest"
        let ticks = try KafkaConsumer(configuration: tickConfig, groupId: "execution-engine-ticks-\(runtime.options.instanceId)",
                                      topics: [Topic.marketTicks.name], deadLetterProducer: producer,
                                      metrics: runtime.metrics, logger: log)
        runtime.lifecycle.onShutdown("consumers") {
            orders.stop(timeout: 10)
            ticks.stop(timeout: 10)
        }

        var router = HTTPRouter()
        router.get("/api/v1/accounts") { [self] _ in try .json(state.withLock { Array($0.accounts.values) }.sorted { $0.id < $1.id }) }
        router.get("/api/v1/positions") { [self] _ in
            try .json(state.withLock { s in s.ledgers.values.flatMap { $0.book.openPositions.map(\.position) } }
                .sorted { ($0.accountId, $0.instrument) < ($1.accountId, $1.instrument) })
        }
        try runtime.startHTTP(router: router)
        runtime.startHeartbeat(producer: producer)

        // Every staging account's figures from the start, so the circuit breaker (fail closed:
        // an account never heard of is HALTED) and the others know them before the first fill.
        try state.withLock { s in
            for staging in firms.accounts { _ = try ledger(staging.id, in: &s, pool: pool) }
        }
        publishAllAccounts(pool: pool, producer: producer)

        quoteBoard?.start()
        try ticks.startEnvelopes(Tick.self) { [self] envelope, _ in
            quoteBoard?.update(envelope.payload)
            onTick(envelope.payload, pool: pool, producer: producer)
        }
        try orders.startEnvelopes(Order.self) { [self] envelope, _ in
            try onOrder(envelope, pool: pool, producer: producer)
        }
        try runtime.consumeStagingCommands(kafka: kafka, producer: producer, pool: pool) { [self] command in
            switch command.action {
            case .dayReset: try resetDay(command, pool: pool, producer: producer)
            case .accountRestart: try restartAccounts(command, pool: pool, producer: producer)
            }
        }
        // Timers on the market clock (quote waits, expiries) and throttled account updates.
        TMTThread.detach { [self] in
            while !runtime.lifecycle.isStopping {
                usleep(100_000)
                onTimer(pool: pool, producer: producer)
            }
        }
    }

    // MARK: - Events

    /// A cleared order: accepted at the market clock's now, executed at once when a quote exists.
    private func onOrder(_ envelope: Envelope<Order>, pool: PostgresPool, producer: KafkaProducer) throws {
        let started = Monotonic.nanos()
        let order = envelope.payload
        // A redelivered order this engine already worked (its row carries the engine's status)
        // is not worked again: the ledger would book its fills twice.
        var workedStatus: OrderStatus?
        if let row = try pool.queryOne("SELECT status FROM orders WHERE id = $1", [order.id]),
           let status = OrderStatus(rawValue: try row.decode(String.self, column: "status")), Self.engineStatuses.contains(status) {
            workedStatus = status
        }
        func ignoreRedelivery(_ status: OrderStatus) {
            metrics.handled.labels(runtime.options.service, "order", "duplicate").inc()
            runtime.logger.info("order already worked; redelivery ignored", traceId: envelope.traceId,
                                ["order": order.id, "status": status.rawValue])
        }
        if let workedStatus, state.withLock({ $0.working[order.id] == nil }) {
            ignoreRedelivery(workedStatus)
            return
        }
        let wallReceived = HopClock.nowMicros()
        let received = state.withLock { $0.clock.now() } ?? wallReceived
        let accepted = Result { () throws(ExecutionError) -> WorkingOrder in try engine.accept(order, receivedAt: received) }
        guard case .success(let working) = accepted else {
            if case .failure(let error) = accepted { failure(error, order: order.id) }
            return
        }
        // Set when the order is still waiting for its first quote after the lock below: stored then.
        var waiting: (order: WorkingOrder, source: Envelope<Order>)?
        let redelivered = try state.withLock { s -> OrderStatus? in
            if let w = s.working[order.id] {
                // A retry of this handler (its store failed) finds the order working: store it now.
                if w.order.order.status == .cleared, let source = w.source { waiting = (w.order, source) }
                return nil
            }
            // Worked by the engine and still working at the check above, finished since (the tick
            // thread filled it): a redelivery all the same, never a new order to book again.
            if let workedStatus { return workedStatus }
            let ledger = try ledger(order.accountId, in: &s, pool: pool)
            // An order sized for an earlier challenge of its account (restarted since) was checked
            // against an account that no longer exists: it is cancelled, never worked. Without
            // the epoch (a producer that does not set it) its trail's start is compared with the
            // restart time.
            let began = envelope.hops.first?.inMicros ?? envelope.createdAt
            let epoch = s.accounts[order.accountId]?.epoch ?? 0
            var stale: String?
            if let sized = order.accountEpoch {
                if sized < epoch { stale = "it was sized for epoch \(sized), the account is at epoch \(epoch)" }
            } else if let restarted = s.restartedAt[order.accountId], began < restarted {
                stale = "it was restarted at \(Logger.timestamp(Date(micros: restarted))), after this order's trail began at \(Logger.timestamp(Date(micros: began)))"
            }
            if let stale {
                var source = envelope
                source.hops.append(Hop(agent: runtime.options.service, inMicros: wallReceived, outMicros: wallReceived))
                let reason = "account \(order.accountId) was restarted: \(stale); the order belongs to the previous challenge"
                try record(engine.cancel(working, reason: reason, now: received, ledger: ledger), source: source, in: &s, pool: pool,
                           producer: producer)
                runtime.logger.info("order from before the account's restart cancelled", traceId: envelope.traceId,
                                    ["order": order.id, "account": order.accountId])
                return nil
            }
            // A newly loaded account learns its firm day before anything is booked on it.
            if let now = s.clock.now() { rollTradingDays(now: now, in: &s, pool: pool, producer: producer) }
            // The engine's hop opens now (wall clock) and closes when the order's outcome is booked.
            var source = envelope
            source.hops.append(Hop(agent: runtime.options.service, inMicros: wallReceived, outMicros: wallReceived))
            s.working[order.id] = (working, source, nil)
            if let quote = s.rates.quote(order.instrument) {
                try work(order.id, quote: quote, now: max(received, quote.time), in: &s, pool: pool, producer: producer)
            }
            if let w = s.working[order.id], w.order.order.status == .cleared, let source = w.source { waiting = (w.order, source) }
            return nil
        }
        if let redelivered {
            ignoreRedelivery(redelivered)
            return
        }
        if let waiting { try storeAccepted(waiting.order, source: waiting.source, pool: pool) }
        metrics.processing.labels(runtime.options.service, "order").observeSince(started)
        metrics.handled.labels(runtime.options.service, "order", "accepted").inc()
    }

    /// A tick: every working order in its instrument, then the protective levels of every
    /// account holding it, then the marked accounts (throttled).
    private func onTick(_ tick: Tick, pool: PostgresPool, producer: KafkaProducer) {
        let started = Monotonic.nanos()
        state.withLock { s in
            s.rates.update(tick)
            s.clock.observe(tickTime: tick.time)
            let now = s.clock.now() ?? tick.time
            rollTradingDays(now: now, in: &s, pool: pool, producer: producer)
            // Only the orders and accounts this tick concerns are sorted (usually none: sorting
            // every key on every tick was a sizeable share of this agent's time under a burst).
            var orderIds: [String] = []
            for (id, w) in s.working where w.order.order.instrument == tick.instrument { orderIds.append(id) }
            orderIds.sort()
            for id in orderIds where s.working[id]?.order.order.instrument == tick.instrument {
                do { try work(id, quote: tick, now: now, in: &s, pool: pool, producer: producer) } catch {
                    failure(error, order: id)
                }
            }
            // Protective closes only reduce positions, so the holders before the loop are all the
            // accounts it can act on; each is checked again when its turn comes.
            var holders: [String] = []
            for (accountId, ledger) in s.ledgers where ledger.book.position(tick.instrument).quantity != 0 { holders.append(accountId) }
            holders.sort()
            for accountId in holders {
                guard let ledger = s.ledgers[accountId], ledger.book.position(tick.instrument).quantity != 0 else { continue }
                do {
                    if let hit = try engine.checkProtectiveLevels(ledger: ledger, quote: tick, now: now, rates: s.rates) {
                        runtime.logger.info("protective level reached", ["account": accountId, "instrument": tick.instrument,
                                                                        "kind": hit.kind.rawValue, "level": "\(hit.level)"])
                        try record(hit.result, source: nil, in: &s, pool: pool, producer: producer)
                    }
                } catch { failure(error, order: "\(accountId):\(tick.instrument)") }
                if let ledger = s.ledgers[accountId], s.throttle.shouldEmit(accountId: accountId, fill: false) {
                    publishAccount(ledger, in: &s, producer: producer)
                }
            }
        }
        tickProcessing.observeSince(started)
    }

    /// Orders whose `nextCheckAt` has passed on the market clock, and throttled account updates.
    private func onTimer(pool: PostgresPool, producer: KafkaProducer) {
        state.withLock { s in
            guard let now = s.clock.now() else { return }
            rollTradingDays(now: now, in: &s, pool: pool, producer: producer)
            enforceFlatBy(now: now, in: &s, pool: pool, producer: producer)
            for id in s.working.keys.sorted() {
                guard let w = s.working[id], let at = w.nextCheckAt, at <= now, let quote = s.rates.quote(w.order.order.instrument) else { continue }
                do { try work(id, quote: quote, now: now, in: &s, pool: pool, producer: producer) } catch { failure(error, order: id) }
            }
            for accountId in s.throttle.due() {
                if let ledger = s.ledgers[accountId] { publishAccount(ledger, in: &s, producer: producer) }
            }
        }
        if Monotonic.nanos() &- state.withLock({ $0.lastFullPublish }) >= Self.fullPublishIntervalNanos {
            publishAllAccounts(pool: pool, producer: producer)
        }
    }

    /// Every loaded account, marked to the latest quotes where it can be, else as stored, and
    /// its open positions; then the high-water marks that rose are stored.
    private func publishAllAccounts(pool: PostgresPool, producer: KafkaProducer) {
        state.withLock { s in
            s.lastFullPublish = Monotonic.nanos()
            for accountId in s.ledgers.keys.sorted() {
                guard let ledger = s.ledgers[accountId], let account = mark(ledger, in: &s) else { continue }
                do {
                    _ = try sendAccount(account, producer: producer)
                    // Open positions too: a service started after they opened learns them here.
                    for entry in ledger.book.openPositions {
                        let p = entry.position
                        let env = Envelope(id: "\(accountId):\(p.instrument):position@\(HopClock.nowMicros())", type: "position.update",
                                           traceId: accountId, source: runtime.options.service, payload: p)
                        _ = try producer.send(env, to: .positionsUpdates, key: accountId)
                    }
                } catch {
                    metrics.communicationErrors.labels(runtime.options.service, "kafka").inc()
                }
            }
        }
        storeMarks(pool: pool)
    }

    /// How often every loaded account is published even when nothing changed: 5 s.
    private static let fullPublishIntervalNanos: UInt64 = 5_000_000_000

    // MARK: - Working

    private func work(_ id: String, quote: Tick, now: Int64, in s: inout State, pool: PostgresPool, producer: KafkaProducer) throws {
        guard let w = s.working[id] else { return }
        let ledger = try ledger(w.order.order.accountId, in: &s, pool: pool)
        let result = try engine.execute(w.order, quote: quote, now: now, ledger: ledger, rates: s.rates)
        s.working[id]?.nextCheckAt = result.nextCheckAt
        guard result.changed else { return }
        try record(result, source: w.source, in: &s, pool: pool, producer: producer)
    }

    /// Stores an accepted order that is still waiting for its first quote (the usual case: it
    /// reaches the market after its simulated latency) with its working state and the engine's
    /// open hop, before its offset can be committed, so a restart restores it. Before, only an
    /// order's first outcome stored it: one accepted just before a restart was lost, its row left
    /// `cleared`. Outside the state lock, so ticks are not held up; a row the tick thread has
    /// moved on meanwhile (its outcome recorded) is left alone.
    private func storeAccepted(_ working: WorkingOrder, source: Envelope<Order>, pool: PostgresPool) throws {
        let order = working.order
        _ = try pool.execute("""
            INSERT INTO orders (id, signal_id, account_id, instrument, side, type, quantity, price, stop_loss, take_profit,
                                risk_reducing, status, filled_quantity, decisions, hops, trace_id, created_at, working)
            VALUES ($1, (SELECT id FROM signals WHERE id = $2), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $15, $16, $17)
            ON CONFLICT (id) DO UPDATE SET working = EXCLUDED.working, hops = EXCLUDED.hops, updated_at = now()
            WHERE orders.working IS NULL AND orders.status = 'cleared'
            """, [order.id, order.signalId, order.accountId, order.instrument, order.side.rawValue, order.type.rawValue,
                  order.quantity, order.price, order.stopLoss, order.takeProfit, order.riskReducing, order.status.rawValue,
                  try PostgresJSON(encoding: order.decisions), try PostgresJSON(encoding: source.hops), source.traceId,
                  Date(micros: order.createdAt), try PostgresJSON(encoding: working)], prepared: true)
    }

    /// Persists one engine result in one transaction, then publishes it and keeps its state.
    private func record(_ result: ExecutionResult, source: Envelope<Order>?, in s: inout State, pool: PostgresPool,
                        producer: KafkaProducer) throws {
        let received = HopClock.nowMicros()
        let order = result.order.order
        var account = try s.accounts[order.accountId] ?? loadAccount(order.accountId, pool: pool)
        let valuation = try? engine.valuation(of: result.ledger, rates: s.rates)
        if let valuation { valuation.apply(to: &account) } else {
            // An open position without a quote: equity cannot be marked yet; carry the balance.
            account.balance = result.ledger.balance
        }
        // The engine's hop: from the order's receipt (opened in onOrder) to this outcome.
        var inbound = source?.hops ?? []
        var hopIn = received
        if let last = inbound.last, last.agent == runtime.options.service {
            hopIn = last.inMicros
            inbound.removeLast()
        }
        let hops = inbound + [Hop(agent: runtime.options.service, inMicros: hopIn, outMicros: received)]
        let traceId = source?.traceId ?? order.id
        try pool.transaction { conn in
            _ = try conn.execute("""
                INSERT INTO orders (id, signal_id, account_id, instrument, side, type, quantity, price, stop_loss, take_profit,
                                    risk_reducing, status, filled_quantity, decisions, hops, trace_id, created_at, working)
                VALUES ($1, (SELECT id FROM signals WHERE id = $2), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                        $18)
                ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, filled_quantity = EXCLUDED.filled_quantity,
                    decisions = EXCLUDED.decisions, working = EXCLUDED.working, hops = EXCLUDED.hops, updated_at = now()
                """, [order.id, order.signalId, order.accountId, order.instrument, order.side.rawValue, order.type.rawValue,
                      order.quantity, order.price, order.stopLoss, order.takeProfit, order.riskReducing, order.status.rawValue,
                      result.order.filledQuantity, try PostgresJSON(encoding: order.decisions), try PostgresJSON(encoding: hops),
                      traceId, Date(micros: order.createdAt), result.order.isDone ? nil : try PostgresJSON(encoding: result.order)],
                prepared: true)
            for booked in result.fills {
                let f = booked.fill
                _ = try conn.execute("""
                    INSERT INTO fills (id, order_id, account_id, instrument, side, quantity, price, spread, slippage, commission,
                                       realized_pnl, filled_at, account_epoch)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING
                    """, [f.id, f.orderId, f.accountId, f.instrument, f.side.rawValue, f.quantity, f.price, f.spread, f.slippage,
                          f.commission, booked.realizedPnL, Date(micros: f.time), account.epoch], prepared: true)
            }
            if !result.fills.isEmpty {
                let p = result.position
                let entry = result.ledger.book.entry(p.instrument)
                // The position as the account was just marked (nil when flat, or a quote or conversion
                // rate is still unknown): the mark of the previous quantity would be wrong from now on.
                let marked = p.quantity == 0 ? nil : valuation?.positions.first { $0.instrument == p.instrument }
                _ = try conn.execute("""
                    INSERT INTO positions (account_id, instrument, quantity, average_price, realized_pnl, opened_at, updated_at,
                                           stop_loss, take_profit, source_order_id, source_signal_id, mark_price, unrealized_pnl, marked_at)
                    VALUES ($1, $2, $3, $4, $5, CASE WHEN $3::numeric = 0 THEN NULL ELSE $10::timestamptz END, now(),
                            $6, $7, $8, $9, $11, $12, CASE WHEN $11::numeric IS NULL THEN NULL ELSE now() END)
                    ON CONFLICT (account_id, instrument) DO UPDATE SET quantity = EXCLUDED.quantity,
                        average_price = EXCLUDED.average_price, realized_pnl = EXCLUDED.realized_pnl,
                        stop_loss = EXCLUDED.stop_loss, take_profit = EXCLUDED.take_profit,
                        source_order_id = EXCLUDED.source_order_id, source_signal_id = EXCLUDED.source_signal_id,
                        opened_at = CASE WHEN EXCLUDED.quantity = 0 THEN NULL ELSE $10::timestamptz END,
                        mark_price = EXCLUDED.mark_price, unrealized_pnl = EXCLUDED.unrealized_pnl, marked_at = EXCLUDED.marked_at,
                        updated_at = now()
                    """, [p.accountId, p.instrument, p.quantity, p.averagePrice, p.realizedPnL, entry.stopLoss, entry.takeProfit,
                          entry.sourceOrderId, entry.sourceSignalId, p.openedAt.map(Date.init(micros:)),
                          marked?.closingPrice, marked?.openPnL], prepared: true)
                _ = try conn.execute("""
                    UPDATE accounts SET balance = $2, equity = $3, daily_pnl = $4, high_water_mark = $5, realized_pnl = $6,
                        commission = $7, trading_day = COALESCE($8, trading_day), updated_at = now() WHERE id = $1
                    """, [account.id, account.balance, account.equity, account.dailyPnL, account.highWaterMark,
                          result.ledger.realizedPnL, result.ledger.commission, s.days[account.id]?.label], prepared: true)
                _ = try conn.execute("""
                    INSERT INTO account_snapshots (account_id, balance, equity, daily_pnl, drawdown_percent, at)
                    VALUES ($1, $2, $3, $4, $5, now())
                    """, [account.id, account.balance, account.equity, account.dailyPnL, account.drawdownPercent], prepared: true)
            }
            _ = try conn.execute("""
                INSERT INTO order_events (message_id, order_id, agent, status, verdict, detail, processing_ms)
                VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_id) DO NOTHING
                """, ["\(order.id):\(runtime.options.service):\(order.status.rawValue):\(result.order.fillCount)", order.id,
                      runtime.options.service, order.status.rawValue, result.decision?.verdict.rawValue,
                      try PostgresJSON(encoding: result.decision?.figures ?? [:]),
                      Double(HopClock.nowMicros() - received) / 1000], prepared: true)
        }
        s.ledgers[order.accountId] = result.ledger
        s.accounts[order.accountId] = account
        if result.order.isDone {
            s.working[order.id] = nil
        } else {
            s.working[order.id] = (result.order, source, result.nextCheckAt)
        }

        // Publish, and wait for the acknowledgements before the offset may be committed.
        var deliveries: [KafkaDelivery] = []
        var base = source ?? Envelope(id: order.id, type: "order.protective", traceId: traceId, source: runtime.options.service, payload: order)
        base.hops = inbound
        for booked in result.fills {
            let out = base.derive(id: booked.fill.id, type: "execution.fill", source: runtime.options.service, receivedMicros: hopIn,
                                  payload: booked.fill)
            deliveries.append(try producer.send(out, to: .executionsFills, key: order.accountId))
            executions.labels(order.accountId, order.instrument, booked.fill.side.rawValue).inc()
            if source != nil {
                let first = source?.hops.first?.inMicros ?? source?.createdAt ?? received
                signalLatency.labels().observe(max(0, Double(HopClock.nowMicros() - first) / 1e6))
            }
        }
        if !result.fills.isEmpty {
            let out = base.derive(id: "\(order.id):position:\(result.order.fillCount)", type: "position.update",
                                  source: runtime.options.service, receivedMicros: hopIn, payload: result.position)
            deliveries.append(try producer.send(out, to: .positionsUpdates, key: order.accountId))
            _ = s.throttle.shouldEmit(accountId: order.accountId, fill: true)
            deliveries.append(try sendAccount(account, producer: producer))
        } else if order.status.isTerminal {
            // Ended without a fill (cancelled, expired, rejected by margin): a failed execution.
            failures.labels(result.outcome.rawValue).inc()
        }
        if source != nil, order.status.isTerminal, order.status != .filled {
            // An order of the pipeline that will not trade (any further) goes on `orders.blocked`,
            // like the breaker's blocks and human behaviour's cancellations: anti-correlation
            // counts an order it let through as exposure until it fills or ends, and without this
            // an expired limit order or a margin rejection stayed counted until its safety expiry.
            let out = base.derive(id: "\(order.id):execution:\(order.status.rawValue)", type: "order.\(order.status.rawValue)",
                                    source: runtime.options.service, receivedMicros: hopIn, payload: order)
            deliveries.append(try producer.send(out, to: .ordersBlocked, key: order.accountId))
        }
        for d in deliveries { _ = try d.wait(timeout: 30) }
        runtime.logger.info("order worked", traceId: traceId, ["order": order.id, "status": order.status.rawValue,
                                                               "fills": String(result.fills.count),
                                                               "balance": "\(result.ledger.balance)"])
    }

    // MARK: - Accounts

    /// The account's ledger, rebuilt from its accounts and positions rows on first use.
    private func ledger(_ accountId: String, in s: inout State, pool: PostgresPool) throws -> AccountLedger {
        if let l = s.ledgers[accountId] { return l }
        guard let row = try pool.queryOne("""
            SELECT currency, initial_balance, realized_pnl, commission, equity, daily_pnl, trading_day,
                   (extract(epoch FROM restarted_at) * 1000000)::bigint AS restarted FROM accounts WHERE id = $1
            """, [accountId]) else {
            throw ExecutionError(.mismatch, "unknown account \(accountId)")
        }
        let positions = try pool.query("""
            SELECT instrument, quantity, average_price, realized_pnl, stop_loss, take_profit, source_order_id, source_signal_id,
                   (extract(epoch FROM opened_at) * 1000000)::bigint AS opened
            FROM positions WHERE account_id = $1
            """, [accountId]).map { r in
            BookedPosition(position: Position(accountId: accountId, instrument: try r.decode(String.self, column: "instrument"),
                                              quantity: try r.decode(Decimal.self, column: "quantity"),
                                              averagePrice: try r.decode(Decimal.self, column: "average_price"),
                                              realizedPnL: try r.decode(Decimal.self, column: "realized_pnl"),
                                              openedAt: try r.decode(Int64?.self, column: "opened")),
                           stopLoss: try r.decode(Decimal?.self, column: "stop_loss"),
                           takeProfit: try r.decode(Decimal?.self, column: "take_profit"),
                           sourceOrderId: try r.decode(String?.self, column: "source_order_id"),
                           sourceSignalId: try r.decode(String?.self, column: "source_signal_id"))
        }
        let l = AccountLedger(accountId: accountId, currency: try row.decode(String.self, column: "currency"),
                              initialBalance: try row.decode(Decimal.self, column: "initial_balance"),
                              realizedPnL: try row.decode(Decimal.self, column: "realized_pnl"),
                              commission: try row.decode(Decimal.self, column: "commission"),
                              dayStartBalance: try row.decode(Decimal.self, column: "equity") - row.decode(Decimal.self, column: "daily_pnl"),
                              positions: positions)
        // The firm day the stored daily P&L belongs to; `rollTradingDays` compares it with the
        // market clock's day once there is one.
        s.storedDays[accountId] = try row.decode(String?.self, column: "trading_day")
        s.restartedAt[accountId] = try row.decode(Int64?.self, column: "restarted")
        if s.accounts[accountId] == nil { s.accounts[accountId] = try loadAccount(accountId, pool: pool) }
        if let stored = s.accounts[accountId]?.highWaterMark { s.storedHighWaterMarks[accountId] = stored }
        s.ledgers[accountId] = l
        return l
    }

    /// The rules of the account's firm (COMPLIANCE_CONFIG), nil for a firm not configured there.
    private func rules(for accountId: String, in s: State) -> FirmRules? {
        s.accounts[accountId].flatMap { firms.rules(forFirm: $0.firm) }
    }

    /// A firm that wants its accounts flat before the weekend (`flat_by`: strict-4-8, Friday
    /// 20:45 UTC) gets them flat: from that time until the market resumes, every open position
    /// of its accounts is closed at market by a risk-reducing order of the engine's own (ids
    /// `flat-by@<market µs>:<account>:<instrument>`), as a broker's forced close, unless a
    /// risk-reducing order for it is already working. Checked once a market second per account.
    private func enforceFlatBy(now: Int64, in s: inout State, pool: PostgresPool, producer: KafkaProducer) {
        let instant = Date(micros: now)
        for accountId in s.ledgers.keys.sorted() {
            guard let ledger = s.ledgers[accountId], !ledger.book.openPositions.isEmpty,
                  let cutoff = rules(for: accountId, in: s)?.weekendCutoff, cutoff.flatBy != nil,
                  now - (s.flatByCheckedAt[accountId] ?? .min / 2) >= 1_000_000 else { continue }
            s.flatByCheckedAt[accountId] = now
            guard cutoff.mustBeFlat(at: instant) else { continue }
            let closing = Set(s.working.values.filter { $0.order.order.accountId == accountId && $0.order.order.riskReducing }
                .map(\.order.order.instrument))
            for working in engine.flattenOrders(ledger: ledger, commandId: "flat-by@\(now)", receivedAt: now)
            where !closing.contains(working.order.instrument) {
                let id = working.order.id
                runtime.logger.notice("firm rule: flat before the weekend; closing the position", traceId: id,
                                      ["account": accountId, "instrument": working.order.instrument,
                                       "lots": "\(working.order.quantity)", "firm": s.accounts[accountId]?.firm ?? "-"])
                s.working[id] = (working, nil, nil)
                if let quote = s.rates.quote(working.order.instrument) {
                    do { try work(id, quote: quote, now: max(now, quote.time), in: &s, pool: pool, producer: producer) } catch {
                        failure(error, order: id)
                    }
                }
            }
        }
    }

    /// Writes each loaded account's marked figures to its row, outside the state lock so ticks are
    /// not held up: the high-water mark when it rose since last stored (never lowering the row's:
    /// `GREATEST`), and the equity and daily P&L when open positions moved them (the row is
    /// otherwise written at fills and day starts only, so readers of the database saw the equity
    /// of the last fill next to a newer mark). Those two only while the row still holds the
    /// balance and the day (label and start equity) they were marked against: a fill or a day
    /// start stored meanwhile wrote newer ones. With them, in the same statement, an equity
    /// snapshot for the curve at most once a minute, and always at shutdown (`final`).
    private func storeMarks(pool: PostgresPool, final: Bool = false) {
        storeUnstoredDays(pool: pool)
        let now = Monotonic.nanos()
        let due = state.withLock { s in
            s.accounts.values.compactMap { a -> (Account, String?, Bool, [AccountValuation.PositionMark])? in
                guard let ledger = s.ledgers[a.id] else { return nil }
                let stored = s.storedMarks[a.id]
                let moved = stored?.equity != a.equity || stored?.dailyPnL != a.dailyPnL
                guard moved || a.highWaterMark > s.storedHighWaterMarks[a.id] ?? a.initialBalance else { return nil }
                let snapshot = moved && (final || now &- (stored?.snapshotAt ?? 0) >= Self.markSnapshotIntervalNanos)
                // The positions' marks move with the equity (none while one cannot be valued yet).
                let marks = moved ? (try? engine.valuation(of: ledger, rates: s.rates))?.positions ?? [] : []
                return (a, s.days[a.id]?.label, snapshot, marks)
            }
        }
        for (account, day, snapshot, marks) in due {
            do {
                // Only in the same challenge: a restart puts the row back to the initial balance.
                let marked = try pool.queryOne("""
                    WITH u AS (
                        UPDATE accounts SET high_water_mark = GREATEST(high_water_mark, $2),
                            equity = CASE WHEN balance = $4 AND trading_day IS NOT DISTINCT FROM $5
                                          AND day_start_equity IS NOT DISTINCT FROM $8 THEN $6 ELSE equity END,
                            daily_pnl = CASE WHEN balance = $4 AND trading_day IS NOT DISTINCT FROM $5
                                             AND day_start_equity IS NOT DISTINCT FROM $8 THEN $7 ELSE daily_pnl END,
                            updated_at = now()
                        WHERE id = $1 AND epoch = $3
                        RETURNING (balance = $4 AND trading_day IS NOT DISTINCT FROM $5 AND day_start_equity IS NOT DISTINCT FROM $8) AS marked
                    ), snapshot AS (
                        INSERT INTO account_snapshots (account_id, balance, equity, daily_pnl, drawdown_percent, at)
                        SELECT $1, $4, $6, $7, $9, now() FROM u WHERE u.marked AND $10::boolean
                        RETURNING 1
                    )
                    SELECT coalesce((SELECT marked FROM u), false) AS marked
                    """, [account.id, account.highWaterMark, account.epoch, account.balance, day, account.equity, account.dailyPnL,
                          account.dayStartEquity, account.drawdownPercent, snapshot])?
                    .decode(Bool.self, column: "marked") ?? false
                // Each position's mark, while the row still holds the position it was marked for (a
                // fill stored meanwhile wrote its own).
                if !marks.isEmpty {
                    _ = try pool.execute("""
                        UPDATE positions p SET mark_price = m.price, unrealized_pnl = m.pnl, marked_at = now()
                        FROM unnest($2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[])
                             AS m (instrument, quantity, average_price, price, pnl)
                        WHERE p.account_id = $1 AND p.instrument = m.instrument AND p.quantity = m.quantity
                          AND p.average_price = m.average_price AND EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND epoch = $7)
                        """, [account.id, marks.map(\.instrument), marks.map(\.quantity), marks.map(\.averagePrice),
                              marks.map(\.closingPrice), marks.map(\.openPnL), account.epoch])
                }
                state.withLock { s in
                    guard s.accounts[account.id]?.epoch == account.epoch else { return }
                    s.storedHighWaterMarks[account.id] = max(account.highWaterMark, s.storedHighWaterMarks[account.id] ?? account.highWaterMark)
                    // Not marked (the row moved on meanwhile): tried again at the next refresh.
                    if marked {
                        let snapshotAt = snapshot ? now : s.storedMarks[account.id]?.snapshotAt ?? 0
                        s.storedMarks[account.id] = StoredMark(equity: account.equity, dailyPnL: account.dailyPnL, snapshotAt: snapshotAt)
                    }
                }
            } catch {
                metrics.communicationErrors.labels(runtime.options.service, "postgres").inc()
                runtime.logger.warning("account marks not stored; will retry", ["account": account.id, "error": "\(error)"])
            }
        }
    }

    /// Writes again the day starts that could not be stored, with each account's figures of now
    /// (the same day's start; its daily P&L and equity as marked since), in its current challenge.
    /// Under the state lock, as `startDay` writes: a day started meanwhile on another thread
    /// must not be overwritten by an older copy. (Only accounts whose write failed get here.)
    private func storeUnstoredDays(pool: PostgresPool) {
        state.withLock { s in
            for id in s.unstoredDays.sorted() {
                guard let account = s.accounts[id] else {
                    s.unstoredDays.remove(id)
                    continue
                }
                let label = s.days[id]?.label ?? account.tradingDay
                // (Result rather than do/catch: the latter inside withLock crashed Swift 6.3.1 debug builds.)
                let outcome = Result { try storeDay(id, account: account, label: label, epoch: account.epoch, pool: pool) }
                if case .failure(let failure) = outcome {
                    metrics.communicationErrors.labels(runtime.options.service, "postgres").inc()
                    runtime.logger.warning("trading day still not stored; will retry", ["account": id, "error": "\(failure)"])
                    continue
                }
                s.unstoredDays.remove(id)
                s.storedHighWaterMarks[id] = max(account.highWaterMark, s.storedHighWaterMarks[id] ?? account.highWaterMark)
                runtime.logger.notice("trading day stored after a failed write", ["account": id, "day": label ?? "-"])
            }
        }
    }

    /// The shortest time between two equity snapshots written from marks (fills write their own).
    private static let markSnapshotIntervalNanos: UInt64 = 60_000_000_000

    /// Starts a new trading day for every loaded account whose firm day has ended at `now`
    /// (market clock): the ledger's day-start balance becomes the balance, the row's daily P&L
    /// and day are stored, and the account is published.
    private func rollTradingDays(now: Int64, in s: inout State, pool: PostgresPool, producer: KafkaProducer) {
        let instant = Date(micros: now)
        // Every tick passes here: when every account's day still runs, nothing is sorted.
        // (An account whose firm has no rules never gets a day, and has none to roll.)
        if s.ledgers.keys.allSatisfy({ id in s.days[id].map { instant < $0.end } ?? (rules(for: id, in: s) == nil) }) { return }
        for accountId in s.ledgers.keys.sorted() {
            // Every tick passes here: the common case (the day still runs) does no calendar work.
            if let current = s.days[accountId], instant < current.end { continue }
            guard let rules = rules(for: accountId, in: s) else { continue }
            let today = rules.tradingDay(containing: instant)
            if s.days[accountId] == nil {
                // First sight since loading: the stored daily P&L is from an earlier firm day when
                // the stored label differs (nothing was booked since, so the balance starts today).
                s.days[accountId] = today
                guard let stored = s.storedDays.removeValue(forKey: accountId) ?? nil, stored != today.label else {
                    // The stored daily P&L is today's (or the row has no day yet): the account
                    // names the day it is measured in, so its start balance is known.
                    if s.accounts[accountId]?.tradingDay == nil { s.accounts[accountId]?.tradingDay = today.label }
                    continue
                }
            }
            s.days[accountId] = today
            dayRolls.labels(accountId).inc()
            startDay(accountId, label: today.label, why: "firm reset", in: &s, pool: pool, producer: producer)
        }
    }

    /// A new trading day for `accountId` from now: the ledger's day-start balance becomes the
    /// balance, the row's daily P&L and day label are stored, and the account is published.
    @discardableResult
    private func startDay(_ accountId: String, label: String?, why: String, in s: inout State, pool: PostgresPool,
                          producer: KafkaProducer) -> Account? {
        guard var ledger = s.ledgers[accountId] else { return nil }
        ledger.startNewDay()
        s.ledgers[accountId] = ledger
        let valued = (try? engine.valuation(of: ledger, rates: s.rates)) != nil
        var account = mark(ledger, in: &s)
        // The day's start, published with the account: the compliance engine measures the daily
        // loss from it whenever it first looks at the day.
        if var a = account {
            if let label { a.tradingDay = label }
            if valued {
                a.dayStartEquity = a.equity
            } else {
                // A held instrument has no quote yet (just after a restart): the equity is the
                // last one marked. The day's start balance is exact all the same (the balance), so
                // the daily P&L stays consistent with it (equity − daily P&L = start balance;
                // yesterday's figure was stored under the new day, and a second restart rebuilt
                // the start balance from it); the start equity is unknown.
                a.dailyPnL = a.equity - ledger.balance
                a.dayStartEquity = nil
            }
            s.accounts[accountId] = a
            account = a
        }
        do {
            try storeDay(accountId, account: account, label: label, pool: pool)
            s.unstoredDays.remove(accountId)
            if let mark = account?.highWaterMark { s.storedHighWaterMarks[accountId] = max(mark, s.storedHighWaterMarks[accountId] ?? mark) }
        } catch {
            // Until stored, the row holds the previous day's start and no mark matches it:
            // `storeMarks` writes the day again with the account's figures of then.
            s.unstoredDays.insert(accountId)
            metrics.communicationErrors.labels(runtime.options.service, "postgres").inc()
            runtime.logger.error("trading day not stored; will retry", ["account": accountId, "error": "\(error)"])
        }
        runtime.logger.info("trading day started", ["account": accountId, "day": label ?? "-", "why": why, "balance": "\(ledger.balance)"])
        guard let account else { return nil }
        do { _ = try sendAccount(account, producer: producer) } catch {
            metrics.communicationErrors.labels(runtime.options.service, "kafka").inc()
        }
        return account
    }

    /// Writes a day start to the account's row: the daily P&L, equity, day label and start equity
    /// it is measured from (and the high-water mark, never lowered). With `epoch`, only in that
    /// challenge (a retry must not write an earlier challenge's figures over a restarted row).
    private func storeDay(_ accountId: String, account: Account?, label: String?, epoch: Int? = nil, pool: PostgresPool) throws {
        _ = try pool.execute("""
            UPDATE accounts SET daily_pnl = $2, equity = COALESCE($3, equity), trading_day = COALESCE($4, trading_day),
            high_water_mark = GREATEST(high_water_mark, COALESCE($5, high_water_mark)), day_start_equity = $6, updated_at = now()
            WHERE id = $1 AND ($7::integer IS NULL OR epoch = $7::integer)
            """, [accountId, account?.dailyPnL ?? 0, account?.equity, label, account?.highWaterMark, account?.dayStartEquity, epoch])
    }

    /// `staging.commands` day reset: a new trading day now for every staging account in scope
    /// (and any other loaded one), keeping the firm day's label; the one-line acknowledgement.
    private func resetDay(_ command: StagingCommand, pool: PostgresPool, producer: KafkaProducer) throws -> String {
        state.withLock { s in
            let ids = Set(firms.accounts.map(\.id)).union(s.ledgers.keys).union(command.accounts).sorted().filter(command.applies)
            var started: [String] = [], unknown: [String] = []
            for id in ids {
                // (try? rather than do/catch: the latter inside withLock crashed Swift 6.3.1 debug builds.)
                guard (try? ledger(id, in: &s, pool: pool)) != nil else {
                    unknown.append(id)
                    runtime.logger.warning("day reset for an account not in the trading database", ["account": id])
                    continue
                }
                let label = s.days[id]?.label ?? (s.storedDays[id] ?? nil)
                if let account = startDay(id, label: label, why: "day reset \(command.id) by \(command.requestedBy)", in: &s,
                                          pool: pool, producer: producer) {
                    started.append("\(id) at balance \(account.balance)")
                } else {
                    started.append(id)
                }
            }
            var text = "new trading day for \(started.count) account\(started.count == 1 ? "" : "s")"
            if !started.isEmpty { text += ": " + StagingCommand.list(started) }
            if !unknown.isEmpty { text += "; unknown: " + StagingCommand.list(unknown) }
            return text
        }
    }

    /// `staging.commands` account restart: every account the command names (the configured
    /// staging accounts when it names none) starts again as a fresh challenge. Its working orders
    /// are cancelled (each its own booked outcome), then in one transaction its positions are
    /// deleted without fills (the challenge they belonged to is over; its fills stay for the
    /// record) and the row goes back to the initial balance with the epoch raised; the fresh
    /// account and a flat position for every instrument it held are published, in that order on
    /// each account's key, so every consumer sees the new epoch before anything of the new
    /// challenge. An account already at the command's target epoch (a retried or redelivered
    /// command) is not restarted again; its account is published again.
    private func restartAccounts(_ command: StagingCommand, pool: PostgresPool, producer: KafkaProducer) throws -> String {
        let ids = command.accounts.isEmpty ? firms.accounts.map(\.id) : command.accounts
        var stored: [String: Int] = [:]
        for row in try pool.query("SELECT id, epoch FROM accounts WHERE id = ANY($1)", [ids]) {
            stored[try row.decode(String.self, column: "id")] = try row.decode(Int.self, column: "epoch")
        }
        var restarted: [String] = [], already: [String] = [], unknown: [String] = []
        var deliveries: [KafkaDelivery] = []
        try state.withLock { s in
            for id in ids {
                guard let epoch = stored[id] else {
                    unknown.append(id)
                    runtime.logger.warning("account restart for an account not in the trading database", ["account": id])
                    continue
                }
                let old = try ledger(id, in: &s, pool: pool)
                if let target = command.epochs[id], epoch >= target {
                    if let account = mark(old, in: &s) { deliveries.append(try sendAccount(account, producer: producer)) }
                    already.append("\(id) (at epoch \(epoch))")
                    continue
                }
                let now = s.clock.now() ?? HopClock.nowMicros()
                let why = "account \(id) restarted by \(command.requestedBy) (\(command.id)): \(command.reason)"
                var cancelled = 0
                for orderId in s.working.keys.sorted() where s.working[orderId]?.order.order.accountId == id {
                    guard let w = s.working[orderId] else { continue }
                    try record(engine.cancel(w.order, reason: why, now: now, ledger: s.ledgers[id] ?? old), source: w.source, in: &s,
                               pool: pool, producer: producer)
                    cancelled += 1
                }
                let held = old.book.openPositions.map(\.position)
                // The restart time on the hop clock the orders' trails are stamped with.
                let restartedAt = HopClock.nowMicros()
                let newEpoch = try pool.transaction { conn -> Int in
                    _ = try conn.execute("DELETE FROM positions WHERE account_id = $1", [id])
                    guard let row = try conn.queryOne("""
                        UPDATE accounts SET balance = initial_balance, equity = initial_balance, daily_pnl = 0,
                            high_water_mark = initial_balance, day_start_equity = initial_balance, realized_pnl = 0, commission = 0, epoch = epoch + 1,
                            restarted_at = timestamptz 'epoch' + $3::bigint * interval '1 microsecond',
                            trading_day = COALESCE($2, trading_day), updated_at = now()
                        WHERE id = $1 RETURNING epoch
                        """, [id, s.days[id]?.label, restartedAt]) else {
                        throw ExecutionError(.mismatch, "account \(id) vanished during its restart")
                    }
                    _ = try conn.execute("""
                        INSERT INTO account_snapshots (account_id, balance, equity, daily_pnl, drawdown_percent, at)
                        SELECT id, balance, equity, daily_pnl, 0, now() FROM accounts WHERE id = $1
                        """, [id])
                    return try row.decode(Int.self, column: "epoch")
                }
                let loaded = try s.accounts[id] ?? loadAccount(id, pool: pool)
                var account = Account(id: id, firm: loaded.firm, currency: loaded.currency, initialBalance: old.initialBalance, epoch: newEpoch)
                // The new challenge's day starts now, at the initial balance.
                account.tradingDay = s.days[id]?.label ?? loaded.tradingDay
                account.dayStartEquity = old.initialBalance
                s.ledgers[id] = AccountLedger(account: account)
                s.accounts[id] = account
                s.storedHighWaterMarks[id] = account.highWaterMark
                s.restartedAt[id] = restartedAt
                deliveries.append(try sendAccount(account, producer: producer))
                for p in held {
                    let flat = Position(accountId: id, instrument: p.instrument, quantity: 0, averagePrice: 0, realizedPnL: 0)
                    let env = Envelope(id: "\(id):\(p.instrument):restart@\(account.epoch)", type: "position.update", traceId: "cmd-\(command.id)",
                                       source: runtime.options.service, payload: flat)
                    deliveries.append(try producer.send(env, to: .positionsUpdates, key: id))
                }
                runtime.logger.notice("account restarted", traceId: "cmd-\(command.id)",
                                      ["account": id, "epoch": String(account.epoch), "balance": "\(account.balance)",
                                       "positions_dropped": String(held.count), "orders_cancelled": String(cancelled)])
                restarted.append("\(id) at epoch \(account.epoch), balance \(account.balance) (\(held.count) position\(held.count == 1 ? "" : "s") dropped, "
                                 + "\(cancelled) working order\(cancelled == 1 ? "" : "s") cancelled)")
            }
        }
        for d in deliveries { _ = try d.wait(timeout: 30) }
        var text = "restarted \(restarted.count) account\(restarted.count == 1 ? "" : "s")"
        if !restarted.isEmpty { text += ": " + StagingCommand.list(restarted) }
        if !already.isEmpty { text += "; already restarted: " + StagingCommand.list(already) }
        if !unknown.isEmpty { text += "; unknown: " + StagingCommand.list(unknown) }
        return text
    }

    /// Working orders stored by an earlier run, back into the working set with their envelope's
    /// trace and hops (their accounts' ledgers load with them, protective levels included).
    private func restoreWorkingOrders(pool: PostgresPool) throws {
        let rows = try pool.query("SELECT id, working, hops, trace_id FROM orders WHERE working IS NOT NULL ORDER BY created_at, id")
        var restored = 0
        try state.withLock { s in
            for row in rows {
                let id = try row.decode(String.self, column: "id")
                let working = try row.decode(PostgresJSON.self, column: "working").decode(WorkingOrder.self)
                guard !working.isDone else { continue }
                let hops = try row.decode(PostgresJSON.self, column: "hops").decode([Hop].self)
                var source = Envelope(id: id, type: "order.cleared", traceId: try row.decode(String.self, column: "trace_id"),
                                      createdAt: hops.first?.inMicros ?? working.receivedAt, source: runtime.options.service,
                                      payload: working.order)
                // The trail as stored: its last hop is the engine's, opened when the order arrived,
                // and closes when the order next changes.
                source.hops = hops
                _ = try ledger(working.order.accountId, in: &s, pool: pool)
                s.working[id] = (working, source, nil)
                restored += 1
            }
        }
        if restored > 0 { runtime.logger.info("working orders restored", ["orders": String(restored)]) }
    }

    private func loadAccount(_ id: String, pool: PostgresPool) throws -> Account {
        guard let a = try AccountStore(pool: pool).all().first(where: { $0.id == id }) else {
            throw ExecutionError(.mismatch, "unknown account \(id)")
        }
        return a
    }

    /// Marks the ledger to the latest quotes and publishes the account (not persisted: the
    /// database row moves with fills).
    private func publishAccount(_ ledger: AccountLedger, in s: inout State, producer: KafkaProducer) {
        guard var account = s.accounts[ledger.accountId], let valuation = try? engine.valuation(of: ledger, rates: s.rates) else { return }
        valuation.apply(to: &account)
        s.accounts[ledger.accountId] = account
        do { _ = try sendAccount(account, producer: producer) } catch {
            metrics.communicationErrors.labels(runtime.options.service, "kafka").inc()
        }
    }

    /// The account marked to the latest quotes (stored back) where the ledger can be valued,
    /// else as it stands; nil for an account never loaded.
    private func mark(_ ledger: AccountLedger, in s: inout State) -> Account? {
        guard var account = s.accounts[ledger.accountId] else { return nil }
        if let valuation = try? engine.valuation(of: ledger, rates: s.rates) {
            valuation.apply(to: &account)
            s.accounts[ledger.accountId] = account
        }
        return account
    }

    private func sendAccount(_ account: Account, producer: KafkaProducer) throws -> KafkaDelivery {
        dailyPnL.labels(account.id).set(DecimalMath.double(account.dailyPnL))
        drawdown.labels(account.id).set(DecimalMath.double(account.drawdownPercent))
        let env = Envelope(id: "\(account.id)@\(HopClock.nowMicros())", type: "account.update", traceId: account.id,
                           source: runtime.options.service, payload: account)
        return try producer.send(env, to: .accountsUpdates, key: account.id)
    }

    private func failure(_ error: any Error, order: String) {
        let reason = (error as? ExecutionError)?.code.rawValue ?? "internal"
        failures.labels(reason).inc()
        runtime.logger.warning("execution deferred", ["order": order, "error": "\(error)"])
    }

    /// Statuses only the execution engine sets.
    private static let engineStatuses: Set<OrderStatus> = [.pending, .partiallyFilled, .filled, .cancelled, .expired]

}
