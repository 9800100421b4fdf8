/// What an account may trade right now, derived from the breakers (see `CircuitBreaker` for the
/// table). Raw values are the names the API and dashboard show.
public enum TradingState: String, Codable, Sendable, CaseIterable, Comparable {
    /// Every relevant breaker is clear: all orders pass.
    case active = "ACTIVE"
    /// Only risk-reducing orders (`Order.riskReducing`) pass.
    case reducing = "REDUCING"
    /// No order passes the gate. The breaker's own flatten-all orders are produced already
    /// cleared and never pass through `CircuitBreaker.evaluate(order:)`.
    case halted = "HALTED"

    /// By severity: active < reducing < halted.
    public static func < (lhs: TradingState, rhs: TradingState) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Whether an order passes in this state.
    public func allows(riskReducing: Bool) -> Bool {
        switch self {
        case .active: true
        case .reducing: riskReducing
        case .halted: false
        }
    }
}
