import TMTBase

/// How a tripped breaker of one tier recovers: timeout with exponential backoff, then
/// half-open until enough consecutive good outcomes.
public struct BreakerRecoveryPolicy: Sendable, Equatable {
    /// Seconds from the first trip to half-open.
    public var timeoutSeconds: Double
    /// Each consecutive re-trip (without closing to normal in between) multiplies the timeout by
    /// this (default 2).
    public var backoffMultiplier: Double
    /// Upper bound of the backed-off timeout, seconds.
    public var maximumTimeoutSeconds: Double
    /// Consecutive good outcomes in half-open that close the breaker (default 3).
    public var goodOutcomesToClose: Int
    /// Good outcomes closer together than this (seconds) count once, so a burst of ticks or
    /// repeated evaluations cannot close a breaker in a millisecond (default 1).
    public var goodOutcomeSpacingSeconds: Double

    public init(timeoutSeconds: Double, backoffMultiplier: Double = 2, maximumTimeoutSeconds: Double,
                goodOutcomesToClose: Int = 3, goodOutcomeSpacingSeconds: Double = 1) {
        self.timeoutSeconds = timeoutSeconds
        self.backoffMultiplier = backoffMultiplier
        self.maximumTimeoutSeconds = maximumTimeoutSeconds
        self.goodOutcomesToClose = goodOutcomesToClose
        self.goodOutcomeSpacingSeconds = goodOutcomeSpacingSeconds
    }

    /// The recovery timeout of the `trip`-th consecutive trip (1 = first):
    /// `min(timeout × multiplier^(trip − 1), maximum)` seconds.
    public func timeout(forTrip trip: Int) -> Double {
        let n = max(trip, 1)
        return min(timeoutSeconds * pow(backoffMultiplier, Double(n - 1)), maximumTimeoutSeconds)
    }

    /// Problems with the values, for start-up validation; empty when valid.
    func problems(_ name: String) -> [String] {
        var p: [String] = []
        if !(timeoutSeconds > 0) { p.append("\(name).timeout_seconds must be > 0") }
        if !(backoffMultiplier >= 1) { p.append("\(name).backoff_multiplier must be ≥ 1") }
        if !(maximumTimeoutSeconds >= timeoutSeconds) { p.append("\(name).maximum_timeout_seconds must be ≥ timeout_seconds") }
        if goodOutcomesToClose < 1 { p.append("\(name).good_outcomes_to_close must be ≥ 1") }
        if !(goodOutcomeSpacingSeconds >= 0) { p.append("\(name).good_outcome_spacing_seconds must be ≥ 0") }
        return p
    }
}
