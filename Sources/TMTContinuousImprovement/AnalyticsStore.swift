import TMTBase
import TMTCore
import TMTTrading

/// One row of `analytics` / `GET /api/v1/analytics`: a group's trade statistics.
struct AnalyticsRow: Codable, Sendable, Equatable {
    /// `overall`, `pattern`, `instrument` or `account`.
    var dimension: String
    /// The pattern name, instrument symbol, account id, or `all` for overall.
    var key: String
    var statistics: TradeStatistics
    /// Exit times of the group's first and last trades, ms since the epoch.
    var firstExitAt: Int64?
    var lastExitAt: Int64?
}

/// Writes the latest statistics, one row per (dimension, key), replacing the previous figures.
struct AnalyticsStore: Sendable {
    let pool: PostgresPool

    func save(_ rows: [AnalyticsRow]) throws {
        guard !rows.isEmpty else { return }
        _ = try pool.executeBatch("""
            INSERT INTO analytics (dimension, key, trades, wins, losses, win_rate, profit_factor, profit_factor_infinite,
                                   gross_profit, gross_loss, net_profit, expectancy, mean_return, sharpe, max_drawdown,
                                   max_drawdown_percent, first_exit_at, last_exit_at, computed_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, now())
            ON CONFLICT (dimension, key) DO UPDATE SET trades = EXCLUDED.trades, wins = EXCLUDED.wins, losses = EXCLUDED.losses,
                win_rate = EXCLUDED.win_rate, profit_factor = EXCLUDED.profit_factor,
                profit_factor_infinite = EXCLUDED.profit_factor_infinite, gross_profit = EXCLUDED.gross_profit,
                gross_loss = EXCLUDED.gross_loss, net_profit = EXCLUDED.net_profit, expectancy = EXCLUDED.expectancy,
                mean_return = EXCLUDED.mean_return, sharpe = EXCLUDED.sharpe, max_drawdown = EXCLUDED.max_drawdown,
                max_drawdown_percent = EXCLUDED.max_drawdown_percent, first_exit_at = EXCLUDED.first_exit_at,
                last_exit_at = EXCLUDED.last_exit_at, computed_at = now()
            """, rows.map { row in
                let s = row.statistics
                return [row.dimension, row.key, s.count, s.wins, s.losses, s.winRate, s.profitFactor, s.profitFactorIsInfinite,
                        s.grossProfit, s.grossLoss, s.netProfit, s.expectancy, s.meanReturn, s.sharpe, s.maxDrawdown,
                        s.maxDrawdownPercent, row.firstExitAt.map(Self.date), row.lastExitAt.map(Self.date)] as [any PostgresEncodable]
            })
    }

    private static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
