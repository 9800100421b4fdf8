import TMTBase
import TMTModels

/// An account marked to the market: what `accounts.updates` publishes and what the margin check
/// measures against.
public struct AccountValuation: Codable, Sendable, Equatable {
    /// One open position marked to market.
    public struct PositionMark: Codable, Sendable, Equatable {
        public var instrument: String
        /// Signed lots.
        public var quantity: Decimal
        public var averagePrice: Decimal
        /// The price the position would close at: the bid for a long, the ask for a short.
        public var closingPrice: Decimal
        /// quantity × (closing − average) × contract size, converted, rounded to the money scale.
        public var openPnL: Decimal
        /// |quantity| × contract size × mid × margin rate, converted, rounded to the money scale.
        public var margin: Decimal

        public init(instrument: String, quantity: Decimal, averagePrice: Decimal, closingPrice: Decimal, openPnL: Decimal,
                    margin: Decimal) {
            self.instrument = instrument
            self.quantity = quantity
            self.averagePrice = averagePrice
            self.closingPrice = closingPrice
            self.openPnL = openPnL
            self.margin = margin
        }
    }

    public var accountId: String
    public var currency: String
    public var balance: Decimal
    /// Σ open P&L of the positions (each already rounded).
    public var openPnL: Decimal
    /// Balance + open P&L.
    public var equity: Decimal
    /// Σ margin of the open positions.
    public var usedMargin: Decimal
    /// Equity − used margin (negative when the account is over-exposed).
    public var freeMargin: Decimal
    /// Equity / used margin × 100, two decimals; nil with no margin in use.
    public var marginLevelPercent: Decimal?
    /// Equity − the balance at the start of the trading day: today's realised and open P&L
    /// net of commission.
    public var dailyPnL: Decimal
    public var dayStartBalance: Decimal
    /// The open positions, by symbol.
    public var positions: [PositionMark]

    public init(accountId: String, currency: String, balance: Decimal, openPnL: Decimal, equity: Decimal, usedMargin: Decimal,
                freeMargin: Decimal, marginLevelPercent: Decimal?, dailyPnL: Decimal, dayStartBalance: Decimal,
                positions: [PositionMark]) {
        self.accountId = accountId
        self.currency = currency
        self.balance = balance
        self.openPnL = openPnL
        self.equity = equity
        self.usedMargin = usedMargin
        self.freeMargin = freeMargin
        self.marginLevelPercent = marginLevelPercent
        self.dailyPnL = dailyPnL
        self.dayStartBalance = dayStartBalance
        self.positions = positions
    }

    /// Values `ledger` at the quotes in `rates` with `model`'s instruments and rounding.
    /// Throws `missingQuote` when an open position's instrument has no quote and
    /// `missingConversionRate` when its quote currency cannot be converted.
    public init(ledger: AccountLedger, model: FillModel, rates: CurrencyRates) throws(ExecutionError) {
        let scale = model.configuration.moneyScale
        var marks: [PositionMark] = []
        for entry in ledger.book.openPositions {
            let p = entry.position
            guard let instrument = model.instrument(p.instrument) else {
                throw ExecutionError(.missingQuote, "no instrument definition for open position \(p.instrument)")
            }
            guard let quote = rates.quote(p.instrument) else {
                throw ExecutionError(.missingQuote, "no quote for open position \(p.instrument) of \(ledger.accountId)")
            }
            guard let rate = rates.rate(from: instrument.quoteCurrency, to: ledger.currency) else {
                throw ExecutionError(.missingConversionRate, "no rate from \(instrument.quoteCurrency) to \(ledger.currency)")
            }
            let closing = p.quantity > 0 ? quote.bid : quote.ask
            let pnl = ExecutionMath.round(p.quantity * (closing - p.averagePrice) * instrument.contractSize * rate, scale: scale)
            let margin = model.margin(instrument: instrument, lots: p.quantity, price: quote.mid, rateToAccount: rate)
            marks.append(PositionMark(instrument: p.instrument, quantity: p.quantity, averagePrice: p.averagePrice,
                                      closingPrice: closing, openPnL: pnl, margin: margin))
        }
        let open = marks.reduce(Decimal(0)) { $0 + $1.openPnL }
        let used = marks.reduce(Decimal(0)) { $0 + $1.margin }
        let equity = ledger.balance + open
        self.init(accountId: ledger.accountId, currency: ledger.currency, balance: ledger.balance, openPnL: open, equity: equity,
                  usedMargin: used, freeMargin: equity - used,
                  marginLevelPercent: used > 0 ? ExecutionMath.round(equity / used * 100, scale: 2) : nil,
                  dailyPnL: equity - ledger.dayStartBalance, dayStartBalance: ledger.dayStartBalance, positions: marks)
    }

    /// Copies balance, equity and daily P&L into `account` and raises its high-water mark to the
    /// equity when higher.
    public func apply(to account: inout Account) {
        account.balance = balance
        account.equity = equity
        account.dailyPnL = dailyPnL
        if equity > account.highWaterMark { account.highWaterMark = equity }
    }
}
