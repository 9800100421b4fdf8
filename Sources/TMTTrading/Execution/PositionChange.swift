import TMTBase
import TMTModels

/// What one fill did to a netted position.
public struct PositionChange: Sendable, Equatable {
    /// The position before the fill.
    public var before: Position
    /// The position after the fill.
    public var after: Position
    /// Lots of the existing position the fill closed (≥ 0).
    public var closedQuantity: Decimal
    /// Lots the fill opened or added in its own direction (≥ 0); closed + opened = fill quantity.
    public var openedQuantity: Decimal
    /// Realised P&L of the closed part in the quote currency, exact:
    /// closed × (exit − entry) × contract size, sign-flipped for a short.
    public var realizedPnLInQuote: Decimal
    /// The conversion used (account currency per unit of quote currency).
    public var conversionRate: Decimal
    /// `realizedPnLInQuote × conversionRate`, rounded half-to-even to the money scale: the
    /// amount booked to the balance.
    public var realizedPnL: Decimal

    public init(before: Position, after: Position, closedQuantity: Decimal, openedQuantity: Decimal,
                realizedPnLInQuote: Decimal, conversionRate: Decimal, realizedPnL: Decimal) {
        self.before = before
        self.after = after
        self.closedQuantity = closedQuantity
        self.openedQuantity = openedQuantity
        self.realizedPnLInQuote = realizedPnLInQuote
        self.conversionRate = conversionRate
        self.realizedPnL = realizedPnL
    }
}
