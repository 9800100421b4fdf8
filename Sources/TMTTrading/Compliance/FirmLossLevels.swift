import TMTBase
import TMTModels

/// Where an account stands against its firm's two loss limits from a day start: what the
/// compliance engine tests an order's risk against, and what ARIA sizes within
/// (`RiskLimits.firm`), computed in one place so the two cannot drift apart.
public struct FirmLossLevels: Sendable, Equatable {
    /// The level the day's loss is measured from (balance, equity or the higher of the two at
    /// the day's start, as the firm says).
    public let dayStartLevel: Decimal
    /// The day's loss limit, account currency.
    public let dailyLimit: Decimal
    /// Today's loss so far: the day-start level less the equity now (negative when up).
    public let dailyLoss: Decimal
    /// The highest equity seen, never below the equity now or the initial balance.
    public let highWaterMark: Decimal
    /// What the maximum loss is measured from: the initial balance (static) or the high-water mark (trailing).
    public let maxReference: Decimal
    /// The equity the account must stay above.
    public let maxFloor: Decimal
    /// The maximum loss allowed from `maxReference`.
    public let maxLimit: Decimal
    /// The loss from `maxReference` now.
    public let drawdown: Decimal

    public init(rules: FirmRules, account: Account, dayStart: ComplianceDayStart) {
        dayStartLevel = rules.dayStartLevel(dayStart)
        dailyLimit = rules.dailyLossLimit(initialBalance: account.initialBalance, dayStart: dayStart)
        dailyLoss = dayStartLevel - account.equity
        highWaterMark = max(account.highWaterMark, account.equity, account.initialBalance)
        maxFloor = rules.maxLossFloor(initialBalance: account.initialBalance, highWaterMark: highWaterMark)
        maxReference = rules.maxLossMode == .static ? account.initialBalance : highWaterMark
        maxLimit = maxReference - maxFloor
        drawdown = maxReference - account.equity
    }

    /// Loss an order may still add today before the daily limit is exceeded.
    public var dailyRoom: Decimal { dailyLimit - dailyLoss }
    /// Loss an order may still add before the maximum-loss floor is crossed (the equity less the floor).
    public var maxRoom: Decimal { maxLimit - drawdown }
}
