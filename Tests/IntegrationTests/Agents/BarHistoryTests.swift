import Foundation
import TMTCore
import TMTPipeline
import XCTest

/// `BarHistory` against the market database: as the moment moves on, its answers (a full read
/// first, then only the newest bars) equal a full `BarStore.recent` read at the same moment —
/// also when a bar just before the previous moment was stored late or rewritten — and a moment
/// earlier than the cached one, or an old cache, reads in full again.
final class BarHistoryTests: XCTestCase {
    func testIncrementalReadsEqualFullReadsAsTheMomentMovesOn() throws {
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: try TestServices.marketDatabaseURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        try MarketSchema.migrate(pool: pool, logger: Logger(service: "test", level: .warning))
        let store = BarStore(pool: pool)
        let run = UUID().uuidString.prefix(6)
        let a = "THSA\(run)", b = "THSB\(run)", none = "THSC\(run)"
        let minute: Int64 = 60_000_000
        let t0: Int64 = 1_600_000_000_000_000
        func bar(_ instrument: String, _ i: Int, close: Decimal? = nil) -> Bar {
            let p = close ?? Decimal(100 + i)
            return Bar(instrument: instrument, timeframeSeconds: 60, start: t0 + Int64(i) * minute, open: p, high: p + 1, low: p - 1,
                       close: p, volume: 10, tickCount: 5)
        }
        // A: bars 0…19; B: bars 0…9 but 8 missing for now (stored late, below).
        try store.save((0..<20).map { bar(a, $0) } + (0..<10).filter { $0 != 8 }.map { bar(b, $0) })
        let history = BarHistory(store: store, timeframeSeconds: 60, limit: 5, overlap: 3, refreshSeconds: 3600)
        func check(_ instruments: [String], at moment: Int, _ label: String) throws {
            let before = t0 + Int64(moment) * minute
            let got = try history.recent(instruments: instruments, beforeMicros: before)
            let want = try store.recent(instruments: instruments, timeframeSeconds: 60, limit: 5, beforeMicros: before)
            XCTAssertEqual(got, want, label)
        }

        try check([a, b, none], at: 10, "first read")
        XCTAssertEqual([history.reads.full, history.reads.incremental], [1, 0])
        XCTAssertEqual(try history.recent(instruments: [b], beforeMicros: t0 + 10 * minute)[b]?.map(\.start), [4, 5, 6, 7, 9].map { t0 + $0 * minute },
                       "B's bar 8 is not stored yet")

        // B's bar 8 arrives late and A's bar 9 is rewritten: both within the overlap of the last moment.
        try store.save([bar(b, 8), bar(a, 9, close: 555)])
        try store.save((10..<12).map { bar(b, $0) })
        try check([a, b, none], at: 12, "moved on two bars, late and rewritten bars caught")
        XCTAssertEqual(history.reads.full, 1, "no second full read")
        XCTAssertGreaterThanOrEqual(history.reads.incremental, 2)
        XCTAssertEqual(try history.recent(instruments: [a], beforeMicros: t0 + 12 * minute)[a]?.first { $0.start == t0 + 9 * minute }?.close, 555)

        try check([a], at: 19, "moved on seven bars (more than the overlap)")
        try check([a, b], at: 25, "past the last stored bar")
        XCTAssertEqual(history.reads.full, 1)

        // Back in time: read in full, and the cache stays at the later moment, so going forward
        // again reads only from there (a signal stamped behind the newest, between two ahead of
        // it, used to move the cache back: the next read took every bar since, 5 + 5 here).
        try check([a, b], at: 6, "an earlier moment")
        XCTAssertEqual(history.reads.full, 2)
        let (incremental, bars) = (history.reads.incremental, history.reads.bars)
        try check([a, b], at: 26, "forward again after the earlier moment")
        XCTAssertEqual(history.reads.full, 2, "no full read after going back")
        XCTAssertEqual(history.reads.incremental, incremental + 1)
        XCTAssertEqual(history.reads.bars, bars, "nothing new since the later moment")

        // An old cache is read in full again.
        let stale = BarHistory(store: store, timeframeSeconds: 60, limit: 5, overlap: 3, refreshSeconds: 0.05)
        _ = try stale.recent(instruments: [a], beforeMicros: t0 + 10 * minute)
        usleep(100_000)
        _ = try stale.recent(instruments: [a], beforeMicros: t0 + 11 * minute)
        XCTAssertEqual([stale.reads.full, stale.reads.incremental], [2, 0])
    }
}
