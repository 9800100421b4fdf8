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
        let groups = partition(trades.sorted(by: TradeStatistics.exitOrder), by: dimension)
        return Dictionary(uniqueKeysWithValues: groups.map { ($0.key, statistics(of: $0.value, key: $0.key, dimension)) })
    }

    /// Trades in exit order split by `dimension`, each group still in exit order.
    private func partition(_ ordered: [ClosedTrade], by dimension: Dimension) -> [String: [ClosedTrade]] {
        Dictionary(grouping: ordered) { trade -> String in
            switch dimension {
            case .pattern: trade.pattern
            case .instrument: trade.instrument
            case .account: trade.account
            }
        }
    }

    /// One group's statistics; an account's from its own starting balance.
    private func statistics(of ordered: [ClosedTrade], key: String, _ dimension: Dimension?) -> TradeStatistics {
        let balance = dimension == .account ? accountBalances[key] ?? startingBalance : startingBalance
        return TradeStatistics(ordered: ordered, startingBalance: balance, tradesPerYear: tradesPerYear)
    }

    /// One row of the report: a group's statistics and the exit times of its first and last
    /// trades (ms since the epoch).
    public struct Group: Sendable, Equatable {
        /// `overall`, `pattern`, `instrument` or `account`.
        public var dimension: String
        /// The pattern name, instrument symbol, account id, or `all` for overall.
        public var key: String
        public var statistics: TradeStatistics
        public var firstExitAt: Int64?
        public var lastExitAt: Int64?
    }

    /// The whole report: all trades, then every pattern, instrument and account, sorted by
    /// dimension and key. The trades are put in exit order once for every group.
    public func report(_ trades: [ClosedTrade]) -> [Group] {
        let ordered = trades.sorted(by: TradeStatistics.exitOrder)
        func group(_ dimension: Dimension?, _ key: String, _ members: [ClosedTrade]) -> Group {
            Group(dimension: dimension?.rawValue ?? "overall", key: key, statistics: statistics(of: members, key: key, dimension),
                  firstExitAt: members.first?.exitTime, lastExitAt: members.last?.exitTime)
        }
        var rows = [group(nil, "all", ordered)]
        for dimension in Dimension.allCases {
            for (key, members) in partition(ordered, by: dimension) { rows.append(group(dimension, key, members)) }
        }
        rows.sort { ($0.dimension, $0.key) < ($1.dimension, $1.key) }
        return rows
    }
}
