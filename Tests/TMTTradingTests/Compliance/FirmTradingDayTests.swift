import Foundation
import XCTest
@testable import TMTTrading

/// Trading-day boundaries in the firm's time zone, across DST changes.
final class FirmTradingDayTests: XCTestCase {
    typealias F = ComplianceFixture

    func testPragueMidnightInWinterAndSummer() {
        // CET (UTC+1) in November: the day of 2026-11-25 runs 2026-11-24 23:00 → 2026-11-25 23:00 UTC.
        let winter = FirmTradingDay.containing(F.utc("2026-11-25 12:00:00"), timeZone: F.prague)
        XCTAssertEqual(winter.start, F.utc("2026-11-24 23:00:00"))
        XCTAssertEqual(winter.end, F.utc("2026-11-25 23:00:00"))
        XCTAssertEqual(winter.label, "2026-11-25")
        // CEST (UTC+2) in July: midnight is 22:00 UTC.
        let summer = FirmTradingDay.containing(F.utc("2026-07-15 21:59:59"), timeZone: F.prague)
        XCTAssertEqual(summer.label, "2026-07-15")
        XCTAssertEqual(FirmTradingDay.containing(F.utc("2026-07-15 22:00:00"), timeZone: F.prague).label, "2026-07-16")
    }

    func testBoundaryInstantsBelongToTheNewDay() {
        let start = F.utc("2026-11-24 23:00:00")
        XCTAssertEqual(FirmTradingDay.containing(start, timeZone: F.prague).start, start)
        XCTAssertEqual(FirmTradingDay.containing(start - 1, timeZone: F.prague).end, start)
        XCTAssertTrue(FirmTradingDay.containing(start, timeZone: F.prague).contains(start))
        XCTAssertFalse(FirmTradingDay.containing(start - 1, timeZone: F.prague).contains(start))
    }

    func testDstChangeDaysAreTwentyThreeAndTwentyFiveHours() {
        // Spring forward 2026-03-29 02:00 CET → 03:00 CEST.
        let spring = FirmTradingDay.containing(F.utc("2026-03-29 01:30:00"), timeZone: F.prague)
        XCTAssertEqual(spring.label, "2026-03-29")
        XCTAssertEqual(spring.start, F.utc("2026-03-28 23:00:00"))
        XCTAssertEqual(spring.end, F.utc("2026-03-29 22:00:00"))
        XCTAssertEqual(spring.duration, 23 * 3600)
        // Fall back 2026-10-25 03:00 CEST → 02:00 CET.
        let autumn = FirmTradingDay.containing(F.utc("2026-10-25 12:00:00"), timeZone: F.prague)
        XCTAssertEqual(autumn.start, F.utc("2026-10-24 22:00:00"))
        XCTAssertEqual(autumn.end, F.utc("2026-10-25 23:00:00"))
        XCTAssertEqual(autumn.duration, 25 * 3600)
        // The instant in the repeated hour (02:30 local happens twice) is still the same day.
        XCTAssertEqual(FirmTradingDay.containing(F.utc("2026-10-25 00:30:00"), timeZone: F.prague), autumn)
        XCTAssertEqual(FirmTradingDay.containing(F.utc("2026-10-25 01:30:00"), timeZone: F.prague), autumn)
    }

    func testFivePmNewYorkResetAcrossUsDst() {
        let reset = FirmRules.TimeOfDay(hour: 17, minute: 0)
        // EDT (UTC−4) in July: 17:00 = 21:00 UTC; the session from Monday 17:00 is Tuesday's.
        let july = FirmTradingDay.containing(F.utc("2026-07-13 21:00:00"), timeZone: F.newYork, reset: reset)
        XCTAssertEqual(july.start, F.utc("2026-07-13 21:00:00"))
        XCTAssertEqual(july.label, "2026-07-14")
        // US DST ends 2026-11-01 02:00: the day from Saturday 17:00 EDT to Sunday 17:00 EST is 25 h.
        let change = FirmTradingDay.containing(F.utc("2026-11-01 12:00:00"), timeZone: F.newYork, reset: reset)
        XCTAssertEqual(change.start, F.utc("2026-10-31 21:00:00"))
        XCTAssertEqual(change.end, F.utc("2026-11-01 22:00:00"))
        XCTAssertEqual(change.duration, 25 * 3600)
    }

    func testTimeOfDayParsing() {
        XCTAssertEqual(FirmRules.TimeOfDay(parsing: "21:00"), .init(hour: 21, minute: 0))
        XCTAssertEqual(FirmRules.TimeOfDay(parsing: "00:05")?.description, "00:05")
        XCTAssertNil(FirmRules.TimeOfDay(parsing: "24:00"))
        XCTAssertNil(FirmRules.TimeOfDay(parsing: "9:00"))
        XCTAssertNil(FirmRules.TimeOfDay(parsing: "21:60"))
    }
}
