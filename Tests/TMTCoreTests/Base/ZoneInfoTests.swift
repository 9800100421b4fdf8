import Foundation
import XCTest
@testable import TMTBase

/// `ZoneInfo` (the tz database read directly) against Foundation's `TimeZone` and `Calendar`
/// (ICU): offsets, local dates and times, and instants of local times, including every
/// daylight-saving change's neighbourhood, in zones with northern, southern, negative,
/// half-hour and 30-minute changes, and past 2037 where the zone's POSIX rule takes over.
final class ZoneInfoTests: XCTestCase {
    static let zones = ["America/New_York", "Europe/London", "Europe/Berlin", "Europe/Prague", "Asia/Tokyo", "Australia/Sydney",
                        "Europe/Dublin", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham",
                        "America/Chicago", "Pacific/Auckland", "UTC"]

    static let gapsOffTheHour: Set<String> = ["Australia/Lord_Howe", "Pacific/Chatham"]

    private func calendar(_ zone: String) -> Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: zone)!
        return c
    }

    /// `SeededRandom` drawing below a bound.
    private struct Seeded {
        var random: SeededRandom
        init(state: UInt64) { random = SeededRandom(seed: state) }
        mutating func next(_ n: Int64) -> Int64 { Int64(random.next(upperBound: UInt64(n))) }
    }

    func testOffsetsAndLocalTimesMatchFoundation() throws {
        var rng = Seeded(state: 42)
        for name in Self.zones {
            let zone = try XCTUnwrap(ZoneInfo(identifier: name), name)
            let tz = TimeZone(identifier: name)!
            let cal = calendar(name)
            var mismatches = 0
            for _ in 0..<3_000 {
                // 1990 … 2045 (past the files' 2037 horizon, where the POSIX rule answers).
                let seconds = 631_152_000 + rng.next(1_735_689_600 + 315_576_000 - 631_152_000)
                let date = Date(timeIntervalSince1970: Double(seconds) + 0.25)
                let expected = tz.secondsFromGMT(for: date)
                let local = zone.local(date)
                let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
                if zone.secondsFromGMT(for: date) != expected || local.year != c.year || local.month != c.month || local.day != c.day
                    || local.hour != c.hour || local.minute != c.minute || local.second != c.second || local.weekday != c.weekday {
                    mismatches += 1
                    if mismatches <= 3 { XCTFail("\(name) at \(seconds): offset \(zone.secondsFromGMT(for: date)) vs \(expected); \(local) vs \(c)") }
                }
                XCTAssertEqual(local.fraction, 0.25, accuracy: 1e-6)
            }
            XCTAssertEqual(mismatches, 0, name)
        }
    }

    /// Wall times every 15 minutes from two hours before to two hours after each change of
    /// offset (2020–2040), and random ones: the instant `Calendar.date(from:)` gives
    /// (`.shiftedByGap`), the one `date(bySettingHour:…)` gives (`.firstAfterGap`), and the
    /// start of the day.
    func testInstantsOfLocalTimesMatchFoundationAroundEveryChange() throws {
        var checked = 0, gaps = 0, repeats = 0, offTheHour = 0
        for name in Self.zones {
            let zone = try XCTUnwrap(ZoneInfo(identifier: name))
            let cal = calendar(name)
            var wallTimes: [(CivilDate, Int)] = []
            var previous = zone.offset(atEpochSeconds: 1_577_836_800)
            var t: Int64 = 1_577_836_800
            while t < 2_208_988_800 {   // 2020 … 2040, hourly steps find each change
                let o = zone.offset(atEpochSeconds: t)
                if o != previous {
                    let wall = t + Int64(previous)
                    for k in -8...8 {
                        let w = wall + Int64(k * 900)
                        let days = ZoneInfo.floorDiv(w, 86_400)
                        wallTimes.append((CivilDate(daysSinceEpoch: days), Int(w - days * 86_400)))
                    }
                    if o > previous { gaps += 1 } else { repeats += 1 }
                    previous = o
                }
                t += 1800
            }
            var rng = Seeded(state: UInt64(name.utf8.count))
            for _ in 0..<300 {
                wallTimes.append((CivilDate(daysSinceEpoch: 18_262 + rng.next(7_300)), Int(rng.next(86_400))))
            }
            for (date, second) in wallTimes {
                let components = DateComponents(year: date.year, month: date.month, day: date.day, hour: second / 3600,
                                                minute: second % 3600 / 60, second: second % 60)
                let expected = try XCTUnwrap(cal.date(from: components))
                XCTAssertEqual(zone.instant(date, secondOfDay: second, gap: .shiftedByGap), expected, "\(name) \(date) +\(second) s")
                let noon = try XCTUnwrap(cal.date(from: DateComponents(year: date.year, month: date.month, day: date.day, hour: 12)))
                let dayStart = cal.startOfDay(for: noon)
                XCTAssertEqual(zone.startOfDay(date), dayStart, "\(name) start of \(date)")
                let set = try XCTUnwrap(cal.date(bySettingHour: second / 3600, minute: second % 3600 / 60, second: second % 60, of: dayStart))
                let first = zone.instant(date, secondOfDay: second, gap: .firstAfterGap)
                let inGap = Int(zone.local(expected).secondOfDay) != second
                if inGap, Self.gapsOffTheHour.contains(name) {
                    // Foundation answers a time in a gap that does not end on the hour (Lord Howe's
                    // 02:00–02:30, Chatham's 02:45–03:45) with a later hour, even the next day's
                    // (02:00 on Lord Howe's change day → 02:00 the day after). The first instant
                    // after the gap is the change itself.
                    let s = Int64(first.timeIntervalSince1970)
                    XCTAssertNotEqual(zone.offset(atEpochSeconds: s - 1), zone.offset(atEpochSeconds: s), "\(name) \(date) +\(second) s")
                    XCTAssertLessThanOrEqual(first, expected)
                    offTheHour += 1
                } else {
                    XCTAssertEqual(first, set, "\(name) \(date) set to +\(second) s")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(gaps, 50, "the zones' changes forward were visited")
        XCTAssertGreaterThan(repeats, 50, "the zones' changes back were visited")
        XCTAssertGreaterThan(checked, 10_000)
        XCTAssertGreaterThan(offTheHour, 20)
    }

    func testCivilDatesRoundTripAndKnowTheirWeekday() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 37) {
            let d = CivilDate(daysSinceEpoch: days)
            XCTAssertEqual(d.daysSinceEpoch, days)
        }
        XCTAssertEqual(CivilDate(daysSinceEpoch: 0), CivilDate(year: 1970, month: 1, day: 1))
        XCTAssertEqual(CivilDate(year: 1970, month: 1, day: 1).weekday, 5)   // Thursday
        XCTAssertEqual(CivilDate(year: 2026, month: 11, day: 27).weekday, 6) // Friday
        XCTAssertEqual(CivilDate(year: 1969, month: 12, day: 28).weekday, 1) // Sunday
        XCTAssertEqual(CivilDate(year: 2024, month: 2, day: 28).adding(days: 1), CivilDate(year: 2024, month: 2, day: 29))
        XCTAssertEqual(CivilDate(year: 2026, month: 3, day: 7).description, "2026-03-07")
    }

    func testUnknownAndUnsafeNamesAreRefusedAndUTCNeedsNoFile() {
        XCTAssertNil(ZoneInfo(identifier: "Mars/Olympus_Mons"))
        XCTAssertNil(ZoneInfo(identifier: "../../etc/passwd"))
        XCTAssertNil(ZoneInfo(identifier: "/etc/localtime"))
        XCTAssertNil(ZoneInfo(identifier: ""))
        XCTAssertNil(ZoneInfo(identifier: "America"))   // a folder, not a zone file
        XCTAssertEqual(ZoneInfo(identifier: "UTC")?.isUTC, true)
        XCTAssertEqual(ZoneInfo(identifier: "GMT")?.offset(atEpochSeconds: 1_800_000_000), 0)
    }

    func testPosixRulesAfterTheLastTransition() throws {
        // New York from 2038 on comes from "EST5EDT,M3.2.0,M11.1.0": 2040-03-11 07:00 UTC.
        let ny = try XCTUnwrap(PosixRule("EST5EDT,M3.2.0,M11.1.0"))
        XCTAssertEqual(ny.offset(at: 2_215_061_999), -18_000)
        XCTAssertEqual(ny.offset(at: 2_215_062_000), -14_400)
        // Dublin's negative DST: IST (+1) is standard, GMT (0) the winter "daylight" time.
        let dublin = try XCTUnwrap(PosixRule("IST-1GMT0,M10.5.0,M3.5.0/1"))
        XCTAssertEqual(dublin.offset(at: 2_215_062_000), 0)            // 2040-03-11: winter
        XCTAssertEqual(dublin.offset(at: 2_225_059_200), 3600)         // 2040-07-05: summer
        XCTAssertEqual(try XCTUnwrap(PosixRule("<+0530>-5:30")).offset(at: 0), 19_800)
        XCTAssertNil(PosixRule("EST5EDT,M3.2"))
        XCTAssertNil(PosixRule("5"))
    }
}
