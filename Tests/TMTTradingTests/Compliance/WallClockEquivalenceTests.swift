import Foundation
import TMTBase
import XCTest
@testable import TMTTrading

/// The firms' trading days, weekend cut-offs and the traders' availability moved from
/// Foundation's `Calendar` (ICU) to `ZoneInfo`. The Calendar versions they replaced are kept here
/// as references, and both answer the same for random instants across 2020–2040 in the staging
/// zones and others with unusual changes, with reset and cut-off times that fall in and next to
/// daylight-saving gaps.
final class WallClockEquivalenceTests: XCTestCase {
    static let zones = ["Europe/Prague", "Europe/London", "America/New_York", "UTC", "Australia/Sydney", "Asia/Tokyo", "Europe/Dublin",
                        "America/St_Johns"]
    static let times = [FirmRules.TimeOfDay(hour: 0, minute: 0), .init(hour: 17, minute: 0), .init(hour: 2, minute: 30),
                        .init(hour: 1, minute: 30), .init(hour: 23, minute: 59), .init(hour: 3, minute: 0)]

    // MARK: - The Calendar references (the code before ZoneInfo)

    private static func calendar(_ zone: String) -> Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: zone)!
        return c
    }

    private static func localDate(_ cal: Calendar, sameDayAs day: Date, time: FirmRules.TimeOfDay) -> Date? {
        var c = cal.dateComponents([.year, .month, .day], from: day)
        c.hour = time.hour
        c.minute = time.minute
        c.second = 0
        return cal.date(from: c)
    }

    private static func referenceDay(_ instant: Date, zone: String, reset: FirmRules.TimeOfDay) -> FirmTradingDay {
        let cal = calendar(zone)
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

    private static func referenceLatest(weekday: Int, time: FirmRules.TimeOfDay, atOrBefore instant: Date, zone: String) -> Date? {
        let cal = calendar(zone)
        for back in 0...7 {
            guard let day = cal.date(byAdding: .day, value: -back, to: instant), cal.component(.weekday, from: day) == weekday,
                  let at = localDate(cal, sameDayAs: day, time: time), at <= instant else { continue }
            return at
        }
        return nil
    }

    private static func referenceEarliest(weekday: Int, time: FirmRules.TimeOfDay, after instant: Date, zone: String) -> Date? {
        let cal = calendar(zone)
        for ahead in 0...7 {
            guard let day = cal.date(byAdding: .day, value: ahead, to: instant), cal.component(.weekday, from: day) == weekday,
                  let at = localDate(cal, sameDayAs: day, time: time), at > instant else { continue }
            return at
        }
        return nil
    }

    private static func referenceAvailability(_ p: HumanPersonality, from instant: Date) -> HumanAvailability {
        let calendar = calendar(p.timeZoneIdentifier)
        func secondOfDay(_ t: Date) -> Double {
            let c = calendar.dateComponents([.hour, .minute, .second, .nanosecond], from: t)
            let hours: Int = c.hour ?? 0, minutes: Int = c.minute ?? 0, seconds: Int = c.second ?? 0
            let whole: Int = hours * 3600 + minutes * 60 + seconds
            let fraction: Double = Double(c.nanosecond ?? 0) / 1e9
            return Double(whole) + fraction
        }
        func local(_ dayStart: Date, second: Int) -> Date {
            if second >= 86_400 { return calendar.date(byAdding: .day, value: 1, to: dayStart) ?? dayStart.addingTimeInterval(86_400) }
            return calendar.date(bySettingHour: second / 3600, minute: second % 3600 / 60, second: second % 60, of: dayStart)
                ?? dayStart.addingTimeInterval(Double(second))
        }
        let open = p.sessionStartMinute * 60, close = p.sessionEndMinute * 60
        let period = (max(1, p.activeMinutesBeforeBreak) + max(0, p.shortBreakMinutes)) * 60
        let activeLength = max(1, p.activeMinutesBeforeBreak) * 60
        var t = instant, sessionWait = 0.0, breakWait = 0.0
        for _ in 0..<64 {
            let dayStart = calendar.startOfDay(for: t)
            let second = secondOfDay(t)
            if second < Double(open) {
                let next = local(dayStart, second: open)
                sessionWait += max(0, next.timeIntervalSince(t)); t = next; continue
            }
            if second >= Double(close) {
                let tomorrow = calendar.date(byAdding: .day, value: 1, to: dayStart) ?? dayStart.addingTimeInterval(86_400)
                let next = local(tomorrow, second: open)
                sessionWait += max(0, next.timeIntervalSince(t)); t = next; continue
            }
            var stretch = open
            if let lunchStartMinute = p.lunchStartMinute {
                let lunchStart = lunchStartMinute * 60, lunchEnd = min(close, (lunchStartMinute + p.lunchMinutes) * 60)
                if second >= Double(lunchStart) && second < Double(lunchEnd) {
                    let next = local(dayStart, second: lunchEnd)
                    breakWait += max(0, next.timeIntervalSince(t)); t = next; continue
                }
                if second >= Double(lunchEnd) { stretch = lunchEnd }
            }
            let offset = Int(second) - stretch
            let k = offset / period
            if offset - k * period >= activeLength {
                let next = local(dayStart, second: min(close, stretch + (k + 1) * period))
                breakWait += max(0, next.timeIntervalSince(t)); t = next; continue
            }
            let stretchStart = local(dayStart, second: stretch + k * period)
            return HumanAvailability(activeAt: t, sessionWaitSeconds: sessionWait, breakWaitSeconds: breakWait, stretchStart: min(stretchStart, t))
        }
        return HumanAvailability(activeAt: t, sessionWaitSeconds: sessionWait, breakWaitSeconds: breakWait, stretchStart: t)
    }

    // MARK: - Comparisons

    /// `SeededRandom` drawing below a bound.
    private struct Seeded {
        var random: SeededRandom
        init(state: UInt64) { random = SeededRandom(seed: state) }
        mutating func next(_ n: Int64) -> Int64 { Int64(random.next(upperBound: UInt64(n))) }
        /// An instant in 2020–2040, a quarter of them within two hours of a DST change.
        mutating func instant(_ zone: ZoneInfo) -> Date {
            let t = 1_577_836_800 + next(631_152_000)
            if next(4) == 0 {
                // Walk to the next change of offset within a year and land near it.
                var probe = t
                let o = zone.offset(atEpochSeconds: t)
                while probe < t + 31_622_400, zone.offset(atEpochSeconds: probe) == o { probe += 900 }
                return Date(timeIntervalSince1970: Double(probe - 7200 + next(14_400)) + Double(next(1000)) / 1000)
            }
            return Date(timeIntervalSince1970: Double(t) + Double(next(1000)) / 1000)
        }
    }

    func testTradingDaysMatchTheCalendarVersion() throws {
        var rng = Seeded(state: 7)
        var compared = 0
        for name in Self.zones {
            let zone = try XCTUnwrap(ZoneInfo(identifier: name))
            for reset in Self.times {
                for _ in 0..<80 {
                    let instant = rng.instant(zone)
                    let expected = Self.referenceDay(instant, zone: name, reset: reset)
                    let day = FirmTradingDay.containing(instant, timeZone: zone, reset: reset)
                    XCTAssertEqual(day, expected, "\(name) reset \(reset) at \(instant.timeIntervalSince1970)")
                    XCTAssertTrue(day.contains(instant))
                    compared += 1
                }
            }
        }
        XCTAssertEqual(compared, Self.zones.count * Self.times.count * 80)
    }

    func testWeekendCutoffsMatchTheCalendarVersion() throws {
        var rng = Seeded(state: 11)
        for name in Self.zones {
            let zone = try XCTUnwrap(ZoneInfo(identifier: name))
            for time in Self.times {
                for _ in 0..<60 {
                    let instant = rng.instant(zone)
                    let weekday = Int(rng.next(7)) + 1
                    XCTAssertEqual(FirmRules.WeekendCutoff.latest(weekday: weekday, time: time, atOrBefore: instant, in: zone),
                                   Self.referenceLatest(weekday: weekday, time: time, atOrBefore: instant, zone: name),
                                   "\(name) latest weekday \(weekday) \(time) at \(instant.timeIntervalSince1970)")
                    XCTAssertEqual(FirmRules.WeekendCutoff.earliest(weekday: weekday, time: time, after: instant, in: zone),
                                   Self.referenceEarliest(weekday: weekday, time: time, after: instant, zone: name),
                                   "\(name) earliest weekday \(weekday) \(time) at \(instant.timeIntervalSince1970)")
                }
            }
        }
    }

    func testTraderAvailabilityMatchesTheCalendarVersion() throws {
        var rng = Seeded(state: 13)
        let shapes: [(Int, Int, Int?, Int, Int, Int)] = [(480, 1020, 750, 45, 90, 5), (0, 1440, nil, 0, 50, 10), (90, 200, 120, 30, 20, 5),
                                                         (60, 1380, 720, 60, 120, 15)]
        for name in ["Europe/London", "Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"] {
            let zone = try XCTUnwrap(ZoneInfo(identifier: name))
            for (open, close, lunch, lunchMinutes, active, pause) in shapes {
                let p = HumanPersonality(accountId: "a", medianDelaySeconds: 4, delaySpread: 0.5, timeZoneIdentifier: name,
                                         sessionStartMinute: open, sessionEndMinute: close, lunchStartMinute: lunch, lunchMinutes: lunchMinutes,
                                         activeMinutesBeforeBreak: active, shortBreakMinutes: pause, warmUpMinutes: 10, warmUpFactor: 2,
                                         roundingStep: Decimal(string: "0.01")!)
                for _ in 0..<80 {
                    let instant = rng.instant(zone)
                    let a = p.availability(from: instant), b = Self.referenceAvailability(p, from: instant)
                    let what = "\(name) \(open)-\(close) from \(instant.timeIntervalSince1970)"
                    XCTAssertEqual(a.activeAt.timeIntervalSince1970, b.activeAt.timeIntervalSince1970, accuracy: 1e-3, what)
                    XCTAssertEqual(a.stretchStart.timeIntervalSince1970, b.stretchStart.timeIntervalSince1970, accuracy: 1e-3, what)
                    XCTAssertEqual(a.sessionWaitSeconds, b.sessionWaitSeconds, accuracy: 1e-3, what)
                    XCTAssertEqual(a.breakWaitSeconds, b.breakWaitSeconds, accuracy: 1e-3, what)
                }
            }
        }
    }
}
