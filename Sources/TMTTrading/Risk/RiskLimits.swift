import TMTBase
import TMTModels

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
    /// What is left of today's loss allowance, account currency, measured as the compliance
    /// engine measures it (from the firm day's start level to the equity now). Nil: the limit
    /// less today's loss in `Account.dailyPnL`.
    public var dailyLossRoom: Decimal?
    /// What is left above the firm's maximum-loss floor (static or trailing), account currency:
    /// the equity less the floor. Nil: no maximum-loss cap.
    public var maxLossRoom: Decimal?

    public init(maxLotsPerOrder: Decimal? = nil, maxPositionLots: Decimal? = nil, dailyLossLimit: Decimal? = nil,
                dailyLossRoom: Decimal? = nil, maxLossRoom: Decimal? = nil) {
        self.maxLotsPerOrder = maxLotsPerOrder
        self.maxPositionLots = maxPositionLots
        self.dailyLossLimit = dailyLossLimit
        self.dailyLossRoom = dailyLossRoom
        self.maxLossRoom = maxLossRoom
    }

    /// A firm's limits for `account` at `instant` (market time), measured as the compliance
    /// engine measures them — the same day start (`ComplianceDayStart.fresh`), daily limit and
    /// maximum-loss floor — so an order whose loss at the stop fits both rooms passes its loss
    /// checks. (Sized against the daily limit less `dailyPnL` alone, an order on a trailing
    /// account near its floor, or on a firm that measures the day from the higher of balance and
    /// equity, was sized past what compliance then rejected.)
    public static func firm(_ rules: FirmRules, account: Account, at instant: Date) -> RiskLimits {
        let levels = FirmLossLevels(rules: rules, account: account, dayStart: .fresh(at: instant, rules: rules, account: account))
        return RiskLimits(maxLotsPerOrder: rules.maxLotsPerOrder, dailyLossLimit: levels.dailyLimit,
                          dailyLossRoom: levels.dailyRoom, maxLossRoom: levels.maxRoom)
    }

    /// No caps beyond margin.
    public static let none = RiskLimits()
}
