/// The state of one circuit breaker.
///
/// `normal → warning → tripped → halfOpen → normal`; a bad outcome in `halfOpen` re-trips with a
/// longer timeout. A breaker whose state has not been confirmed by fresh data since the process
/// started or restored (`Breaker.awaitingData`) counts as *unknown*, which the trading state
/// treats as HALTED (fail closed).
public enum BreakerState: String, Codable, Sendable, CaseIterable {
    /// Every watched metric is below its warning level.
    case normal
    /// A metric reached its warning level (the trading state turns REDUCING where the table says so).
    case warning
    /// A metric reached its trip level, or an operator tripped it; waits for the recovery timeout
    /// (manual trips wait for a reset).
    case tripped
    /// The recovery timeout elapsed; N consecutive good outcomes close it, a bad one re-trips it.
    case halfOpen

    /// The value of the `tmt_circuit_breaker_state` gauge: 0 normal, 1 warning, 2 tripped,
    /// 3 half-open.
    public var metricValue: Int {
        switch self {
        case .normal: 0
        case .warning: 1
        case .tripped: 2
        case .halfOpen: 3
        }
    }

    /// The gauge value exported for a breaker whose state is unknown (awaiting data): 2, the same
    /// as tripped, because trading treats it as HALTED and a tripped-state alert should fire if
    /// it stays unknown.
    public static let unknownMetricValue = 2
}
