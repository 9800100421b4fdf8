import TMTBase

/// What `ShadowEvaluator.evaluate` found: both runs' trades and statistics, and the decision.
public struct ShadowEvaluation: Sendable, Equatable {
    /// Trades closed with the baseline parameters.
    public var baselineTrades: [ClosedTrade]
    /// Trades closed with the variant parameters.
    public var variantTrades: [ClosedTrade]
    /// Statistics of `baselineTrades`.
    public var baselineStatistics: TradeStatistics
    /// Statistics of `variantTrades`.
    public var variantStatistics: TradeStatistics
    /// Whether to propose the variant, and why not.
    public var decision: ProposalDecision

    public init(baselineTrades: [ClosedTrade], variantTrades: [ClosedTrade], baselineStatistics: TradeStatistics,
                variantStatistics: TradeStatistics, decision: ProposalDecision) {
        self.baselineTrades = baselineTrades
        self.variantTrades = variantTrades
        self.baselineStatistics = baselineStatistics
        self.variantStatistics = variantStatistics
        self.decision = decision
    }
}
