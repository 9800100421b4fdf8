import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

/// Wires the anti-correlation core to Kafka and the trading database.
final class AntiCorrelationAgent: Sendable {
    private let runtime: ServiceRuntime
    private let engine: AntiCorrelationEngine
    private let book: Locked<AntiCorrelationBook>
    private let metrics: AgentMetrics
    private let actions: CounterFamily
    private let correlation: GaugeFamily
    private let endedInDatabase: Counter

    /// The longest start-up waits for the state replay before judging orders anyway, seconds.
    static let replayTimeout: Double = 60

    init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let configuration = AntiCorrelationConfiguration()
        try configuration.validate()
        engine = AntiCorrelationEngine(configuration: configuration)
        book = Locked(engine.makeBook())
        metrics = AgentMetrics(registry: runtime.metrics)
        actions = runtime.metrics.counter("tmt_anti_correlation_actions_total", help: "Anti-correlation outcomes, by account and action.",
                                          labels: ["account", "action"])
        correlation = runtime.metrics.gauge("tmt_account_correlation", help: "Correlation between two accounts over a window (-1..1).",
                                            labels: ["a", "b", "window"])
        endedInDatabase = runtime.metrics.counter(
            "tmt_anti_correlation_pending_ended_in_database_total",
            help: "Pending orders no longer counted as exposure because the trading database shows them ended (filled, blocked, cancelled, expired) "
                + "though neither their fill nor orders.blocked said so (e.g. that record was no longer retained at a replay).",
            labels: []).labels()
        let pendingOrders = runtime.metrics.gauge("tmt_anti_correlation_pending_orders",
                                                  help: "Orders let through and counted in their account's exposure until they fill or end.").labels()
        let book = self.book
        runtime.metrics.addCollector {
            pendingOrders.set(Double(book.withLock { b in b.accounts.values.reduce(0) { $0 + $1.pending.count } }))
        }
    }

    func start() throws {
        let env = Environment()
        let log = runtime.logger
        // How often the pending orders are looked up in the trading database.
        let reconcileInterval = try env.double("ANTI_CORRELATION_RECONCILE_SECONDS", default: 60, range: 1...3600)
        let pool = try runtime.openTradingDatabase(env)
        let accounts = try AccountStore(pool: pool).all()
        book.withLock { b in for a in accounts { b.observe(epoch: a.epoch, accountId: a.id) } }

        let (kafka, producer) = try runtime.openKafka(env)
        let quotes = try runtime.openMarketView(env, kafka: kafka, deadLetterProducer: producer)
        // Every instance needs every account's state, so this group is per instance. It also reads
        // the orders every instance let through (so several instances count each other's pending
        // orders) and the orders the breaker blocked (they will never fill).
        let state = try KafkaConsumer(configuration: kafka.forDataPlane(), groupId: "anti-correlation-state-\(runtime.options.instanceId)",
                                      topics: [Topic.accountsUpdates.name, Topic.positionsUpdates.name, Topic.executionsFills.name,
                                               Topic.ordersDecorrelated.name, Topic.ordersBlocked.name],
                                      deadLetterProducer: producer, metrics: runtime.metrics, logger: log)
        let orders = try KafkaConsumer(configuration: kafka, groupId: env.string("CONSUMER_GROUP", default: "anti-correlation"),
                                       topics: [Topic.ordersApproved.name], deadLetterProducer: producer,
                                       metrics: runtime.metrics, logger: log)
        runtime.lifecycle.onShutdown("consumers") {
            orders.stop(timeout: 10)
            state.stop(timeout: 10)
            quotes.stop()
        }
        // The matrix is recomputed for each scrape from the current book and prices.
        // A pair whose correlation became unknown (both flat, too few returns) is removed rather
        // than left at its last value.
        let exported = Locked<Set<[String]>>([])
        runtime.metrics.addCollector { [self] in
            let pricing = self.pricing(quotes)
            let now = HopClock.nowMicros()
            let snapshot = book.withLock { $0 }
            var current: Set<[String]> = []
            for window in engine.configuration.windows {
                guard let matrix = engine.correlationMatrix(window: window.name, book: snapshot, pricing: pricing, asOf: now) else { continue }
                for entry in matrix.entries where entry.a < entry.b {
                    correlation.labels(entry.a, entry.b, window.name).set(DecimalMath.double(entry.value))
                    current.insert([entry.a, entry.b, window.name])
                }
            }
            let gone = exported.withLock { old -> Set<[String]> in
                defer { old = current }
                return old.subtracting(current)
            }
            for labels in gone { correlation.remove(labels) }
        }

        var router = HTTPRouter()
        router.get("/api/v1/correlation/:window") { [self] request in
            let name = request.parameter("window") ?? ""
            guard engine.configuration.window(named: name) != nil else {
                throw HTTPError(.notFound, code: "unknown_window",
                                message: "window must be one of \(engine.configuration.windows.map(\.name).joined(separator: ", "))")
            }
            let matrix = engine.correlationMatrix(window: name, book: book.withLock { $0 }, pricing: pricing(quotes), asOf: HopClock.nowMicros())
            return try .json(MatrixView(window: name, accounts: matrix?.accounts ?? [],
                                        values: matrix?.values.map { $0.map { $0.map { "\($0)" } } } ?? []))
        }
        try runtime.startHTTP(router: router)
        runtime.startHeartbeat(producer: producer)
        try quotes.start()
        try state.start { [self] message in try applyState(message) }
        // Orders wait for the state replay (the state group is new at every start and reads its
        // topics from the beginning): judged before it, a clone would be compared with an empty
        // book and pass.
        let began = Date()
        if state.waitUntilCaughtUp(timeout: Self.replayTimeout) {
            log.notice("account state replayed", ["seconds": String(cFormat: "%.1f", Date().timeIntervalSince(began))])
        } else if state.isStopRequested {
            return
        } else {
            log.warning("account state replay not caught up; judging orders anyway", ["waited_s": String(Self.replayTimeout)])
        }
        // The replay may hold orders whose end the topics no longer retain (fills roll out of a
        // capped partition sooner than the orders they end): the database says which ended.
        reconcilePending(pool: pool)
        try orders.startEnvelopes(Order.self) { [self] envelope, _ in
            try handle(envelope, quotes: quotes, pool: pool, producer: producer)
        }
        let reconciler = PeriodicTask(interval: reconcileInterval)
        runtime.lifecycle.onShutdown("pending reconciliation") { reconciler.stop() }
        // Its first round one interval from now: the one above has just run.
        reconciler.start(immediately: false) { [self] in reconcilePending(pool: pool) }
        try runtime.consumeStagingCommands(kafka: kafka, producer: producer, pool: pool) { [self] command in
            switch command.action {
            case .dayReset:
                return "nothing kept per trading day: the correlation windows run on"
            case .accountRestart:
                let seen = try command.awaitEpochs { id in book.withLock { $0.epoch(of: id) } }
                return "series, positions and pending orders started again: " + StagingCommand.list(seen)
            }
        }
    }

    /// Ends the pending orders the trading database shows filled (in part) or ended after their
    /// let-through (blocked, cancelled, expired, filled): a missed end must not keep an order in
    /// its account's exposure until the safety expiry. Orders let through in the last few
    /// seconds are left to their messages.
    func reconcilePending(pool: PostgresPool) {
        let now = HopClock.nowMicros()
        // The safety expiry too (it ran before every order; the books it filters are kept for
        // days now, so once a round is enough).
        let candidates = book.withLock { b in
            engine.expirePending(in: &b, now: now)
            return b.pendingOrders(letThroughBefore: now - 5_000_000)
        }
        guard !candidates.isEmpty else { return }
        // Only the ends that come after the let-through: `rejected` and `skipped` come before it
        // (a skip recorded by an attempt that crashed before its commit stays on the row while the
        // redelivered order passes and travels on).
        let ended = [OrderStatus.blocked, .cancelled, .expired, .filled].map(\.rawValue)
        var forgotten: [String] = []
        var start = 0
        while start < candidates.count {
            let chunk = candidates[start..<min(candidates.count, start + 1000)]
            start += 1000
            do {
                let rows = try pool.query("""
                    SELECT id, account_id FROM orders
                    WHERE id = ANY($1) AND (filled_quantity > 0 OR status = ANY($2))
                    """, [chunk.map(\.orderId), ended])
                let found = try rows.map { (try $0.decode(String.self, column: "id"), try $0.decode(String.self, column: "account_id")) }
                book.withLock { b in
                    for (orderId, accountId) in found where b.isPending(orderId: orderId, accountId: accountId) {
                        b.forget(orderId: orderId, accountId: accountId, at: now)
                        forgotten.append(orderId)
                    }
                }
            } catch {
                metrics.communicationErrors.labels(runtime.options.service, "postgres").inc()
                runtime.logger.warning("cannot look up pending orders; will retry", ["orders": String(candidates.count), "error": "\(error)"])
                break
            }
        }
        if !forgotten.isEmpty {
            endedInDatabase.inc(Double(forgotten.count))
            runtime.logger.notice("pending orders ended per the database", [
                "orders": String(forgotten.count), "checked": String(candidates.count),
                "ids": forgotten.prefix(20).joined(separator: ",") + (forgotten.count > 20 ? ",…" : ""),
            ])
        }
    }

    struct MatrixView: Codable {
        var window: String
        var accounts: [String]
        var values: [[String?]]
    }

    /// Mid prices and currency→USD rates from the live quotes.
    private func pricing(_ quotes: MarketView) -> ExposurePricing {
        let converter = quotes.converter()
        var prices: [String: Decimal] = [:]
        var rates: [String: Decimal] = ["USD": 1]
        for (symbol, instrument) in Instrument.catalog {
            if let tick = quotes.quote(symbol) { prices[symbol] = tick.mid }
            for ccy in [instrument.base, instrument.quoteCurrency] where rates[ccy] == nil {
                if let r = converter.rate(from: ccy, to: "USD") { rates[ccy] = r }
            }
        }
        return ExposurePricing(commonCurrency: "USD", prices: prices, rates: rates)
    }

    private func applyState(_ message: KafkaMessage) throws {
        switch message.topic {
        case Topic.accountsUpdates.name:
            let envelope = try KafkaConsumer.decodeEnvelope(Account.self, from: message)
            let account = envelope.payload
            let restarted = book.withLock { b -> Bool in
                let restarted = b.observe(epoch: account.epoch, accountId: account.id)
                // An update of an earlier challenge than the book's (from before the restart) is not recorded.
                if account.epoch >= b.epoch(of: account.id) ?? 0 {
                    b.record(equity: account.equity, accountId: account.id, at: envelope.createdAt)
                }
                return restarted
            }
            if restarted {
                runtime.logger.notice("account restarted: its series, positions and pending orders start again", traceId: envelope.traceId,
                                      ["account": account.id, "epoch": String(account.epoch)])
            }
        case Topic.positionsUpdates.name:
            let position = try KafkaConsumer.decodeEnvelope(Position.self, from: message).payload
            book.withLock { $0.update(position: position) }
        case Topic.ordersDecorrelated.name:
            // Ours or another instance's; keyed by order id with the time it was let through
            // (this agent's hop), so seeing our own again changes nothing.
            let envelope = try KafkaConsumer.decodeEnvelope(Order.self, from: message)
            let order = envelope.payload
            let at = envelope.hops.last { $0.agent == runtime.options.service }?.inMicros ?? envelope.createdAt
            book.withLock { b in
                guard !b.isPending(orderId: order.id, accountId: order.accountId) else { return }
                b.recordForwarded(order, quantity: order.quantity, at: at)
            }
        case Topic.ordersBlocked.name:
            let order = try KafkaConsumer.decodeEnvelope(Order.self, from: message).payload
            book.withLock { $0.forget(orderId: order.id, accountId: order.accountId, at: HopClock.nowMicros()) }
        default:
            let fill = try KafkaConsumer.decodeEnvelope(Fill.self, from: message).payload
            book.withLock { $0.apply(fill: fill, at: HopClock.nowMicros()) }
        }
    }

    private func handle(_ envelope: Envelope<Order>, quotes: MarketView, pool: PostgresPool, producer: KafkaProducer) throws {
        let received = HopClock.nowMicros()
        let started = Monotonic.nanos()
        let pricing = pricing(quotes)
        let outcome: AntiCorrelationOutcome = book.withLock { b in
            engine.evaluate(envelope.payload, book: b, pricing: pricing, now: received)
        }
        var order = try outcome.applied(to: envelope.payload)
        if outcome.delaySeconds > 0 {
            order.notBefore = max(order.notBefore ?? 0, received + Int64(outcome.delaySeconds) * 1_000_000)
        }
        let elapsedMs = Monotonic.secondsSince(started) * 1000
        // The trail first (idempotent by message id), then the order on.
        try OrderStore(pool: pool).recordEvent(order: order, agent: runtime.options.service,
                                               messageId: "\(order.id):anti-correlation", processingMs: elapsedMs,
                                               hops: envelope.hops + [Hop(agent: runtime.options.service, inMicros: received,
                                                                          outMicros: HopClock.nowMicros())])
        actions.labels(order.accountId, outcome.action.rawValue).inc()
        if order.status == .skipped {
            runtime.logger.info("order skipped", traceId: envelope.traceId, ["order": order.id, "reason": outcome.skipReason ?? "-"])
        } else {
            let out = envelope.derive(id: "\(order.id):decorrelated", type: "order.decorrelated", source: runtime.options.service,
                                      receivedMicros: received, payload: order)
            _ = try producer.send(out, to: .ordersDecorrelated, key: order.accountId).wait(timeout: 30)
            book.withLock { $0.recordForwarded(order, quantity: order.quantity, at: received) }
        }
        metrics.processing.labels(runtime.options.service, "order").observeSince(started)
        metrics.handled.labels(runtime.options.service, "order", outcome.action.rawValue).inc()
    }
}
