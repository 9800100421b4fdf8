import TMTBase
import TMTModels

/// ARIA's answer for one signal and one account: a size with the order to publish on
/// `orders.proposed`, or a skip with its reason; the breakdown and the decision either way.
public struct SizingResult: Sendable, Equatable {
    /// The signal sized.
    public var signalId: String
    /// The account sized for.
    public var accountId: String
    /// Lots proposed; 0 when skipped.
    public var lots: Decimal
    /// Why no order is proposed; nil when sized.
    public var skip: RiskSkip?
    /// Every figure that went into the size.
    public var breakdown: RiskBreakdown
    /// `aria-risk`'s decision: `.approved` with the figures, or `.skipped` with the reason.
    public var decision: Decision
    /// The proposed market order (status `.proposed`, id `Order.id(signalId:accountId:)`,
    /// decisions `[decision]`); nil when skipped.
    public var order: Order?

    public init(signalId: String, accountId: String, lots: Decimal, skip: RiskSkip?, breakdown: RiskBreakdown, decision: Decision,
                order: Order?) {
        self.signalId = signalId
        self.accountId = accountId
        self.lots = lots
        self.skip = skip
        self.breakdown = breakdown
        self.decision = decision
        self.order = order
    }

    /// Whether an order is proposed.
    public var isSized: Bool { skip == nil }
}
