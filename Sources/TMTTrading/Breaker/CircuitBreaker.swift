import TMTBase
import TMTModels

/// The circuit breaker's pure core: breakers per tier, the trading state they imply, the gate
/// verdict for each order, operator commands, and a snapshot to persist. Value in, value out;
/// time from the injected clock; no I/O. The `tmt-circuit-breaker` agent feeds it from
/// `orders.humanized`, `market.ticks`, `agents.health`, `accounts.updates`, `executions.fills`,
/// `dlq`, `breaker.commands`, publishes the verdicts and every returned `BreakerEvent`, and
/// saves `snapshot()` to Redis.
///
/// ## What trips what
///
/// | tier | condition (cause) | input |
/// |---|---|---|
/// | account | daily drawdown: loss since start of day (incl. open P&L) ÷ start-of-day equity | `apply(account:)` |
/// | system | drawdown of the summed equity of all accounts ÷ their summed start-of-day equity | `apply(account:)` |
/// | system | errors + DLQ messages per minute, all origins | `recordError` |
/// | system | p95 pipeline transit per order (exempting deliberate holds) | `recordLatency` |
/// | agent | time since its last heartbeat; `degraded` status (warning only) | `apply(heartbeat:)`, `advance()` |
/// | agent | its errors per minute; its p95 processing time | `recordError`, `recordLatency` |
/// | instrument | one-tick mid move (gap, trip only); realised volatility √Σr² over a window | `apply(tick:)` |
///
/// Drawdown figures are summed as given, in the accounts' currencies (the staging accounts are
/// all USD). An account's start-of-day equity is `equity − dailyPnL`.
///
/// ## Trading state (per account, and per order with its instrument)
///
/// | breaker | normal | warning | half-open | tripped | unknown |
/// |---|---|---|---|---|---|
/// | system | ACTIVE | REDUCING | REDUCING | HALTED | HALTED |
/// | account | ACTIVE | REDUCING | REDUCING | HALTED | HALTED |
/// | critical agent (each) | ACTIVE | ACTIVE | down | down | HALTED |
/// | instrument (orders in it) | ACTIVE | REDUCING | REDUCING | REDUCING | HALTED |
/// | non-critical agent | ACTIVE | ACTIVE | ACTIVE | ACTIVE | ACTIVE |
///
/// Critical agents down: one (or up to `criticalAgentsDownToHalt − 1`) → REDUCING; that many →
/// HALTED. The most severe entry wins. REDUCING passes only `riskReducing` orders; HALTED passes
/// none (flatten-all orders are produced already cleared and never pass `evaluate`). An
/// instrument trip is REDUCING rather than HALTED so positions can still be closed into a gap.
///
/// **Fail closed**: a breaker that is missing or awaiting data is unknown → HALTED. After start
/// or restore: an account is known from its first update; the system once every account that
/// has ever reported (plus the configured ones) has reported again; an agent from its first
/// heartbeat (or, never heard, when it trips as missing); an instrument from its first tick.
/// The agent should therefore load each account's current row from PostgreSQL at start-up and
/// pass it to `apply(account:)`.
///
/// ## Recovery
///
/// After the tier's recovery timeout a tripped breaker goes half-open (`advance()`); N
/// consecutive good outcomes close it: readings with every condition clear (account updates,
/// heartbeats, ticks, periodic error/latency readings) and, for accounts, fills — counted at
/// most once per `goodOutcomeSpacingSeconds`. A breach while half-open re-trips with the timeout
/// multiplied by the backoff. Manual trips wait for a reset.
///
/// ## Commands
///
/// `trip` (manual, no auto-recovery), `reset` (forces normal; for an account or the system it
/// also accepts the day's drawdown so far, see `DrawdownBaseline`), `flatten` (closing market
/// orders for every open position of the account or of all accounts, plus a manual trip so
/// nothing new opens). Idempotent by command id (the last `commandMemory` ids are kept and
/// persisted). Publish a command's orders and events before saving the snapshot, and save it
/// before committing the offset: a crash in between re-applies the command with the same
/// deterministic order ids, which execution de-duplicates.
public struct CircuitBreaker: Sendable {
    /// The agent name on decisions and flatten orders.
    public static let agentName = "circuit-breaker"
    /// How many applied command ids are remembered for idempotency.
    public static let commandMemory = 10_000

    /// Thresholds and rosters.
    public let configuration: BreakerConfiguration
    /// Time for every decision and timer.
    public let clock: any TMTClock
    /// Every breaker by key.
    public internal(set) var breakers: [BreakerKey: Breaker] = [:]

    var accountFigures: [String: AccountFigures] = [:]
    var reportingAccounts: Set<String>
    var accountBaselines: [String: DrawdownBaseline] = [:]
    /// The challenge (`Account.epoch`) of each account's latest figures.
    var accountEpochs: [String: Int] = [:]
    var systemBaseline: DrawdownBaseline?
    var agents: [String: AgentWatch] = [:]
    var instruments: [String: InstrumentWatch] = [:]
    var systemErrors: BreakerSampleWindow
    var agentErrors: [String: BreakerSampleWindow] = [:]
    var pipelineLatency: BreakerSampleWindow
    var agentLatency: [String: BreakerSampleWindow] = [:]
    /// Orders whose first hop is earlier than this (µs on the hop clock) give no pipeline latency
    /// sample: they were already on their way when this breaker started taking orders, so their
    /// transit carries the restart (consumers joining their groups, a backlog caught up, a hold
    /// released after the downtime) rather than how fast the pipeline is now (their hops since
    /// still give agent samples). The agent sets it when it handles its first order; default
    /// `Int64.min`, every order counts.
    public var latencyCountsFromMicros: Int64 = .min
    /// Orders `latencyCountsFromMicros` kept out of the latency windows.
    public internal(set) var latencySamplesSkipped = 0
    var appliedCommands: [String] = []
    var appliedCommandSet: Set<String> = []
    /// The volatility thresholds squared (warning, trip, clear level), exactly, for comparing
    /// with Σr² on every tick.
    let volatilitySquares: (warning: Decimal, trip: Decimal, clear: Decimal)
    /// The same in `Double`, and the gap limit, for the per-tick fast path (borderline values
    /// are compared exactly).
    let volatilitySquaresDouble: (warning: Double, trip: Double, clear: Double)
    let priceGapPercentDouble: Double
    /// Ticks whose `Double` gap verdict the exact check overturned (none expected; see
    /// `apply(tick:)`): the agent exports the count and logs each detail.
    public internal(set) var fastPathDisagreements = FastPathDisagreements()

    /// The disagreement details recorded since the last call (usually none).
    public mutating func takeFastPathDisagreements() -> [String] {
        fastPathDisagreements.pending.isEmpty ? [] : fastPathDisagreements.takePending()
    }

    /// A breaker for `configuration`, either fresh or restored from `snapshot`. Either way every
    /// breaker starts unknown (awaiting data), so trading is HALTED until fresh data arrives.
    public init(configuration: BreakerConfiguration, clock: any TMTClock, restoring snapshot: BreakerSnapshot? = nil) {
        self.configuration = configuration
        self.clock = clock
        let t = configuration.thresholds
        systemErrors = BreakerSampleWindow(windowSeconds: t.errorWindowSeconds)
        pipelineLatency = BreakerSampleWindow(windowSeconds: t.latencyWindowSeconds)
        reportingAccounts = Set(configuration.accounts)
        let w = t.volatilityWarningPercent, trip = t.volatilityTripPercent, clear = t.clearBelow(w)
        volatilitySquares = (w * w, trip * trip, clear * clear)
        volatilitySquaresDouble = (BreakerFormat.double(w * w), BreakerFormat.double(trip * trip), BreakerFormat.double(clear * clear))
        priceGapPercentDouble = BreakerFormat.double(t.priceGapPercent)
        let now = BreakerTime.micros(clock.now())

        if let snapshot {
            for var b in snapshot.breakers {
                b.markAwaitingData()
                breakers[b.key] = b
            }
            appliedCommands = snapshot.appliedCommands
            appliedCommandSet = Set(snapshot.appliedCommands)
            accountBaselines = snapshot.accountBaselines
            systemBaseline = snapshot.systemBaseline
            reportingAccounts.formUnion(snapshot.reportingAccounts)
            accountEpochs = snapshot.accountEpochs ?? [:]
        }
        func ensure(_ key: BreakerKey) { if breakers[key] == nil { breakers[key] = Breaker(key: key, at: now) } }
        ensure(.system)
        for name in configuration.watchedAgents { ensure(.agent(name)) }
        for id in reportingAccounts { ensure(.account(id)) }
        for symbol in configuration.instruments { ensure(.instrument(symbol)) }
        for key in breakers.keys where key.tier == .agent {
            agents[key.target] = AgentWatch(lastHeard: nil, watchingSince: now)
        }
    }

    var now: Int64 { BreakerTime.micros(clock.now()) }

    /// The breaker of `key`, if it exists.
    public func breaker(_ key: BreakerKey) -> Breaker? { breakers[key] }

    /// Every breaker sorted by key (for metrics and the API).
    public var sortedBreakers: [Breaker] { breakers.keys.sorted().map { breakers[$0]! } }

    /// The `tmt_circuit_breaker_state` gauge per breaker (0 normal, 1 warning, 2 tripped or
    /// unknown, 3 half-open).
    public var metricValues: [BreakerKey: Int] { breakers.mapValues(\.metricValue) }

    // MARK: - Time

    /// Brings every breaker up to now: recovery timeouts, heartbeat ages, and error and latency
    /// windows as samples age out. Call it periodically (about once a second) and before
    /// reading states; `evaluate(order:)` calls it itself. Returns the transitions.
    public mutating func advance() -> [BreakerEvent] {
        let now = self.now
        var events: [BreakerEvent] = []
        for key in breakers.keys.sorted() {
            if let e = breakers[key]!.advance(to: now) { events.append(e) }
        }
        for name in agents.keys.sorted() { events += observeHeartbeatAge(name, now: now) }
        events += observeErrorRate(agent: nil, now: now)
        for name in agentErrors.keys.sorted() { events += observeErrorRate(agent: name, now: now) }
        events += observeLatency(agent: nil, now: now)
        for name in agentLatency.keys.sorted() { events += observeLatency(agent: name, now: now) }
        return events
    }

    /// Applies the recovery timer of one breaker (inputs that touch a single breaker use this
    /// instead of a full `advance()`, so the tick path stays cheap).
    mutating func advanceTimer(_ key: BreakerKey, now: Int64) -> [BreakerEvent] {
        guard let e = breakers[key]?.advance(to: now) else { return [] }
        return [e]
    }

    /// How often a quiet clear reading (`isQuietClear`) rewrites its stored reason: 1 s.
    static let quietReasonRefreshMicros: Int64 = 1_000_000

    /// Whether observing `level` for `cause` on `key` would change nothing but the stored reason's
    /// text: a known breaker whose condition for `cause` is clear already and stays clear, while
    /// the breaker is normal with every other condition clear too, or tripped (a tripped breaker
    /// only records readings; its timer and commands move it). `Breaker.observe` then emits no
    /// event and makes no transition.
    func isQuietClear(_ key: BreakerKey, _ cause: BreakerCause, _ level: BreakerLevel) -> Bool {
        guard level == .clear, let b = breakers[key], b.isKnown, b.conditions[cause]?.level == .clear else { return false }
        switch b.state {
        case .normal: return b.conditions.values.allSatisfy { $0.level == .clear }
        case .tripped: return true
        case .warning, .halfOpen: return false
        }
    }

    /// Feeds a reading to a breaker, creating it (unknown) if needed.
    mutating func observe(_ key: BreakerKey, _ cause: BreakerCause, _ level: BreakerLevel, _ reason: BreakerReason,
                          now: Int64) -> [BreakerEvent] {
        if breakers[key] == nil { breakers[key] = Breaker(key: key, at: now) }
        let policy = configuration.thresholds.recovery(for: key.tier)
        guard let e = breakers[key]!.observe(cause, level: level, reason: reason, at: now, policy: policy) else { return [] }
        return [e]
    }

    // MARK: - Trading state

    /// The trading state of `account` (system, critical agents and the account's breaker).
    public func tradingState(account: String) -> TradingState { assess(account: account, instrument: nil).state }

    /// The trading state of `account`, and of orders in `instrument` when given, with every
    /// restricting breaker (see the table on the type). Reads the breakers as they are; call
    /// `advance()` first for timers to count.
    public func assess(account: String, instrument: String?) -> TradingAssessment {
        var (constraints, down) = systemConstraints()
        if let c = constraint(.account(account), tripped: .halted) { constraints.append(c) }
        if let instrument, let c = constraint(.instrument(instrument), tripped: .reducing) { constraints.append(c) }
        return TradingAssessment(account: account, instrument: instrument, constraints: constraints, criticalAgentsDown: down)
    }

    /// What restricts every account alike: the system breaker and the critical agents; the
    /// trading state of an account whose own breaker and instrument are clear.
    public func assessSystem() -> SystemTrading {
        let (constraints, _) = systemConstraints()
        return SystemTrading(state: constraints.map(\.effect).max() ?? .active, reasons: constraints.map(\.detail))
    }

    private func systemConstraints() -> ([TradingAssessment.Constraint], [String]) {
        var constraints: [TradingAssessment.Constraint] = []
        if let c = constraint(.system, tripped: .halted) { constraints.append(c) }

        let t = configuration.thresholds
        let down = configuration.criticalAgents.sorted().filter { name in
            guard let b = breakers[.agent(name)], b.isKnown else { return true }
            return b.state == .tripped || b.state == .halfOpen
        }
        let haltedByCount = down.count >= t.criticalAgentsDownToHalt
        for name in down {
            let key = BreakerKey.agent(name)
            let b = breakers[key]
            let unknown = b?.isKnown != true
            let effect: TradingState = unknown || haltedByCount ? .halted : .reducing
            let count = "\(down.count) of \(configuration.criticalAgents.count) critical agents down (HALTED at \(t.criticalAgentsDownToHalt))"
            constraints.append(.init(key: key, breakerState: unknown ? nil : b?.state, effect: effect,
                                     detail: describe(key, b) + "; " + count))
        }
        return (constraints, down)
    }

    /// The constraint of one system/account/instrument breaker: unknown → HALTED, tripped →
    /// `tripped`, warning and half-open → REDUCING, normal → none.
    private func constraint(_ key: BreakerKey, tripped: TradingState) -> TradingAssessment.Constraint? {
        guard let b = breakers[key], b.isKnown else {
            return .init(key: key, breakerState: nil, effect: .halted, detail: describe(key, breakers[key]))
        }
        let effect: TradingState
        switch b.state {
        case .normal: return nil
        case .warning, .halfOpen: effect = .reducing
        case .tripped: effect = tripped
        }
        return .init(key: key, breakerState: b.state, effect: effect, detail: describe(key, b))
    }

    /// `account acc-1 tripped: <reason> (half-open in 300.0 s)` and the like.
    func describe(_ key: BreakerKey, _ b: Breaker?) -> String {
        guard let b else {
            switch key.tier {
            case .account: return "\(key) unknown: no figures for this account yet (fail closed)"
            case .instrument: return "\(key) unknown: no tick seen yet (fail closed)"
            default: return "\(key) unknown: not yet heard from (fail closed)"
            }
        }
        if b.awaitingData {
            let last = b.state == .normal ? "" : "; last known \(Self.stateName(b.state)): \(b.reason.detail)"
            return "\(key) unknown: no fresh data since start or restore (fail closed)\(last)"
        }
        var text = "\(key) \(Self.stateName(b.state)): \(b.reason.detail)"
        if b.state == .tripped {
            if b.manual {
                text += " (manual; reset required)"
            } else if let r = b.recoveryAt {
                text += " (half-open in \(BreakerFormat.seconds(max(0, Double(r - now) / 1e6))))"
            }
        }
        return text
    }

    static func stateName(_ s: BreakerState) -> String {
        switch s {
        case .normal: "normal"
        case .warning: "in warning"
        case .tripped: "tripped"
        case .halfOpen: "half-open"
        }
    }

    // MARK: - Snapshot

    /// Everything to persist (Redis current state); restore with `init(configuration:clock:restoring:)`.
    public func snapshot() -> BreakerSnapshot {
        BreakerSnapshot(takenAt: now, breakers: sortedBreakers, appliedCommands: appliedCommands,
                        accountBaselines: accountBaselines, systemBaseline: systemBaseline,
                        reportingAccounts: reportingAccounts.sorted(), accountEpochs: accountEpochs.isEmpty ? nil : accountEpochs,
                        systemTrading: assessSystem())
    }
}
