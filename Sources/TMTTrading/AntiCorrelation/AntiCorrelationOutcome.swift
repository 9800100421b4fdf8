import TMTBase
import TMTModels

/// What anti-correlation decided for one order: the action, the quantity to send on (possibly
/// reduced), the delay, the strongest correlation behind it and the decision to attach.
public struct AntiCorrelationOutcome: Sendable, Equatable {
    /// The action taken (`none` for a risk-reducing order, whatever the correlation).
    public var action: AntiCorrelationAction
    /// The action the correlation called for, before the risk-reducing exemption.
    public var indicatedAction: AntiCorrelationAction
    /// Lots to send on; the original quantity unless resized; unchanged when skipped.
    public var quantity: Decimal
    /// Seconds to hold the order before publishing it; 0 when not staggered.
    public var delaySeconds: Int
    /// Reduction actually applied after lot-step rounding, percent (4 places); 0 when not resized.
    public var sizeReductionPercent: Decimal
    /// The pair and window that set the level (the highest counted correlation), if any.
    public var strongest: CorrelationReading?
    /// Every pair × window reading, sorted by account then window order.
    public var readings: [CorrelationReading]
    /// Why the order was skipped, naming the account, window and value; nil unless skipped.
    public var skipReason: String?
    /// `agent: "anti-correlation"` with verdict approved / modified / skipped, one check per
    /// window and the figures.
    public var decision: Decision

    /// True when the order must not go on (`orders.decorrelated` is not published).
    public var isSkipped: Bool { decision.verdict == .skipped }

    /// `order` with the quantity applied and moved to `decorrelated` or `skipped` with the decision.
    public func applied(to order: Order) throws -> Order {
        var copy = order
        if !isSkipped { copy.quantity = quantity }
        try copy.advance(to: isSkipped ? .skipped : .decorrelated, decision: decision)
        return copy
    }
}
