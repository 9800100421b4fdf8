import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

/// Wires the circuit-breaker core to Kafka, the trading database and Redis. The breaker state is
/// global (one instance): every input feeds the one `CircuitBreaker` under a lock; every
/// transition is stored, published and followed by a Redis snapshot.
final class BreakerAgent: Sendable {
    private let runtime: ServiceRuntime
    private let breaker: Locked<CircuitBreaker>
    private let stagingAccounts: [Account]
    private let metrics: AgentMetrics
    private let stateGauge: GaugeFamily
    private let verdicts: CounterFamily
    private let eventCount: CounterFamily
    /// Orders already on their way when this breaker started, whose latency was not counted.
    private let latencySkipped: Counter
    /// Set by the first order the gate handles (see `CircuitBreaker.latencyCountsFromMicros`).
    private let handledAnOrder = Atomic<Bool>(false)
    /// Redis key of the current snapshot (BREAKER_SNAPSHOT_KEY, default `tmt:breaker:snapshot`).
    let snapshotKey: String
    /// Suffix of stored and published event ids (see `init`).
    let epoch: String
    /// Transitions the breaker made whose record or publication failed, oldest first: the state
    /// has moved already (a retried message finds nothing new to report), so the timer sends
    /// them again every second until they are recorded (see `EventSink.publish`).
    let unsentEvents = Locked<[BreakerEvent]>([])
    /// The most transitions kept waiting while the database or broker is down.
    static let unsentLimit = 10_000
    private static let service = CircuitBreaker.agentName

    init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let env = Environment()
        let compliancePath = env.string("COMPLIANCE_CONFIG", default: "\(runtime.options.configDirectory)/compliance-staging.yml")
        stagingAccounts = try ComplianceConfiguration.load(path: compliancePath).accounts.map { $0.makeAccount() }
        // config/circuit-breaker-staging.yml (or --config), when present; else the defaults.
        var configuration: BreakerConfiguration
        if let node = runtime.config {
            configuration = try BreakerConfiguration(node: node, environment: env)
        } else {
            configuration = BreakerConfiguration(thresholds: try BreakerThresholds(environment: env))
        }
        if configuration.accounts.isEmpty { configuration.accounts = stagingAccounts.map(\.id) }
        // Restore the last snapshot (trips survive restarts; every breaker starts unknown anyway).
        snapshotKey = env.string("BREAKER_SNAPSHOT_KEY", default: "tmt:breaker:snapshot")
        var restored: BreakerSnapshot?
        let redis = try RedisClient(url: env.require("REDIS_URL"), metrics: runtime.metrics,
                                    logger: runtime.logger)
        if let bytes = try redis.execute(.get(snapshotKey)).check(command: "GET").bytes() {
            restored = try BreakerSnapshot.decode(bytes)
        }
        // Event ids count each breaker's transitions from its snapshot. The snapshot is saved every
        // 30 s while transitions are stored as they happen, so a restored one can be older than
        // the last stored ids: every process start is a fresh epoch, so its ids never collide
        // with stored rows (a collision would drop the new transition as already stored). The
        // epoch is kept beside the snapshot for whoever reads the stored ids.
        epoch = String(HopClock.nowMicros())
        _ = try redis.execute(.set(snapshotKey + ":epoch", epoch)).check(command: "SET")
        redis.close()
        breaker = Locked(CircuitBreaker(configuration: configuration, clock: SystemClock(), restoring: restored))
        metrics = AgentMetrics(registry: runtime.metrics)
        stateGauge = runtime.metrics.gauge("tmt_circuit_breaker_state",
                                           help: "Circuit breaker state by tier and target: 0 normal, 1 warning, 2 tripped or unknown, 3 half-open.",
                                           labels: ["tier", "target"])
        verdicts = runtime.metrics.counter("tmt_breaker_orders_total", help: "Orders gated by the circuit breaker, by verdict.",
                                           labels: ["verdict"])
        eventCount = runtime.metrics.counter("tmt_breaker_events_total", help: "Breaker transitions, by tier and new state.",
                                             labels: ["tier", "to"])
        latencySkipped = runtime.metrics.counter("tmt_breaker_latency_orders_skipped_total",
                                                 help: "Orders already on their way when this breaker started (held or queued across a restart): their latency measures the restart, so it is not counted.").labels()
        runtime.metrics.addCollector { [weak self] in self?.refreshGauges() }
        runtime.logger.info("breaker configured", ["config": (try? runtime.options.resolvedConfigFile()).flatMap { $0 } ?? "(defaults)",
                                                   "accounts": String(configuration.accounts.count),
                                                   "critical_agents": configuration.criticalAgents.sorted().joined(separator: ","),
                                                   "restored": restored == nil ? "no" : "yes"])
    }

    func start() throws {
        let env = Environment()
        let log = runtime.logger
        let pool = try runtime.openTradingDatabase(env)
        let redis = try RedisClient(url: env.require("REDIS_URL"), metrics: runtime.metrics, logger: log)
        runtime.lifecycle.onShutdown("redis") { redis.close() }
        runtime.health.add("redis") { _ = try redis.execute(.ping()).check(command: "PING") }
        let accountStore = AccountStore(pool: pool)
        try accountStore.ensure(stagingAccounts)
        let events = BreakerEventStore(pool: pool)
        let orders = OrderStore(pool: pool)

        let (kafka, producer) = try runtime.openKafka(env)
        let sink = EventSink(agent: self, store: events, redis: redis, producer: producer, logger: log)

        // Fail closed until every account has reported: feed each stored account row now. The
        // account and fill readers replay their topics from the start (a group per process), and
        // whatever was published before this read is already in the rows (or, for fills, past):
        // only messages created from now on are readings.
        let readingsFrom = HopClock.nowMicros()
        var initial: [BreakerEvent] = []
        for account in try accountStore.all() { initial += breaker.withLock { $0.apply(account: account) } }
        try sink.publish(initial, snapshot: true)

        let instance = runtime.options.instanceId
        let book = try AccountBook(initial: try accountStore.all(), positions: try accountStore.openPositions(), kafka: kafka,
                                   service: runtime.options.service, instanceId: instance,
                                   deadLetterProducer: producer, metrics: runtime.metrics, logger: log)
        let gate = try KafkaConsumer(configuration: kafka, groupId: env.string("CONSUMER_GROUP", default: Self.service),
                                     topics: [Topic.ordersHumanized.name], deadLetterProducer: producer, metrics: runtime.metrics, logger: log)
        // Every instance must see every reading, so these groups are per instance. Only the gate
        // is on the order path: busy readings (ticks, accounts, fills) poll as the data plane,
        // rare ones (heartbeats, commands) as the control plane.
        let data = kafka.forDataPlane(), control = kafka.forControlPlane()
        func perInstance(_ name: String, _ topic: Topic, _ config: KafkaConfiguration) throws -> KafkaConsumer {
            try KafkaConsumer(configuration: config, groupId: "\(Self.service)-\(name)-\(instance)", topics: [topic.name],
                              deadLetterProducer: producer, metrics: runtime.metrics, logger: log)
        }
        // Ticks and heartbeats are readings of now: a new group starts at the end, and messages
        // older than an agent's trip age (a backlog after downtime) are skipped, so history never
        // makes a dead agent or a stale price look live.
        func liveReading(_ name: String, _ topic: Topic, _ config: KafkaConfiguration) throws -> KafkaConsumer {
            var live = config
            live.autoOffsetReset = "latest"
            return try KafkaConsumer(configuration: live, groupId: "\(Self.service)-\(name)-\(instance)", topics: [topic.name],
                              deadLetterProducer: producer, metrics: runtime.metrics, logger: log)
        }
        let thresholds = breaker.withLock { $0.configuration.thresholds }
        let staleMicros = Int64(thresholds.heartbeatIntervalSeconds * thresholds.heartbeatMissingIntervals * 1e6)
        let stale = runtime.metrics.counter("tmt_breaker_stale_readings_total",
                                            help: "Readings skipped as history, by topic: ticks and heartbeats older than an agent's trip age, account updates and fills published before this process read the stored accounts, dead letters older than the error window.",
                                            labels: ["topic"])
        @Sendable func isStale(_ createdAt: Int64, _ topic: Topic) -> Bool {
            guard HopClock.nowMicros() - createdAt > staleMicros else { return false }
            stale.labels(topic.name).inc()
            return true
        }
        @Sendable func isHistory(_ createdAt: Int64, _ topic: Topic) -> Bool {
            guard createdAt < readingsFrom else { return false }
            stale.labels(topic.name).inc()
            return true
        }
        let errorWindowMicros = Int64(thresholds.errorWindowSeconds * 1e6)
        let watched = breaker.withLock { $0.configuration.criticalAgents.union($0.configuration.monitoredAgents) }
        let overturned = runtime.metrics.counter("tmt_breaker_gap_verdicts_overturned_total",
                                                 help: "Ticks whose fast (Double) gap verdict the exact check overturned; expected 0.").labels()
        let ticks = try liveReading("ticks", .marketTicks, data.forMarketData())
        let health = try liveReading("health", .agentsHealth, control)
        let accounts = try perInstance("accounts", .accountsUpdates, data)
        let fills = try perInstance("fills", .executionsFills, data)
        let commands = try perInstance("commands", .breakerCommands, control)
        // The DLQ consumer never dead-letters itself (no dead-letter producer).
        let dlq = try KafkaConsumer(configuration: data, groupId: "\(Self.service)-dlq-\(instance)", topics: [Topic.dlq.name],
                                    metrics: runtime.metrics, logger: log)
        let timerStop = DispatchSemaphore(value: 0)
        let timerStopped = DispatchSemaphore(value: 0)
        runtime.lifecycle.onShutdown("consumers") {
            gate.stop(timeout: 10)
            commands.stop(timeout: 10)
            for c in [ticks, health, accounts, fills, dlq] { c.stop(timeout: 10) }
            book.stop()
            timerStop.signal()
            _ = timerStopped.wait(timeout: .now() + 5)
        }

        var router = HTTPRouter()
        router.get("/api/v1/breaker") { [self] _ in
            let ids = Set(stagingAccounts.map(\.id)).union(book.allAccounts.map(\.id)).sorted()
            return try .json(breaker.withLock { b -> BreakerOverview in
                // As of the timer's last step (at most a second ago): advancing here would make
                // transitions that nothing stores or publishes.
                BreakerOverview(breakers: b.sortedBreakers.map(BreakerView.init), accounts: ids.map { AccountTradingView(b.assess(account: $0, instrument: nil)) })
            })
        }
        router.get("/api/v1/breaker/:account") { [self] request in
            let id = request.parameter("account") ?? ""
            guard stagingAccounts.contains(where: { $0.id == id }) || book.account(id) != nil else {
                throw HTTPError(.notFound, code: "not_found", message: "unknown account \(id)")
            }
            return try .json(AccountTradingView(breaker.withLock { $0.assess(account: id, instrument: nil) }))
        }
        try runtime.startHTTP(router: router)
        runtime.startHeartbeat(producer: producer)
        try book.start()

        // Timers: recovery timeouts, heartbeat ages, error and latency windows; a periodic snapshot.
        TMTThread.detach { [self] in
            var ticksSinceSave = 0
            while timerStop.wait(timeout: .now() + 1) == .timedOut {
                do {
                    ticksSinceSave += 1
                    try sink.publish(breaker.withLock { $0.advance() }, snapshot: ticksSinceSave >= 30, drain: true)
                    if ticksSinceSave >= 30 { ticksSinceSave = 0 }
                } catch {
                    log.error("breaker timer step failed", ["error": "\(error)"])
                }
            }
            // A last try for transitions still kept (they live only in this process).
            do { try sink.publish([], drain: true) } catch { log.error("breaker final drain failed", ["error": "\(error)"]) }
            timerStopped.signal()
        }
        try ticks.startEnvelopes(Tick.self) { [self] e, _ in
            if isStale(e.createdAt, .marketTicks) { return }
            let (events, disagreements) = breaker.withLock { b in
                let events = b.apply(tick: e.payload)
                return (events, b.takeFastPathDisagreements())
            }
            for detail in disagreements {
                overturned.inc()
                log.error("gap verdict overturned by the exact check", ["detail": detail, "trace_id": e.traceId])
            }
            try sink.publish(events)
        }
        try health.startEnvelopes(AgentHeartbeat.self) { [self] e, _ in
            if isStale(e.createdAt, .agentsHealth) { return }
            try sink.publish(breaker.withLock { $0.apply(heartbeat: e.payload) })
        }
        try accounts.startEnvelopes(Account.self) { [self] e, _ in
            if isHistory(e.createdAt, .accountsUpdates) { return }
            try sink.publish(breaker.withLock { $0.apply(account: e.payload) })
        }
        try fills.startEnvelopes(Fill.self) { [self] e, _ in
            if isHistory(e.createdAt, .executionsFills) { return }
            try sink.publish(breaker.withLock { $0.apply(fill: e.payload) })
        }
        try dlq.start { [self] message in
            let letter = KafkaDeadLetter(dlqRecord: message)
            // A dead letter is an error when it happened: one older than the error window (the
            // topic replayed by a new process) would have left the window already.
            let failedAt = letter.map(\.failedAtMicros).flatMap { $0 > 0 ? $0 : nil } ?? message.timestampMillis.map { $0 * 1000 }
            if let failedAt, HopClock.nowMicros() - failedAt > errorWindowMicros {
                stale.labels(Topic.dlq.name).inc()
                return
            }
            let id = letter.map { "\($0.originTopic)/\($0.originPartition)/\($0.originOffset)" }
                ?? "\(message.topic)/\(message.partition)/\(message.offset)"
            let origin = letter.map { Self.originAgent(consumerGroup: $0.consumerGroup, watched: watched) }
            try sink.publish(breaker.withLock { $0.recordError(id: id, origin: origin) })
        }
        try commands.startEnvelopes(BreakerCommand.self) { [self] e, _ in
            try handle(command: e, book: book, sink: sink, store: events, producer: producer)
        }
        try gate.startEnvelopes(Order.self) { [self] e, _ in try handle(order: e, store: orders, sink: sink, producer: producer) }
        try runtime.consumeStagingCommands(kafka: kafka, producer: producer, pool: pool) { [self] command in
            switch command.action {
            case .dayReset:
                let (events, message) = breaker.withLock { $0.startNewDay(command) }
                try sink.publish(events, snapshot: true)
                return message
            case .accountRestart:
                // The account breakers were reset when the accounts' new epochs arrived on
                // accounts.updates (in order with the rest of each account's figures).
                let seen = try command.awaitEpochs { id in breaker.withLock { $0.accountEpoch(id) } }
                try sink.publish([], snapshot: true)
                return "account breakers and drawdown baselines started again: " + StagingCommand.list(seen)
            }
        }
    }

    /// The agent behind a consumer group: groups are named after the service, per-instance ones
    /// `<service>-<purpose>-<instance>` (`execution-engine-ticks-<host>-<pid>`,
    /// `aria-risk-quotes-…`, `compliance-engine-state-…`): the longest watched agent name the
    /// group is or starts with (followed by `-`), else the group itself. The core counts the
    /// error against an agent only when it watches that name.
    static func originAgent(consumerGroup: String, watched: Set<String>) -> String {
        let match = watched.filter { consumerGroup == $0 || consumerGroup.hasPrefix($0 + "-") }.max { $0.count < $1.count }
        return match ?? consumerGroup
    }

    /// One order from `orders.humanized`: cleared or blocked, recorded, published, acknowledged.
    private func handle(order envelope: Envelope<Order>, store: OrderStore, sink: EventSink, producer: KafkaProducer) throws {
        let received = HopClock.nowMicros()
        let started = Monotonic.nanos()
        var order = envelope.payload
        let evaluation = breaker.withLock { $0.evaluate(order: order) }
        try sink.publish(evaluation.events)
        let cleared = evaluation.verdict.isCleared
        try order.advance(to: cleared ? .cleared : .blocked, decision: evaluation.decision)
        try store.recordEvent(order: order, agent: Self.service, messageId: "\(order.id):\(Self.service)",
                              processingMs: Monotonic.secondsSince(started) * 1000,
                              hops: envelope.hops + [Hop(agent: runtime.options.service, inMicros: received, outMicros: HopClock.nowMicros())])
        let out = envelope.derive(id: "\(order.id):breaker", type: cleared ? "order.cleared" : "order.blocked", source: runtime.options.service,
                                  receivedMicros: received, payload: order)
        _ = try producer.send(out, to: cleared ? .ordersCleared : .ordersBlocked, key: order.accountId).wait(timeout: 30)
        // Orders already on their way when this process handles its first (held across a restart,
        // queued while it was down or joining its group) measure the restart, not the pipeline:
        // their latency is not counted.
        let firstOrder = !handledAnOrder.exchange(true, ordering: .relaxed)
        let (latencyEvents, skipped) = breaker.withLock { b in
            if firstOrder { b.latencyCountsFromMicros = max(b.latencyCountsFromMicros, received) }
            let before = b.latencySamplesSkipped
            return (b.recordLatency(orderId: order.id, hops: out.hops), b.latencySamplesSkipped - before)
        }
        try sink.publish(latencyEvents)
        if skipped > 0 {
            if latencySkipped.value == 0 {
                runtime.logger.notice("an order already on its way when this breaker started: its latency is not counted (nor that of any later such order)",
                                      traceId: envelope.traceId, ["order": order.id,
                                                                  "began": Logger.timestamp(Date(timeIntervalSince1970: Double(out.hops.first?.inMicros ?? 0) / 1e6))])
            }
            latencySkipped.inc(Double(skipped))
        }

        verdicts.labels(cleared ? "cleared" : "blocked").inc()
        metrics.processing.labels(runtime.options.service, "order").observeSince(started)
        metrics.handled.labels(runtime.options.service, "order", cleared ? "cleared" : "blocked").inc()
        runtime.logger.info(cleared ? "order cleared" : "order blocked", traceId: envelope.traceId,
                            ["order": order.id, "account": order.accountId, "reason": evaluation.verdict.reason ?? "-"])
    }

    /// One operator command: its transitions published, its flatten orders delivered, then the
    /// snapshot saved and the command recorded as applied, then the offset may commit (a crash
    /// in between re-applies it with the same ids).
    private func handle(command envelope: Envelope<BreakerCommand>, book: AccountBook, sink: EventSink, store: BreakerEventStore,
                        producer: KafkaProducer) throws {
        let received = HopClock.nowMicros()
        let started = Monotonic.nanos()
        let command = envelope.payload
        // Applied before by any process (the log is replayed from the beginning at every start,
        // and the snapshot's ids may be older than the database's, or lost with Redis).
        if try store.isApplied(command.id) { breaker.withLock { $0.rememberApplied([command.id]) } }
        let accounts = Set(stagingAccounts.map(\.id)).union(book.allAccounts.map(\.id)).sorted()
        let positions = accounts.flatMap { book.openPositions($0).map(\.position) }
        let result = breaker.withLock { $0.handle(command, positions: positions, remember: false) }
        // The transitions first (kept and retried by the timer if they cannot be sent): a retry
        // after a failed delivery below trips nothing new, so they would be lost.
        try sink.publish(result.events)
        let deliveries = try result.orders.map { order in
            try producer.send(envelope.derive(id: "\(order.id):breaker", type: "order.cleared", source: runtime.options.service,
                                              receivedMicros: received, payload: order), to: .ordersCleared, key: order.accountId)
        }
        for d in deliveries { _ = try d.wait(timeout: 30) }
        // Applied once its closing orders are delivered: a retry after a failed delivery makes
        // them again (the same ids, which the execution engine works once).
        if result.outcome == .applied { breaker.withLock { $0.rememberApplied([command.id]) } }
        try sink.publish([], snapshot: result.outcome == .applied)
        // A duplicate too: the first attempt may have failed here, after applying it.
        if result.outcome != .rejected { try store.recordApplied(command, message: result.message) }
        metrics.processing.labels(runtime.options.service, "command").observeSince(started)
        metrics.handled.labels(runtime.options.service, "command", result.outcome.rawValue).inc()
        let text = result.outcome == .rejected ? "breaker command rejected" : "breaker command"
        runtime.logger.log(result.outcome == .rejected ? .warning : .info, text, traceId: envelope.traceId,
                           ["command": command.id, "action": command.action.rawValue, "outcome": result.outcome.rawValue,
                            "orders": String(result.orders.count), "message": result.message])
    }

    /// Sets the state gauge of every breaker.
    fileprivate func refreshGauges() {
        let values = breaker.withLock { $0.metricValues }
        for (key, value) in values { stateGauge.labels(key.tier.rawValue, key.target).set(Double(value)) }
    }

    fileprivate func snapshotBytes() throws -> [UInt8] { try breaker.withLock { $0.snapshot() }.encoded() }

    fileprivate func counted(_ event: BreakerEvent) { eventCount.labels(event.tier.rawValue, event.to.rawValue).inc() }
}

/// Where transitions go: `breaker_events`, `breaker.events` (acknowledged), the gauges, and a
/// Redis snapshot after every change.
private struct EventSink: Sendable {
    let agent: BreakerAgent
    let store: BreakerEventStore
    let redis: RedisClient
    let producer: KafkaProducer
    let logger: Logger

    /// Records and publishes `new` transitions (and saves the snapshot after any change).
    ///
    /// A transition has moved the breaker already, so a retried message would not make it again:
    /// when recording or publishing fails the transitions are kept (`unsentEvents`) instead of
    /// failing the message, and sent by the timer (`drain`), which alone retries them — a
    /// database or broker outage must not turn every tick, heartbeat and order into a dead letter.
    /// While some are kept, newer ones queue behind them, in order. Only a failed snapshot write
    /// throws.
    func publish(_ new: [BreakerEvent], snapshot: Bool = false, drain: Bool = false) throws {
        let events: [BreakerEvent] = agent.unsentEvents.withLock { unsent in
            if drain {
                defer { unsent = [] }
                return unsent + new
            }
            guard unsent.isEmpty else {
                keep(new, in: &unsent)
                return []
            }
            return new
        }
        if !events.isEmpty {
            do {
                try store.record(events, epoch: agent.epoch)
                let deliveries = try events.map { e in
                    try producer.send(Envelope(id: BreakerEventStore.storedId(e, epoch: agent.epoch), type: "breaker.event", traceId: "breaker-\(e.id)", source: CircuitBreaker.agentName,
                                               payload: e), to: .breakerEvents, key: e.target)
                }
                for d in deliveries { _ = try d.wait(timeout: 30) }
                for e in events {
                    agent.counted(e)
                    logger.info("breaker transition", ["breaker": e.key.description, "from": e.from?.rawValue ?? "unknown",
                                                              "to": e.to.rawValue, "reason": e.reason.detail])
                }
            } catch {
                // Both steps are idempotent by the event's stored id: a partial attempt repeats harmlessly.
                agent.unsentEvents.withLock { unsent in
                    unsent = events + unsent
                    keep([], in: &unsent)
                }
                logger.error("breaker transitions not recorded; kept to send again", ["transitions": String(events.count), "error": "\(error)"])
            }
        }
        let changed = snapshot || !new.isEmpty || !events.isEmpty
        // States change only with transitions (and a scrape refreshes them too): refreshing the
        // gauges for every tick was 8 % of the breaker's time under a tick burst.
        if changed { agent.refreshGauges() }
        if changed {
            _ = try redis.execute(.set(agent.snapshotKey, try agent.snapshotBytes())).check(command: "SET")
        }
    }

    /// Appends `events` to the kept ones, dropping the oldest beyond `BreakerAgent.unsentLimit`.
    private func keep(_ events: [BreakerEvent], in unsent: inout [BreakerEvent]) {
        unsent += events
        let over = unsent.count - BreakerAgent.unsentLimit
        if over > 0 {
            unsent.removeFirst(over)
            logger.error("breaker transitions dropped: too many kept while they cannot be recorded", ["dropped": String(over)])
        }
    }
}

/// `GET /api/v1/breaker`.
struct BreakerOverview: Encodable {
    var breakers: [BreakerView]
    var accounts: [AccountTradingView]
}

/// One breaker for the API.
struct BreakerView: Encodable {
    var tier: String
    var target: String
    /// `normal`, `warning`, `tripped`, `halfOpen`, or `unknown` (awaiting data: treated as HALTED).
    var state: String
    var reason: String
    var manual: Bool
    var recoveryAt: Int64?

    init(_ b: Breaker) {
        tier = b.key.tier.rawValue
        target = b.key.target
        state = b.isKnown ? b.state.rawValue : "unknown"
        reason = b.reason.detail
        manual = b.manual
        recoveryAt = b.recoveryAt
    }
}

/// `GET /api/v1/breaker/:account`: the trading state and every restricting breaker.
struct AccountTradingView: Encodable {
    struct Constraint: Encodable {
        var breaker: String
        var state: String
        var effect: String
        var detail: String
    }

    var account: String
    var tradingState: String
    var reasons: [Constraint]
    var criticalAgentsDown: [String]

    init(_ a: TradingAssessment) {
        account = a.account
        tradingState = a.state.rawValue
        reasons = a.constraints.map {
            Constraint(breaker: $0.key.description, state: $0.breakerState?.rawValue ?? "unknown", effect: $0.effect.rawValue, detail: $0.detail)
        }
        criticalAgentsDown = a.criticalAgentsDown
    }
}
