import Foundation

/// One trading day of a firm: from its reset time (usually local midnight) in the firm's time
/// zone to the next one. Computed with `Calendar` in that zone, so a day across a DST change is
/// 23 or 25 hours long, as the firm's own clock sees it.
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
    /// A reset time that does not exist on a spring-forward day moves to the first instant
    /// after the gap, as `Calendar` resolves it.
    public static func containing(_ instant: Date, timeZone: TimeZone, reset: FirmRules.TimeOfDay = .midnight) -> FirmTradingDay {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        // Anchor on local noon: adding whole days to noon never lands in a DST gap.
        let noon = localDate(cal, sameDayAs: instant, time: FirmRules.TimeOfDay(hour: 12, minute: 0)) ?? instant
        func shift(_ days: Int) -> Date { cal.date(byAdding: .day, value: days, to: noon) ?? noon.addingTimeInterval(Double(days) * 86_400) }
        func resetOn(_ dayNoon: Date) -> Date { localDate(cal, sameDayAs: dayNoon, time: reset) ?? dayNoon }
        var start = resetOn(noon)
        var end: Date
        if start > instant {
            end = start
            start = resetOn(shift(-1))
        } else {
            end = resetOn(shift(1))
        }
        let last = cal.dateComponents([.year, .month, .day], from: end.addingTimeInterval(-1))
        let label = String(format: "%04d-%02d-%02d", last.year ?? 0, last.month ?? 0, last.day ?? 0)
        return FirmTradingDay(start: start, end: end, label: label)
    }

    /// Whether `instant` lies in `[start, end)`.
    public func contains(_ instant: Date) -> Bool { instant >= start && instant < end }

    /// Length of the day in seconds (86,400 except across a DST change).
    public var duration: TimeInterval { end.timeIntervalSince(start) }

    public static func < (lhs: FirmTradingDay, rhs: FirmTradingDay) -> Bool { lhs.start < rhs.start }

    public var description: String { label }

    /// `time` on the local calendar date of `day` in `cal`'s time zone.
    static func localDate(_ cal: Calendar, sameDayAs day: Date, time: FirmRules.TimeOfDay) -> Date? {
        var c = cal.dateComponents([.year, .month, .day], from: day)
        c.hour = time.hour
        c.minute = time.minute
        c.second = 0
        return cal.date(from: c)
    }
}
