import TMTBase

/// Performance figures of a set of closed trades (one pattern, instrument, account or shadow
/// run). Sums are exact `Decimal`s in the account currency; ratios are `Double`. Every figure
/// uses `ClosedTrade.netPnL` (after commission).
public struct TradeStatistics: Codable, Sendable, Equatable {
    /// Number of trades.
    public var count: Int
    /// Trades with net P&L > 0.
    public var wins: Int
    /// Trades with net P&L < 0 (a trade at exactly 0 is neither).
    public var losses: Int
    /// Sum of the positive net P&Ls.
    public var grossProfit: Decimal
    /// Sum of the negative net P&Ls, as a positive number.
    public var grossLoss: Decimal
    /// Sum of all net P&Ls (`grossProfit − grossLoss`).
    public var netProfit: Decimal
    /// `wins / count`, 0 for no trades.
    public var winRate: Double
    /// `grossProfit / grossLoss`. nil when there is no loss: read it with
    /// `profitFactorIsInfinite` (profit without loss, i.e. +∞) — with neither, it is undefined.
    public var profitFactor: Double?
    /// Mean net P&L per trade (`netProfit / count`), rounded to 10 decimal places
    /// (banker's rounding); 0 for no trades.
    public var expectancy: Decimal
    /// Mean per-trade return, where a trade's return is its net P&L divided by the equity just
    /// before it closed (starting balance + earlier trades' net P&L, in exit-time order).
    public var meanReturn: Double
    /// `mean / standard deviation` (sample, n − 1) of the per-trade returns; not annualised.
    /// nil with fewer than 2 trades or when all returns are equal.
    public var sharpe: Double?
    /// `sharpe × √tradesPerYear` when the caller gave a trading frequency, else nil.
    public var annualisedSharpe: Double?
    /// Largest fall of the equity curve from a previous peak, in the account currency
    /// (≥ 0). The curve starts at the starting balance, which counts as a peak.
    public var maxDrawdown: Decimal
    /// That largest fall as a percentage (0–100) of the peak it fell from; 0 when the peak is
    /// not positive.
    public var maxDrawdownPercent: Double

    /// True when there were profits and no losses: a profit factor of +∞.
    public var profitFactorIsInfinite: Bool { profitFactor == nil && grossProfit > 0 }

    /// Computes the statistics of `trades` (any order; the equity curve is taken in exit-time
    /// order, ties by id).
    /// - Parameters:
    ///   - startingBalance: equity before the first trade, in the account currency; the base of
    ///     per-trade returns and of the drawdown percentage.
    ///   - tradesPerYear: how many such trades a year holds, to annualise Sharpe; nil to skip.
    public init(trades: [ClosedTrade], startingBalance: Decimal, tradesPerYear: Double? = nil) {
        self.init(ordered: trades.sorted(by: Self.exitOrder), startingBalance: startingBalance, tradesPerYear: tradesPerYear)
    }

    /// The order the equity curve is taken in: exit time, ties by id.
    static func exitOrder(_ a: ClosedTrade, _ b: ClosedTrade) -> Bool { (a.exitTime, a.id) < (b.exitTime, b.id) }

    /// The statistics of trades already in `exitOrder` (a report sorts once for all its groups).
    init(ordered: [ClosedTrade], startingBalance: Decimal, tradesPerYear: Double?) {
        var wins = 0
        var losses = 0
        var grossProfit: Decimal = 0
        var grossLoss: Decimal = 0
        var equity = startingBalance
        var peak = startingBalance
        var maxDrawdown: Decimal = 0
        // The peak the largest fall was from (its percentage is worked out once, at the end).
        var maxDrawdownPeak: Decimal = 0
        var returns: [Double] = []
        returns.reserveCapacity(ordered.count)
        for trade in ordered {
            let net = trade.netPnL
            if net > 0 {
                wins += 1
                grossProfit += net
            } else if net < 0 {
                losses += 1
                grossLoss -= net
            }
            if equity != 0 {
                returns.append(Self.return(net, on: equity))
            }
            equity += net
            if equity >= peak {
                peak = equity
            } else {
                let drawdown = peak - equity
                if drawdown > maxDrawdown {
                    maxDrawdown = drawdown
                    maxDrawdownPeak = peak
                }
            }
        }
        count = ordered.count
        self.wins = wins
        self.losses = losses
        self.grossProfit = grossProfit
        self.grossLoss = grossLoss
        netProfit = grossProfit - grossLoss
        winRate = count > 0 ? Double(wins) / Double(count) : 0
        profitFactor = grossLoss > 0 ? Self.double(grossProfit) / Self.double(grossLoss) : nil
        expectancy = count > 0 ? Self.rounded(netProfit / Decimal(count), scale: 10) : 0
        self.maxDrawdown = maxDrawdown
        maxDrawdownPercent = maxDrawdown > 0 && maxDrawdownPeak > 0 ? Self.double(maxDrawdown / maxDrawdownPeak) * 100 : 0
        if returns.isEmpty {
            meanReturn = 0
        } else {
            meanReturn = returns.reduce(0, +) / Double(returns.count)
        }
        if returns.count >= 2 {
            let (mean, variance) = WelchTTest.meanAndVariance(returns)
            let deviation = variance.squareRoot()
            sharpe = deviation > 0 ? mean / deviation : nil
        } else {
            sharpe = nil
        }
        if let sharpe, let tradesPerYear, tradesPerYear > 0 {
            annualisedSharpe = sharpe * tradesPerYear.squareRoot()
        } else {
            annualisedSharpe = nil
        }
    }

    /// Per-trade returns in exit-time order, as defined for `meanReturn`: the samples a t-test
    /// on returns compares.
    public static func returns(of trades: [ClosedTrade], startingBalance: Decimal) -> [Double] {
        var equity = startingBalance
        var result: [Double] = []
        for trade in trades.sorted(by: exitOrder) {
            if equity != 0 { result.append(self.return(trade.netPnL, on: equity)) }
            equity += trade.netPnL
        }
        return result
    }

    /// A trade's return on the equity before it, divided in `Double`: both are short decimals
    /// (money), each converted exactly or correctly rounded, where their `Decimal` quotient has
    /// 38 digits and converted only through its text (most of a report's time).
    static func `return`(_ net: Decimal, on equity: Decimal) -> Double {
        double(net) / double(equity)
    }

    static func double(_ value: Decimal) -> Double {
        DecimalMath.double(value)
    }

    static func rounded(_ value: Decimal, scale: Int) -> Decimal {
        DecimalMath.round(value, scale: scale, .bankers)
    }
}
