import TMTBase
import TMTModels

/// A fill with what it did to the account: what the agent writes to the fills table and
/// publishes on `executions.fills`.
public struct BookedFill: Codable, Sendable, Equatable {
    /// The fill (deterministic id, price after spread and slippage, commission).
    public var fill: Fill
    /// Depth level it filled at (0 = touch).
    public var level: Int
    /// Realised P&L booked by this fill, account currency, rounded to the money scale.
    public var realizedPnL: Decimal
    /// Account currency per unit of the instrument's quote currency used for `realizedPnL`.
    public var conversionRate: Decimal
    /// The position after this fill.
    public var positionAfter: Position
    /// The balance after this fill.
    public var balanceAfter: Decimal

    public init(fill: Fill, level: Int, realizedPnL: Decimal, conversionRate: Decimal, positionAfter: Position,
                balanceAfter: Decimal) {
        self.fill = fill
        self.level = level
        self.realizedPnL = realizedPnL
        self.conversionRate = conversionRate
        self.positionAfter = positionAfter
        self.balanceAfter = balanceAfter
    }
}
