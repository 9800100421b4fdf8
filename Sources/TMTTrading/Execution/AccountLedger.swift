import TMTBase
import TMTModels

/// One paper account's money and positions as the execution engine books them: balance moves
/// only by booked amounts (realised P&L and commission per fill, already rounded), so at every
/// point `balance == initialBalance + realizedPnL − commission` exactly.
public struct AccountLedger: Codable, Sendable, Equatable {
    /// The account.
    public let accountId: String
    /// ISO 4217 code every amount here is in.
    public let currency: String
    /// The balance the account started with.
    public let initialBalance: Decimal
    /// Initial balance + Σ realised P&L − Σ commission.
    public private(set) var balance: Decimal
    /// The balance when the current trading day began (see `startNewDay()`); daily P&L is
    /// measured from it.
    public private(set) var dayStartBalance: Decimal
    /// Σ realised P&L booked (account currency).
    public private(set) var realizedPnL: Decimal
    /// Σ commission booked (account currency, positive = paid).
    public private(set) var commission: Decimal
    /// The netted positions.
    public private(set) var book: PositionBook

    /// A fresh account: balance = day-start balance = initial balance, no positions.
    public init(accountId: String, currency: String = "USD", initialBalance: Decimal) {
        self.init(accountId: accountId, currency: currency, initialBalance: initialBalance, realizedPnL: 0, commission: 0,
                  dayStartBalance: initialBalance, positions: [])
    }

    /// A ledger restored from stored totals (e.g. after a restart); the balance is derived from
    /// them, never stored separately, so it cannot disagree with its parts.
    public init(accountId: String, currency: String, initialBalance: Decimal, realizedPnL: Decimal, commission: Decimal,
                dayStartBalance: Decimal, positions: [BookedPosition]) {
        self.accountId = accountId
        self.currency = currency
        self.initialBalance = initialBalance
        self.realizedPnL = realizedPnL
        self.commission = commission
        self.balance = initialBalance + realizedPnL - commission
        self.dayStartBalance = dayStartBalance
        self.book = PositionBook(accountId: accountId, positions: positions)
    }

    /// A fresh ledger for `account` (its id, currency and initial balance).
    public init(account: Account) {
        self.init(accountId: account.id, currency: account.currency, initialBalance: account.initialBalance)
    }

    /// Books one fill: the position change, its realised P&L and the fill's commission.
    /// See `PositionBook.apply` for the parameters.
    @discardableResult
    public mutating func book(_ fill: Fill, contractSize: Decimal, conversionRate: Decimal, moneyScale: Int,
                              averagePriceScale: Int, stopLoss: Decimal? = nil, takeProfit: Decimal? = nil,
                              sourceOrderId: String? = nil, sourceSignalId: String? = nil) -> PositionChange {
        let change = book.apply(fill, contractSize: contractSize, conversionRate: conversionRate, moneyScale: moneyScale,
                                averagePriceScale: averagePriceScale, stopLoss: stopLoss, takeProfit: takeProfit,
                                sourceOrderId: sourceOrderId, sourceSignalId: sourceSignalId)
        realizedPnL += change.realizedPnL
        commission += fill.commission
        balance += change.realizedPnL - fill.commission
        return change
    }

    /// Sets or clears the protective levels of an open position.
    public mutating func setProtectiveLevels(_ instrument: String, stopLoss: Decimal?, takeProfit: Decimal?) {
        book.setProtectiveLevels(instrument, stopLoss: stopLoss, takeProfit: takeProfit)
    }

    /// Starts a new trading day at the current balance. The caller decides when (the firm's
    /// midnight in its timezone); the ledger has no clock.
    public mutating func startNewDay() {
        dayStartBalance = balance
    }
}
