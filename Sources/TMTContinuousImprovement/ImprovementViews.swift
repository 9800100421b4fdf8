import TMTBase
import Synchronization
import TMTCore
import TMTTrading

/// `GET /api/v1/analytics`.
struct AnalyticsView: Encodable {
    struct Row: Encodable {
        var dimension: String
        var key: String
        var trades: Int
        var wins: Int
        var losses: Int
        var winRate: Double
        /// nil when there was no loss; then `profitFactorInfinite` says whether there was profit.
        var profitFactor: Double?
        var profitFactorInfinite: Bool
        var grossProfit: Decimal
        var grossLoss: Decimal
        var netProfit: Decimal
        var expectancy: Decimal
        var meanReturn: Double
        var sharpe: Double?
        var maxDrawdown: Decimal
        var maxDrawdownPercent: Double
        var firstExitAt: Int64?
        var lastExitAt: Int64?

        init(_ r: AnalyticsRow) {
            let s = r.statistics
            dimension = r.dimension
            key = r.key
            trades = s.count
            wins = s.wins
            losses = s.losses
            winRate = s.winRate
            profitFactor = s.profitFactor
            profitFactorInfinite = s.profitFactorIsInfinite
            grossProfit = s.grossProfit
            grossLoss = s.grossLoss
            netProfit = s.netProfit
            expectancy = s.expectancy
            meanReturn = s.meanReturn
            sharpe = s.sharpe
            maxDrawdown = s.maxDrawdown
            maxDrawdownPercent = s.maxDrawdownPercent
            firstExitAt = r.firstExitAt
            lastExitAt = r.lastExitAt
        }
    }

    /// When the figures were computed; nil before the first run.
    var computedAt: Date?
    var rows: [Row]
}

/// `GET /api/v1/shadow`: the latest shadow cycle.
struct ShadowCycleView: Encodable, Sendable {
    struct VariantView: Encodable, Sendable {
        var variant: String
        var parameters: [String: String]
        /// `proposed`, `rejected`, `already_open` (its experiment is still pending or rolling) or `already_proposed` (an experiment from the same bars exists).
        var outcome: String
        var trades: Int
        var statistics: TradeStatistics
        var pValue: Double?
        var improvementPercent: Double?
        var reasons: [String]
    }

    var at: Date
    var instruments: [String]
    var bars: Int
    var barsFrom: Int64
    var barsTo: Int64
    var baselineTrades: Int
    var variants: [VariantView]
    var unchanged: [String]
}

/// An experiment for the API: its row's fields (the same names the gateway uses) and, while it
/// rolls, the current stage's observation.
struct ExperimentView: Encodable {
    var record: ExperimentRecord
    var observation: RolloutDriver.ObservationView?

    init(_ record: ExperimentRecord, observation: RolloutDriver.ObservationView?) {
        self.record = record
        self.observation = observation
    }

    private enum CodingKeys: String, CodingKey { case observation }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(observation, forKey: .observation)
    }
}

/// The analytics as gauges, one series per (dimension, key); a figure that becomes undefined
/// (Sharpe with one trade, profit factor without losses) loses its series rather than showing 0.
struct AnalyticsGauges: Sendable {
    let trades: GaugeFamily
    let winRate: GaugeFamily
    let profitFactor: GaugeFamily
    let expectancy: GaugeFamily
    let netProfit: GaugeFamily
    let sharpe: GaugeFamily
    let maxDrawdown: GaugeFamily
    let maxDrawdownPercent: GaugeFamily

    init(registry m: MetricsRegistry) {
        let labels = ["dimension", "key"]
        trades = m.gauge("tmt_improvement_trades", help: "Closed trades, by dimension (overall, pattern, instrument, account) and key.",
                         labels: labels)
        winRate = m.gauge("tmt_improvement_win_rate", help: "Share of closed trades with positive net P&L (0-1).", labels: labels)
        profitFactor = m.gauge("tmt_improvement_profit_factor",
                               help: "Gross profit / gross loss of closed trades (+Inf with profit and no loss; absent when undefined).",
                               labels: labels)
        expectancy = m.gauge("tmt_improvement_expectancy_usd", help: "Mean net P&L per closed trade, account currency.", labels: labels)
        netProfit = m.gauge("tmt_improvement_net_profit_usd", help: "Sum of net P&L of closed trades, account currency.", labels: labels)
        sharpe = m.gauge("tmt_improvement_sharpe", help: "Per-trade Sharpe ratio (mean / sd of per-trade returns), not annualised.",
                         labels: labels)
        maxDrawdown = m.gauge("tmt_improvement_max_drawdown_usd", help: "Largest fall of the closed-trade equity curve from a peak.",
                              labels: labels)
        maxDrawdownPercent = m.gauge("tmt_improvement_max_drawdown_percent", help: "That largest fall as a percentage of its peak.",
                                     labels: labels)
    }

    func set(_ rows: [AnalyticsRow]) {
        for r in rows {
            let l = [r.dimension, r.key]
            let s = r.statistics
            trades.labels(l).set(Double(s.count))
            winRate.labels(l).set(s.winRate)
            if let pf = s.profitFactor { profitFactor.labels(l).set(pf) } else if s.profitFactorIsInfinite {
                profitFactor.labels(l).set(.infinity)
            } else { profitFactor.remove(l) }
            expectancy.labels(l).set(Self.double(s.expectancy))
            netProfit.labels(l).set(Self.double(s.netProfit))
            if let sh = s.sharpe { sharpe.labels(l).set(sh) } else { sharpe.remove(l) }
            maxDrawdown.labels(l).set(Self.double(s.maxDrawdown))
            maxDrawdownPercent.labels(l).set(s.maxDrawdownPercent)
        }
    }

    static func double(_ d: Decimal) -> Double { DecimalMath.double(d) }
}
