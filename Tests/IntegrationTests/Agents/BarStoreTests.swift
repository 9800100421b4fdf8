import Foundation
import TMTCore
import TMTPipeline
import XCTest

/// `BarStore` against the market database: history as of a moment, for several instruments in
/// one query.
final class BarStoreTests: XCTestCase {
    func testRecentBarsOfSeveralInstrumentsAsOfAMoment() throws {
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: try TestServices.marketDatabaseURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        try MarketSchema.migrate(pool: pool, logger: Logger(service: "test", level: .warning))
        let store = BarStore(pool: pool)
        let run = UUID().uuidString.prefix(6)
        let a = "TSTA\(run)", b = "TSTB\(run)", none = "TSTC\(run)"
        let t0: Int64 = 1_600_000_000_000_000
        func bar(_ instrument: String, _ i: Int) -> Bar {
            let p = Decimal(100 + i)
            return Bar(instrument: instrument, timeframeSeconds: 60, start: t0 + Int64(i) * 60_000_000, open: p, high: p + 1, low: p - 1,
                       close: p, volume: 10, tickCount: 5)
        }
        try store.save((0..<6).map { bar(a, $0) } + (0..<2).map { bar(b, $0) })
        // As of bar 4's start: bars 1, 2, 3 of A (the newest three before it, oldest first), both of B.
        let got = try store.recent(instruments: [a, b, none], timeframeSeconds: 60, limit: 3, beforeMicros: t0 + 4 * 60_000_000)
        XCTAssertEqual(got[a]?.map(\.start), [1, 2, 3].map { t0 + Int64($0) * 60_000_000 })
        XCTAssertEqual(got[a]?.map(\.close), [101, 102, 103])
        XCTAssertEqual(got[b]?.count, 2)
        XCTAssertEqual(got[none], [])
        XCTAssertEqual(try store.recent(instrument: a, timeframeSeconds: 60, limit: 3, beforeMicros: t0 + 4 * 60_000_000), got[a])
    }

    /// One bar goes as one autocommitted upsert; saving it again (a redelivered tick) rewrites
    /// the same row, as a batch does.
    func testOneBarIsUpsertedOnItsOwn() throws {
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: try TestServices.marketDatabaseURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        try MarketSchema.migrate(pool: pool, logger: Logger(service: "test", level: .warning))
        let store = BarStore(pool: pool)
        let instrument = "TSTO\(UUID().uuidString.prefix(6))"
        let start: Int64 = 1_600_000_000_000_000
        var bar = Bar(instrument: instrument, timeframeSeconds: 60, start: start, open: 1.5, high: 1.75, low: 1.25, close: 1.5, volume: 3,
                      tickCount: 2)
        try store.save([bar])
        XCTAssertEqual(try store.recent(instrument: instrument, timeframeSeconds: 60, limit: 5, beforeMicros: start + 1), [bar])
        bar.close = 1.625
        bar.tickCount = 3
        try store.save([bar])
        XCTAssertEqual(try store.recent(instrument: instrument, timeframeSeconds: 60, limit: 5, beforeMicros: start + 1), [bar])
        try store.save([])
    }
}
