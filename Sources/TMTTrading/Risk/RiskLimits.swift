import TMTBase

/// The firm's limits that cap a size, for one account, in lots and account currency. Every
/// field is optional: a nil limit does not cap. The agent fills these from the account's
/// firm rules (e.g. `FirmRules.maxLotsPerOrder`, daily loss percent × its base).
public struct RiskLimits: Sendable, Equatable {
    /// Largest order, lots.
    public var maxLotsPerOrder: Decimal?
    /// Largest absolute net position in one instrument after the order, lots.
    public var maxPositionLots: Decimal?
    /// Today's loss allowance in the account currency (e.g. 5 % × 100,000 = 5,000). Caps the
    /// order so its loss at the stop fits in what is left of it, and feeds the drawdown factor.
    /// Zero or less counts as exhausted.
    public var dailyLossLimit: Decimal?

    public init(maxLotsPerOrder: Decimal? = nil, maxPositionLots: Decimal? = nil, dailyLossLimit: Decimal? = nil) {
        self.maxLotsPerOrder = maxLotsPerOrder
        self.maxPositionLots = maxPositionLots
        self.dailyLossLimit = dailyLossLimit
    }

    /// No caps beyond margin.
    public static let none = RiskLimits()
}
