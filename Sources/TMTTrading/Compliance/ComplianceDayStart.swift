import TMTBase
import TMTModels

/// An account's baseline at the start of a firm trading day: the balance and equity the day's
/// loss counts from.
///
/// The compliance agent keeps one per account and passes it in the context; `current(at:…)`
/// rolls it over at the firm's reset. It takes the balance and equity of the first observation
/// in the new day, which equals the values at the firm's midnight when the agent sees an account
/// update at or right after the reset (the execution engine sends one at least every throttle
/// interval while positions are open; with none open, balance and equity do not change anyway).
public struct ComplianceDayStart: Sendable, Equatable {
    /// The firm day this baseline belongs to.
    public var day: FirmTradingDay
    /// Balance at the start of the day, account currency.
    public var balance: Decimal
    /// Equity (balance + open P&L) at the start of the day, account currency.
    public var equity: Decimal
    /// The account's challenge (`Account.epoch`) the baseline was taken in.
    public var epoch: Int

    public init(day: FirmTradingDay, balance: Decimal, equity: Decimal, epoch: Int = 0) {
        self.day = day
        self.balance = balance
        self.equity = equity
        self.epoch = epoch
    }

    /// A baseline for the firm day containing `instant`, taken from `account` as it is now.
    public static func fresh(at instant: Date, rules: FirmRules, account: Account) -> ComplianceDayStart {
        ComplianceDayStart(day: rules.tradingDay(containing: instant), balance: account.balance, equity: account.equity,
                           epoch: account.epoch)
    }

    /// The baseline to use at `instant`: this one while its day still runs (or lies ahead, e.g.
    /// a clock corrected backwards) in the same challenge, otherwise a fresh one from `account`
    /// (a restarted account, with a higher epoch, starts its day at its initial balance).
    public func current(at instant: Date, rules: FirmRules, account: Account) -> ComplianceDayStart {
        instant >= day.end || account.epoch != epoch ? .fresh(at: instant, rules: rules, account: account) : self
    }

    /// Whether this baseline is from a day that has ended by `instant`.
    public func isStale(at instant: Date) -> Bool { instant >= day.end }
}
