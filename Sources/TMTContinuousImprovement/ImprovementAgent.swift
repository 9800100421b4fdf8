import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

/// Wires the continuous-improvement core to the trading and market databases, Kafka and HTTP:
/// analytics of live closed trades, shadow evaluations of parameter variants on stored bars,
/// proposals, and staged rollouts driven by approvals and live observations.
final class ImprovementAgent: Sendable {
    private let runtime: ServiceRuntime
    private let settings: ImprovementSettings
    private let model: FillModel
    private let staging: [ComplianceConfiguration.StagingAccount]
    private let token: BearerToken
    private let metrics: AgentMetrics
    private let latestAnalytics = Locked<(at: Date?, rows: [AnalyticsRow])>((nil, []))
    private let latestShadow = Locked<ShadowCycleView?>(nil)
    private let analyticsWake = DispatchSemaphore(value: 0)
    private let gauges: AnalyticsGauges
    private let fillsSeen: CounterFamily
    private let evaluations: CounterFamily
    private let rejections: CounterFamily
    private let proposals: Counter
    private let shadowTrades: GaugeFamily
    private let shadowPValue: GaugeFamily
    private let cycleTimestamp: GaugeFamily
    private let cycleFailures: CounterFamily

    init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let env = Environment()
        model = try FillModel(configuration: .staging)
        settings = try ImprovementSettings(config: runtime.config, environment: env, fillModel: model.configuration)
        let path = env.string("COMPLIANCE_CONFIG", default: "\(runtime.options.configDirectory)/compliance-staging.yml")
        staging = try ComplianceConfiguration.load(path: path).accounts
        token = BearerToken(token: try env.secret("IMPROVEMENT_API_TOKEN"), setting: "IMPROVEMENT_API_TOKEN",
                            realm: "continuous-improvement")
        let m = runtime.metrics
        metrics = AgentMetrics(registry: m)
        gauges = AnalyticsGauges(registry: m)
        fillsSeen = m.counter("tmt_improvement_fills_total", help: "Fills seen on executions.fills, by whether they realised P&L.",
                              labels: ["kind"])
        evaluations = m.counter("tmt_improvement_shadow_evaluations_total", help: "Shadow evaluations of a variant, by outcome.",
                                labels: ["variant", "outcome"])
        rejections = m.counter("tmt_improvement_shadow_rejections_total",
                               help: "Proposal criteria a shadow variant failed, by variant and criterion.", labels: ["variant", "criterion"])
        proposals = m.counter("tmt_improvement_proposals_total", help: "Experiments proposed on improvement.proposals.").labels()
        shadowTrades = m.gauge("tmt_improvement_shadow_trades", help: "Trades in the latest shadow run, by parameter set.",
                               labels: ["variant"])
        shadowPValue = m.gauge("tmt_improvement_shadow_p_value", help: "Welch p-value of the latest shadow comparison, by variant.",
                               labels: ["variant"])
        cycleTimestamp = m.gauge("tmt_improvement_cycle_last_success_timestamp_seconds",
                                 help: "Unix time of the last successful cycle, by cycle.", labels: ["cycle"])
        cycleFailures = m.counter("tmt_improvement_cycle_failures_total", help: "Cycles that failed, by cycle.", labels: ["cycle"])
        runtime.logger.info("improvement configured", [
            "fast_cycle": String(settings.fastCycle), "analytics_s": String(settings.effectiveAnalyticsInterval),
            "shadow_s": String(settings.effectiveShadowInterval), "rollout_s": String(settings.effectiveRolloutInterval),
            "observation_s": String(settings.rollout.effectiveObservationPeriod), "variants": String(settings.variants.count),
            "accounts": String(staging.count), "api_token": token.token == nil ? "unset" : "set",
        ])
    }

    func start() throws {
        let env = Environment()
        let log = runtime.logger
        let service = runtime.options.service
        let trading = try runtime.openTradingDatabase(env)
        let market = try runtime.openMarketDatabase(env)
        try AccountStore(pool: trading).ensure(staging.map { $0.makeAccount() })
        let history = TradeHistory(pool: trading, ledger: ClosedTradeLedger(instruments: model.configuration.instruments,
                                                                            averagePriceScale: model.configuration.averagePriceScale,
                                                                            moneyScale: model.configuration.moneyScale))
        let analyticsStore = AnalyticsStore(pool: trading)
        let experiments = ExperimentStore(pool: trading)
        let lab = ShadowLab(settings: settings, bars: BarStore(pool: market), model: model)

        let (kafka, producer) = try runtime.openKafka(env)
        let fills = try KafkaConsumer(configuration: kafka.forDataPlane(), groupId: env.string("CONSUMER_GROUP", default: service),
                                      topics: [Topic.executionsFills.name], deadLetterProducer: producer,
                                      metrics: runtime.metrics, logger: log)
        let configDirectory = runtime.options.configDirectory
        let tuned = settings.service
        let driver = RolloutDriver(store: experiments, history: history, roster: staging.map(\.id), configuration: settings.rollout,
                                   producer: producer, metrics: runtime.metrics, logger: log, service: service, tunedService: tuned) {
            try ShadowLab.baseline(configDirectory: configDirectory, environment: Environment(),
                                   completed: try experiments.completedParameters(service: tuned))
        }
        let loops = [
            // Fills wake the analytics, at most every 5 s: each run folds the new fills into the
            // closed trades but recomputes every group's statistics in Decimal (about 10 ms at 700
            // trades, BENCHMARKS §6), and a run a second under load took a tenth of a core from
            // the order path.
            Periodic(name: "analytics", interval: settings.effectiveAnalyticsInterval, logger: log, wake: analyticsWake, minimumSpacing: 5),
            Periodic(name: "shadow", interval: settings.effectiveShadowInterval, logger: log),
            Periodic(name: "rollout", interval: settings.effectiveRolloutInterval, logger: log),
        ]
        runtime.lifecycle.onShutdown("consumers and cycles") {
            fills.stop(timeout: 10)
            for loop in loops { loop.stop() }
        }

        try runtime.startHTTP(router: router(experiments: experiments, driver: driver))
        runtime.startHeartbeat(producer: producer)

        loops[0].start { [self] in try cycle("analytics") { try runAnalytics(history: history, store: analyticsStore) } }
        loops[1].start { [self] in try cycle("shadow") { try runShadow(lab: lab, experiments: experiments, producer: producer) } }
        loops[2].start { [self] in
            try cycle("rollout") {
                try driver.flushOutboxes()
                try driver.observeAll()
            }
        }
        try fills.startEnvelopes(Fill.self) { [self] envelope, _ in
            let started = Monotonic.nanos()
            // The fill is in the database before it is published: the next analytics run sees it.
            fillsSeen.labels(envelope.payload.id.contains(":stop-loss@") || envelope.payload.id.contains(":take-profit@")
                             ? "protective" : "order").inc()
            analyticsWake.signal()
            metrics.processing.labels(service, "fill").observeSince(started)
            metrics.handled.labels(service, "fill", "analytics_triggered").inc()
        }
    }

    /// Runs one cycle, timing it and counting failures (the loop goes on).
    private func cycle(_ name: String, _ body: () throws -> Void) throws {
        let started = Monotonic.nanos()
        do {
            try body()
            cycleTimestamp.labels(name).set(Date().timeIntervalSince1970)
            metrics.processing.labels(runtime.options.service, name).observeSince(started)
        } catch {
            cycleFailures.labels(name).inc()
            metrics.communicationErrors.labels(runtime.options.service, "cycle-\(name)").inc()
            throw error
        }
    }

    // MARK: - Analytics

    private func runAnalytics(history: TradeHistory, store: AnalyticsStore) throws {
        let trades = try history.closedTrades()
        let analytics = TradeAnalytics(startingBalance: settings.startingBalance, accountBalances: try history.startingBalances())
        let rows = analytics.report(trades).map {
            AnalyticsRow(dimension: $0.dimension, key: $0.key, statistics: $0.statistics, firstExitAt: $0.firstExitAt, lastExitAt: $0.lastExitAt)
        }
        try store.save(rows)
        latestAnalytics.withLock { $0 = (Date(), rows) }
        gauges.set(rows)
        runtime.logger.info("analytics computed", ["trades": String(trades.count), "groups": String(rows.count)])
    }

    // MARK: - Shadow evaluations and proposals

    private func runShadow(lab: ShadowLab, experiments: ExperimentStore, producer: KafkaProducer) throws {
        let service = settings.service
        let baseline = try ShadowLab.baseline(configDirectory: runtime.options.configDirectory, environment: Environment(),
                                              completed: try experiments.completedParameters(service: service))
        let cycle = try lab.run(baseline: baseline)
        guard cycle.barCount > 0 else {
            runtime.logger.notice("shadow cycle skipped: no stored bars", ["instruments": settings.shadowInstruments.joined(separator: ",")])
            return
        }
        shadowTrades.labels("baseline").set(Double(cycle.baselineTrades))
        var views: [ShadowCycleView.VariantView] = []
        for outcome in cycle.outcomes {
            let name = outcome.variant.name
            let e = outcome.evaluation
            shadowTrades.labels(name).set(Double(e.variantTrades.count))
            if let p = e.decision.pValue { shadowPValue.labels(name).set(p) } else { shadowPValue.remove([name]) }
            var status = "rejected"
            if e.decision.propose {
                status = try propose(outcome, cycle: cycle, baseline: baseline, experiments: experiments, producer: producer)
            } else {
                for code in outcome.failed { rejections.labels(name, code).inc() }
                runtime.logger.info("variant not proposed", ["variant": name, "trades": String(e.variantTrades.count),
                                                             "baseline_trades": String(e.baselineTrades.count),
                                                             "reasons": e.decision.reasons.joined(separator: "; ")])
            }
            evaluations.labels(name, status).inc()
            views.append(.init(variant: name, parameters: outcome.variant.parameters, outcome: status, trades: e.variantTrades.count,
                               statistics: e.variantStatistics, pValue: e.decision.pValue,
                               improvementPercent: e.decision.relativeImprovement.map { $0 * 100 }, reasons: e.decision.reasons))
        }
        latestShadow.withLock {
            $0 = ShadowCycleView(at: Date(), instruments: cycle.instruments, bars: cycle.barCount, barsFrom: cycle.from, barsTo: cycle.to,
                                 baselineTrades: cycle.baselineTrades, variants: views, unchanged: cycle.unchanged)
        }
        runtime.logger.info("shadow cycle", ["instruments": cycle.instruments.joined(separator: ","), "bars": String(cycle.barCount),
                                             "baseline_trades": String(cycle.baselineTrades), "variants": String(cycle.outcomes.count),
                                             "proposed": String(views.filter { $0.outcome == "proposed" }.count)])
    }

    /// Stores and publishes a passing variant; returns the outcome label.
    private func propose(_ outcome: ShadowLab.Outcome, cycle: ShadowLab.Cycle, baseline: WyckoffParameters,
                         experiments: ExperimentStore, producer: KafkaProducer) throws -> String {
        let variant = outcome.variant
        let e = outcome.evaluation
        guard try !experiments.hasOpenExperiment(service: settings.service, parameters: variant.parameters) else {
            runtime.logger.info("variant passes again; its experiment is still open", ["variant": variant.name])
            return "already_open"
        }
        let id = "exp-\(variant.name)-\(cycle.to / 1_000_000)"
        // The same bars give the same id: a variant whose experiment was stopped or rolled back
        // passes again on every cycle until new bars arrive, and is not proposed again.
        if let existing = try experiments.find(id) {
            runtime.logger.info("variant passes again on the same bars; proposed already", ["experiment": id, "status": existing.status])
            return "already_proposed"
        }
        let proposal = ImprovementProposal(
            experimentId: id, service: settings.service, variant: variant.name, parameters: variant.parameters,
            baseline: try ShadowLab.values(of: baseline, for: variant.parameters), metric: settings.policy.metric.rawValue,
            pValue: e.decision.pValue ?? 1, improvementPercent: (e.decision.relativeImprovement ?? 0) * 100,
            baselineTrades: e.baselineTrades.count, variantTrades: e.variantTrades.count, baselineStatistics: e.baselineStatistics,
            variantStatistics: e.variantStatistics, instruments: cycle.instruments, barsFrom: cycle.from, barsTo: cycle.to)
        // Published first: a redelivered proposal has the same id; a stored one that was never
        // published could not be found by whoever waits for it.
        let envelope = Envelope(id: "proposal:\(id)", type: "improvement.proposal", traceId: id, source: runtime.options.service,
                                payload: proposal)
        _ = try producer.send(envelope, to: .improvementProposals, key: settings.service).wait(timeout: 30)
        guard try experiments.insert(proposal) else { return "already_proposed" }
        proposals.inc()
        runtime.logger.notice("experiment proposed", traceId: id, [
            "experiment": id, "variant": variant.name, "p_value": String(cFormat: "%.4g", proposal.pValue),
            "improvement_pct": String(cFormat: "%.2f", proposal.improvementPercent), "trades": String(proposal.variantTrades),
        ])
        return "proposed"
    }

    // MARK: - HTTP

    private func router(experiments: ExperimentStore, driver: RolloutDriver) -> HTTPRouter {
        var router = HTTPRouter()
        router.get("/api/v1/analytics") { [self] request in
            let (at, rows) = latestAnalytics.withLock { $0 }
            let dimension = request.queryValue("dimension")
            if let dimension, !["overall", "pattern", "instrument", "account"].contains(dimension) {
                throw HTTPError.badRequest("dimension must be overall, pattern, instrument or account")
            }
            return try .json(AnalyticsView(computedAt: at, rows: rows.filter { dimension == nil || $0.dimension == dimension }
                .map(AnalyticsView.Row.init)))
        }
        router.get("/api/v1/shadow") { [self] _ in
            guard let view = latestShadow.withLock({ $0 }) else {
                throw HTTPError(.notFound, code: "not_run_yet", message: "no shadow cycle has completed yet")
            }
            return try .json(view)
        }
        router.get("/api/v1/experiments") { _ in
            try .json(try experiments.all().map { ExperimentView($0, observation: driver.observation($0.id)) })
        }
        router.get("/api/v1/experiments/:id") { request in
            let id = request.parameter("id") ?? ""
            guard let record = try experiments.find(id) else { throw HTTPError.notFound("no experiment \(id)") }
            return try .json(ExperimentView(record, observation: driver.observation(id)))
        }
        router.post("/api/v1/experiments/:id/approve", maxBodyBytes: 4096) { [self] request in
            try token.authorize(request)
            try request.refuseQuery()
            let actor = BearerToken.operatorHeader(request) ?? "api"
            let id = request.parameter("id") ?? ""
            return try audited(experiments, request, actor: actor, action: "experiment.approve", target: id) {
                try driver.approve(id, by: actor)
            }
        }
        router.post("/api/v1/experiments/:id/stop", maxBodyBytes: 4096) { [self] request in
            try token.authorize(request)
            let actor = BearerToken.operatorHeader(request) ?? "api"
            let id = request.parameter("id") ?? ""
            var reason = "manual stop"
            try request.refuseQuery()
            if !request.body.isEmpty {
                try HTTPJSON.refuseUnknownFields(request.body, allowed: ["reason"])
                guard let body = try? request.decode(StopRequest.self) else {
                    throw HTTPError.badRequest("body must be JSON like {\"reason\": \"…\"}")
                }
                if let r = body.reason?.trimmingWhitespace(), !r.isEmpty { reason = String(r.prefix(500)) }
            }
            return try audited(experiments, request, actor: actor, action: "experiment.stop", target: id, detail: ["reason": reason]) {
                try driver.stop(id, by: actor, reason: reason)
            }
        }
        return router
    }

    /// Runs a command and writes its `audit_log` row, whatever the result; the answer says so
    /// (`X-Audit-Recorded: true`), so a caller that forwards the command (the API gateway, with
    /// `X-Forwarded-By` and the operator's address in `X-Forwarded-For`, trusted because it holds
    /// this agent's token) does not write a second row for it.
    private func audited(_ experiments: ExperimentStore, _ request: HTTPRequest, actor: String, action: String, target: String,
                         detail: [String: String] = [:], _ body: () throws -> ExperimentRecord) throws -> HTTPResponse {
        var detail = detail
        detail["remote"] = request.headers["X-Forwarded-For"].map(BearerToken.sanitise) ?? request.remoteAddress
        if let via = request.headers["X-Forwarded-By"].map(BearerToken.sanitise), !via.isEmpty { detail["via"] = via }
        do {
            let record = try body()
            try? experiments.audit(actor: actor, action: action, target: target, result: "ok",
                                   detail: detail.merging(["status": record.status, "percent": String(record.rolloutPercent)]) { a, _ in a })
            runtime.logger.notice("command", traceId: target, ["action": action, "experiment": target, "by": actor, "result": record.status])
            var response = try HTTPResponse.json(ExperimentView(record, observation: nil))
            response.headers["X-Audit-Recorded"] = "true"
            return response
        } catch {
            let result = (error as? HTTPError).map { "refused: \($0.code)" } ?? "failed"
            try? experiments.audit(actor: actor, action: action, target: target, result: result,
                                   detail: detail.merging(["error": "\(error)"]) { a, _ in a })
            runtime.logger.warning("command refused", traceId: target, ["action": action, "experiment": target, "by": actor,
                                                                        "error": "\(error)"])
            var refusal = (error as? HTTPError) ?? HTTPError(.internalServerError, code: "internal", message: "internal server error")
            refusal.headers["X-Audit-Recorded"] = "true"
            throw refusal
        }
    }

    struct StopRequest: Decodable {
        var reason: String?
    }
}

/// A background loop: runs its body at once, then every `interval` seconds, or sooner when
/// `wake` is signalled (never closer together than `minimumSpacing`). A failing run is logged
/// and the loop goes on. Its thread runs at a lower CPU priority (nice `Periodic.niceness`):
/// analytics and shadow replays are batch work, and on a busy host they must not delay the
/// agents' order path. (That holds between processes of one CPU cgroup, as on the native stack;
/// under Docker each container is its own cgroup, weighed by its CPU shares instead.)
final class Periodic: Sendable {
    let name: String
    let interval: Double
    let minimumSpacing: Double
    private let logger: Logger
    private let wake: DispatchSemaphore
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)
    /// Signalled by `stop`, so a wait for the spacing ends at once.
    private let stopWake = DispatchSemaphore(value: 0)

    /// The nice value of the loops' threads (higher is lower priority).
    static let niceness: Int32 = 10

    init(name: String, interval: Double, logger: Logger, wake: DispatchSemaphore = DispatchSemaphore(value: 0),
         minimumSpacing: Double = 0) {
        self.name = name
        self.logger = logger
        self.interval = interval
        self.wake = wake
        self.minimumSpacing = minimumSpacing
    }

    func start(_ body: @escaping @Sendable () throws -> Void) {
        started.store(true, ordering: .sequentiallyConsistent)
        TMTThread.detach { [self] in
            if !TMTThread.setNiceness(Self.niceness) {
                logger.warning("cannot lower the cycle's CPU priority", ["cycle": name, "errno": String(errno)])
            }
            while !stopping.load(ordering: .sequentiallyConsistent) {
                let began = Date()
                do { try body() } catch {
                    logger.error("cycle failed", ["cycle": name, "error": "\(error)"])
                }
                if stopping.load(ordering: .sequentiallyConsistent) { break }
                _ = wake.wait(timeout: .now() + interval)
                // Coalesce a burst of wake-ups into one run.
                while wake.wait(timeout: .now()) == .success {}
                let spacing = minimumSpacing - Date().timeIntervalSince(began)
                if spacing > 0, !stopping.load(ordering: .sequentiallyConsistent) { _ = stopWake.wait(timeout: .now() + spacing) }
            }
            stopped.signal()
        }
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wake.signal()
        stopWake.signal()
        if started.load(ordering: .sequentiallyConsistent) { _ = stopped.wait(timeout: .now() + 30) }
    }
}
