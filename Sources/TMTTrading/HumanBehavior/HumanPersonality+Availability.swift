import TMTBase

extension HumanPersonality {
    /// When this trader is next active, from `instant`.
    ///
    /// The day is: session open → (active `activeMinutesBeforeBreak`, short break
    /// `shortBreakMinutes`) repeated → lunch → the same rhythm restarted from the end of lunch →
    /// session close. Breaks are a fixed function of the time of day rather than of the orders
    /// seen, so the answer needs no state and a redelivered order meets the same breaks.
    /// Wall times are resolved in the personality's time zone (`ZoneInfo`), so the session
    /// follows daylight-saving changes.
    public func availability(from instant: Date) -> HumanAvailability {
        let zone = ZoneInfo(identifier: timeZoneIdentifier) ?? .utc
        let open = sessionStartMinute * 60
        let close = sessionEndMinute * 60
        let period = (max(1, activeMinutesBeforeBreak) + max(0, shortBreakMinutes)) * 60
        let activeLength = max(1, activeMinutesBeforeBreak) * 60
        /// `second` seconds after the start of the local `day` (the next day's start from 24:00).
        func local(_ day: CivilDate, second: Int) -> Date {
            second >= 86_400 ? zone.startOfDay(day.adding(days: 1)) : zone.instant(day, secondOfDay: second, gap: .firstAfterGap)
        }

        var t = instant
        var sessionWait = 0.0
        var breakWait = 0.0
        // Each pass moves past one closed span (night, lunch, short break); a day has only a
        // few, so the bound is never reached for a valid personality.
        for _ in 0..<64 {
            let now = zone.local(t)
            let day = now.date
            let second = now.secondOfDay
            if second < Double(open) {
                let next = local(day, second: open)
                sessionWait += max(0, next.timeIntervalSince(t))
                t = next
                continue
            }
            if second >= Double(close) {
                let next = local(day.adding(days: 1), second: open)
                sessionWait += max(0, next.timeIntervalSince(t))
                t = next
                continue
            }
            var stretch = open
            if let lunchStartMinute {
                let lunchStart = lunchStartMinute * 60, lunchEnd = min(close, (lunchStartMinute + lunchMinutes) * 60)
                if second >= Double(lunchStart) && second < Double(lunchEnd) {
                    let next = local(day, second: lunchEnd)
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
                let next = local(day, second: resume)
                breakWait += max(0, next.timeIntervalSince(t))
                t = next
                continue
            }
            let stretchStart = local(day, second: stretch + k * period)
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
}
