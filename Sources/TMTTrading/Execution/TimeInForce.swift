import TMTBase

/// How long an order keeps working.
///
/// Defaults (`ExecutionEngine.accept`): a market order fills what the book offers at its
/// arrival and keeps filling the rest on later ticks until `marketOrderTimeToLiveSeconds` after
/// arrival, then the rest is cancelled; limit and stop orders rest until
/// `pendingOrderTimeToLiveSeconds` after arrival (or until cancelled when that is nil).
public enum TimeInForce: Codable, Sendable, Equatable {
    /// Immediate or cancel: one pass at arrival; whatever it does not fill is cancelled (a limit
    /// that is not marketable at arrival is cancelled whole).
    case immediateOrCancel
    /// Works until `expiresAt` (µs on the market clock); then a pending order expires and the
    /// unfilled rest of a working order is cancelled.
    case goodTill(expiresAt: Int64)
    /// Works until filled or cancelled.
    case goodTillCancelled

    /// The expiry time, if any.
    public var expiresAt: Int64? {
        if case .goodTill(let t) = self { return t }
        return nil
    }

    /// A short label for decisions: `ioc`, `gtd`, `gtc`.
    public var label: String {
        switch self {
        case .immediateOrCancel: "ioc"
        case .goodTill: "gtd"
        case .goodTillCancelled: "gtc"
        }
    }
}
