import TMTBase

/// One circuit breaker's state machine: explicit transitions with reasons, time passed in by the
/// caller (µs since the epoch), no I/O. `CircuitBreaker` owns one per key and feeds it.
///
/// Transitions:
///
/// | from | input | to |
/// |---|---|---|
/// | normal | a condition at warning | warning |
/// | normal, warning | a condition at breach | tripped (timeout of trip n = backoff) |
/// | warning | every condition clear (below the hysteresis level) | normal |
/// | tripped (automatic) | recovery time reached (`advance`) | halfOpen |
/// | halfOpen | N consecutive good outcomes, spaced, all conditions clear | normal |
/// | halfOpen | a condition observed at breach (bad outcome) | tripped, next (longer) timeout |
/// | halfOpen | a condition observed at warning | halfOpen, good-outcome streak reset |
/// | any | manual trip | tripped (manual: no automatic recovery) |
/// | any | reset | normal (trip count, conditions and unknown flag cleared) |
///
/// A new breaker, and every breaker restored from a snapshot, is *awaiting data*: its state
/// counts as unknown until an observation of its tier's confirming condition arrives
/// (`BreakerTier.confirmingCause`) or an operator resets it. A trip does not make it known: a
/// system breaker tripped by latency while account figures are missing must not close to a
/// trusted normal on latency readings alone.
public struct Breaker: Codable, Sendable, Equatable {
    /// The latest reading of one watched metric.
    public struct Condition: Codable, Sendable, Equatable {
        /// Where the metric stands.
        public var level: BreakerLevel
        /// The figures of the reading.
        public var reason: BreakerReason

        public init(level: BreakerLevel, reason: BreakerReason) {
            self.level = level
            self.reason = reason
        }
    }

    /// Which breaker this is.
    public let key: BreakerKey
    /// Current state.
    public private(set) var state: BreakerState
    /// True until fresh data confirmed the state since start or restore (unknown → fail closed).
    public private(set) var awaitingData: Bool
    /// Why the breaker is in its current state.
    public private(set) var reason: BreakerReason
    /// When it entered its current state, µs since the epoch.
    public private(set) var since: Int64
    /// When tripped automatically: when it goes half-open, µs since the epoch.
    public private(set) var recoveryAt: Int64?
    /// Whether the current trip was manual (no automatic recovery; only a reset closes it).
    public private(set) var manual: Bool
    /// Automatic trips since the breaker last closed to normal; drives the backoff.
    public private(set) var consecutiveTrips: Int
    /// Good outcomes counted in the current half-open period.
    public private(set) var goodOutcomes: Int
    /// When the last counted good outcome happened, µs since the epoch.
    public private(set) var lastGoodOutcomeAt: Int64?
    /// The latest reading of each watched metric.
    public private(set) var conditions: [BreakerCause: Condition]
    /// Transitions so far (for deterministic event ids).
    public private(set) var sequence: Int

    /// A breaker in `normal`, awaiting data unless `awaitingData` is false.
    public init(key: BreakerKey, at now: Int64, awaitingData: Bool = true) {
        self.key = key
        state = .normal
        self.awaitingData = awaitingData
        reason = BreakerReason(cause: .firstData, detail: "\(key) created; no data yet")
        since = now
        recoveryAt = nil
        manual = false
        consecutiveTrips = 0
        goodOutcomes = 0
        lastGoodOutcomeAt = nil
        conditions = [:]
        sequence = 0
    }

    /// Whether the state is confirmed by data (or by a trip or reset) since start or restore.
    public var isKnown: Bool { !awaitingData }

    /// The `tmt_circuit_breaker_state` gauge value; unknown exports as tripped (2).
    public var metricValue: Int { awaitingData ? BreakerState.unknownMetricValue : state.metricValue }

    /// Whether every recorded condition is clear.
    public var allConditionsClear: Bool { conditions.values.allSatisfy { $0.level == .clear } }

    // MARK: - Transitions

    /// Records a reading of `cause` at `level` and applies the transition it implies (see the
    /// table on the type). Returns the event, if the state changed or became known.
    public mutating func observe(_ cause: BreakerCause, level: BreakerLevel, reason: BreakerReason, at now: Int64,
                                 policy: BreakerRecoveryPolicy) -> BreakerEvent? {
        conditions[cause] = Condition(level: level, reason: reason)
        let wasUnknown = awaitingData
        if cause == key.tier.confirmingCause { awaitingData = false }
        let becameKnown = wasUnknown && !awaitingData
        let from: BreakerState? = wasUnknown ? nil : state

        switch state {
        case .normal, .warning:
            if let breach = worstCondition(preferring: cause, at: .breach) {
                return tripAutomatically(breach.reason, at: now, policy: policy, from: from, badOutcome: false)
            }
            if let warning = worstCondition(preferring: cause, at: .warning) {
                if state == .normal { return move(to: .warning, reason: warning.reason, at: now, from: from) }
                return becameKnown ? confirm(reason, at: now) : nil
            }
            if state == .warning {
                let cleared = BreakerReason(cause: .cleared, detail: "every condition back below its clear level; last: \(reason.detail)",
                                            figures: reason.figures)
                return move(to: .normal, reason: cleared, at: now, from: from)
            }
            return becameKnown ? confirm(reason, at: now) : nil
        case .tripped:
            return becameKnown ? confirm(reason, at: now) : nil
        case .halfOpen:
            if level == .breach {
                return tripAutomatically(reason, at: now, policy: policy, from: from, badOutcome: true)
            }
            if level == .warning {
                goodOutcomes = 0
                lastGoodOutcomeAt = nil
                return becameKnown ? confirm(reason, at: now) : nil
            }
            if let closed = recordGoodOutcome(reason, at: now, policy: policy) { return closed }
            return becameKnown ? confirm(reason, at: now) : nil
        }
    }

    /// Counts a good outcome (a fill without new breaches, a healthy heartbeat, a clean reading)
    /// while half-open, provided the state is known and every condition is clear; closes the
    /// breaker when `policy.goodOutcomesToClose` have been counted. Outcomes closer together than
    /// `policy.goodOutcomeSpacingSeconds` count once. Returns the event when it closes.
    public mutating func recordGoodOutcome(_ reason: BreakerReason, at now: Int64, policy: BreakerRecoveryPolicy) -> BreakerEvent? {
        guard state == .halfOpen, !awaitingData, allConditionsClear else { return nil }
        if let last = lastGoodOutcomeAt, now - last < BreakerTime.micros(seconds: policy.goodOutcomeSpacingSeconds) { return nil }
        goodOutcomes += 1
        lastGoodOutcomeAt = now
        guard goodOutcomes >= policy.goodOutcomesToClose else { return nil }
        let closing = BreakerReason(
            cause: .goodOutcomes,
            detail: "\(goodOutcomes) consecutive good outcomes in half-open (last: \(reason.detail))",
            figures: ["goodOutcomes": "\(goodOutcomes)", "required": "\(policy.goodOutcomesToClose)"])
        consecutiveTrips = 0
        return move(to: .normal, reason: closing, at: now, from: state)
    }

    /// Applies the passage of time: an automatic trip whose recovery time has come goes
    /// half-open. Returns the event, if any.
    public mutating func advance(to now: Int64) -> BreakerEvent? {
        guard state == .tripped, !manual, let recoveryAt, now >= recoveryAt else { return nil }
        let waited = Double(recoveryAt - since) / 1e6
        let halfOpen = BreakerReason(
            cause: .recoveryTimeout,
            detail: "recovery timeout of \(BreakerFormat.seconds(waited)) after trip \(consecutiveTrips) (\(reason.cause.rawValue)) elapsed; "
                + "only good outcomes close it now",
            figures: ["timeoutSeconds": BreakerFormat.plain(waited), "trip": "\(consecutiveTrips)", "trippedBy": reason.cause.rawValue])
        goodOutcomes = 0
        lastGoodOutcomeAt = nil
        return move(to: .halfOpen, reason: halfOpen, at: now, from: awaitingData ? nil : state)
    }

    /// An operator trip (or flatten-all): tripped without automatic recovery until a reset.
    /// Returns nil when it is already manually tripped.
    public mutating func tripManually(_ reason: BreakerReason, at now: Int64) -> BreakerEvent? {
        guard !(state == .tripped && manual) else { return nil }
        let from: BreakerState? = awaitingData ? nil : state
        manual = true
        recoveryAt = nil
        goodOutcomes = 0
        lastGoodOutcomeAt = nil
        return move(to: .tripped, reason: reason, at: now, from: from)
    }

    /// An operator reset: normal, whatever the state, with the trip count and conditions
    /// cleared (the next readings re-arm it) and the state counted as known (the operator
    /// vouches for it). Always returns an event, so every reset is in the history.
    public mutating func reset(_ reason: BreakerReason, at now: Int64) -> BreakerEvent {
        let from: BreakerState? = awaitingData ? nil : state
        awaitingData = false
        manual = false
        consecutiveTrips = 0
        goodOutcomes = 0
        lastGoodOutcomeAt = nil
        conditions = [:]
        return move(to: .normal, reason: reason, at: now, from: from)!
    }

    /// After a restore: the state and timers stay (a trip survives a restart), but the readings
    /// are gone and the state counts as unknown until fresh data arrives.
    public mutating func markAwaitingData() {
        awaitingData = true
        conditions = [:]
        goodOutcomes = 0
        lastGoodOutcomeAt = nil
    }

    // MARK: - Internals

    /// The condition at `level` to report: `cause` itself when it is at that level, else the
    /// first in cause order (deterministic).
    private func worstCondition(preferring cause: BreakerCause, at level: BreakerLevel) -> Condition? {
        if let c = conditions[cause], c.level == level { return c }
        return BreakerCause.allCases.lazy.compactMap { conditions[$0] }.first { $0.level == level }
    }

    private mutating func tripAutomatically(_ cause: BreakerReason, at now: Int64, policy: BreakerRecoveryPolicy,
                                            from: BreakerState?, badOutcome: Bool) -> BreakerEvent? {
        consecutiveTrips += 1
        let timeout = policy.timeout(forTrip: consecutiveTrips)
        var tripReason = cause
        if badOutcome { tripReason.detail = "bad outcome in half-open: " + cause.detail }
        tripReason.figures["trip"] = "\(consecutiveTrips)"
        tripReason.figures["recoveryTimeoutSeconds"] = BreakerFormat.plain(timeout)
        manual = false
        goodOutcomes = 0
        lastGoodOutcomeAt = nil
        let event = move(to: .tripped, reason: tripReason, at: now, from: from)
        recoveryAt = now + BreakerTime.micros(seconds: timeout)
        var withRecovery = event
        withRecovery?.recoveryAt = recoveryAt
        return withRecovery
    }

    /// Announces that fresh data confirmed the unchanged state.
    private mutating func confirm(_ data: BreakerReason, at now: Int64) -> BreakerEvent? {
        let known = BreakerReason(cause: .firstData, detail: "first data since start or restore: \(data.detail)", figures: data.figures)
        sequence += 1
        return BreakerEvent(id: eventId, tier: key.tier, target: key.target, from: nil, to: state, reason: known, at: now,
                            recoveryAt: state == .tripped ? recoveryAt : nil)
    }

    private mutating func move(to next: BreakerState, reason: BreakerReason, at now: Int64, from: BreakerState?) -> BreakerEvent? {
        state = next
        self.reason = reason
        since = now
        if next != .tripped { recoveryAt = nil }
        if next != .tripped { manual = false }
        sequence += 1
        return BreakerEvent(id: eventId, tier: key.tier, target: key.target, from: from, to: next, reason: reason, at: now)
    }

    private var eventId: String { "breaker-\(key.tier.rawValue)-\(key.target)-\(sequence)" }
}
