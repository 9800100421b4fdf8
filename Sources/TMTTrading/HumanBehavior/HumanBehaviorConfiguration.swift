import TMTBase

/// Settings of the human-behaviour core: the ranges each account's personality is drawn from,
/// the delay scale, and the bounds that keep orders from being held too long.
///
/// Ranges are the population of personalities; one account's personality is a single draw
/// from them, deterministic from `seed` and the account id (`HumanPersonality.derive`).
public struct HumanBehaviorConfiguration: Sendable, Equatable {
    /// Seed of every personality and every per-order draw. Default 20_251_125. Same seed and
    /// account id → same personality on every run and machine.
    public var seed: UInt64
    /// `HUMAN_DELAY_SCALE`: multiplies every reaction delay (including warm-up and the
    /// risk-reducing cap). 0 disables the core entirely: release immediately, sessions and
    /// breaks ignored, size unchanged (performance runs). Default 1. Unit: factor, ≥ 0.
    /// Session and break waits follow the wall clock and are not scaled (for any scale > 0).
    public var delayScale: Double
    /// Range of a personality's median reaction delay. Default 2…8. Unit: seconds.
    public var medianDelaySeconds: ClosedRange<Double>
    /// Range of a personality's spread: σ of the log of the delay (lognormal). Default 0.3…0.6.
    public var delaySpread: ClosedRange<Double>
    /// A drawn reaction delay is clamped to this before warm-up and scale. Default 0.5…60.
    /// Unit: seconds.
    public var delayClampSeconds: ClosedRange<Double>
    /// Time zones a personality lives in (IANA identifiers); one is drawn per account.
    /// Default `Europe/London`, `Europe/Berlin`, `America/New_York`.
    public var timeZones: [String]
    /// Range of the local session start. Default 420…570 (07:00…09:30). Unit: minutes after
    /// local midnight.
    public var sessionStartMinute: ClosedRange<Int>
    /// Range of the session length. Default 420…600 (7…10 h). Unit: minutes. Start + length
    /// must end before local midnight.
    public var sessionLengthMinutes: ClosedRange<Int>
    /// Probability that a personality takes a lunch break. Default 0.7. Unit: 0…1.
    public var lunchBreakProbability: Double
    /// Range of the lunch start. Default 720…810 (12:00…13:30). Unit: minutes after local midnight.
    public var lunchStartMinute: ClosedRange<Int>
    /// Range of the lunch length. Default 30…60. Unit: minutes.
    public var lunchLengthMinutes: ClosedRange<Int>
    /// Range of active time between short breaks. Default 60…120. Unit: minutes.
    public var activeMinutesBeforeBreak: ClosedRange<Int>
    /// Range of a short break's length. Default 3…10. Unit: minutes.
    public var shortBreakMinutes: ClosedRange<Int>
    /// Range of the warm-up after a session start or any break. Default 5…15. Unit: minutes.
    public var warmUpMinutes: ClosedRange<Int>
    /// Range of the delay factor at the very start of a warm-up (it falls linearly to 1 at the
    /// warm-up's end). Default 1.3…2.0. Unit: factor ≥ 1.
    public var warmUpFactor: ClosedRange<Double>
    /// The "nice" lot steps a personality may like to trade in; one is drawn per account as its
    /// coarsest habit. Default 0.01, 0.05, 0.1, 0.25, 0.5, 1. Unit: lots.
    public var niceLotSteps: [Decimal]
    /// Most a rounding may take off a proposed size before a finer step is used. Default 0.1
    /// (10 %). Unit: fraction 0…1.
    public var maxRoundingLossFraction: Decimal
    /// Longest an order is held in total (waits + delay); past it the order is released
    /// anyway. Default 57_600 (16 h, so an evening order still meets the next morning's open).
    /// Unit: seconds.
    public var maxHoldSeconds: Double
    /// Longest a risk-reducing order is held (before scale); such orders skip session and
    /// break waits, warm-up and rounding. Default 2. Unit: seconds.
    public var riskReducingCapSeconds: Double
    /// `HUMAN_MAX_RELEASE_LATENESS_SECONDS`: a queued order whose release comes later than this
    /// after its planned time (the agent was down, or the queue was far behind) is cancelled
    /// instead of traded: a trader back after an absence does not act on a signal that old.
    /// Risk-reducing orders are released however late. Default 60. Unit: seconds, > 0.
    public var maxReleaseLatenessSeconds: Double = 60

    public init(seed: UInt64 = 20_251_125, delayScale: Double = 1, medianDelaySeconds: ClosedRange<Double> = 2...8,
                delaySpread: ClosedRange<Double> = 0.3...0.6, delayClampSeconds: ClosedRange<Double> = 0.5...60,
                timeZones: [String] = ["Europe/London", "Europe/Berlin", "America/New_York"],
                sessionStartMinute: ClosedRange<Int> = 420...570, sessionLengthMinutes: ClosedRange<Int> = 420...600,
                lunchBreakProbability: Double = 0.7, lunchStartMinute: ClosedRange<Int> = 720...810,
                lunchLengthMinutes: ClosedRange<Int> = 30...60, activeMinutesBeforeBreak: ClosedRange<Int> = 60...120,
                shortBreakMinutes: ClosedRange<Int> = 3...10, warmUpMinutes: ClosedRange<Int> = 5...15,
                warmUpFactor: ClosedRange<Double> = 1.3...2.0,
                niceLotSteps: [Decimal] = [Decimal(string: "0.01")!, Decimal(string: "0.05")!, Decimal(string: "0.1")!,
                                           Decimal(string: "0.25")!, Decimal(string: "0.5")!, 1],
                maxRoundingLossFraction: Decimal = Decimal(string: "0.1")!, maxHoldSeconds: Double = 57_600,
                riskReducingCapSeconds: Double = 2) {
        self.seed = seed
        self.delayScale = delayScale
        self.medianDelaySeconds = medianDelaySeconds
        self.delaySpread = delaySpread
        self.delayClampSeconds = delayClampSeconds
        self.timeZones = timeZones
        self.sessionStartMinute = sessionStartMinute
        self.sessionLengthMinutes = sessionLengthMinutes
        self.lunchBreakProbability = lunchBreakProbability
        self.lunchStartMinute = lunchStartMinute
        self.lunchLengthMinutes = lunchLengthMinutes
        self.activeMinutesBeforeBreak = activeMinutesBeforeBreak
        self.shortBreakMinutes = shortBreakMinutes
        self.warmUpMinutes = warmUpMinutes
        self.warmUpFactor = warmUpFactor
        self.niceLotSteps = niceLotSteps
        self.maxRoundingLossFraction = maxRoundingLossFraction
        self.maxHoldSeconds = maxHoldSeconds
        self.riskReducingCapSeconds = riskReducingCapSeconds
    }

    /// Throws a `.configuration` error naming the first invalid field and what it must be.
    public func validate() throws(TMTError) {
        func fail(_ field: String, _ problem: String) -> TMTError {
            TMTError(.configuration, "human-behavior configuration: \(field) \(problem)")
        }
        func positive(_ r: ClosedRange<Double>) -> Bool { r.lowerBound > 0 && r.upperBound.isFinite }
        if !delayScale.isFinite || delayScale < 0 { throw fail("delayScale", "must be a finite number ≥ 0, got \(delayScale)") }
        if !positive(medianDelaySeconds) { throw fail("medianDelaySeconds", "must be a finite range above 0") }
        if delaySpread.lowerBound < 0 || !delaySpread.upperBound.isFinite || delaySpread.upperBound > 3 {
            throw fail("delaySpread", "must lie in [0, 3]")
        }
        if !positive(delayClampSeconds) { throw fail("delayClampSeconds", "must be a finite range above 0") }
        if timeZones.isEmpty { throw fail("timeZones", "must name at least one time zone") }
        for zone in timeZones where ZoneInfo(identifier: zone) == nil {
            throw fail("timeZones", "has an unknown time zone '\(zone)' (zones are read from the tz database at \(ZoneInfo.databaseDirectory))")
        }
        if sessionStartMinute.lowerBound < 0 { throw fail("sessionStartMinute", "must be ≥ 0") }
        if sessionLengthMinutes.lowerBound < 30 { throw fail("sessionLengthMinutes", "must be ≥ 30") }
        if sessionStartMinute.upperBound + sessionLengthMinutes.upperBound > 1440 {
            throw fail("sessionLengthMinutes", "must end the latest session by local midnight (start + length ≤ 1440)")
        }
        if !(0...1).contains(lunchBreakProbability) { throw fail("lunchBreakProbability", "must lie in [0, 1]") }
        if lunchStartMinute.lowerBound < 0 || lunchStartMinute.upperBound >= 1440 {
            throw fail("lunchStartMinute", "must lie in [0, 1440)")
        }
        if lunchLengthMinutes.lowerBound < 1 { throw fail("lunchLengthMinutes", "must be ≥ 1") }
        if activeMinutesBeforeBreak.lowerBound < 1 { throw fail("activeMinutesBeforeBreak", "must be ≥ 1") }
        if shortBreakMinutes.lowerBound < 0 { throw fail("shortBreakMinutes", "must be ≥ 0") }
        if warmUpMinutes.lowerBound < 0 { throw fail("warmUpMinutes", "must be ≥ 0") }
        if warmUpFactor.lowerBound < 1 || !warmUpFactor.upperBound.isFinite { throw fail("warmUpFactor", "must be a finite range ≥ 1") }
        if niceLotSteps.isEmpty || niceLotSteps.contains(where: { $0 <= 0 }) {
            throw fail("niceLotSteps", "must hold at least one step, all above 0")
        }
        if maxRoundingLossFraction < 0 || maxRoundingLossFraction >= 1 {
            throw fail("maxRoundingLossFraction", "must lie in [0, 1)")
        }
        if !maxHoldSeconds.isFinite || maxHoldSeconds <= 0 { throw fail("maxHoldSeconds", "must be a finite number above 0") }
        if !riskReducingCapSeconds.isFinite || riskReducingCapSeconds < 0 {
            throw fail("riskReducingCapSeconds", "must be a finite number ≥ 0")
        }
        if !maxReleaseLatenessSeconds.isFinite || maxReleaseLatenessSeconds <= 0 {
            throw fail("maxReleaseLatenessSeconds", "must be a finite number above 0")
        }
    }

    /// This configuration with `HUMAN_DELAY_SCALE` and `HUMAN_MAX_RELEASE_LATENESS_SECONDS` applied
    /// when they are set, validated; a malformed or out-of-range value is an error naming the variable.
    public func applying(environment: Environment) throws -> HumanBehaviorConfiguration {
        var copy = self
        copy.delayScale = try environment.double("HUMAN_DELAY_SCALE", default: delayScale, range: 0...1_000_000)
        copy.maxReleaseLatenessSeconds = try environment.double("HUMAN_MAX_RELEASE_LATENESS_SECONDS", default: maxReleaseLatenessSeconds,
                                                                range: 0.001...604_800)
        try copy.validate()
        return copy
    }
}
