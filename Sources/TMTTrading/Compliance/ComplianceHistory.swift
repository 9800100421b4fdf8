import TMTBase

/// An account's realised results per firm trading day, from its fills: what the consistency rule
/// (best day against total profit) and the trading-day count need beyond today.
public enum ComplianceHistory {
    /// One booked fill as the trading database keeps it.
    public struct Fill: Sendable, Equatable {
        public var orderId: String
        /// Market time of the fill.
        public var filledAt: Date
        /// Realised P&L the fill booked (closing part), account currency, before commission.
        public var realizedPnL: Decimal
        /// Commission charged on the fill, account currency.
        public var commission: Decimal

        public init(orderId: String, filledAt: Date, realizedPnL: Decimal, commission: Decimal) {
            self.orderId = orderId
            self.filledAt = filledAt
            self.realizedPnL = realizedPnL
            self.commission = commission
        }
    }

    /// The days before `today` (oldest first) with their realised P&L net of commission and the
    /// number of orders filled on each, grouped by the firm's trading day (its reset time and
    /// zone); and the number of orders filled so far in `today`. Fills after `today` (a clock
    /// corrected backwards) are left out.
    public static func days(of fills: [Fill], rules: FirmRules,
                            today: FirmTradingDay) -> (history: [ComplianceContext.DayResult], tradesToday: Int) {
        var pnl: [String: Decimal] = [:]
        var orders: [String: Set<String>] = [:]
        var todayOrders = Set<String>()
        // Fills come in time order from the database mostly; a day is looked up once per run of
        // fills inside it rather than once per fill.
        var current: FirmTradingDay?
        for fill in fills where fill.filledAt < today.end {
            if fill.filledAt >= today.start {
                todayOrders.insert(fill.orderId)
                continue
            }
            let day: FirmTradingDay
            if let c = current, fill.filledAt >= c.start, fill.filledAt < c.end { day = c } else {
                day = rules.tradingDay(containing: fill.filledAt)
                current = day
            }
            pnl[day.label, default: 0] += fill.realizedPnL - fill.commission
            orders[day.label, default: []].insert(fill.orderId)
        }
        let history = pnl.keys.sorted().map { ComplianceContext.DayResult(day: $0, realizedPnL: pnl[$0]!, trades: orders[$0]?.count ?? 0) }
        return (history, todayOrders.count)
    }
}
