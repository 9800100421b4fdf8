import TMTBase

/// How the variant did against the baseline during the current stage: the variant accounts'
/// trades versus the baseline accounts' trades, both since the stage started.
public struct RolloutObservation: Sendable, Equatable {
    /// Variant trades closed in this stage.
    public var variantTrades: Int
    /// The configured metric over the variant's trades.
    public var variantMetric: Double
    /// The same metric over the baseline's trades.
    public var baselineMetric: Double

    public init(variantTrades: Int, variantMetric: Double, baselineMetric: Double) {
        self.variantTrades = variantTrades
        self.variantMetric = variantMetric
        self.baselineMetric = baselineMetric
    }

    /// Builds the observation from both groups' statistics and the metric to compare.
    public init(variant: TradeStatistics, baseline: TradeStatistics, metric: ImprovementMetric) {
        self.init(variantTrades: variant.count, variantMetric: metric.value(of: variant),
                  baselineMetric: metric.value(of: baseline))
    }

    /// `(variant − baseline) / |baseline|`; nil when the baseline metric is 0.
    public var relativePerformance: Double? {
        ImprovementMetric.relativeChange(variant: variantMetric, baseline: baselineMetric)
    }
}
