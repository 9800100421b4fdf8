import Foundation
import XCTest
import TMTModels
@testable import TMTTrading

final class BarBuilderTests: XCTestCase {
    /// Wednesday 2026-11-25 07:00:00 UTC, a whole minute.
    let base: Int64 = 1_795_590_000_000_000

    func tick(_ seconds: Double, _ bid: String, _ ask: String, volume: Decimal = 1_000, instrument: String = "EUR_USD") -> Tick {
        Tick(instrument: instrument, bid: Decimal(string: bid)!, ask: Decimal(string: ask)!, volume: volume,
             time: base + Int64((seconds * 1_000_000).rounded()))
    }

    func testTicksFoldIntoMidPriceBarsAndTheFirstTickOfTheNextMinuteClosesTheBar() throws {
        var b = try BarBuilder(timeframeSeconds: 60)
        XCTAssertEqual(b.apply(tick(0, "1.10000", "1.10010")), [])               // mid 1.10005
        XCTAssertEqual(b.apply(tick(30, "1.10020", "1.10030", volume: 2_000)), []) // mid 1.10025
        XCTAssertEqual(b.apply(tick(59.999999, "1.09990", "1.10000")), [])        // mid 1.09995, last µs of the bar
        let closed = b.apply(tick(60, "1.10040", "1.10050"))                     // 07:01:00.000000 starts the next bar
        XCTAssertEqual(closed, [Bar(instrument: "EUR_USD", timeframeSeconds: 60, start: base,
                                    open: Decimal(string: "1.10005")!, high: Decimal(string: "1.10025")!,
                                    low: Decimal(string: "1.09995")!, close: Decimal(string: "1.09995")!,
                                    volume: 4_000, tickCount: 3)])
        XCTAssertEqual(b.openBar(instrument: "EUR_USD")?.start, base + 60_000_000)
        XCTAssertEqual(b.openBar(instrument: "EUR_USD")?.open, Decimal(string: "1.10045"))
        XCTAssertEqual(b.lateTicks, 0)
    }

    func testTicksOlderThanTheOpenBarAreIgnoredAndCountedAsLate() throws {
        var b = try BarBuilder(timeframeSeconds: 60)
        _ = b.apply(tick(10, "1.10000", "1.10010"))
        _ = b.apply(tick(70, "1.10100", "1.10110"))          // closes 07:00, opens 07:01
        XCTAssertEqual(b.apply(tick(59, "1.20000", "1.20010")), [])
        XCTAssertEqual(b.apply(tick(5, "1.00000", "1.00010")), [])
        XCTAssertEqual(b.lateTicks, 2)
        XCTAssertEqual(b.lateTicks(instrument: "EUR_USD"), 2)
        let open = try XCTUnwrap(b.openBar(instrument: "EUR_USD"))
        XCTAssertEqual(open.high, Decimal(string: "1.10105"), "a late tick must not touch the open bar")
        XCTAssertEqual(open.tickCount, 1)
        // Another instrument keeps its own clock: its first tick at 07:00:05 is not late.
        XCTAssertEqual(b.apply(tick(5, "1.26000", "1.26010", instrument: "GBP_USD")), [])
        XCTAssertEqual(b.openBar(instrument: "GBP_USD")?.start, base)
        XCTAssertEqual(b.lateTicks, 2)
        XCTAssertEqual(b.lateTicks(instrument: "GBP_USD"), 0)
    }

    func testFlushClosesABarOnceItsTimeHasPassedAndLaterTicksForItAreLate() throws {
        var b = try BarBuilder(timeframeSeconds: 60)
        _ = b.apply(tick(60, "1.10000", "1.10010"))
        _ = b.apply(tick(61, "1.10010", "1.10020"))
        XCTAssertEqual(b.flush(upTo: base + 119_999_999), [], "07:01:59.999999 is still inside the 07:01 bar")
        let flushed = b.flush(upTo: base + 120_000_000)
        XCTAssertEqual(flushed.map(\.start), [base + 60_000_000])
        XCTAssertEqual(flushed.first?.tickCount, 2)
        XCTAssertNil(b.openBar(instrument: "EUR_USD"))
        XCTAssertEqual(b.flush(upTo: base + 600_000_000), [], "nothing open, nothing to flush")
        // A straggler for the flushed bar would change a bar already handed on: late.
        XCTAssertEqual(b.apply(tick(119, "1.10030", "1.10040")), [])
        XCTAssertEqual(b.lateTicks, 1)
        // The next tick after a quiet spell opens its own bar; no filler bars for 07:02–07:03.
        XCTAssertEqual(b.apply(tick(185, "1.10030", "1.10040")), [])
        XCTAssertEqual(b.openBar(instrument: "EUR_USD")?.start, base + 180_000_000)
    }

    func testWeekendGapGivesNoFillerBars() throws {
        var b = try BarBuilder(timeframeSeconds: 60)
        let friday2059 = 2.0 * 86_400 + 13 * 3_600 + 59 * 60        // Fri 20:59:00, seconds after base
        let sunday2100 = 4.0 * 86_400 + 14 * 3_600                    // Sun 21:00:00
        _ = b.apply(tick(friday2059 + 30, "1.10000", "1.10010"))
        let atOpen = b.apply(tick(sunday2100 + 5, "1.10500", "1.10510"))
        XCTAssertEqual(atOpen.map(\.start), [base + Int64(friday2059) * 1_000_000], "only Friday's last bar closes")
        XCTAssertEqual(b.openBar(instrument: "EUR_USD")?.start, base + Int64(sunday2100) * 1_000_000)
        let next = b.apply(tick(sunday2100 + 61, "1.10520", "1.10530"))
        XCTAssertEqual(next.map(\.start), [base + Int64(sunday2100) * 1_000_000])
        XCTAssertEqual(next.first?.open, Decimal(string: "1.10505"), "the gap shows as the open of Sunday's first bar")
    }

    func testInvalidQuotesAndTimeframesAreRejected() throws {
        var b = try BarBuilder(timeframeSeconds: 60)
        XCTAssertEqual(b.apply(tick(1, "1.10010", "1.10000")), []) // ask below bid
        XCTAssertEqual(b.apply(tick(2, "0", "0.00010")), [])       // no bid
        XCTAssertEqual(b.invalidTicks, 2)
        XCTAssertNil(b.openBar(instrument: "EUR_USD"))
        XCTAssertThrowsError(try BarBuilder(timeframeSeconds: 0)) { error in
            XCTAssertTrue("\(error)".contains("timeframeSeconds"), "\(error)")
        }
    }

    /// Over 20 simulated minutes of three instruments nothing is lost or invented: every tick ends
    /// up in exactly one bar, bar volumes add up to the tick volumes, bars are aligned and increasing.
    func testSimulatedTicksAreAllAccountedFor() throws {
        var sim = MarketSimulator(.init(seed: 8, startMicros: base, profiles: Array(InstrumentProfile.defaults.prefix(3))))
        var b = try BarBuilder(timeframeSeconds: 30)
        var bars: [Bar] = []
        var ticks: [String: (count: Int, volume: Decimal)] = [:]
        while true {
            let t = sim.next()
            if t.time >= base + 1_200_000_000 { break }
            ticks[t.instrument, default: (0, 0)].count += 1
            ticks[t.instrument, default: (0, 0)].volume += t.volume
            bars += b.apply(t)
        }
        bars += b.flush(upTo: base + 1_200_000_000)
        XCTAssertEqual(b.lateTicks, 0)
        for (symbol, total) in ticks {
            let own = bars.filter { $0.instrument == symbol }
            XCTAssertEqual(own.reduce(0) { $0 + $1.tickCount }, total.count, symbol)
            XCTAssertEqual(own.reduce(Decimal(0)) { $0 + $1.volume }, total.volume, symbol)
            XCTAssertEqual(own.count, 40, "\(symbol): 20 minutes of 30-second bars")
            XCTAssertTrue(own.allSatisfy { ($0.start - base) % 30_000_000 == 0 && $0.low <= min($0.open, $0.close) && $0.high >= max($0.open, $0.close) })
            XCTAssertTrue(zip(own, own.dropFirst()).allSatisfy { $0.start < $1.start })
        }
    }

    /// What a stopping process saves (every open bar, by instrument, with its last tick's time)
    /// is what the next one resumes: later ticks of the span fold into it, ticks at or before its
    /// last one are redeliveries (late), and the next span's first tick closes it. A bar is not
    /// resumed over one this builder opened, nor over a span it handed on, nor of another
    /// timeframe.
    func testOpenBarsSavedAtAStopAreResumedByTheNextBuilder() throws {
        var stopping = try BarBuilder(timeframeSeconds: 60)
        _ = stopping.apply(tick(5, "1.10000", "1.10010"))
        _ = stopping.apply(tick(6, "150.000", "150.010", instrument: "USD_JPY"))
        _ = stopping.apply(tick(20, "1.10100", "1.10110"))
        let saved = stopping.openBars
        XCTAssertEqual(saved.map(\.bar.instrument), ["EUR_USD", "USD_JPY"])
        XCTAssertEqual(saved.map(\.lastTickMicros), [base + 20_000_000, base + 6_000_000])

        var next = try BarBuilder(timeframeSeconds: 60)
        XCTAssertTrue(next.resume(saved[0]))
        XCTAssertFalse(next.resume(saved[0]), "the instrument has an open bar now")
        // The tick at 20 s again (its offset was not committed at the stop): in the bar already.
        XCTAssertEqual(next.apply(tick(20, "1.10100", "1.10110")), [])
        XCTAssertEqual(next.lateTicks(instrument: "EUR_USD"), 1)
        XCTAssertEqual(next.apply(tick(40, "1.09900", "1.09910")), [])
        let closed = next.apply(tick(61, "1.10000", "1.10010"))
        XCTAssertEqual(closed, [Bar(instrument: "EUR_USD", timeframeSeconds: 60, start: base,
                                    open: Decimal(string: "1.10005")!, high: Decimal(string: "1.10105")!,
                                    low: Decimal(string: "1.09905")!, close: Decimal(string: "1.09905")!,
                                    volume: 3_000, tickCount: 3)])
        // USD_JPY's bar after EUR_USD's: its first tick here is of a later span and closes it.
        XCTAssertTrue(next.resume(saved[1]))
        XCTAssertEqual(next.apply(tick(125, "150.100", "150.110", instrument: "USD_JPY")).map(\.tickCount), [1])
        XCTAssertEqual(next.openBars.map(\.lastTickMicros), [base + 61_000_000, base + 125_000_000])

        // Not over a span handed on here (no open bar, but 07:00 closed), nor of another timeframe.
        var handed = try BarBuilder(timeframeSeconds: 60)
        handed.handedOn(instrument: "EUR_USD", upTo: base + 60_000_000)
        XCTAssertFalse(handed.resume(saved[0]), "EUR_USD's 07:00 bar is stored already")
        XCTAssertEqual(handed.apply(tick(30, "1.10000", "1.10010")), [], "a tick of a stored bar is late")
        XCTAssertEqual(handed.lateTicks(instrument: "EUR_USD"), 1)
        XCTAssertNil(handed.openBar(instrument: "EUR_USD"))
        var other = try BarBuilder(timeframeSeconds: 300)
        XCTAssertFalse(other.resume(saved[0]))
        XCTAssertEqual(other.openBars, [])
    }
}
