import TMTBase
import TMTModels

/// Everything the compliance engine needs to judge one order, as values: the engine does no
/// I/O, so the agent gathers these from its stores and the live quotes first.
public struct ComplianceContext: Sendable {
    /// A netted open position with the time it was opened (for the minimum-hold rule).
    public struct OpenPosition: Sendable, Equatable {
        /// Netted quantity and average price in one instrument.
        public var position: Position
        /// When the position went from flat to non-zero.
        public var openedAt: Date

        public init(position: Position, openedAt: Date) {
            self.position = position
            self.openedAt = openedAt
        }
    }

    /// What turns an order's stop distance into money: its entry price and the value of one
    /// quote-currency unit in the account currency.
    ///
    /// The worst case of an order is `quantity × contractSize × |entry − stop| ×
    /// quoteToAccountRate`. For EUR_USD on a USD account the rate is 1; for USD_JPY on a USD
    /// account it is 1 / USDJPY (a yen is worth 1/150 USD at 150.00); for EUR_GBP on a USD
    /// account it is the GBP_USD price. The agent takes it from live quotes.
    public struct OrderPricing: Sendable, Equatable {
        /// The order's instrument (contract size, currencies).
        public var instrument: Instrument
        /// Expected entry for a market order (ask for a buy, bid for a sell); limit and stop
        /// orders use their own price instead.
        public var marketPrice: Decimal
        /// Account-currency value of one unit of the instrument's quote currency.
        public var quoteToAccountRate: Decimal

        public init(instrument: Instrument, marketPrice: Decimal, quoteToAccountRate: Decimal = 1) {
            self.instrument = instrument
            self.marketPrice = marketPrice
            self.quoteToAccountRate = quoteToAccountRate
        }
    }

    /// Realised result of one past firm trading day.
    public struct DayResult: Sendable, Equatable {
        /// `FirmTradingDay.label`, `YYYY-MM-DD`.
        public var day: String
        /// Realised P&L net of commission, account currency.
        public var realizedPnL: Decimal
        /// Orders filled that day (a day with at least one counts as a trading day).
        public var trades: Int

        public init(day: String, realizedPnL: Decimal, trades: Int) {
            self.day = day
            self.realizedPnL = realizedPnL
            self.trades = trades
        }
    }

    /// The account as it is now: balance, equity (with open P&L), high-water mark.
    public var account: Account
    /// Open positions of the account; flat entries are ignored.
    public var positions: [OpenPosition]
    /// The baseline of the current firm day; a stale one (from a day that has ended) is rolled
    /// over by the engine to the new day's start as the account carries it
    /// (`ComplianceDayStart.fresh`).
    public var dayStart: ComplianceDayStart
    /// Realised results of earlier days, for best-day consistency and the trading-day count.
    /// An entry for today is ignored; today's realised P&L is `realizedToday`, or balance −
    /// start-of-day balance without it.
    public var history: [DayResult]
    /// Today's realised P&L net of commission, when the caller knows it exactly (the agent:
    /// balance − initial balance − the earlier days of the challenge, which also counts what was
    /// booked between the firm's reset and the day's first baseline). Nil: balance − start-of-day
    /// balance.
    public var realizedToday: Decimal?
    /// Trades filled so far today (today counts as a trading day once this is positive).
    public var tradesToday: Int
    /// Scheduled releases, for the news blackout.
    public var news: NewsCalendar
    /// The current time.
    public var clock: any TMTClock
    /// Prices for the order's risk; required for orders that open or add risk with a stop.
    public var pricing: OrderPricing?

    /// A context; `news` defaults to an empty calendar, `history` to no earlier days.
    public init(account: Account, positions: [OpenPosition] = [], dayStart: ComplianceDayStart, history: [DayResult] = [],
                tradesToday: Int = 0, news: NewsCalendar = NewsCalendar(events: []), clock: any TMTClock, pricing: OrderPricing?) {
        self.account = account
        self.positions = positions
        self.dayStart = dayStart
        self.history = history
        self.realizedToday = nil
        self.tradesToday = tradesToday
        self.news = news
        self.clock = clock
        self.pricing = pricing
    }
}
