import TMTBase
import TMTModels

/// Replays the same bars with the baseline and a variant parameter set through one simulator
/// (same detector, same fill model) and decides whether the variant is worth proposing.
public struct ShadowEvaluator: Sendable {
    /// Produces the trades for each parameter set.
    public var simulator: any ShadowTradeSimulator
    /// The proposal thresholds. Default `ProposalPolicy()`.
    public var policy: ProposalPolicy
    /// Equity base for returns and drawdowns, in the account currency. Default 100 000.
    public var startingBalance: Decimal

    public init(simulator: any ShadowTradeSimulator, policy: ProposalPolicy = ProposalPolicy(),
                startingBalance: Decimal = 100_000) {
        self.simulator = simulator
        self.policy = policy
        self.startingBalance = startingBalance
    }

    /// Simulates both parameter sets on `bars` and compares them; simulator errors propagate.
    public func evaluate(bars: [Bar], baseline: [String: String], variant: [String: String]) throws -> ShadowEvaluation {
        let baselineTrades = try simulator.simulate(bars: bars, parameters: baseline)
        let variantTrades = try simulator.simulate(bars: bars, parameters: variant)
        return ShadowEvaluation(
            baselineTrades: baselineTrades,
            variantTrades: variantTrades,
            baselineStatistics: TradeStatistics(trades: baselineTrades, startingBalance: startingBalance),
            variantStatistics: TradeStatistics(trades: variantTrades, startingBalance: startingBalance),
            decision: policy.decide(variant: variantTrades, baseline: baselineTrades, startingBalance: startingBalance))
    }
}
