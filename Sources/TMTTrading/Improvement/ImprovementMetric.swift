import TMTBase

/// The per-trade figure a variant is judged on, both by the t-test and by the relative
/// improvement threshold.
public enum ImprovementMetric: String, Codable, Sendable, CaseIterable {
    /// Net P&L per trade in the account currency (`TradeStatistics.expectancy`).
    case expectancy
    /// Net P&L per trade as a fraction of equity before it (`TradeStatistics.meanReturn`).
    case meanReturn

    /// The per-trade samples of this metric, in exit-time order.
    public func samples(_ trades: [ClosedTrade], startingBalance: Decimal) -> [Double] {
        switch self {
        case .expectancy:
            trades.sorted { ($0.exitTime, $0.id) < ($1.exitTime, $1.id) }
                .map { TradeStatistics.double($0.netPnL) }
        case .meanReturn:
            TradeStatistics.returns(of: trades, startingBalance: startingBalance)
        }
    }

    /// This metric's value in `statistics`.
    public func value(of statistics: TradeStatistics) -> Double {
        switch self {
        case .expectancy: TradeStatistics.double(statistics.expectancy)
        case .meanReturn: statistics.meanReturn
        }
    }

    /// `(variant − baseline) / |baseline|`: +0.01 is 1 % better. Dividing by the magnitude keeps
    /// the sign meaningful when the baseline loses money (−5 against −10 is +50 %). nil when the
    /// baseline is 0, where no relative change is defined.
    public static func relativeChange(variant: Double, baseline: Double) -> Double? {
        guard baseline != 0, baseline.isFinite, variant.isFinite else { return nil }
        return (variant - baseline) / abs(baseline)
    }
}
