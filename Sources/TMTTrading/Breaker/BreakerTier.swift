/// The level a circuit breaker watches.
///
/// The design names three tiers (agent, account, system); `instrument` is this implementation's
/// home for the volatility and price-gap protection, so that a gap in gold does not stop EUR_USD
/// trading (see `CircuitBreaker` for the trading-state table).
public enum BreakerTier: String, Codable, Sendable, CaseIterable, Comparable {
    /// The whole trading system (one breaker, target `system`): aggregate drawdown, error/DLQ
    /// rate, pipeline latency.
    case system
    /// One per agent service name (e.g. `aria-risk`): heartbeats, reported status, the agent's
    /// error rate and processing latency.
    case agent
    /// One per account id: the account's daily drawdown.
    case account
    /// One per instrument symbol: price gaps and realised volatility of its mid.
    case instrument

    /// Fixed order for deterministic output: system, agent, account, instrument.
    public static func < (lhs: BreakerTier, rhs: BreakerTier) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

extension BreakerTier {
    /// The condition whose reading confirms a breaker's state after start or restore: an
    /// account update (daily drawdown), the complete set of account figures (system drawdown),
    /// a heartbeat or its absence past the trip time (agent), a tick (instrument). Error and
    /// latency readings never confirm: their absence says nothing about money at risk.
    public var confirmingCause: BreakerCause {
        switch self {
        case .system: .systemDrawdown
        case .agent: .heartbeat
        case .account: .dailyDrawdown
        case .instrument: .priceGap
        }
    }
}
