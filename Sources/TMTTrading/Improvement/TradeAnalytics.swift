import TMTBase

/// Breaks closed trades down by pattern, instrument or account and computes each group's
/// `TradeStatistics`: the continuous-improvement agent's report.
public struct TradeAnalytics: Sendable {
    /// The dimension trades are grouped by.
    public enum Dimension: String, Codable, Sendable, CaseIterable {
        case pattern, instrument, account
    }

    /// Equity before the first trade of a group, in the account currency, for groups that are
    /// not a single account (patterns and instruments pool accounts). Default 100 000.
    public var startingBalance: Decimal
    /// Starting balance per account id, used when grouping by account; accounts missing here
    /// fall back to `startingBalance`. Default empty.
    public var accountBalances: [String: Decimal]
    /// Trades per year used to annualise Sharpe; nil (the default) leaves it per trade.
    public var tradesPerYear: Double?

    public init(startingBalance: Decimal = 100_000, accountBalances: [String: Decimal] = [:],
                tradesPerYear: Double? = nil) {
        self.startingBalance = startingBalance
        self.accountBalances = accountBalances
        self.tradesPerYear = tradesPerYear
    }

    /// Statistics of all `trades` together, from `startingBalance`.
    public func overall(_ trades: [ClosedTrade]) -> TradeStatistics {
        TradeStatistics(trades: trades, startingBalance: startingBalance, tradesPerYear: tradesPerYear)
    }

    /// Statistics per value of `dimension` (pattern name, instrument symbol or account id).
    public func grouped(_ trades: [ClosedTrade], by dimension: Dimension) -> [String: TradeStatistics] {
        let groups = Dictionary(grouping: trades) { trade -> String in
            switch dimension {
            case .pattern: trade.pattern
            case .instrument: trade.instrument
            case .account: trade.account
            }
        }
        return groups.mapValues { group in
            let balance = dimension == .account
                ? accountBalances[group[0].account] ?? startingBalance
                : startingBalance
            return TradeStatistics(trades: group, startingBalance: balance, tradesPerYear: tradesPerYear)
        }
    }
}
