import TMTBase

extension BreakerThresholds {
    /// These thresholds with the values present in `node` (the `thresholds:` mapping of
    /// `config/circuit-breaker-staging.yml`) replacing theirs; absent keys keep the preset's
    /// value. Unknown keys and bad values fail with file, line and key; the result is validated.
    ///
    /// ```yaml
    /// thresholds:
    ///   account_daily_drawdown_percent: 4     # percent of start-of-day equity
    ///   system_drawdown_percent: 3
    ///   drawdown_warning_fraction: 0.8
    ///   heartbeat_interval_seconds: 5
    ///   heartbeat_warning_intervals: 2
    ///   heartbeat_missing_intervals: 3
    ///   error_window_seconds: 60
    ///   system_errors_per_minute_warning: 10
    ///   system_errors_per_minute_trip: 30
    ///   agent_errors_per_minute_warning: 5
    ///   agent_errors_per_minute_trip: 15
    ///   latency_window_seconds: 60
    ///   latency_quantile: 0.95
    ///   latency_minimum_samples: 20
    ///   pipeline_latency_warning_seconds: 0.5
    ///   pipeline_latency_trip_seconds: 2
    ///   agent_latency_warning_seconds: 0.25
    ///   agent_latency_trip_seconds: 1
    ///   latency_exempt_agents:
    ///     - human-behavior
    ///   price_gap_percent: 0.5
    ///   volatility_window_seconds: 60
    ///   volatility_warning_percent: 0.25
    ///   volatility_trip_percent: 0.5
    ///   volatility_minimum_returns: 10
    ///   hysteresis_fraction: 0.1
    ///   critical_agents_down_to_halt: 2
    ///   recovery:
    ///     account:                          # also agent, system, instrument
    ///       timeout_seconds: 300
    ///       backoff_multiplier: 2
    ///       maximum_timeout_seconds: 3600
    ///       good_outcomes_to_close: 3
    ///       good_outcome_spacing_seconds: 1
    /// ```
    public func applying(_ node: ConfigNode) throws(YAMLError) -> BreakerThresholds {
        var t = self
        let decimals: [(String, WritableKeyPath<BreakerThresholds, Decimal>)] = [
            ("account_daily_drawdown_percent", \.accountDailyDrawdownPercent), ("system_drawdown_percent", \.systemDrawdownPercent),
            ("drawdown_warning_fraction", \.drawdownWarningFraction), ("price_gap_percent", \.priceGapPercent),
            ("volatility_warning_percent", \.volatilityWarningPercent), ("volatility_trip_percent", \.volatilityTripPercent),
            ("hysteresis_fraction", \.hysteresisFraction),
        ]
        let doubles: [(String, WritableKeyPath<BreakerThresholds, Double>)] = [
            ("heartbeat_interval_seconds", \.heartbeatIntervalSeconds), ("heartbeat_warning_intervals", \.heartbeatWarningIntervals),
            ("heartbeat_missing_intervals", \.heartbeatMissingIntervals), ("error_window_seconds", \.errorWindowSeconds),
            ("system_errors_per_minute_warning", \.systemErrorsPerMinuteWarning),
            ("system_errors_per_minute_trip", \.systemErrorsPerMinuteTrip),
            ("agent_errors_per_minute_warning", \.agentErrorsPerMinuteWarning), ("agent_errors_per_minute_trip", \.agentErrorsPerMinuteTrip),
            ("latency_window_seconds", \.latencyWindowSeconds), ("latency_quantile", \.latencyQuantile),
            ("pipeline_latency_warning_seconds", \.pipelineLatencyWarningSeconds),
            ("pipeline_latency_trip_seconds", \.pipelineLatencyTripSeconds),
            ("agent_latency_warning_seconds", \.agentLatencyWarningSeconds), ("agent_latency_trip_seconds", \.agentLatencyTripSeconds),
            ("volatility_window_seconds", \.volatilityWindowSeconds),
        ]
        let ints: [(String, WritableKeyPath<BreakerThresholds, Int>)] = [
            ("latency_minimum_samples", \.latencyMinimumSamples), ("volatility_minimum_returns", \.volatilityMinimumReturns),
            ("critical_agents_down_to_halt", \.criticalAgentsDownToHalt),
        ]
        let recoveries: [(String, WritableKeyPath<BreakerThresholds, BreakerRecoveryPolicy>)] = [
            ("agent", \.agentRecovery), ("account", \.accountRecovery), ("system", \.systemRecovery), ("instrument", \.instrumentRecovery),
        ]
        try node.allowOnly(Set(decimals.map(\.0) + doubles.map(\.0) + ints.map(\.0) + ["latency_exempt_agents", "recovery"]))
        for (name, path) in decimals { if let c = node.child(name) { t[keyPath: path] = try c.asDecimal() } }
        for (name, path) in doubles { if let c = node.child(name) { t[keyPath: path] = try c.asDouble() } }
        for (name, path) in ints { if let c = node.child(name) { t[keyPath: path] = try c.asInt() } }
        if let c = node.child("latency_exempt_agents") {
            var names: Set<String> = []
            for item in try c.items() { names.insert(try item.asString()) }
            t.latencyExemptAgents = names
        }
        if let recovery = node.child("recovery") {
            try recovery.allowOnly(Set(recoveries.map(\.0)))
            for (tier, path) in recoveries {
                guard let r = recovery.child(tier) else { continue }
                try r.allowOnly(["timeout_seconds", "backoff_multiplier", "maximum_timeout_seconds", "good_outcomes_to_close",
                                 "good_outcome_spacing_seconds"])
                var p = t[keyPath: path]
                p.timeoutSeconds = try r.double("timeout_seconds", default: p.timeoutSeconds)
                p.backoffMultiplier = try r.double("backoff_multiplier", default: p.backoffMultiplier)
                p.maximumTimeoutSeconds = try r.double("maximum_timeout_seconds", default: p.maximumTimeoutSeconds)
                p.goodOutcomesToClose = try r.int("good_outcomes_to_close", default: p.goodOutcomesToClose)
                p.goodOutcomeSpacingSeconds = try r.double("good_outcome_spacing_seconds", default: p.goodOutcomeSpacingSeconds)
                t[keyPath: path] = p
            }
        }
        do { try t.validate() } catch { throw node.error(error.message) }
        return t
    }
}
