import TMTBase

/// How one account's imaginary trader behaves: how fast they react, when they are at the desk,
/// when they pause, how slowly they start, and which lot sizes they like.
///
/// Deterministic from the configuration's seed and the account id (`derive`), so every
/// replica of the agent and every restart gives an account the same habits. Times of day are
/// minutes after local midnight in `timeZoneIdentifier`; a session does not cross midnight.
/// Sessions run every calendar day (weekends are left to the market simulator's own hours).
public struct HumanPersonality: Sendable, Equatable {
    /// The account this personality belongs to.
    public var accountId: String
    /// Median reaction delay. Unit: seconds.
    public var medianDelaySeconds: Double
    /// σ of the log of the reaction delay (lognormal spread).
    public var delaySpread: Double
    /// IANA time zone of the trader's desk, e.g. `Europe/London`.
    public var timeZoneIdentifier: String
    /// Session open. Unit: minutes after local midnight.
    public var sessionStartMinute: Int
    /// Session close (exclusive). Unit: minutes after local midnight, ≤ 1440.
    public var sessionEndMinute: Int
    /// Lunch start, or nil for no lunch break. Unit: minutes after local midnight.
    public var lunchStartMinute: Int?
    /// Lunch length. Unit: minutes.
    public var lunchMinutes: Int
    /// Active time after the session open or lunch before each short break. Unit: minutes ≥ 1.
    public var activeMinutesBeforeBreak: Int
    /// Length of each short break. Unit: minutes.
    public var shortBreakMinutes: Int
    /// Warm-up after the session open and after every break. Unit: minutes.
    public var warmUpMinutes: Int
    /// Delay factor at the first instant of a warm-up, falling linearly to 1 at its end (≥ 1).
    public var warmUpFactor: Double
    /// The coarsest "nice" lot step this trader likes to type (e.g. 0.05 → 1.35, not 1.37).
    public var roundingStep: Decimal

    public init(accountId: String, medianDelaySeconds: Double, delaySpread: Double, timeZoneIdentifier: String,
                sessionStartMinute: Int, sessionEndMinute: Int, lunchStartMinute: Int?, lunchMinutes: Int,
                activeMinutesBeforeBreak: Int, shortBreakMinutes: Int, warmUpMinutes: Int, warmUpFactor: Double,
                roundingStep: Decimal) {
        self.accountId = accountId
        self.medianDelaySeconds = medianDelaySeconds
        self.delaySpread = delaySpread
        self.timeZoneIdentifier = timeZoneIdentifier
        self.sessionStartMinute = sessionStartMinute
        self.sessionEndMinute = sessionEndMinute
        self.lunchStartMinute = lunchStartMinute
        self.lunchMinutes = lunchMinutes
        self.activeMinutesBeforeBreak = activeMinutesBeforeBreak
        self.shortBreakMinutes = shortBreakMinutes
        self.warmUpMinutes = warmUpMinutes
        self.warmUpFactor = warmUpFactor
        self.roundingStep = roundingStep
    }

    /// The personality of `accountId`: one draw from the configuration's ranges on the
    /// sub-stream `human-personality:<accountId>` of the configuration's seed. A lunch that
    /// would not fit inside the session is dropped.
    public static func derive(accountId: String, configuration c: HumanBehaviorConfiguration) -> HumanPersonality {
        var rng = SeededRandom.derived(seed: c.seed, stream: "human-personality:" + accountId)
        func draw(_ r: ClosedRange<Double>) -> Double { r.lowerBound + rng.uniform() * (r.upperBound - r.lowerBound) }
        func draw(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.upperBound - r.lowerBound + 1)) }
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }

        let median = draw(c.medianDelaySeconds)
        let spread = draw(c.delaySpread)
        let zone = pick(c.timeZones)
        let start = draw(c.sessionStartMinute)
        let end = min(1440, start + draw(c.sessionLengthMinutes))
        let takesLunch = rng.uniform() < c.lunchBreakProbability
        let lunchStart = draw(c.lunchStartMinute)
        let lunchLength = draw(c.lunchLengthMinutes)
        let lunchFits = lunchStart > start && lunchStart + lunchLength < end
        return HumanPersonality(accountId: accountId, medianDelaySeconds: median, delaySpread: spread, timeZoneIdentifier: zone,
                                sessionStartMinute: start, sessionEndMinute: end,
                                lunchStartMinute: takesLunch && lunchFits ? lunchStart : nil, lunchMinutes: lunchLength,
                                activeMinutesBeforeBreak: draw(c.activeMinutesBeforeBreak), shortBreakMinutes: draw(c.shortBreakMinutes),
                                warmUpMinutes: draw(c.warmUpMinutes), warmUpFactor: draw(c.warmUpFactor),
                                roundingStep: pick(c.niceLotSteps))
    }

    /// A reaction delay drawn from this personality's lognormal: median × e^(σ·z), z standard
    /// normal from `rng`, clamped to `clamp`. Unit: seconds.
    public func drawDelay(_ rng: inout SeededRandom, clamp: ClosedRange<Double>) -> Double {
        let raw = medianDelaySeconds * exp(delaySpread * rng.normal())
        return min(max(raw, clamp.lowerBound), clamp.upperBound)
    }
}
