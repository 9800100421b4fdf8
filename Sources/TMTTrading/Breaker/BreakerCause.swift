/// Why a breaker moved or what a condition measures. Raw values are the names persisted in
/// `breaker_events` and shown on the dashboard.
public enum BreakerCause: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
    /// Account: daily P&L (incl. open) against the start-of-day equity.
    case dailyDrawdown = "daily-drawdown"
    /// System: aggregate equity of all accounts against their start-of-day total.
    case systemDrawdown = "system-drawdown"
    /// Agent: time since its last heartbeat.
    case heartbeat = "heartbeat"
    /// Agent: the status its heartbeat reports (`degraded` is a warning).
    case agentStatus = "agent-status"
    /// System or agent: errors and DLQ messages per minute over a sliding window.
    case errorRate = "error-rate"
    /// System (pipeline transit) or agent (processing): a quantile of per-order latency.
    case latency = "latency"
    /// Instrument: one tick's mid moved too far from the previous tick's.
    case priceGap = "price-gap"
    /// Instrument: realised volatility of the mid over a sliding window.
    case volatility = "volatility"
    /// An operator tripped it via `breaker.commands`.
    case manualTrip = "manual-trip"
    /// An operator reset it via `breaker.commands`.
    case manualReset = "manual-reset"
    /// An operator started a new staging trading day (`staging.commands` day reset).
    case dayReset = "day-reset"
    /// An operator restarted the account as a fresh challenge (`staging.commands` account
    /// restart, seen as a higher `Account.epoch`).
    case accountRestart = "account-restart"
    /// An operator ordered flatten-all; the breaker is tripped so nothing new opens.
    case flattenAll = "flatten-all"
    /// The recovery timeout elapsed (tripped → half-open).
    case recoveryTimeout = "recovery-timeout"
    /// Enough consecutive good outcomes in half-open (half-open → normal).
    case goodOutcomes = "good-outcomes"
    /// Every condition fell back below its clear level (warning → normal).
    case cleared = "cleared"
    /// The first fresh data since start or restore confirmed the state (unknown → known).
    case firstData = "first-data"

    /// Whether this cause is a measured condition (as opposed to a command or a transition).
    public var isCondition: Bool {
        switch self {
        case .dailyDrawdown, .systemDrawdown, .heartbeat, .agentStatus, .errorRate, .latency, .priceGap, .volatility: true
        default: false
        }
    }
}
