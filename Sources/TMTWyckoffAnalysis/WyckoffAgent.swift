import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

/// Wires the Wyckoff core to Kafka, the market database and HTTP.
final class WyckoffAgent: Sendable {
    private let runtime: ServiceRuntime
    /// The baseline detector and any account-scoped variants of a staged rollout.
    private let detectors: Locked<WyckoffDetectorSet>
    private let builder: Locked<BarBuilder>
    /// Closed bars whose effects are not all done yet, oldest first (see `handle`).
    private let pending = Locked<PendingBars>(PendingBars())
    private let latest = Locked<[String: WyckoffAnalysis]>([:])
    /// Instruments whose stored history has been replayed into the detector in this process.
    private let warmed = Locked<Set<String>>([])
    /// The partition each warmed instrument's ticks come from (its key's), to hand its open bar
    /// on when the partition is taken from this process.
    private let partitionOf = Locked<[String: KafkaTopicPartition]>([:])
    private let metrics: AgentMetrics
    private let events: CounterFamily
    private let signals: CounterFamily
    private let bars: CounterFamily
    private let phaseScore: GaugeFamily
    private let variantSignals: CounterFamily
    private let variantAccounts: GaugeFamily
    private let replayedUpdates: CounterFamily
    private let crossedTicks: CounterFamily
    /// Whether this start's replay of config.updates has caught up with the log.
    private let replayed = Atomic<Bool>(false)

    /// The longest start-up waits for the replay of config.updates before consuming ticks anyway
    /// (`/ready` says not ready until the replay has caught up), in seconds.
    static let replayTimeout: Double = 60

    init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        var parameters = WyckoffParameters()
        if let config = runtime.config {
            try config.allowOnly(["parameters"])
            if let p = config.child("parameters") {
                var updates: [String: String] = [:]
                for (key, node) in p.children { updates[key] = try node.asString() }
                do { parameters = try parameters.applying(updates: updates) } catch {
                    throw TMTError(.configuration, "\(config.file): \(error)")
                }
            }
        }
        if let interval = Environment().string("DETECTION_INTERVAL") {
            do { parameters = try parameters.applying(updates: ["timeframeSeconds": interval]) } catch {
                throw TMTError(.configuration, "environment variable DETECTION_INTERVAL: \(error)")
            }
        }
        // The account roster: baseline signals name everyone not in a rollout's variant. Without
        // one, account-scoped updates are refused (to the DLQ) instead of reaching everyone.
        let env = Environment()
        var roster: [String]?
        let compliance = env.string("COMPLIANCE_CONFIG")
        let rosterPath = compliance ?? "\(runtime.options.configDirectory)/compliance-staging.yml"
        if compliance != nil || FileManager.default.fileExists(atPath: rosterPath) {
            roster = try ComplianceConfiguration.load(path: rosterPath).accounts.map(\.id)
        }
        detectors = Locked(WyckoffDetectorSet(baseline: try WyckoffDetector(parameters: parameters), roster: roster,
                                             service: runtime.options.service))
        builder = Locked(try BarBuilder(timeframeSeconds: parameters.timeframeSeconds))
        let registry = runtime.metrics
        metrics = AgentMetrics(registry: registry)
        events = registry.counter("tmt_wyckoff_events_total", help: "Wyckoff events detected, by instrument and kind.", labels: ["instrument", "event"])
        signals = registry.counter("tmt_signals_generated_total", help: "Signals published, by instrument, side and pattern.",
                                   labels: ["instrument", "side", "pattern"])
        bars = registry.counter("tmt_wyckoff_bars_total", help: "Bars closed and stored, by instrument.", labels: ["instrument"])
        phaseScore = registry.gauge("tmt_wyckoff_phase_score", help: "Latest Wyckoff phase score (0-1), by instrument and phase.",
                                    labels: ["instrument", "phase"])
        variantSignals = registry.counter("tmt_wyckoff_variant_signals_total",
                                          help: "Signals published from a rollout's parameter variant, by experiment.", labels: ["experiment"])
        variantAccounts = registry.gauge("tmt_wyckoff_variant_accounts",
                                         help: "Accounts trading a rollout's parameter variant, by experiment.", labels: ["experiment"])
        replayedUpdates = registry.counter("tmt_wyckoff_config_updates_total",
                                           help: "Updates read from config.updates since start (the log is replayed from the beginning at every start), by result.",
                                           labels: ["result"])
        crossedTicks = registry.counter("tmt_wyckoff_crossed_ticks_total",
                                        help: "Ticks whose ask was below their bid (a crossed quote), not folded into bars, by instrument.",
                                        labels: ["instrument"])
    }

    func start() throws {
        let env = Environment()
        let log = runtime.logger
        let pool = try runtime.openMarketDatabase(env)
        let store = BarStore(pool: pool)

        let (kafka, producer) = try runtime.openKafka(env)

        // CONSUMER_GROUP lets an operator run a shadow instance that does not take partitions from
        // the live group (it then processes every tick itself).
        let group = env.string("CONSUMER_GROUP", default: "wyckoff-analysis")
        let ticks = try KafkaConsumer(configuration: kafka.forMarketData(), groupId: group, topics: [Topic.marketTicks.name],
                                      deadLetterProducer: producer, metrics: runtime.metrics, logger: log)
        // Event sourcing: the parameters and the rollout's variants are rebuilt from config.updates
        // at every start, replayed from the beginning. The group id is unique to this start (every
        // instance sees every update, and a restart never resumes from a committed offset), and
        // only this consumer starts at the earliest offset whatever KAFKA_AUTO_OFFSET_RESET says.
        var replay = kafka.forDataPlane()
        replay.autoOffsetReset = "earliest"
        let updates = try KafkaConsumer(configuration: replay,
                                        groupId: "wyckoff-analysis-config-\(runtime.options.instanceId)-\(UUID().uuidString.prefix(8).lowercased())",
                                        topics: [Topic.configUpdates.name], options: KafkaConsumerOptions(lagRefreshInterval: 0.5),
                                        deadLetterProducer: producer, metrics: runtime.metrics, logger: log)
        // Two stops of up to 10 s each, then the open bars: more than the default step time, and
        // within the 30 s a container is given to stop.
        runtime.lifecycle.onShutdown("consumers", timeout: 25) { [self] in
            let stopped = ticks.stop(timeout: 10)
            updates.stop(timeout: 10)
            // Only once the tick consumer has finished (its handler could still fold ticks).
            if stopped { saveOpenBars(store: store, group: group) } else {
                runtime.logger.warning("tick consumer did not stop in time; open bars not saved")
            }
        }

        var router = HTTPRouter()
        router.get("/api/v1/analysis") { [self] _ in try .json(latest.withLock { Array($0.values) }.sorted { $0.bar.instrument < $1.bar.instrument }) }
        router.get("/api/v1/analysis/:instrument") { [self] request in
            let instrument = request.parameter("instrument") ?? ""
            guard let a = latest.withLock({ $0[instrument] }) else {
                throw HTTPError(.notFound, code: "not_found", message: "no analysis for \(instrument) yet")
            }
            return try .json(a)
        }
        router.get("/api/v1/parameters") { [self] _ in try .json(detectors.withLock { $0.baseline.parameters }) }
        router.get("/api/v1/variants") { [self] _ in
            try .json(detectors.withLock { set in
                set.variants.map { VariantView(experiment: $0.requestedBy, accounts: $0.accounts.sorted(), parameters: $0.parameters) }
            })
        }
        runtime.health.add("config_replay") { [self] in
            guard replayed.load(ordering: .acquiring) || updates.hasCaughtUp else {
                throw TMTError(.kafka, "config.updates is still being replayed")
            }
            replayed.store(true, ordering: .releasing)
        }
        try runtime.startHTTP(router: router)
        runtime.startHeartbeat(producer: producer)

        try updates.startEnvelopes(ConfigUpdate.self) { [self] envelope, _ in try apply(envelope.payload, id: envelope.id, pool: pool) }
        // Ticks wait for the replay: a bar analysed before it would route signals by a state the
        // log has already moved past.
        let began = Date()
        let caughtUp = updates.waitUntilCaughtUp(timeout: Self.replayTimeout)
        if updates.isStopRequested { return }
        if caughtUp {
            replayed.store(true, ordering: .releasing)
            let (parameters, variants) = detectors.withLock { ($0.baseline.parameters, $0.variants) }
            log.notice("config.updates replayed", ["seconds": String(cFormat: "%.1f", Date().timeIntervalSince(began)),
                                                   "timeframe_s": String(parameters.timeframeSeconds), "variants": String(variants.count),
                                                   "variant_accounts": String(variants.reduce(0) { $0 + $1.accounts.count })])
        } else {
            log.warning("config.updates replay not caught up; consuming ticks anyway", ["waited_s": String(Self.replayTimeout)])
        }
        let tickMetrics = TickMetrics(tick: metrics.processing.labels(runtimeService, "tick"),
                                barClosed: metrics.handled.labels(runtimeService, "tick", "bar_closed"))
        // Partitions taken from this process (a rebalance, or its own stop, before it leaves the
        // group): their instruments' open bars are saved for whoever takes them over.
        ticks.onRevoke { [self] partitions, lost in handOn(partitions, lost: lost, store: store, group: group) }
        try ticks.startEnvelopes(Tick.self) { [self] envelope, message in
            try handle(envelope, partition: message.topicPartition, store: store, group: group, producer: producer, metrics: tickMetrics)
        }
    }

    /// A bar the builder closed and what is left to do for it: store it, analyse it (once: the
    /// detector's state moves with it), publish the signals it produced.
    struct PendingBar: Sendable {
        var bar: Bar
        var saved = false
        /// The signals still to publish; nil until analysed.
        var signals: [Signal]?
    }

    struct PendingBars: Sendable {
        var bars: [PendingBar] = []
        /// The tick whose handling failed after it was folded into the builder: its retry must
        /// not fold it in again (it would count twice in the next bar).
        var foldedTickId: String?
        /// When finishing them was last tried by a tick that closed no bar (monotonic ns).
        var lastQuietAttempt: UInt64 = 0
    }

    /// Latest market time a tick may carry (year 9999): later ones are not times of a market,
    /// and bar arithmetic near `Int64.max` would overflow.
    static let latestTickMicros: Int64 = 253_402_300_799_999_999

    /// One tick: fold into bars; for each bar it closes, store it, analyse it and publish any
    /// signal, waiting for the broker's acknowledgement before the tick's offset may be committed.
    ///
    /// The builder moves on when the tick is folded in, before those effects. If one fails the
    /// consumer retries the tick: the bar is kept (with how far its effects got) and finished
    /// first, and the tick is not folded in again. A tick dead-lettered after its last attempt
    /// leaves its bar to later ticks: those that close no bar of their own try at most once a
    /// second and do not fail over it (an outage of the market database must not turn every
    /// tick into a dead letter).
    ///
    /// A tick with a time no market has or a non-positive price is malformed (DLQ); a crossed
    /// quote (ask below bid) is a real, if rare, feed condition: counted and not folded in.
    private func handle(_ envelope: Envelope<Tick>, partition: KafkaTopicPartition, store: BarStore, group: String, producer: KafkaProducer,
                        metrics tickMetrics: TickMetrics) throws {
        let received = HopClock.nowMicros()
        let started = Monotonic.nanos()
        let tick = envelope.payload
        guard tick.time > 0, tick.time <= Self.latestTickMicros else {
            throw KafkaPermanentFailure(category: "invalid_tick", reason: "tick time \(tick.time) µs is not a market time (1970 to 9999)")
        }
        guard tick.bid > 0, tick.ask > 0 else {
            throw KafkaPermanentFailure(category: "invalid_tick", reason: "unusable quote for \(tick.instrument): bid \(tick.bid), ask \(tick.ask)")
        }
        guard tick.ask >= tick.bid else {
            crossedTicks.labels(tick.instrument).inc()
            return
        }
        try warmUp(tick, partition: partition, store: store, group: group)
        let retry = pending.withLock { $0.foldedTickId == envelope.id }
        let closed = retry ? [] : builder.withLock { $0.apply(tick) }
        let now = Monotonic.nanos()
        let (todo, quietAttempt) = pending.withLock { p -> (Int, Bool) in
            p.bars += closed.map { PendingBar(bar: $0) }
            p.foldedTickId = nil
            guard !p.bars.isEmpty, !retry, closed.isEmpty else { return (p.bars.count, false) }
            guard now &- p.lastQuietAttempt >= 1_000_000_000 else { return (0, true) }
            p.lastQuietAttempt = now
            return (p.bars.count, true)
        }
        guard todo > 0 else {
            tickMetrics.tick.observeSince(started)
            return
        }
        if quietAttempt {
            // Bars an earlier tick closed; this one closed none and does not fail over them.
            do { try finishPendingBars(envelope, received: received, store: store, producer: producer) } catch {
                runtime.logger.warning("closed bars still not stored or published; will retry", traceId: envelope.traceId,
                                       ["bars": String(pending.withLock { $0.bars.count }), "error": "\(error)"])
            }
            tickMetrics.tick.observeSince(started)
            return
        }
        do {
            try finishPendingBars(envelope, received: received, store: store, producer: producer)
        } catch {
            pending.withLock { $0.foldedTickId = envelope.id }
            throw error
        }
        tickMetrics.tick.observeSince(started)
        tickMetrics.barClosed.inc()
    }

    /// Stores, analyses and publishes the pending bars in order, recording each step as it is
    /// done so that a failure resumes where it stopped.
    private func finishPendingBars(_ envelope: Envelope<Tick>, received: Int64, store: BarStore, producer: KafkaProducer) throws {
        while var p = pending.withLock({ $0.bars.first }) {
            let bar = p.bar
            if !p.saved {
                do { try store.save([bar]) } catch {
                    metrics.communicationErrors.labels(runtimeService, "market-db").inc()
                    throw error
                }
                p.saved = true
                pending.withLock { $0.bars[0].saved = true }
            }
            if p.signals == nil {
                bars.labels(bar.instrument).inc()
                let (analysis, routed) = detectors.withLock { $0.process(bar) }
                latest.withLock { $0[bar.instrument] = analysis }
                for (phase, score) in [("accumulation", analysis.scores.accumulation), ("markup", analysis.scores.markup),
                                       ("distribution", analysis.scores.distribution), ("markdown", analysis.scores.markdown)] {
                    phaseScore.labels(bar.instrument, phase).set(score)
                }
                for event in analysis.events { events.labels(bar.instrument, event.kind.rawValue).inc() }
                for remark in analysis.remarks { runtime.logger.debug(remark, traceId: envelope.traceId, ["instrument": bar.instrument]) }
                p.signals = routed
                pending.withLock { $0.bars[0].signals = routed }
            }
            while let signal = p.signals?.first {
                let out = envelope.derive(id: signal.id, type: "signal.generated", source: runtimeService, receivedMicros: received, payload: signal)
                do {
                    _ = try producer.send(out, to: .signalsGenerated, key: signal.instrument).wait(timeout: 30)
                } catch {
                    metrics.communicationErrors.labels(runtimeService, "kafka").inc()
                    throw error
                }
                p.signals?.removeFirst()
                pending.withLock { _ = $0.bars[0].signals?.removeFirst() }
                signals.labels(signal.instrument, signal.side.rawValue, signal.pattern).inc()
                if let experiment = signal.experiment { variantSignals.labels(experiment).inc() }
                runtime.logger.info("signal", traceId: envelope.traceId, ["id": signal.id, "side": signal.side.rawValue, "pattern": signal.pattern,
                                                                          "entry": "\(signal.entry)", "stop": "\(signal.stopLoss)",
                                                                          "target": "\(signal.takeProfit)", "confidence": String(cFormat: "%.2f", signal.confidence),
                                                                          "accounts": signal.accounts.map { String($0.count) } ?? "all",
                                                                          "experiment": signal.experiment ?? "-"])
            }
            pending.withLock { _ = $0.bars.removeFirst() }
        }
    }

    /// The first tick of an instrument in this process (a restart, or partitions moved here after
    /// a rebalance): replay its stored bars so ranges and phases do not start from nothing. Signals
    /// those old bars would produce were published by whoever processed them then; not again.
    /// The spans of stored bars are closed to this process's builder too (ticks redelivered after
    /// a crash must not rebuild a stored bar from the few after the last commit). Then the bar it
    /// had open when the last process stopped is resumed: the tick goes on building it, or closes
    /// it (it used to be lost, and its span rebuilt from the ticks after the restart alone).
    private func warmUp(_ tick: Tick, partition: KafkaTopicPartition, store: BarStore, group: String) throws {
        let instrument = tick.instrument
        guard !warmed.withLock({ $0.contains(instrument) }) else { return }
        partitionOf.withLock { $0[instrument] = partition }
        let (timeframe, depth) = detectors.withLock { ($0.baseline.parameters.timeframeSeconds, $0.baseline.parameters.historyBars) }
        // Only the bars leading up to this tick's market time: later ones (another run's
        // simulation) would make every new bar look like a redelivery.
        let span = Int64(timeframe) * Int64(depth) * 1_000_000
        let history = try store.window(instrument: instrument, timeframeSeconds: timeframe, fromMicros: tick.time - span, beforeMicros: tick.time)
        let saved = try store.takeOpen(instrument: instrument, timeframeSeconds: timeframe, tickMicros: tick.time, group: group)
        detectors.withLock { $0.replay(history) }
        if let last = history.last {
            builder.withLock { $0.handedOn(instrument: instrument, upTo: last.start + Int64(timeframe) * 1_000_000) }
        }
        if let open = saved.open {
            if builder.withLock({ $0.resume(open) }) {
                runtime.logger.info("open bar resumed", ["instrument": instrument, "start": Logger.timestamp(Date(micros: open.bar.start)),
                                                         "ticks": String(open.bar.tickCount),
                                                         "through": Logger.timestamp(Date(micros: open.lastTickMicros))])
            } else {
                runtime.logger.warning("saved open bar not resumed: this process has built that span already",
                                       ["instrument": instrument, "start": Logger.timestamp(Date(micros: open.bar.start))])
            }
        } else if let dropped = saved.dropped {
            runtime.logger.notice("saved open bar dropped: a stored bar supersedes it, or it starts after this tick",
                                  ["instrument": instrument, "start": Logger.timestamp(Date(micros: dropped.start)),
                                   "tick": Logger.timestamp(Date(micros: tick.time))])
        }
        warmed.withLock { _ = $0.insert(instrument) }
        if !history.isEmpty {
            runtime.logger.info("bar history replayed", ["instrument": instrument, "bars": String(history.count)])
        }
    }

    /// Partitions taken from this process, on the consumer thread before it gives them up (their
    /// offsets are committed next): their instruments leave the builder and the warmed set, and
    /// their open bars are saved for the process that takes them over (which would otherwise
    /// build them from its first tick; and this one, given them back later, would close a stale
    /// bar over the other's). Partitions lost without a rebalance leave the builder too, but their
    /// bars are not saved: the member that owns them now may have taken the saved row already.
    private func handOn(_ partitions: [KafkaTopicPartition], lost: Bool, store: BarStore, group: String) {
        let gone = Set(partitions)
        let instruments = partitionOf.withLock { p -> Set<String> in
            let moved = Set(p.filter { gone.contains($0.value) }.keys)
            for i in moved { p[i] = nil }
            return moved
        }
        guard !instruments.isEmpty else { return }
        let open = builder.withLock { $0.take(instruments: instruments) }
        warmed.withLock { $0.subtract(instruments) }
        if lost {
            runtime.logger.warning("partitions lost: their open bars are dropped, not saved",
                                   ["instruments": instruments.sorted().joined(separator: ","), "bars": String(open.count)])
            return
        }
        save(open, store: store, group: group, why: "partitions revoked")
    }

    /// At shutdown, once the tick consumer has stopped (the ticks folded into open bars are
    /// committed): closed bars still waiting for the database are stored (their ticks may be
    /// committed already), and the open bars left (those of partitions not handed on as the
    /// consumer left its group) are saved for the next process to resume.
    private func saveOpenBars(store: BarStore, group: String) {
        let unsaved = pending.withLock { $0.bars.filter { !$0.saved }.map(\.bar) }
        if !unsaved.isEmpty {
            do {
                try store.save(unsaved)
                runtime.logger.notice("closed bars stored at shutdown (not analysed)", ["bars": String(unsaved.count)])
            } catch {
                metrics.communicationErrors.labels(runtimeService, "market-db").inc()
                runtime.logger.error("closed bars not stored at shutdown", ["bars": String(unsaved.count), "error": "\(error)"])
            }
        }
        save(builder.withLock { $0.openBars }, store: store, group: group, why: "shutdown")
    }

    private func save(_ open: [BarBuilder.OpenBar], store: BarStore, group: String, why: String) {
        guard !open.isEmpty else { return }
        do {
            try store.saveOpen(open, group: group)
            runtime.logger.info("open bars saved", ["bars": String(open.count), "instruments": open.map(\.bar.instrument).joined(separator: ","),
                                                    "why": why])
        } catch {
            metrics.communicationErrors.labels(runtimeService, "market-db").inc()
            runtime.logger.error("cannot save the open bars; the next process starts them again", ["bars": String(open.count), "error": "\(error)"])
        }
    }

    /// A parameter change: validated as a whole; a bad one goes to the DLQ naming the field. An
    /// account-scoped one (a staged rollout) moves those accounts to a variant detector (or back
    /// to the baseline); a service-wide one changes the baseline and ends every variant. Updates
    /// for other services, and ids applied already (the replay at start, redeliveries), change
    /// nothing.
    ///
    /// A refused update is dead-lettered the first time any process refuses it; refused again at
    /// a later start's replay it is counted and logged (`config_update_refusals` says when it
    /// was first refused), not dead-lettered again.
    private func apply(_ update: ConfigUpdate, id: String, pool: PostgresPool) throws {
        guard update.service == runtimeService else {
            replayedUpdates.labels("other_service").inc()
            return
        }
        let applied: Result<(WyckoffParameters, WyckoffParameters, String, [WyckoffDetectorSet.Variant], Bool), any Error> =
            detectors.withLock { set in
                let old = set.baseline.parameters
                let before = set.variants.map(\.requestedBy)
                let repeated = set.appliedUpdateIds.contains(id)
                let summary: String
                do { summary = try set.apply(update, id: id) } catch { return .failure(error) }
                for gone in before where !set.variants.contains(where: { $0.requestedBy == gone }) {
                    variantAccounts.remove([gone])
                }
                return .success((old, set.baseline.parameters, summary, set.variants, repeated))
            }
        let old: WyckoffParameters, new: WyckoffParameters, summary: String, variants: [WyckoffDetectorSet.Variant], repeated: Bool
        switch applied {
        case .success(let result): (old, new, summary, variants, repeated) = result
        case .failure(let error):
            let reason = "\(error)"
            let first = try pool.queryOne("""
                INSERT INTO config_update_refusals (update_id, service, reason) VALUES ($1, $2, $3)
                ON CONFLICT (update_id) DO NOTHING RETURNING update_id
                """, [id, runtimeService, reason]) != nil
            replayedUpdates.labels(first ? "refused" : "refused_again").inc()
            guard first else {
                runtime.logger.info("config update refused again; dead-lettered when first refused", ["id": id, "reason": reason])
                return
            }
            throw KafkaPermanentFailure(category: "invalid_config", reason: reason)
        }
        replayedUpdates.labels(repeated ? "duplicate" : "applied").inc()
        guard !repeated else {
            runtime.logger.info("config update applied already", ["id": id, "by": update.requestedBy])
            return
        }
        for v in variants { variantAccounts.labels(v.requestedBy).set(Double(v.accounts.count)) }
        if new.timeframeSeconds != old.timeframeSeconds {
            builder.withLock { $0 = (try? BarBuilder(timeframeSeconds: new.timeframeSeconds)) ?? $0 }
        }
        runtime.logger.notice("parameters updated", ["id": id, "by": update.requestedBy, "reason": update.reason,
                                                     "changed": update.parameters.keys.sorted().joined(separator: ","),
                                                     "accounts": update.accounts.map { String($0.count) } ?? "all", "result": summary])
    }

    private var runtimeService: String { runtime.options.service }
}

/// The metric children every tick touches, looked up once instead of per tick.
struct TickMetrics: Sendable {
    let tick: Histogram
    let barClosed: Counter
}

/// `GET /api/v1/variants`: the parameter variants running for some accounts.
struct VariantView: Encodable {
    var experiment: String
    var accounts: [String]
    var parameters: WyckoffParameters
}
