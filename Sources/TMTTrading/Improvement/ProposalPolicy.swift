import TMTBase

/// When a shadow variant is good enough to propose on `improvement.proposals`: significantly
/// different from the baseline (Welch's t-test), better by a minimum relative margin, and
/// measured on enough trades.
public struct ProposalPolicy: Codable, Sendable, Equatable {
    /// The metric compared. Default `.expectancy`.
    public var metric: ImprovementMetric
    /// Largest two-sided p-value accepted (strictly below it passes). Default 0.05.
    public var significanceLevel: Double
    /// Smallest relative improvement of the metric over the baseline (fraction; 0.01 = 1 %,
    /// reached or exceeded passes). Default 0.01.
    public var minimumRelativeImprovement: Double
    /// Fewest variant trades (and baseline trades) needed before judging. Default 30.
    public var minimumSampleSize: Int

    public init(metric: ImprovementMetric = .expectancy, significanceLevel: Double = 0.05,
                minimumRelativeImprovement: Double = 0.01, minimumSampleSize: Int = 30) {
        self.metric = metric
        self.significanceLevel = significanceLevel
        self.minimumRelativeImprovement = minimumRelativeImprovement
        self.minimumSampleSize = minimumSampleSize
    }

    /// Compares variant trades with baseline trades (same bars, same fill model).
    /// - Parameter startingBalance: equity base for per-trade returns (account currency).
    public func decide(variant: [ClosedTrade], baseline: [ClosedTrade],
                       startingBalance: Decimal = 100_000) -> ProposalDecision {
        let variantStatistics = TradeStatistics(trades: variant, startingBalance: startingBalance)
        let baselineStatistics = TradeStatistics(trades: baseline, startingBalance: startingBalance)
        let test = WelchTTest.compare(metric.samples(variant, startingBalance: startingBalance),
                                      metric.samples(baseline, startingBalance: startingBalance))
        let relative = ImprovementMetric.relativeChange(variant: metric.value(of: variantStatistics),
                                                        baseline: metric.value(of: baselineStatistics))
        return decide(pValue: test?.pValue, relativeImprovement: relative,
                      variantCount: variant.count, baselineCount: baseline.count, test: test)
    }

    /// The decision from already-computed figures; nil p-value or improvement means
    /// "undefined" and fails that criterion.
    public func decide(pValue: Double?, relativeImprovement: Double?, variantCount: Int,
                       baselineCount: Int, test: WelchTTest? = nil) -> ProposalDecision {
        var reasons: [String] = []
        if variantCount < minimumSampleSize {
            reasons.append("variant has \(variantCount) trades, fewer than the minimum \(minimumSampleSize)")
        }
        if baselineCount < minimumSampleSize {
            reasons.append("baseline has \(baselineCount) trades, fewer than the minimum \(minimumSampleSize)")
        }
        if let pValue {
            if !(pValue < significanceLevel) {
                reasons.append("p-value \(pValue) is not below \(significanceLevel)")
            }
        } else {
            reasons.append("t-test undefined (fewer than 2 trades or no variance)")
        }
        if let relativeImprovement {
            if !(relativeImprovement >= minimumRelativeImprovement) {
                reasons.append("\(metric.rawValue) improvement \(relativeImprovement * 100) % is below \(minimumRelativeImprovement * 100) %")
            }
        } else {
            reasons.append("relative improvement undefined (baseline \(metric.rawValue) is 0)")
        }
        return ProposalDecision(propose: reasons.isEmpty, pValue: pValue,
                                relativeImprovement: relativeImprovement, test: test, reasons: reasons)
    }
}
