import TMTBase

/// What continuous improvement publishes on `improvement.proposals` when a shadow variant
/// passes the proposal policy: the experiment to approve and the evidence for it. The same
/// figures are stored in the `experiments` row.
public struct ImprovementProposal: Codable, Sendable, Equatable {
    /// The experiment id (`POST /api/v1/experiments/:id/approve` starts its rollout).
    public var experimentId: String
    /// The service whose parameters change, e.g. `wyckoff-analysis`.
    public var service: String
    /// The variant's name from the configuration.
    public var variant: String
    /// The parameter changes, as `config.updates` carries them.
    public var parameters: [String: String]
    /// The baseline's values of the same parameters (restored on rollback or stop).
    public var baseline: [String: String]
    /// The metric compared (`expectancy` or `meanReturn`).
    public var metric: String
    /// Two-sided Welch p-value.
    public var pValue: Double
    /// Relative improvement of the metric, in percent.
    public var improvementPercent: Double
    /// Shadow trades of the baseline and of the variant.
    public var baselineTrades: Int
    public var variantTrades: Int
    /// Statistics of both runs.
    public var baselineStatistics: TradeStatistics
    public var variantStatistics: TradeStatistics
    /// Instruments and bar window the shadow runs replayed (µs since the epoch).
    public var instruments: [String]
    public var barsFrom: Int64
    public var barsTo: Int64

    public init(experimentId: String, service: String, variant: String, parameters: [String: String], baseline: [String: String],
                metric: String, pValue: Double, improvementPercent: Double, baselineTrades: Int, variantTrades: Int,
                baselineStatistics: TradeStatistics, variantStatistics: TradeStatistics, instruments: [String],
                barsFrom: Int64, barsTo: Int64) {
        self.experimentId = experimentId
        self.service = service
        self.variant = variant
        self.parameters = parameters
        self.baseline = baseline
        self.metric = metric
        self.pValue = pValue
        self.improvementPercent = improvementPercent
        self.baselineTrades = baselineTrades
        self.variantTrades = variantTrades
        self.baselineStatistics = baselineStatistics
        self.variantStatistics = variantStatistics
        self.instruments = instruments
        self.barsFrom = barsFrom
        self.barsTo = barsTo
    }
}
