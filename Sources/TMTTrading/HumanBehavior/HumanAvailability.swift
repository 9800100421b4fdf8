import TMTBase

/// When a personality is next at the desk, seen from some instant: the first active instant
/// at or after it, how much of the wait was outside the session and how much was a break, and
/// when the current active stretch began (for the warm-up).
public struct HumanAvailability: Sendable, Equatable {
    /// First instant at or after the asked one when the trader is active.
    public var activeAt: Date
    /// Wait spent outside the trading session. Unit: seconds.
    public var sessionWaitSeconds: Double
    /// Wait spent in the lunch or a short break. Unit: seconds.
    public var breakWaitSeconds: Double
    /// Start of the active stretch containing `activeAt`: the session open, the end of lunch or
    /// the end of the last short break.
    public var stretchStart: Date

    public init(activeAt: Date, sessionWaitSeconds: Double, breakWaitSeconds: Double, stretchStart: Date) {
        self.activeAt = activeAt
        self.sessionWaitSeconds = sessionWaitSeconds
        self.breakWaitSeconds = breakWaitSeconds
        self.stretchStart = stretchStart
    }

    /// Seconds since the active stretch began, at `activeAt`.
    public var secondsIntoStretch: Double { activeAt.timeIntervalSince(stretchStart) }
}
