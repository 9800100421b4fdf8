/// The gate's answer for one order.
public enum BreakerVerdict: Sendable, Equatable {
    /// Send it to execution (`orders.cleared`).
    case cleared
    /// Do not (`orders.blocked`): the breaker that blocked it and why, e.g. `account acc-1 tripped:
    /// daily drawdown 4.10 % … ≥ limit 4.00 %; trading HALTED`.
    case blocked(breaker: BreakerKey, reason: String)

    /// Whether the order passes.
    public var isCleared: Bool { self == .cleared }

    /// The blocking breaker, if blocked.
    public var blockingBreaker: BreakerKey? {
        if case .blocked(let key, _) = self { return key }
        return nil
    }

    /// The block reason, if blocked.
    public var reason: String? {
        if case .blocked(_, let reason) = self { return reason }
        return nil
    }
}
