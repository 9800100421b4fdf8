import Foundation
import TMTCore
import TMTPipeline
import TMTStagingTools
import XCTest

/// The integration tester's market time keeps clear of the news calendar's blackouts: a run that
/// began inside one saw every order refused by compliance and could only skip its checks (a CI
/// run at 12:27 market time, three minutes before the calendar's USD release, did).
final class MarketTimeNewsTests: XCTestCase {
    func testAStartNearAHighOrMediumReleaseMovesPastItsBlackout() throws {
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: try TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        try TradingSchema.migrate(pool: pool, logger: Logger(service: "test", level: .warning))
        let run = "mtnews-\(UUID().uuidString.prefix(8).lowercased())"
        defer { _ = try? pool.execute("DELETE FROM news_events WHERE id LIKE $1", ["\(run)-%"]) }
        // Far from any calendar a test or the generator writes: a day in 2031.
        let start = Date(timeIntervalSince1970: 1_943_000_000)
        func release(_ n: Int, minutes: Double, impact: String) throws {
            try pool.execute("INSERT INTO news_events (id, time, currency, title, impact) VALUES ($1, $2, 'USD', $3, $4)",
                             ["\(run)-\(n)", start.addingTimeInterval(minutes * 60), "release \(n) \(run)", impact])
        }

        // Nothing near: the start is kept.
        try release(0, minutes: -30, impact: "high")
        try release(1, minutes: 8, impact: "low")
        var (time, note) = try MarketTime.clearOfNews(start, span: 300, pool: pool)
        XCTAssertEqual(time, start)
        XCTAssertNil(note)

        // A high-impact release 3 minutes ahead, and a medium one 14 minutes ahead (inside the
        // window once the start has moved past the first): 10 minutes after the last.
        try release(2, minutes: 3, impact: "high")
        try release(3, minutes: 14, impact: "medium")
        (time, note) = try MarketTime.clearOfNews(start, span: 300, pool: pool)
        XCTAssertEqual(time, start.addingTimeInterval(24 * 60))
        let text = try XCTUnwrap(note)
        XCTAssertTrue(text.contains("release 2 \(run)") && text.contains("release 3 \(run)"), text)
        XCTAssertFalse(text.contains("release 1 \(run)"), "a low-impact release has no blackout: \(text)")

        // One just behind the start (its blackout still runs) counts too.
        (time, _) = try MarketTime.clearOfNews(start.addingTimeInterval(-27 * 60), span: 60, pool: pool)
        XCTAssertEqual(time, start.addingTimeInterval(-20 * 60), "10 minutes after the release at −30 min")
    }
}
