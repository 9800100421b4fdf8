import TMTBase

/// One trading day of a firm: from its reset time (usually local midnight) in the firm's time
/// zone to the next one. Computed on the firm's wall clock (`ZoneInfo`), so a day across a DST
/// change is 23 or 25 hours long, as the firm's own clock sees it.
public struct FirmTradingDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// First instant of the day (inclusive).
    public let start: Date
    /// First instant of the next day (exclusive).
    public let end: Date
    /// The local calendar date the day belongs to, `YYYY-MM-DD`: the date of its last instant,
    /// so a day reset at 17:00 New York belongs to the following date (the futures convention)
    /// and a midnight-reset day to its own date.
    public let label: String

    public init(start: Date, end: Date, label: String) {
        self.start = start
        self.end = end
        self.label = label
    }

    /// The day containing `instant` for a firm in `timeZone` that resets at `reset` local time.
    /// A reset time that does not exist on a spring-forward day moves forward by the gap's
    /// length (as `Calendar.date(from:)` resolves it).
    public static func containing(_ instant: Date, timeZone: ZoneInfo, reset: FirmRules.TimeOfDay = .midnight) -> FirmTradingDay {
        let today = timeZone.local(instant).date
        let resetSecond = reset.hour * 3600 + reset.minute * 60
        func resetOn(_ date: CivilDate) -> Date { timeZone.instant(date, secondOfDay: resetSecond, gap: .shiftedByGap) }
        var start = resetOn(today)
        let end: Date
        if start > instant {
            end = start
            start = resetOn(today.adding(days: -1))
        } else {
            end = resetOn(today.adding(days: 1))
        }
        return FirmTradingDay(start: start, end: end, label: timeZone.local(end.addingTimeInterval(-1)).date.description)
    }

    /// Whether `instant` lies in `[start, end)`.
    public func contains(_ instant: Date) -> Bool { instant >= start && instant < end }

    /// Length of the day in seconds (86,400 except across a DST change).
    public var duration: TimeInterval { end.timeIntervalSince(start) }

    public static func < (lhs: FirmTradingDay, rhs: FirmTradingDay) -> Bool { lhs.start < rhs.start }

    public var description: String { label }
}
