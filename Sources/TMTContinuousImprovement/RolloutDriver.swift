import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

/// Drives approved experiments through `RolloutStateMachine`: approve and stop commands from the
/// API, and periodic observations of the live closed trades opened by the variant's signals
/// (tagged with the experiment) against those opened by baseline signals since the stage started. The machine's state lives in the `experiments` row
/// (status, stage, stage start), so every step rebuilds it from the row and a restart resumes
/// where it was; the config updates of a step are stored with it and published afterwards.
final class RolloutDriver: Sendable {
    /// The latest observation of a rolling experiment, for the API.
    struct ObservationView: Codable, Sendable {
        var at: Date
        var stagePercent: Int
        var variantTrades: Int
        var baselineTrades: Int
        var variantMetric: Double
        var baselineMetric: Double
        /// `(variant − baseline) / |baseline|` in percent; nil when the baseline metric is 0.
        var relativePercent: Double?
    }

    private let store: ExperimentStore
    private let history: TradeHistory
    private let roster: [String]
    private let configuration: RolloutConfiguration
    private let producer: KafkaProducer
    private let logger: Logger
    private let service: String
    /// The live baseline of the service the experiments tune, for the approval check.
    private let currentBaseline: @Sendable () throws -> WyckoffParameters
    /// The service whose parameters `currentBaseline` describes.
    private let tunedService: String
    private let observations = Locked<[String: ObservationView]>([:])
    private let percentGauge: GaugeFamily
    private let relativeGauge: GaugeFamily
    private let transitions: CounterFamily
    private let published: Counter

    init(store: ExperimentStore, history: TradeHistory, roster: [String], configuration: RolloutConfiguration, producer: KafkaProducer,
         metrics: MetricsRegistry, logger: Logger, service: String, tunedService: String,
         currentBaseline: @escaping @Sendable () throws -> WyckoffParameters) {
        self.store = store
        self.tunedService = tunedService
        self.currentBaseline = currentBaseline
        self.history = history
        self.roster = roster
        self.configuration = configuration
        self.producer = producer
        self.logger = logger
        self.service = service
        percentGauge = metrics.gauge("tmt_improvement_rollout_percent", help: "Percentage of accounts running an experiment's variant.",
                                     labels: ["experiment"])
        relativeGauge = metrics.gauge("tmt_improvement_rollout_relative_performance",
                                      help: "Variant versus baseline in the current stage, (variant - baseline) / |baseline| of the rollout metric.",
                                      labels: ["experiment"])
        transitions = metrics.counter("tmt_improvement_rollout_transitions_total", help: "Rollout state changes, by new state.",
                                      labels: ["to"])
        published = metrics.counter("tmt_improvement_config_updates_published_total",
                                    help: "Config updates published on config.updates by rollouts.").labels()
    }

    /// The latest observation of `experiment`, if it is rolling.
    func observation(_ experiment: String) -> ObservationView? { observations.withLock { $0[experiment] } }

    private func machine(_ record: ExperimentRecord) throws -> RolloutStateMachine {
        let state: RolloutState
        switch record.status {
        case "pending": state = .pending
        case "rolling": state = .rolling(stage: record.rolloutStage ?? 0, since: record.stageStartedAt ?? record.updatedAt)
        default:
            throw HTTPError(.conflict, code: "finished", message: "experiment \(record.id) is \(record.status)")
        }
        do {
            return try RolloutStateMachine(experimentId: record.id, service: record.service, accounts: roster,
                                           baselineParameters: record.baseline, variantParameters: record.parameters,
                                           configuration: configuration, clock: SystemClock(), state: state)
        } catch let e as RolloutError {
            throw HTTPError(.conflict, code: "invalid_state", message: e.detail)
        }
    }

    /// Starts the rollout of a pending experiment at the first stage. One rollout per service at
    /// a time: the observation compares the variant with everyone else (the `experiments` table's
    /// unique index on rolling rows holds it under concurrent approvals too). Refused while the
    /// live baseline differs from the one the experiment was proposed against.
    func approve(_ id: String, by actor: String) throws -> ExperimentRecord {
        guard !roster.isEmpty else {
            throw HTTPError(.serviceUnavailable, code: "no_accounts", message: "no staging accounts to roll out to (COMPLIANCE_CONFIG)")
        }
        let rolling = try store.withStatus("rolling").filter { $0.id != id }
        guard let target = try store.find(id) else { throw HTTPError(.notFound, code: "not_found", message: "no experiment \(id)") }
        if let other = rolling.first(where: { $0.service == target.service }) {
            throw Self.rolloutRunning(other.id, service: other.service)
        }
        if target.status == "pending", target.service == tunedService {
            let changed = RolloutBaselineCheck.differences(recorded: target.baseline, current: try currentBaseline())
            if !changed.isEmpty {
                throw HTTPError(.conflict, code: "baseline_changed",
                                message: "the baseline changed since experiment \(id) was proposed (\(changed.joined(separator: "; "))); " +
                                    "its shadow evidence no longer applies: stop it and let a new shadow cycle propose again")
            }
        }
        do {
            return try step(id) { record in
                var m = try machine(record)
                do { return (try m.approve(by: actor), m) } catch let e as RolloutError {
                    throw HTTPError(.conflict, code: "invalid_command", message: e.detail)
                }
            }
        } catch let e as TMTError where e.message.contains(ExperimentStore.oneRollingIndex) {
            // Another approval of the same service won the race between the check above and the write.
            let other = try store.withStatus("rolling").first { $0.service == target.service && $0.id != id }
            throw Self.rolloutRunning(other?.id ?? "another experiment", service: target.service)
        }
    }

    private static func rolloutRunning(_ other: String, service: String) -> HTTPError {
        HTTPError(.conflict, code: "rollout_running",
                  message: "experiment \(other) is rolling out for \(service); stop it or let it finish first")
    }

    /// Stops a pending or rolling experiment; a rolling one's accounts get the baseline back.
    func stop(_ id: String, by actor: String, reason: String) throws -> ExperimentRecord {
        try step(id) { record in
            var m = try machine(record)
            do { return (try m.stop(by: actor, reason: reason), m) } catch let e as RolloutError {
                throw HTTPError(.conflict, code: "invalid_command", message: e.detail)
            }
        }
    }

    /// Stores a transition, then publishes its updates and clears the outbox.
    private func step(_ id: String, _ decide: (ExperimentRecord) throws -> (RolloutTransition, RolloutStateMachine)?) throws -> ExperimentRecord {
        guard let (record, t, outbox) = try store.transition(id, decide) else {
            guard let record = try store.find(id) else { throw HTTPError(.notFound, code: "not_found", message: "no experiment \(id)") }
            return record
        }
        transitions.labels(t.to.name).inc()
        percentGauge.labels(id).set(Double(record.rolloutPercent))
        logger.notice("rollout transition", traceId: id, ["experiment": id, "from": t.from.name, "to": t.to.name,
                                                          "percent": String(record.rolloutPercent), "updates": String(outbox.count),
                                                          "reason": t.reason])
        if t.to.isTerminal { observations.withLock { $0[id] = nil } }
        try publish(id, outbox)
        var done = record
        done.unpublishedUpdates = 0
        return done
    }

    private func publish(_ id: String, _ outbox: [Envelope<ConfigUpdate>]) throws {
        guard !outbox.isEmpty else { return }
        let deliveries = try outbox.map { try producer.send($0, to: .configUpdates, key: $0.payload.service) }
        for d in deliveries { _ = try d.wait(timeout: 30) }
        published.inc(Double(outbox.count))
        try store.clearOutbox(id, published: outbox)
        for e in outbox {
            logger.info("config update published", traceId: id, ["id": e.id, "service": e.payload.service,
                                                                 "accounts": e.payload.accounts.map { String($0.count) } ?? "all",
                                                                 "parameters": e.payload.parameters.keys.sorted().joined(separator: ",")])
        }
    }

    /// Publishes updates left in outboxes by a crash or a broker outage.
    func flushOutboxes() throws {
        for (id, updates) in try store.pendingOutboxes() {
            logger.notice("re-publishing stored config updates", traceId: id, ["experiment": id, "updates": String(updates.count)])
            try publish(id, updates)
        }
    }

    /// Judges every rolling experiment on the live trades of its current stage.
    func observeAll() throws {
        let rolling = try store.withStatus("rolling")
        guard !rolling.isEmpty else { return }
        let trades = try history.closedTrades(accounts: roster)
        let balances = try history.startingBalances()
        for record in rolling {
            let m = try machine(record)
            guard let since = m.stageStartedAt else { continue }
            let variantAccounts = Set(m.variantAccounts)
            let sinceMillis = Int64((since.timeIntervalSince1970 * 1000).rounded(.down))
            // Judged by the experiment tag of each trade's opening signal, not by account: an
            // update wyckoff refused or has not applied yet leaves those accounts on the baseline.
            let split = RolloutTradeSplit(trades: trades, experiment: record.id, sinceMillis: sinceMillis)
            let variant = split.variant, baseline = split.baseline
            func base(_ accounts: [String]) -> Decimal {
                let known = accounts.compactMap { balances[$0] }
                return known.isEmpty ? 100_000 : known.reduce(0, +) / Decimal(known.count)
            }
            let others = roster.filter { !variantAccounts.contains($0) }
            let observation = RolloutObservation(variant: TradeStatistics(trades: variant, startingBalance: base(Array(variantAccounts))),
                                                 baseline: TradeStatistics(trades: baseline, startingBalance: base(others)),
                                                 metric: configuration.metric)
            let relative = observation.relativePerformance
            if let relative { relativeGauge.labels(record.id).set(relative) }
            percentGauge.labels(record.id).set(Double(m.currentPercent))
            observations.withLock {
                $0[record.id] = ObservationView(at: Date(), stagePercent: m.currentPercent, variantTrades: variant.count,
                                                baselineTrades: baseline.count, variantMetric: observation.variantMetric,
                                                baselineMetric: observation.baselineMetric, relativePercent: relative.map { $0 * 100 })
            }
            // No trade of the variant yet: nothing to judge (the baseline alone proves nothing).
            guard split.isJudgeable else { continue }
            _ = try step(record.id) { locked in
                // Judge only the stage the trades were selected for.
                guard locked.status == "rolling", locked.rolloutStage == record.rolloutStage,
                      locked.stageStartedAt == record.stageStartedAt else { return nil }
                var fresh = try machine(locked)
                return fresh.observe(observation).map { ($0, fresh) }
            }
        }
    }
}
