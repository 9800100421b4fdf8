import Foundation

extension HumanPersonality {
    /// When this trader is next active, from `instant`.
    ///
    /// The day is: session open → (active `activeMinutesBeforeBreak`, short break
    /// `shortBreakMinutes`) repeated → lunch → the same rhythm restarted from the end of lunch →
    /// session close. Breaks are a fixed function of the time of day rather than of the orders
    /// seen, so the answer needs no state and a redelivered order meets the same breaks.
    /// Wall times are resolved in the personality's time zone with `Calendar`, so the session
    /// follows daylight-saving changes.
    public func availability(from instant: Date) -> HumanAvailability {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZoneIdentifier) ?? TimeZone(identifier: "UTC")!
        let open = sessionStartMinute * 60
        let close = sessionEndMinute * 60
        let period = (max(1, activeMinutesBeforeBreak) + max(0, shortBreakMinutes)) * 60
        let activeLength = max(1, activeMinutesBeforeBreak) * 60

        var t = instant
        var sessionWait = 0.0
        var breakWait = 0.0
        // Each pass moves past one closed span (night, lunch, short break); a day has only a
        // few, so the bound is never reached for a valid personality.
        for _ in 0..<64 {
            let dayStart = calendar.startOfDay(for: t)
            let second = Self.secondOfDay(t, calendar)
            if second < Double(open) {
                let next = Self.local(dayStart, second: open, calendar)
                sessionWait += max(0, next.timeIntervalSince(t))
                t = next
                continue
            }
            if second >= Double(close) {
                let tomorrow = calendar.date(byAdding: .day, value: 1, to: dayStart) ?? dayStart.addingTimeInterval(86_400)
                let next = Self.local(tomorrow, second: open, calendar)
                sessionWait += max(0, next.timeIntervalSince(t))
                t = next
                continue
            }
            var stretch = open
            if let lunchStartMinute {
                let lunchStart = lunchStartMinute * 60, lunchEnd = min(close, (lunchStartMinute + lunchMinutes) * 60)
                if second >= Double(lunchStart) && second < Double(lunchEnd) {
                    let next = Self.local(dayStart, second: lunchEnd, calendar)
                    breakWait += max(0, next.timeIntervalSince(t))
                    t = next
                    continue
                }
                if second >= Double(lunchEnd) { stretch = lunchEnd }
            }
            let offset = Int(second) - stretch
            let k = offset / period
            if offset - k * period >= activeLength {
                let resume = min(close, stretch + (k + 1) * period)
                let next = Self.local(dayStart, second: resume, calendar)
                breakWait += max(0, next.timeIntervalSince(t))
                t = next
                continue
            }
            let stretchStart = Self.local(dayStart, second: stretch + k * period, calendar)
            return HumanAvailability(activeAt: t, sessionWaitSeconds: sessionWait, breakWaitSeconds: breakWait,
                                     stretchStart: min(stretchStart, t))
        }
        return HumanAvailability(activeAt: t, sessionWaitSeconds: sessionWait, breakWaitSeconds: breakWait, stretchStart: t)
    }

    /// The warm-up factor at `availability`: `warmUpFactor` at the first instant of a stretch,
    /// falling linearly to 1 at `warmUpMinutes` into it.
    public func warmUp(at availability: HumanAvailability) -> Double {
        let length = Double(warmUpMinutes) * 60
        let into = availability.secondsIntoStretch
        guard length > 0, into < length else { return 1 }
        return 1 + (max(1, warmUpFactor) - 1) * (1 - max(0, into) / length)
    }

    private static func secondOfDay(_ t: Date, _ calendar: Calendar) -> Double {
        let c = calendar.dateComponents([.hour, .minute, .second, .nanosecond], from: t)
        let hours: Int = c.hour ?? 0
        let minutes: Int = c.minute ?? 0
        let seconds: Int = c.second ?? 0
        let whole: Int = hours * 3600 + minutes * 60 + seconds
        let fraction: Double = Double(c.nanosecond ?? 0) / 1e9
        return Double(whole) + fraction
    }

    private static func local(_ dayStart: Date, second: Int, _ calendar: Calendar) -> Date {
        if second >= 86_400 {
            return calendar.date(byAdding: .day, value: 1, to: dayStart) ?? dayStart.addingTimeInterval(86_400)
        }
        return calendar.date(bySettingHour: second / 3600, minute: second % 3600 / 60, second: second % 60, of: dayStart)
            ?? dayStart.addingTimeInterval(Double(second))
    }
}
