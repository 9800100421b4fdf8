import TMTBase

/// A drawdown loss accepted by an operator reset: until the day rolls over (the start-of-day
/// equity changes), the loss is measured from `acceptedEquity` instead of from the start of
/// the day, so a reset resumes trading without the same loss re-tripping at the next update.
/// The percentage is still taken of the start-of-day equity.
public struct DrawdownBaseline: Codable, Sendable, Equatable {
    /// The start-of-day equity when the reset happened; a different one means a new day.
    public var startOfDayEquity: Decimal
    /// The equity at the reset; losses below it count.
    public var acceptedEquity: Decimal
    /// When the reset happened, µs since the epoch.
    public var acceptedAt: Int64

    public init(startOfDayEquity: Decimal, acceptedEquity: Decimal, acceptedAt: Int64) {
        self.startOfDayEquity = startOfDayEquity
        self.acceptedEquity = acceptedEquity
        self.acceptedAt = acceptedAt
    }
}
