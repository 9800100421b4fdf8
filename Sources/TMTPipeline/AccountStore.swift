import TMTBase
import TMTCore

/// Accounts in the trading database.
public struct AccountStore: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Creates the configured accounts that do not exist yet (existing rows keep their state).
    @discardableResult
    public func ensure(_ accounts: [Account]) throws -> Int {
        guard !accounts.isEmpty else { return 0 }
        return try pool.executeBatch("""
            INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, daily_pnl, high_water_mark)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING
            """, accounts.map { a in
                [a.id, a.firm, a.currency, a.initialBalance, a.balance, a.equity, a.dailyPnL, a.highWaterMark] as [any PostgresEncodable]
            })
    }

    /// Every account as stored.
    public func all() throws -> [Account] {
        try pool.query("""
            SELECT id, firm, currency, initial_balance, balance, equity, daily_pnl, high_water_mark, epoch, trading_day, day_start_equity
            FROM accounts ORDER BY id
            """).map { r in
            var a = Account(id: try r.decode(String.self, column: "id"), firm: try r.decode(String.self, column: "firm"),
                            currency: try r.decode(String.self, column: "currency"),
                            initialBalance: try r.decode(Decimal.self, column: "initial_balance"))
            a.balance = try r.decode(Decimal.self, column: "balance")
            a.equity = try r.decode(Decimal.self, column: "equity")
            a.dailyPnL = try r.decode(Decimal.self, column: "daily_pnl")
            a.highWaterMark = try r.decode(Decimal.self, column: "high_water_mark")
            a.epoch = try r.decode(Int.self, column: "epoch")
            a.tradingDay = try r.decode(String?.self, column: "trading_day")
            a.dayStartEquity = try r.decode(Decimal?.self, column: "day_start_equity")
            return a
        }
    }

    /// Every open position as the execution engine stored it, with the time it was opened.
    public func openPositions() throws -> [Position] {
        try pool.query("""
            SELECT account_id, instrument, quantity, average_price, realized_pnl,
                   (extract(epoch FROM opened_at) * 1000000)::bigint AS opened
            FROM positions WHERE quantity <> 0 ORDER BY account_id, instrument
            """).map { r in
            Position(accountId: try r.decode(String.self, column: "account_id"), instrument: try r.decode(String.self, column: "instrument"),
                     quantity: try r.decode(Decimal.self, column: "quantity"), averagePrice: try r.decode(Decimal.self, column: "average_price"),
                     realizedPnL: try r.decode(Decimal.self, column: "realized_pnl"), openedAt: try r.decode(Int64?.self, column: "opened"))
        }
    }
}
