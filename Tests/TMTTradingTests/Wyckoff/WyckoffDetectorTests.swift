import Foundation
import XCTest
import TMTModels
@testable import TMTTrading

/// The detector's state handling and phase scores, on the hand-built bars of `WyckoffHandBars`.
final class WyckoffDetectorTests: XCTestCase {
    typealias H = WyckoffHandBars

    /// Bars 0–28 of the spring setup (range 1.1000–1.1100) and the spring bar 29.
    func springBars() -> [Bar] {
        var h = H()
        h.range(cycles: 2)
        h.up(lows: [0, 20, 40, 60, 80])
        h.down(lows: [80, 60, 40, 20])
        h.add(low: -10, high: 20, open: 20, close: 5, volume: 2_000)
        return h.bars
    }

    func testParameterUpdateKeepsTheBarHistory() throws {
        let bars = springBars()
        var detector = try WyckoffDetector(parameters: H.parameters)
        for bar in bars.dropLast() { _ = detector.process(bar) }
        XCTAssertEqual(detector.barCount(instrument: "EUR_USD"), 29)

        var p = H.parameters
        p.toleranceATR = 0.3
        p.atrPeriod = 5
        try detector.update(parameters: p)
        XCTAssertEqual(detector.parameters, p)
        XCTAssertEqual(detector.barCount(instrument: "EUR_USD"), 29)
        let a = detector.process(bars[29])
        // ATR(5) recomputed from the kept bars: 20 pips through bar 28, then (4 × 20 + 30) ÷ 5 = 22.
        XCTAssertEqual(a.atr ?? 0, 0.0022, accuracy: 1e-12)
        // Pierce 10 pips = 0.5 ATR > the new 0.3 ATR tolerance: the spring is still found.
        XCTAssertEqual(a.events.map(\.kind), [.spring])
        XCTAssertEqual(a.events.first?.depthATR ?? 0, 0.5, accuracy: 1e-9)

        // Same as a detector that had these parameters from the start.
        var fresh = try WyckoffDetector(parameters: p)
        XCTAssertEqual(bars.map { fresh.process($0) }.last, a)
        // Without the history the spring bar alone is just the first bar.
        var empty = try WyckoffDetector(parameters: p)
        XCTAssertEqual(empty.process(bars[29]).events, [])
    }

    func testInvalidUpdateIsRejectedAndChangesNothing() throws {
        var detector = try WyckoffDetector(parameters: H.parameters)
        var bad = H.parameters
        bad.swingLookback = 0
        XCTAssertThrowsError(try detector.update(parameters: bad)) { error in
            XCTAssertEqual((error as? WyckoffParameters.InvalidParameter)?.field, "swingLookback")
        }
        XCTAssertEqual(detector.parameters, H.parameters)
        XCTAssertThrowsError(try WyckoffDetector(parameters: bad))
        // The agent's path: text from config.updates.
        let updated = try detector.parameters.applying(updates: ["minConfidence": "0.6"])
        try detector.update(parameters: updated)
        XCTAssertEqual(detector.parameters.minConfidence, 0.6)
    }

    func testRedeliveredOrOlderBarIsIgnored() throws {
        let bars = springBars()
        var detector = try WyckoffDetector(parameters: H.parameters)
        let first = bars.map { detector.process($0) }.last!
        XCTAssertNotNil(first.signal)
        let again = detector.process(bars[29])
        XCTAssertEqual(again.events, [])
        XCTAssertNil(again.signal, "a redelivered bar must not signal twice")
        XCTAssertTrue(again.remarks.first?.hasPrefix("bar ignored") == true, "\(again.remarks)")
        XCTAssertEqual(detector.process(bars[3]).events, [])
        XCTAssertEqual(detector.barCount(instrument: "EUR_USD"), 30)
    }

    func testAnotherTimeframeRestartsTheInstrumentsHistory() throws {
        var detector = try WyckoffDetector(parameters: H.parameters)
        for bar in springBars().prefix(10) { _ = detector.process(bar) }
        var m5 = springBars()[10]
        m5.timeframeSeconds = 300
        let a = detector.process(m5)
        XCTAssertTrue(a.remarks.contains { $0.hasPrefix("timeframe changed from 60s to 300s") }, "\(a.remarks)")
        XCTAssertEqual(detector.barCount(instrument: "EUR_USD"), 1)
    }

    func testSameBarsGiveTheSameAnalysesAndInstrumentsDoNotMix() throws {
        let eur = springBars()
        // GBP_USD gets the mirror image (an upthrust), interleaved bar by bar with EUR_USD.
        var mirror = H()
        mirror.bars = eur
        let gbp = mirror.mirrored().map { b -> Bar in
            var g = b
            g.instrument = "GBP_USD"
            return g
        }
        var solo = try WyckoffDetector(parameters: H.parameters)
        let alone = eur.map { solo.process($0) }
        var mixed = try WyckoffDetector(parameters: H.parameters)
        var eurMixed: [WyckoffAnalysis] = [], gbpMixed: [WyckoffAnalysis] = []
        for (e, g) in zip(eur, gbp) {
            eurMixed.append(mixed.process(e))
            gbpMixed.append(mixed.process(g))
        }
        XCTAssertEqual(eurMixed, alone)
        XCTAssertEqual(alone.last?.signal?.id, "EUR_USD-\(eur[29].start)-spring")
        XCTAssertEqual(gbpMixed.last?.events.map(\.kind), [.upthrust])
        XCTAssertEqual(gbpMixed.last?.signal?.id, "GBP_USD-\(eur[29].start)-upthrust")
        XCTAssertEqual(gbpMixed.last?.signal?.side, .sell)
    }

    func testOldBarsAreTrimmedAndDetectionGoesOn() throws {
        var p = H.parameters
        p.historyBars = 100
        var h = H()
        h.range(cycles: 40)                  // 400 bars
        h.up(lows: [0, 20, 40, 60, 80])
        h.down(lows: [80, 60, 40, 20])
        h.add(low: -10, high: 20, open: 20, close: 5, volume: 2_000)
        var detector = try WyckoffDetector(parameters: p)
        let last = h.bars.map { detector.process($0) }.last!
        XCTAssertLessThanOrEqual(detector.barCount(instrument: "EUR_USD"), 100 + 64)
        XCTAssertEqual(last.events.map(\.kind), [.spring])
        XCTAssertEqual(last.range?.supportTouches, 4, "pivot lows in the 40 bars before the spring: 369, 379, 389, 399")
    }

    // MARK: phase scores

    /// Four range cycles with the given volume per cycle, ending at support (bar 39).
    func range(volumes: [Double]) -> [Bar] {
        var h = H()
        for v in volumes {
            h.up(lows: [0, 20, 40, 60, 80], volume: v)
            h.down(lows: [80, 60, 40, 20, 0], volume: v)
        }
        return h.bars
    }

    func testDryingVolumeInARangeScoresAccumulationAndRisingVolumeDistribution() throws {
        let drying = try XCTUnwrap(try H.analyse(range(volumes: [2_000, 1_600, 1_200, 800])).last)
        XCTAssertNotNil(drying.range)
        XCTAssertLessThan(drying.scores.features.rangeVolumeTrend, -0.5)
        XCTAssertGreaterThan(drying.scores.accumulation, drying.scores.distribution + 0.1)
        XCTAssertEqual(drying.scores.dominant, .accumulation)

        let rising = try XCTUnwrap(try H.analyse(range(volumes: [800, 1_200, 1_600, 2_000])).last)
        XCTAssertGreaterThan(rising.scores.features.rangeVolumeTrend, 0.5)
        XCTAssertGreaterThan(rising.scores.distribution, rising.scores.accumulation + 0.1)
        XCTAssertEqual(rising.scores.dominant, .distribution)
    }

    func testStaircaseAdvanceScoresMarkupAndItsMirrorMarkdown() throws {
        var h = H()
        var low = 0.0
        // Three 20-pip bars up, one down: higher highs and higher lows, +40 pips every 4 bars.
        for _ in 0..<10 {
            h.up(lows: [low, low + 20, low + 40])
            h.down(lows: [low + 40])
            low += 40
        }
        let up = try XCTUnwrap(try H.analyse(h.bars).last)
        XCTAssertNil(up.range, "no level is touched twice")
        XCTAssertEqual(up.scores.features.structure, 1, accuracy: 1e-9)
        XCTAssertGreaterThan(up.scores.features.slopeATR, 0.4)
        XCTAssertEqual(up.scores.dominant, .markup)
        XCTAssertEqual(up.scores.accumulation, 0)
        XCTAssertEqual(up.scores.distribution, 0)

        let down = try XCTUnwrap(try H.analyse(h.mirrored()).last)
        XCTAssertEqual(down.scores.features.structure, -1, accuracy: 1e-9)
        XCTAssertEqual(down.scores.dominant, .markdown)
        XCTAssertEqual(down.scores.markdown, up.scores.markup, accuracy: 1e-9)
    }
}
