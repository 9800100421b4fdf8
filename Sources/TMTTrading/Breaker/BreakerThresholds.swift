import TMTBase

/// Every threshold of the circuit breaker, with two presets: `standard` (the default) and
/// `loose` (`CIRCUIT_BREAKER_THRESHOLDS_LOOSE=true`, for staging chaos and load tests, where the
/// default limits would trip on purpose-made disturbances).
///
/// | threshold | standard | loose |
/// |---|---|---|
/// | account daily drawdown (warning at 80 % of it) | 4 % | 8 % |
/// | system drawdown (warning at 80 % of it) | 3 % | 8 % |
/// | heartbeat interval; warning / trip after | 5 s; 2 / 3 intervals | 5 s; 4 / 6 intervals |
/// | system errors+DLQ per minute, warning / trip (60 s window) | 10 / 30 | 50 / 150 |
/// | one agent's errors per minute, warning / trip | 5 / 15 | 25 / 75 |
/// | pipeline latency p95, warning / trip (60 s, ≥ 20 orders) | 0.5 s / 2 s | 2 s / 8 s |
/// | one agent's processing p95, warning / trip | 0.25 s / 1 s | 1 s / 4 s |
/// | one-tick price gap (trip) | 0.5 % | 2 % |
/// | realised volatility over 60 s, warning / trip (≥ 10 returns) | 0.25 % / 0.5 % | 1 % / 2 % |
/// | critical agents down for HALTED | 2 | 3 |
/// | recovery timeout agent / account / system / instrument | 30 / 300 / 120 / 60 s | 10 / 60 / 30 / 15 s |
///
/// Comparisons are inclusive: a metric exactly at its trip level trips, exactly at its warning
/// level warns. A warning clears once the metric is strictly below `warning × (1 −
/// hysteresisFraction)` (default 10 %: a 3.20 % drawdown warning clears below 2.88 %).
public struct BreakerThresholds: Sendable, Equatable {
    // MARK: Drawdown

    /// Account breaker trips when the day's loss (daily P&L incl. open, against the start-of-day
    /// equity) reaches this, in percent. Standard 4, loose 8.
    public var accountDailyDrawdownPercent: Decimal
    /// System breaker trips when the aggregate day's loss of all accounts reaches this percentage
    /// of their aggregate start-of-day equity. Standard 3, loose 8.
    public var systemDrawdownPercent: Decimal
    /// Both drawdown warnings fire at this fraction of their limit. Default 0.8.
    public var drawdownWarningFraction: Decimal

    // MARK: Heartbeats

    /// The interval agents publish heartbeats at, seconds. Default 5.
    public var heartbeatIntervalSeconds: Double
    /// Agent breaker warns after this many intervals without a heartbeat. Standard 2, loose 4.
    public var heartbeatWarningIntervals: Double
    /// Agent breaker trips after this many intervals without a heartbeat. Standard 3, loose 6.
    public var heartbeatMissingIntervals: Double

    // MARK: Error / DLQ rate

    /// Sliding window of the error rates, seconds. Default 60.
    public var errorWindowSeconds: Double
    /// System warning: errors + DLQ messages per minute, all origins. Standard 10, loose 50.
    public var systemErrorsPerMinuteWarning: Double
    /// System trip, per minute. Standard 30, loose 150.
    public var systemErrorsPerMinuteTrip: Double
    /// Agent warning: errors per minute attributed to one agent. Standard 5, loose 25.
    public var agentErrorsPerMinuteWarning: Double
    /// Agent trip, per minute. Standard 15, loose 75.
    public var agentErrorsPerMinuteTrip: Double

    // MARK: Latency

    /// Sliding window of latency samples, seconds. Default 60.
    public var latencyWindowSeconds: Double
    /// The quantile judged (nearest rank), 0 < q ≤ 1. Default 0.95.
    public var latencyQuantile: Double
    /// Fewer samples than this in the window are no evidence: the latency condition stays clear.
    /// Default 20.
    public var latencyMinimumSamples: Int
    /// System warning: pipeline transit of an order (first hop in to last hop out, minus the
    /// deliberate holds of `latencyExemptAgents`), seconds. Standard 0.5, loose 2.
    public var pipelineLatencyWarningSeconds: Double
    /// System trip, seconds. Standard 2, loose 8.
    public var pipelineLatencyTripSeconds: Double
    /// Agent warning: one agent's processing time of an order (hop out − in), seconds.
    /// Standard 0.25, loose 1.
    public var agentLatencyWarningSeconds: Double
    /// Agent trip, seconds. Standard 1, loose 4.
    public var agentLatencyTripSeconds: Double
    /// Agents whose hop time is a deliberate hold, not latency (default `human-behavior`).
    public var latencyExemptAgents: Set<String>

    // MARK: Market

    /// Instrument breaker trips when one tick's mid moved this many percent from the previous
    /// tick's (there is no warning level: a gap is a single event). Standard 0.5, loose 2.
    public var priceGapPercent: Decimal
    /// Window of the realised volatility, seconds of tick time. Default 60.
    public var volatilityWindowSeconds: Double
    /// Instrument warning: realised volatility √Σr² of the tick-to-tick returns (in percent)
    /// inside the window. Standard 0.25, loose 1.
    public var volatilityWarningPercent: Decimal
    /// Instrument trip, percent. Standard 0.5, loose 2.
    public var volatilityTripPercent: Decimal
    /// Fewer returns than this in the window are no evidence. Default 10.
    public var volatilityMinimumReturns: Int

    // MARK: Behaviour

    /// Hysteresis of every warning, as a fraction of the warning level. Default 0.1.
    public var hysteresisFraction: Decimal
    /// This many critical agents tripped (or half-open) halts trading; fewer make it REDUCING.
    /// Standard 2, loose 3.
    public var criticalAgentsDownToHalt: Int
    /// Recovery of agent breakers. Standard 30 s (max 600 s), loose 10 s (max 120 s).
    public var agentRecovery: BreakerRecoveryPolicy
    /// Recovery of account breakers. Standard 300 s (max 3,600 s), loose 60 s (max 600 s).
    public var accountRecovery: BreakerRecoveryPolicy
    /// Recovery of the system breaker. Standard 120 s (max 1,800 s), loose 30 s (max 300 s).
    public var systemRecovery: BreakerRecoveryPolicy
    /// Recovery of instrument breakers. Standard 60 s (max 900 s), loose 15 s (max 120 s).
    public var instrumentRecovery: BreakerRecoveryPolicy

    /// The standard preset (see the table on the type).
    public static let standard = BreakerThresholds(
        accountDailyDrawdownPercent: 4, systemDrawdownPercent: 3, drawdownWarningFraction: Decimal(string: "0.8")!,
        heartbeatIntervalSeconds: 5, heartbeatWarningIntervals: 2, heartbeatMissingIntervals: 3,
        errorWindowSeconds: 60, systemErrorsPerMinuteWarning: 10, systemErrorsPerMinuteTrip: 30,
        agentErrorsPerMinuteWarning: 5, agentErrorsPerMinuteTrip: 15,
        latencyWindowSeconds: 60, latencyQuantile: 0.95, latencyMinimumSamples: 20,
        pipelineLatencyWarningSeconds: 0.5, pipelineLatencyTripSeconds: 2, agentLatencyWarningSeconds: 0.25,
        agentLatencyTripSeconds: 1, latencyExemptAgents: ["human-behavior"],
        priceGapPercent: Decimal(string: "0.5")!, volatilityWindowSeconds: 60, volatilityWarningPercent: Decimal(string: "0.25")!,
        volatilityTripPercent: Decimal(string: "0.5")!, volatilityMinimumReturns: 10,
        hysteresisFraction: Decimal(string: "0.1")!, criticalAgentsDownToHalt: 2,
        agentRecovery: BreakerRecoveryPolicy(timeoutSeconds: 30, maximumTimeoutSeconds: 600),
        accountRecovery: BreakerRecoveryPolicy(timeoutSeconds: 300, maximumTimeoutSeconds: 3600),
        systemRecovery: BreakerRecoveryPolicy(timeoutSeconds: 120, maximumTimeoutSeconds: 1800),
        instrumentRecovery: BreakerRecoveryPolicy(timeoutSeconds: 60, maximumTimeoutSeconds: 900))

    /// The loose preset (`CIRCUIT_BREAKER_THRESHOLDS_LOOSE=true`): every limit widened (drawdowns
    /// to 8 %, rates and latencies ×4–5, gaps and volatility ×4, heartbeats tolerate twice as
    /// many missed intervals, three critical agents down to halt) and recovery faster, so chaos
    /// tests see trips only for real disasters and recover within a test's patience.
    public static let loose = BreakerThresholds(
        accountDailyDrawdownPercent: 8, systemDrawdownPercent: 8, drawdownWarningFraction: Decimal(string: "0.8")!,
        heartbeatIntervalSeconds: 5, heartbeatWarningIntervals: 4, heartbeatMissingIntervals: 6,
        errorWindowSeconds: 60, systemErrorsPerMinuteWarning: 50, systemErrorsPerMinuteTrip: 150,
        agentErrorsPerMinuteWarning: 25, agentErrorsPerMinuteTrip: 75,
        latencyWindowSeconds: 60, latencyQuantile: 0.95, latencyMinimumSamples: 20,
        pipelineLatencyWarningSeconds: 2, pipelineLatencyTripSeconds: 8, agentLatencyWarningSeconds: 1,
        agentLatencyTripSeconds: 4, latencyExemptAgents: ["human-behavior"],
        priceGapPercent: 2, volatilityWindowSeconds: 60, volatilityWarningPercent: 1,
        volatilityTripPercent: 2, volatilityMinimumReturns: 10,
        hysteresisFraction: Decimal(string: "0.1")!, criticalAgentsDownToHalt: 3,
        agentRecovery: BreakerRecoveryPolicy(timeoutSeconds: 10, maximumTimeoutSeconds: 120),
        accountRecovery: BreakerRecoveryPolicy(timeoutSeconds: 60, maximumTimeoutSeconds: 600),
        systemRecovery: BreakerRecoveryPolicy(timeoutSeconds: 30, maximumTimeoutSeconds: 300),
        instrumentRecovery: BreakerRecoveryPolicy(timeoutSeconds: 15, maximumTimeoutSeconds: 120))

    /// Every field explicitly; prefer `standard` or `loose` and change what differs.
    public init(accountDailyDrawdownPercent: Decimal, systemDrawdownPercent: Decimal, drawdownWarningFraction: Decimal,
                heartbeatIntervalSeconds: Double, heartbeatWarningIntervals: Double, heartbeatMissingIntervals: Double,
                errorWindowSeconds: Double, systemErrorsPerMinuteWarning: Double, systemErrorsPerMinuteTrip: Double,
                agentErrorsPerMinuteWarning: Double, agentErrorsPerMinuteTrip: Double,
                latencyWindowSeconds: Double, latencyQuantile: Double, latencyMinimumSamples: Int,
                pipelineLatencyWarningSeconds: Double, pipelineLatencyTripSeconds: Double, agentLatencyWarningSeconds: Double,
                agentLatencyTripSeconds: Double, latencyExemptAgents: Set<String>,
                priceGapPercent: Decimal, volatilityWindowSeconds: Double, volatilityWarningPercent: Decimal,
                volatilityTripPercent: Decimal, volatilityMinimumReturns: Int,
                hysteresisFraction: Decimal, criticalAgentsDownToHalt: Int,
                agentRecovery: BreakerRecoveryPolicy, accountRecovery: BreakerRecoveryPolicy,
                systemRecovery: BreakerRecoveryPolicy, instrumentRecovery: BreakerRecoveryPolicy) {
        self.accountDailyDrawdownPercent = accountDailyDrawdownPercent
        self.systemDrawdownPercent = systemDrawdownPercent
        self.drawdownWarningFraction = drawdownWarningFraction
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.heartbeatWarningIntervals = heartbeatWarningIntervals
        self.heartbeatMissingIntervals = heartbeatMissingIntervals
        self.errorWindowSeconds = errorWindowSeconds
        self.systemErrorsPerMinuteWarning = systemErrorsPerMinuteWarning
        self.systemErrorsPerMinuteTrip = systemErrorsPerMinuteTrip
        self.agentErrorsPerMinuteWarning = agentErrorsPerMinuteWarning
        self.agentErrorsPerMinuteTrip = agentErrorsPerMinuteTrip
        self.latencyWindowSeconds = latencyWindowSeconds
        self.latencyQuantile = latencyQuantile
        self.latencyMinimumSamples = latencyMinimumSamples
        self.pipelineLatencyWarningSeconds = pipelineLatencyWarningSeconds
        self.pipelineLatencyTripSeconds = pipelineLatencyTripSeconds
        self.agentLatencyWarningSeconds = agentLatencyWarningSeconds
        self.agentLatencyTripSeconds = agentLatencyTripSeconds
        self.latencyExemptAgents = latencyExemptAgents
        self.priceGapPercent = priceGapPercent
        self.volatilityWindowSeconds = volatilityWindowSeconds
        self.volatilityWarningPercent = volatilityWarningPercent
        self.volatilityTripPercent = volatilityTripPercent
        self.volatilityMinimumReturns = volatilityMinimumReturns
        self.hysteresisFraction = hysteresisFraction
        self.criticalAgentsDownToHalt = criticalAgentsDownToHalt
        self.agentRecovery = agentRecovery
        self.accountRecovery = accountRecovery
        self.systemRecovery = systemRecovery
        self.instrumentRecovery = instrumentRecovery
    }

    /// The environment variable that selects the loose preset.
    public static let looseEnvironmentKey = "CIRCUIT_BREAKER_THRESHOLDS_LOOSE"

    /// `loose` when `CIRCUIT_BREAKER_THRESHOLDS_LOOSE` is true, else `standard`; a value that is
    /// not a boolean stops start-up.
    public init(environment: Environment) throws {
        self = try environment.bool(Self.looseEnvironmentKey, default: false) ? .loose : .standard
    }

    /// The recovery policy of `tier`.
    public func recovery(for tier: BreakerTier) -> BreakerRecoveryPolicy {
        switch tier {
        case .agent: agentRecovery
        case .account: accountRecovery
        case .system: systemRecovery
        case .instrument: instrumentRecovery
        }
    }

    /// The clear level of a warning at `warning` (Decimal metrics).
    func clearBelow(_ warning: Decimal) -> Decimal { warning * (1 - hysteresisFraction) }

    /// The clear level of a warning at `warning` (Double metrics).
    func clearBelow(_ warning: Double) -> Double { warning * (1 - BreakerFormat.double(hysteresisFraction)) }

    /// Checks every value once at start-up; throws a configuration error listing each problem.
    public func validate() throws(TMTError) {
        var p: [String] = []
        func positive(_ v: Double, _ name: String) { if !(v > 0) { p.append("\(name) must be > 0, got \(v)") } }
        func positive(_ v: Decimal, _ name: String) { if !(v > 0) { p.append("\(name) must be > 0, got \(v)") } }
        func ordered(_ w: Double, _ t: Double, _ name: String) { if w > t { p.append("\(name): warning \(w) above trip \(t)") } }
        positive(accountDailyDrawdownPercent, "account_daily_drawdown_percent")
        positive(systemDrawdownPercent, "system_drawdown_percent")
        if !(drawdownWarningFraction > 0 && drawdownWarningFraction <= 1) { p.append("drawdown_warning_fraction must be in (0, 1]") }
        positive(heartbeatIntervalSeconds, "heartbeat_interval_seconds")
        positive(heartbeatWarningIntervals, "heartbeat_warning_intervals")
        ordered(heartbeatWarningIntervals, heartbeatMissingIntervals, "heartbeat intervals")
        positive(errorWindowSeconds, "error_window_seconds")
        positive(systemErrorsPerMinuteWarning, "system_errors_per_minute_warning")
        ordered(systemErrorsPerMinuteWarning, systemErrorsPerMinuteTrip, "system errors per minute")
        positive(agentErrorsPerMinuteWarning, "agent_errors_per_minute_warning")
        ordered(agentErrorsPerMinuteWarning, agentErrorsPerMinuteTrip, "agent errors per minute")
        positive(latencyWindowSeconds, "latency_window_seconds")
        if !(latencyQuantile > 0 && latencyQuantile <= 1) { p.append("latency_quantile must be in (0, 1]") }
        if latencyMinimumSamples < 1 { p.append("latency_minimum_samples must be ≥ 1") }
        positive(pipelineLatencyWarningSeconds, "pipeline_latency_warning_seconds")
        ordered(pipelineLatencyWarningSeconds, pipelineLatencyTripSeconds, "pipeline latency")
        positive(agentLatencyWarningSeconds, "agent_latency_warning_seconds")
        ordered(agentLatencyWarningSeconds, agentLatencyTripSeconds, "agent latency")
        positive(priceGapPercent, "price_gap_percent")
        positive(volatilityWindowSeconds, "volatility_window_seconds")
        positive(volatilityWarningPercent, "volatility_warning_percent")
        if volatilityWarningPercent > volatilityTripPercent { p.append("volatility: warning above trip") }
        if volatilityMinimumReturns < 1 { p.append("volatility_minimum_returns must be ≥ 1") }
        if !(hysteresisFraction >= 0 && hysteresisFraction < 1) { p.append("hysteresis_fraction must be in [0, 1)") }
        if criticalAgentsDownToHalt < 1 { p.append("critical_agents_down_to_halt must be ≥ 1") }
        for tier in BreakerTier.allCases { p += recovery(for: tier).problems("recovery.\(tier.rawValue)") }
        if !p.isEmpty { throw TMTError(.configuration, "circuit breaker thresholds: " + p.joined(separator: "; ")) }
    }
}
