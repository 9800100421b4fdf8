import TMTBase
import TMTModels

/// What happened to an order on one call of the engine.
public enum ExecutionOutcome: String, Codable, Sendable {
    /// Not yet at the market (arrival time not reached, or no usable quote yet); nothing changed.
    case awaitingQuote
    /// A limit or stop order resting until its price is reached.
    case pending
    /// Filled in part; the rest keeps working.
    case partiallyFilled
    /// Completely filled.
    case filled
    /// Refused: the exposure it adds needs more margin than the account has free. The order
    /// moves to `cancelled` (the lifecycle's state for a margin refusal after clearing).
    case rejectedForMargin
    /// Its time in force ran out (status `expired` for a pending order, `cancelled` for the
    /// unfilled rest of a working one).
    case expired
    /// Ended without a complete fill for another reason (IOC remainder, invalid order, a
    /// protective close whose position is already flat).
    case cancelled

    /// The decision verdict recorded for this outcome. `Decision.Verdict` has no execution
    /// verdicts, so: fills → approved, resting/waiting → delayed, anything that ends the order
    /// unfilled → rejected; the precise outcome is in the decision's `outcome` figure.
    public var verdict: Decision.Verdict {
        switch self {
        case .filled, .partiallyFilled: .approved
        case .pending, .awaitingQuote: .delayed
        case .rejectedForMargin, .expired, .cancelled: .rejected
        }
    }
}
