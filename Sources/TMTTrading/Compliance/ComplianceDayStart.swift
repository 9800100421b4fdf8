import TMTBase
import TMTModels

/// An account's baseline at the start of a firm trading day: the balance and equity the day's
/// loss counts from.
///
/// The compliance agent keeps one per account and passes it in the context; `current(at:…)`
/// rolls it over at the firm's reset. A new day's baseline is the execution engine's: the
/// account carries the day it measures (`tradingDay`), its daily P&L and, when the engine could
/// mark it at the day's start, that start's equity; the start balance is `equity − dailyPnL`,
/// exact however late the first order of the day comes, and after a restart of this agent. (It
/// used to take the balance and equity at the first order of the day: a loss booked between the
/// firm's reset and that order, a stop-out at 08:00 for an order at 09:00, was forgiven.) What
/// the account does not carry is taken from it as it is now, marked provisional and replaced
/// once it does: the start equity when the engine could not mark it, and both while the engine
/// has not started the day yet (no tick since the reset, so nothing was booked in it).
public struct ComplianceDayStart: Sendable, Equatable {
    /// The firm day this baseline belongs to.
    public var day: FirmTradingDay
    /// Balance at the start of the day, account currency.
    public var balance: Decimal
    /// Equity (balance + open P&L) at the start of the day, account currency.
    public var equity: Decimal
    /// The account's challenge (`Account.epoch`) the baseline was taken in.
    public var epoch: Int
    /// Taken from the account as it was because the engine had not started the day yet: replaced
    /// by the engine's start of the day as soon as the account carries it.
    public var provisional: Bool

    public init(day: FirmTradingDay, balance: Decimal, equity: Decimal, epoch: Int = 0, provisional: Bool = false) {
        self.day = day
        self.balance = balance
        self.equity = equity
        self.epoch = epoch
        self.provisional = provisional
    }

    /// A baseline for the firm day containing `instant`: the execution engine's start of that
    /// day when the account carries it, else `account` as it is now.
    public static func fresh(at instant: Date, rules: FirmRules, account: Account) -> ComplianceDayStart {
        let day = rules.tradingDay(containing: instant)
        if account.tradingDay == day.label {
            let balance = account.equity - account.dailyPnL
            if let equity = account.dayStartEquity {
                return ComplianceDayStart(day: day, balance: balance, equity: equity, epoch: account.epoch)
            }
            return ComplianceDayStart(day: day, balance: balance, equity: account.equity, epoch: account.epoch, provisional: true)
        }
        var start = now(at: instant, rules: rules, account: account)
        start.provisional = true
        return start
    }

    /// A baseline for the firm day containing `instant` from `account` as it is now (a staging
    /// day reset: the limits are measured again from here).
    public static func now(at instant: Date, rules: FirmRules, account: Account) -> ComplianceDayStart {
        ComplianceDayStart(day: rules.tradingDay(containing: instant), balance: account.balance, equity: account.equity,
                           epoch: account.epoch)
    }

    /// The baseline to use at `instant`: this one while its day still runs (or lies ahead, e.g.
    /// a clock corrected backwards) in the same challenge, otherwise a fresh one from `account`
    /// (a restarted account, with a higher epoch, starts its day at its initial balance).
    public func current(at instant: Date, rules: FirmRules, account: Account) -> ComplianceDayStart {
        if instant >= day.end || account.epoch != epoch { return .fresh(at: instant, rules: rules, account: account) }
        // Provisional: replaced by what the account carries of the day now (the engine's start
        // balance once it names the day, its start equity once it has one).
        if provisional, account.tradingDay == day.label, balance != account.equity - account.dailyPnL || account.dayStartEquity != nil {
            return .fresh(at: instant, rules: rules, account: account)
        }
        return self
    }

    /// Whether this baseline is from a day that has ended by `instant`.
    public func isStale(at instant: Date) -> Bool { instant >= day.end }
}
