import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

/// Wires the ARIA sizing core to Kafka, the trading and market databases.
final class AriaAgent: Sendable {
    private let runtime: ServiceRuntime
    private let sizer: RiskSizer
    private let firms: ComplianceConfiguration
    private let metrics: AgentMetrics
    private let proposed: CounterFamily
    private let skipped: CounterFamily
    /// Bars per signal for the volatility and correlation factors (the full ATR lookback).
    private static let barsNeeded = 300

    init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let env = Environment()
        sizer = try RiskSizer(configuration: RiskConfiguration().applying(environment: env), clock: SystemClock())
        let path = env.string("COMPLIANCE_CONFIG", default: "\(runtime.options.configDirectory)/compliance-staging.yml")
        firms = try ComplianceConfiguration.load(path: path)
        metrics = AgentMetrics(registry: runtime.metrics)
        proposed = runtime.metrics.counter("tmt_orders_proposed_total", help: "Orders sized and proposed, by account.", labels: ["account"])
        skipped = runtime.metrics.counter("tmt_risk_skips_total", help: "Signal × account pairs ARIA could not size, by account and reason.",
                                          labels: ["account", "reason"])
        runtime.logger.info("sizing configured", ["accounts": String(firms.accounts.count),
                                                  "risk_multiplier": "\(sizer.configuration.riskMultiplier)"])
    }

    func start() throws {
        let env = Environment()
        let log = runtime.logger
        let trading = try runtime.openTradingDatabase(env)
        let market = try runtime.openMarketDatabase(env)
        let accountStore = AccountStore(pool: trading)
        try accountStore.ensure(firms.accounts.map { $0.makeAccount() })
        // Each signal needs the last 300 bars of its instruments: read in full once, then only
        // the newest (reading and decoding all of them was most of ARIA's time per signal).
        let bars = BarHistory(store: BarStore(pool: market), timeframeSeconds: 60, limit: Self.barsNeeded)
        let orders = OrderStore(pool: trading)

        let (kafka, producer) = try runtime.openKafka(env)
        let quotes = try runtime.openMarketView(env, kafka: kafka, deadLetterProducer: producer)
        let book = try AccountBook(initial: try accountStore.all(), positions: try accountStore.openPositions(), kafka: kafka,
                                   service: runtime.options.service, instanceId: runtime.options.instanceId,
                                   deadLetterProducer: producer, metrics: runtime.metrics, logger: log)
        let signals = try KafkaConsumer(configuration: kafka, groupId: env.string("CONSUMER_GROUP", default: "aria-risk"),
                                        topics: [Topic.signalsGenerated.name], deadLetterProducer: producer,
                                        metrics: runtime.metrics, logger: log)
        runtime.lifecycle.onShutdown("consumers") {
            signals.stop(timeout: 10)
            book.stop()
            quotes.stop()
        }

        try runtime.startHTTP()
        runtime.startHeartbeat(producer: producer)
        try quotes.start()
        try book.start()
        try signals.startEnvelopes(Signal.self) { [self] envelope, _ in
            try handle(envelope, quotes: quotes, book: book, bars: bars, store: orders, producer: producer)
        }
    }

    /// One signal: an order (or a recorded skip) per staging account; stored, then the sized
    /// orders published and acknowledged before the signal's offset may be committed.
    private func handle(_ envelope: Envelope<Signal>, quotes: MarketView, book: AccountBook, bars: BarHistory,
                        store: OrderStore, producer: KafkaProducer) throws {
        let received = HopClock.nowMicros()
        let started = Monotonic.nanos()
        let signal = envelope.payload
        // Bars of the signal's instrument and of every instrument an account holds.
        var instruments: Set<String> = [signal.instrument]
        for account in firms.accounts { for p in book.openPositions(account.id) { instruments.insert(p.position.instrument) } }
        // As of the signal (its bar closes at createdAt): market time, not the newest rows stored;
        // every instrument in one round trip.
        let history = try bars.recent(instruments: instruments.sorted(), beforeMicros: signal.createdAt)
        let snapshot = RiskMarketSnapshot(converter: quotes.converter(), bars: history)
        let marketNow = quotes.marketNow() ?? Date()
        let barsRead = Monotonic.nanos()

        var results: [(order: Order, hops: [Hop])] = []
        var outgoing: [Envelope<Order>] = []
        // A signal that names its accounts (a staged rollout's variant, or the baseline while a
        // variant runs) is sized for those accounts only.
        let targets = firms.accounts.filter { signal.isFor(account: $0.id) }
        if let named = signal.accounts, targets.count < named.count {
            let known = Set(firms.accounts.map(\.id))
            runtime.logger.warning("signal names accounts that are not staging accounts", traceId: envelope.traceId,
                                   ["signal": signal.id, "unknown": named.filter { !known.contains($0) }.sorted().joined(separator: ",")])
        }
        for staging in targets {
            let account = book.account(staging.id) ?? staging.makeAccount()
            // The firm's limits as compliance measures them, at market time.
            let limits = firms.rules(forFirm: account.firm).map { RiskLimits.firm($0, account: account, at: marketNow) } ?? .none
            let state = RiskAccountState(account: account, positions: book.openPositions(account.id).map(\.position), limits: limits)
            let result = sizer.size(signal: signal, for: state, market: snapshot)
            if var order = result.order {
                order.accountEpoch = account.epoch
                let out = envelope.derive(id: order.id, type: "order.proposed", source: runtime.options.service,
                                          receivedMicros: received, payload: order)
                outgoing.append(out)
                results.append((order, out.hops))
                proposed.labels(account.id).inc()
            } else {
                // Not sizeable for this account: a terminal, recorded outcome with the reason.
                var order = Order(id: Order.id(signalId: signal.id, accountId: account.id), signalId: signal.id, accountId: account.id,
                                  instrument: signal.instrument, side: signal.side, type: .market, quantity: 0,
                                  stopLoss: signal.stopLoss, takeProfit: signal.takeProfit, createdAt: received)
                try order.advance(to: .skipped, decision: result.decision)
                results.append((order, envelope.hops + [Hop(agent: runtime.options.service, inMicros: received, outMicros: HopClock.nowMicros())]))
                skipped.labels(account.id, result.skip?.code.rawValue ?? "unknown").inc()
                runtime.logger.info("account skipped", traceId: envelope.traceId,
                                    ["signal": signal.id, "account": account.id, "reason": result.skip?.message ?? "-"])
            }
        }
        let sized = Monotonic.nanos()
        try store.recordSizing(signal: envelope, orders: results, agent: runtime.options.service,
                               processingMs: Monotonic.secondsSince(started) * 1000)
        let stored = Monotonic.nanos()
        // The hop leaves ARIA now, once the sizing is stored (as every other agent's does): it was
        // stamped at sizing, and the write showed as the hop into compliance (p95 16 ms there).
        let leaving = HopClock.nowMicros()
        for i in outgoing.indices { outgoing[i].stampLeaving(at: leaving) }
        let deliveries = try outgoing.map { try producer.send($0, to: .ordersProposed, key: $0.payload.accountId) }
        for d in deliveries { _ = try d.wait(timeout: 30) }
        let published = Monotonic.nanos()
        func ms(_ from: UInt64, _ to: UInt64) -> String { String(cFormat: "%.1f", Double(to &- from) / 1e6) }
        metrics.processing.labels(runtime.options.service, "signal").observeSince(started)
        metrics.handled.labels(runtime.options.service, "signal", "sized").inc()
        runtime.logger.info("signal sized", traceId: envelope.traceId,
                            ["signal": signal.id, "orders": String(outgoing.count), "skipped": String(results.count - outgoing.count),
                             "accounts": signal.accounts.map { String($0.count) } ?? "all", "experiment": signal.experiment ?? "-",
                             "bars_ms": ms(started, barsRead), "sizing_ms": ms(barsRead, sized), "store_ms": ms(sized, stored),
                             "publish_ms": ms(stored, published)])
    }
}
