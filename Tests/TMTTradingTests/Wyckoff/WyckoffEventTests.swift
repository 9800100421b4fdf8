import Foundation
import XCTest
import TMTModels
@testable import TMTTrading

/// Each event on hand-built bars (see `WyckoffHandBars`: a 1.1000–1.1100 range, ATR 0.0020,
/// tolerance 0.25 × 20 pips = 5 pips, volume 1,000 a bar), and the near misses that must not count.
final class WyckoffEventTests: XCTestCase {
    typealias H = WyckoffHandBars

    /// Two full swings, a third up leg to resistance (pivot high at bar 24) and a down leg to 20
    /// pips (bars 25–28, closes 80, 60, 40, 20). The range seen from bar 29 has support 1.1000
    /// (pivot lows 9, 19) and resistance 1.1100 (pivot highs 4, 14, 24).
    func rangeBeforeSpring() -> H {
        var h = H()
        h.range(cycles: 2)
        h.up(lows: [0, 20, 40, 60, 80])
        h.down(lows: [80, 60, 40, 20])
        return h
    }

    /// Two full swings and an up leg to 80 pips (bars 20–23, last close 1.1080): the range seen from
    /// bar 24 has support 1.1000 (pivot lows 9, 19) and resistance 1.1100 (pivot highs 4, 14).
    func rangeBeforeBreakout() -> H {
        var h = H()
        h.range(cycles: 2)
        h.up(lows: [0, 20, 40, 60])
        return h
    }

    func events(_ a: WyckoffAnalysis, _ kind: WyckoffEvent.Kind) -> [WyckoffEvent] { a.events.filter { $0.kind == kind } }

    // MARK: spring

    func testSpringPiercesSupportBeyondToleranceClosesBackAboveOnVolume() throws {
        var h = rangeBeforeSpring()
        // Low 1.0990 pierces support by 10 pips = 0.5 ATR > 0.25 ATR; close 1.1005 is back above
        // 1.1000; volume 2,000 ÷ mean of bars 25–28 (1,000) = 2.0 ≥ 1.2.
        h.add(low: -10, high: 20, open: 20, close: 5, volume: 2_000)
        let a = try XCTUnwrap(try H.analyse(h.bars).last)
        let range = try XCTUnwrap(a.range)
        XCTAssertEqual(range.support, H.price(0))
        XCTAssertEqual(range.resistance, H.price(100))
        XCTAssertEqual(range.supportTouches, 2)
        XCTAssertEqual(range.resistanceTouches, 3)
        XCTAssertEqual(range.heightATR, 5, accuracy: 1e-9) // 100 pips ÷ 20 pips

        let spring = try XCTUnwrap(events(a, .spring).first)
        XCTAssertEqual(a.events.count, 1)
        XCTAssertEqual(spring.level, H.price(0))
        XCTAssertEqual(spring.extreme, H.price(-10))
        XCTAssertEqual(spring.volumeRatio, 2.0, accuracy: 1e-9)
        XCTAssertEqual(spring.depthATR, 0.5, accuracy: 1e-9)
        XCTAssertEqual(spring.bars, 1)
        // Strength = mean of volume 2.0 ÷ (2 × 1.2) = 0.8333, depth 0.5 ATR → 0.5, close position
        // (5 − (−10)) ÷ 30 = 0.5, speed (3 − 0) ÷ 3 = 1 → 0.70833.
        XCTAssertEqual(spring.strength, (2.0 / 2.4 + 0.5 + 0.5 + 1) / 4, accuracy: 1e-9)
    }

    func testSpringMayTakeUpToSpringMaxBarsToCloseBackAboveSupport() throws {
        var h = rangeBeforeSpring()
        // Bar 29 closes at 1.0997, below support but not beyond the tolerance (so no SOW); bar 30
        // closes back above at 1.1010. The excursion (bars 29–30, 2 ≤ 3 bars) reached 1.0990.
        h.add(low: -10, high: 20, open: 20, close: -3, volume: 2_000)
        h.add(low: -5, high: 15, open: -3, close: 10, volume: 1_800)
        let analyses = try H.analyse(h.bars)
        XCTAssertTrue(analyses[29].events.isEmpty, "the bar that closed below support is not a spring yet: \(analyses[29].events)")
        let spring = try XCTUnwrap(events(analyses[30], .spring).first)
        // The tolerance now uses the ATR of bar 29: TR = max(30, |20 − 20|, |−10 − 20|) = 30 pips,
        // ATR = (3 × 20 + 30) ÷ 4 = 22.5 pips; pierce 10 pips = 0.444 ATR > 0.25 ATR.
        XCTAssertEqual(spring.depthATR, 10 / 22.5, accuracy: 1e-9)
        XCTAssertEqual(spring.bars, 2)
        XCTAssertEqual(spring.volumeRatio, 1.9, accuracy: 1e-9) // (2,000 + 1,800) ÷ 2 ÷ 1,000
        XCTAssertEqual(spring.extreme, H.price(-10))
    }

    func testExcursionLongerThanSpringMaxBarsIsNotASpring() throws {
        var h = rangeBeforeSpring()
        // Three closes below support (bars 29–31), back above on bar 32: 4 bars > springMaxBars 3.
        h.add(low: -10, high: 20, open: 20, close: -3, volume: 2_000)
        h.add(low: -8, high: 5, open: -3, close: -2, volume: 2_000)
        h.add(low: -6, high: 5, open: -2, close: -1, volume: 2_000)
        h.add(low: -1, high: 19, open: -1, close: 10, volume: 2_000)
        let analyses = try H.analyse(h.bars)
        XCTAssertTrue(analyses[29...32].allSatisfy { events($0, .spring).isEmpty })
        // With springMaxBars 4 the same bars are a spring.
        var p = H.parameters
        p.springMaxBars = 4
        XCTAssertEqual(try H.analyse(h.bars, parameters: p)[32].events.map(\.kind), [.spring])
    }

    func testPierceWithinToleranceIsNotASpring() throws {
        var h = rangeBeforeSpring()
        // Low 1.0996: 4 pips = 0.2 ATR below support, within the 0.25 ATR tolerance.
        h.add(low: -4, high: 20, open: 20, close: 5, volume: 2_000)
        XCTAssertEqual(try H.analyse(h.bars).last?.events, [])
        // Two pips deeper (6 pips = 0.3 ATR) it is one.
        var deeper = rangeBeforeSpring()
        deeper.add(low: -6, high: 20, open: 20, close: 5, volume: 2_000)
        XCTAssertEqual(try H.analyse(deeper.bars).last?.events.map(\.kind), [.spring])
    }

    func testCloseBelowSupportIsABreakdownSOWNotASpring() throws {
        var h = rangeBeforeSpring()
        // Close 1.0975 is below support − tolerance (1.0995): the break held, so no spring. The bar
        // is 50 pips wide (≥ 1 ATR), volume 2.0 × average (≥ 1.5), the first close below: an SOW.
        h.add(low: -30, high: 20, open: 20, close: -25, volume: 2_000)
        let a = try XCTUnwrap(try H.analyse(h.bars).last)
        XCTAssertEqual(a.events.map(\.kind), [.sow])
        let sow = a.events[0]
        XCTAssertEqual(sow.level, H.price(0))
        XCTAssertEqual(sow.extreme, H.price(20)) // the breakdown bar's high: a short's stop goes above it
        XCTAssertEqual(sow.depthATR, 25.0 / 20, accuracy: 1e-9)
        XCTAssertEqual(sow.volumeRatio, 2, accuracy: 1e-9)
        XCTAssertNil(a.signal, "an SOW is not a signal unless signalOnSOS")
    }

    func testLowVolumeSpringIsRejected() throws {
        var h = rangeBeforeSpring()
        // Same shape as the spring, but volume 1,100 ÷ 1,000 = 1.1 < springVolumeRatio 1.2.
        h.add(low: -10, high: 20, open: 20, close: 5, volume: 1_100)
        XCTAssertEqual(try H.analyse(h.bars).last?.events, [])
    }

    // MARK: upthrust (the spring's mirror, and an explicit one)

    func testUpthrustPiercesResistanceAndClosesBackBelowOnVolume() throws {
        var h = H()
        h.range(cycles: 2)
        h.up(lows: [0, 20, 40, 60])
        // The range seen from bar 24: resistance 1.1100 (pivots 4, 14), support 1.1000 (9, 19).
        // High 1.1110 pierces resistance by 10 pips = 0.5 ATR; close 1.1095 is back below;
        // volume 2.0 × average.
        h.add(low: 80, high: 110, open: 80, close: 95, volume: 2_000)
        let a = try XCTUnwrap(try H.analyse(h.bars).last)
        let upthrust = try XCTUnwrap(events(a, .upthrust).first)
        XCTAssertEqual(a.events.count, 1)
        XCTAssertEqual(upthrust.level, H.price(100))
        XCTAssertEqual(upthrust.extreme, H.price(110))
        XCTAssertEqual(upthrust.depthATR, 0.5, accuracy: 1e-9)
        XCTAssertEqual(upthrust.volumeRatio, 2, accuracy: 1e-9)

        // The spring's bars upside down are an upthrust with the same measurements.
        var s = rangeBeforeSpring()
        s.add(low: -10, high: 20, open: 20, close: 5, volume: 2_000)
        var detector = try WyckoffDetector(parameters: H.parameters)
        let mirrored = s.mirrored().map { detector.process($0) }.last!
        let m = try XCTUnwrap(events(mirrored, .upthrust).first)
        XCTAssertEqual(m.level, H.price(100))
        XCTAssertEqual(m.extreme, H.price(110))
        XCTAssertEqual(m.strength, (2.0 / 2.4 + 0.5 + 0.5 + 1) / 4, accuracy: 1e-9)
    }

    // MARK: SOS / SOW

    func testSOSClosesAboveResistanceOnAWideBarAndVolume() throws {
        var h = rangeBeforeBreakout()
        // Close 1.1125 > resistance + tolerance (1.1105), previous close 1.1080 was not; the bar
        // spans 50 pips = 2.5 ATR ≥ 1; volume 2,000 ÷ 1,000 = 2.0 ≥ 1.5.
        h.add(low: 80, high: 130, open: 80, close: 125, volume: 2_000)
        let a = try XCTUnwrap(try H.analyse(h.bars).last)
        let sos = try XCTUnwrap(events(a, .sos).first)
        XCTAssertEqual(a.events.count, 1)
        XCTAssertEqual(sos.level, H.price(100))
        XCTAssertEqual(sos.extreme, H.price(80))
        XCTAssertEqual(sos.depthATR, 1.25, accuracy: 1e-9) // (125 − 100) ÷ 20
        // Strength = mean of 2.0 ÷ (2 × 1.5), span 50 ÷ 40 → 1, close position 45 ÷ 50.
        XCTAssertEqual(sos.strength, (2.0 / 3 + 1 + 0.9) / 3, accuracy: 1e-9)
        XCTAssertNil(a.signal, "signalOnSOS is off by default")

        // The mirror image is an SOW.
        var detector = try WyckoffDetector(parameters: H.parameters)
        let mirrored = h.mirrored().map { detector.process($0) }.last!
        XCTAssertEqual(mirrored.events.map(\.kind), [.sow])
        XCTAssertEqual(mirrored.events.first?.extreme, H.price(20)) // 2.21 − 1.1080 = 1.1020
    }

    func testLowVolumeOrNarrowBreakoutIsNotAnSOS() throws {
        var quiet = rangeBeforeBreakout()
        // Volume 1,400 ÷ 1,000 = 1.4 < sosVolumeRatio 1.5.
        quiet.add(low: 80, high: 130, open: 80, close: 125, volume: 1_400)
        XCTAssertEqual(try H.analyse(quiet.bars).last?.events, [])
        var narrow = rangeBeforeBreakout()
        // A gap up: the bar spans only 15 pips < 1 ATR (20 pips), though it closes at 1.1110.
        narrow.add(low: 95, high: 110, open: 95, close: 110, volume: 2_000)
        XCTAssertEqual(try H.analyse(narrow.bars).last?.events, [])
    }

    func testSOSSignalNeedsSignalOnSOSAndTheMinimumRewardRisk() throws {
        var h = rangeBeforeBreakout()
        h.add(low: 80, high: 130, open: 80, close: 125, volume: 2_000)
        var p = H.parameters
        p.signalOnSOS = true
        // Entry 1.1125, stop 1.1080 − 0.5 × 0.0020 = 1.1070, target 1.1100 + 0.0100 = 1.1200:
        // reward/risk = 75 ÷ 55 = 1.36 < 1.5.
        let rejected = try XCTUnwrap(try H.analyse(h.bars, parameters: p).last)
        XCTAssertNil(rejected.signal)
        XCTAssertTrue(rejected.remarks.contains("sos: no signal, reward/risk 1.36 < 1.5"), "\(rejected.remarks)")
        p.minRewardRisk = 1.3
        let signal = try XCTUnwrap(try H.analyse(h.bars, parameters: p).last?.signal)
        XCTAssertEqual(signal.side, .buy)
        XCTAssertEqual(signal.pattern, "sos")
        XCTAssertEqual(signal.entry, H.price(125))
        XCTAssertEqual(signal.stopLoss, H.price(70))
        XCTAssertEqual(signal.takeProfit, H.price(200))
        XCTAssertEqual(signal.evidence["rewardRisk"], "1.36")
    }

    // MARK: LPS / LPSY

    /// The spring at bar 29, a rally on 1,500-lot bars to 1.1045 (bars 30–31), a pullback on 700
    /// and 600 lots to a low of 1.1020 (bars 32–33), and two bars up (34–35).
    func springThenPullback(pullbackVolume: Double = 650, pullbackLow: Double = 20) -> H {
        var h = rangeBeforeSpring()
        h.add(low: -10, high: 20, open: 20, close: 5, volume: 2_000)     // 29 spring
        h.add(low: 5, high: 25, open: 5, close: 25, volume: 1_500)       // 30
        h.add(low: 25, high: 45, open: 25, close: 45, volume: 1_500)     // 31 rally high
        h.add(low: 30, high: 45, open: 45, close: 30, volume: pullbackVolume + 50)  // 32
        h.add(low: pullbackLow, high: 35, open: 30, close: pullbackLow, volume: pullbackVolume - 50) // 33 pullback low
        h.add(low: 22, high: 42, open: 22, close: 40, volume: 900)       // 34
        h.add(low: 35, high: 55, open: 40, close: 55, volume: 1_000)     // 35
        return h
    }

    func testLPSIsAHigherLowOnLowerVolumeAfterTheSpring() throws {
        let analyses = try H.analyse(springThenPullback().bars)
        XCTAssertEqual(analyses[29].events.map(\.kind), [.spring])
        XCTAssertTrue(analyses[30...34].allSatisfy { $0.events.isEmpty })
        // Bar 35 confirms bar 33 (lpsConfirmBars 2): lows of 31–32 (25, 30) above 20 before it, of
        // 34–35 (22, 35) not below it after. The pullback from the rally high (bar 31, 1.1045)
        // is 25 pips ≥ 0.5 ATR; its volume (700 + 600) ÷ 2 = 650 against the advance (bars 29–31)
        // (2,000 + 1,500 + 1,500) ÷ 3 = 1,666.7: ratio 0.39 ≤ 1. The low 1.1020 holds support and
        // is above the spring's 1.0990; bar 35 closes at 1.1055, above bar 33's close.
        let lps = try XCTUnwrap(events(analyses[35], .lps).first)
        XCTAssertEqual(lps.follows, .spring)
        XCTAssertEqual(lps.level, H.price(0))
        XCTAssertEqual(lps.extreme, H.price(20))
        XCTAssertEqual(lps.volumeRatio, 650 / (5_000.0 / 3), accuracy: 1e-9)
        XCTAssertEqual(lps.bars, 6)
        // The ATR of bar 34: TRs 30, 20, 20, 15, 15, 22 after 20s give Wilder ATR(4) 22.5,
        // 21.875, 21.40625, 19.8046875, 18.603515625, 19.45263671875 pips.
        let atr34 = 19.45263671875
        XCTAssertEqual(lps.depthATR, 20 / atr34, accuracy: 1e-9)
        XCTAssertNil(analyses[35].signal, "the spring's signal at bar 29 puts the instrument in its 10-bar cooldown")
        XCTAssertTrue(analyses[35].remarks.contains { $0.hasPrefix("lps: no signal, cooldown") }, "\(analyses[35].remarks)")

        // Without the cooldown the LPS is a long: entry at the close 1.1055, stop 0.5 ATR below the
        // pullback low: 1.1020 − 0.5 × 0.001945263671875 = 1.10102737 → rounded down 1.10102;
        // target the measured move 1.1100 + 0.0100 = 1.1200; reward/risk 145 ÷ 44.8 = 3.24.
        var p = H.parameters
        p.cooldownBars = 0
        let signal = try XCTUnwrap(try H.analyse(springThenPullback().bars, parameters: p)[35].signal)
        XCTAssertEqual(signal.pattern, "lps")
        XCTAssertEqual(signal.side, .buy)
        XCTAssertEqual(signal.entry, H.price(55))
        XCTAssertEqual(signal.stopLoss, Decimal(string: "1.10102"))
        XCTAssertEqual(signal.takeProfit, H.price(200))
        XCTAssertEqual(signal.evidence["rewardRisk"], "3.24")
        XCTAssertEqual(signal.evidence["follows"], "spring")
    }

    func testPullbackOnHeavyVolumeOrBelowTheSpringIsNoLPS() throws {
        // Pullback volume 2,500 ÷ 1,666.7 = 1.5 > lpsVolumeRatio 1.0: supply is back.
        XCTAssertTrue(try H.analyse(springThenPullback(pullbackVolume: 2_500).bars)[30...].allSatisfy { events($0, .lps).isEmpty })
        // A pullback to 1.0988 undercuts the spring's 1.0990: no higher low, so no LPS.
        XCTAssertTrue(try H.analyse(springThenPullback(pullbackLow: -12).bars)[30...].allSatisfy { events($0, .lps).isEmpty })
    }

    func testLPSYIsTheMirrorOfLPSAfterAnUpthrust() throws {
        let analyses = try H.analyse(springThenPullback().mirrored())
        XCTAssertEqual(analyses[29].events.map(\.kind), [.upthrust])
        let lpsy = try XCTUnwrap(events(analyses[35], .lpsy).first)
        XCTAssertEqual(lpsy.follows, .upthrust)
        XCTAssertEqual(lpsy.level, H.price(100))
        XCTAssertEqual(lpsy.extreme, H.price(80)) // 2.21 − 1.1020: the rally's lower high
        XCTAssertEqual(lpsy.volumeRatio, 650 / (5_000.0 / 3), accuracy: 1e-9)
    }

    // MARK: the bar under test stays out of its own range

    func testToleranceUsesTheATRBeforeTheBarUnderTest() throws {
        var h = rangeBeforeSpring()
        // A 106-pip bar from 1.0994 to 1.1100 that closes at 1.1005: it pierces support by 6 pips.
        // Against the ATR of the bars before it (20 pips) that is 0.3 ATR > 0.25: a spring. Had the
        // bar counted, its TR of 106 pips would lift the ATR to (3 × 20 + 106) ÷ 4 = 41.5 pips and
        // the tolerance to 10.4 pips, and 6 pips would be no pierce at all.
        h.add(low: -6, high: 100, open: 20, close: 5, volume: 2_000)
        let a = try XCTUnwrap(try H.analyse(h.bars).last)
        XCTAssertEqual(a.atr ?? 0, 0.00415, accuracy: 1e-12) // reported ATR includes the bar
        let spring = try XCTUnwrap(events(a, .spring).first)
        XCTAssertEqual(spring.depthATR, 0.3, accuracy: 1e-9)
    }

    func testRangeWindowEndsBeforeTheBarUnderTest() throws {
        var h = rangeBeforeSpring()
        h.add(low: -10, high: 20, open: 20, close: 5, volume: 2_000)
        var p = H.parameters
        p.rangeWindow = 20
        // From bar 29 the window is bars 9–28: pivot lows 9 and 19 → support with 2 touches, and
        // the spring is found.
        let a = try XCTUnwrap(try H.analyse(h.bars, parameters: p).last)
        XCTAssertEqual(a.range?.supportTouches, 2)
        XCTAssertEqual(a.events.map(\.kind), [.spring])
        XCTAssertEqual(a.range?.support, H.price(0), "the range's support is the old level, not the spring's low")

        // The same search with the newest bar inside the window (bars 10–29) loses the touch at
        // bar 9 (bar 29's low is not a confirmed pivot) and finds no range: the verdict would change.
        var series = WyckoffSeries(atrPeriod: p.atrPeriod)
        h.bars.forEach { series.append($0) }
        let atr = try XCTUnwrap(series.atr[28])
        XCTAssertNotNil(WyckoffStructure.findRange(series, end: 29, atr: atr, parameters: p))
        XCTAssertNil(WyckoffStructure.findRange(series, end: 30, atr: atr, parameters: p))
    }

    // MARK: the spring's signal

    func testSpringSignalEntryStopTargetConfidenceAndEvidence() throws {
        var h = rangeBeforeSpring()
        h.add(low: -10, high: 20, open: 20, close: 5, volume: 2_000)
        let a = try XCTUnwrap(try H.analyse(h.bars).last)
        let signal = try XCTUnwrap(a.signal)
        let spring = try XCTUnwrap(a.events.first)
        XCTAssertEqual(signal.id, "EUR_USD-\(h.bars[29].start)-spring")
        XCTAssertEqual(signal.side, .buy)
        XCTAssertEqual(signal.pattern, "spring")
        // Entry at the close 1.1005; stop 0.5 ATR below the spring low: 1.0990 − 0.0010 = 1.0980;
        // target the measured move 1.1100 + 0.0100 = 1.1200; reward/risk 195 ÷ 25 = 7.8.
        XCTAssertEqual(signal.entry, H.price(5))
        XCTAssertEqual(signal.stopLoss, H.price(-20))
        XCTAssertEqual(signal.takeProfit, H.price(200))
        XCTAssertEqual(signal.evidence["rewardRisk"], "7.80")
        // Confidence is half the bullish phase support, half the event's strength.
        let support = max(a.scores.accumulation, a.scores.markup)
        XCTAssertEqual(signal.confidence, 0.5 * support + 0.5 * spring.strength, accuracy: 1e-12)
        XCTAssertEqual(signal.phase, a.scores.dominant?.rawValue)
        XCTAssertEqual(signal.phase, "accumulation")
        XCTAssertEqual(signal.createdAt, h.bars[29].start + 60_000_000)
        XCTAssertEqual(signal.evidence["volumeRatio"], "2.00")
        XCTAssertEqual(signal.evidence["depthATR"], "0.50")
        XCTAssertEqual(signal.evidence["support"], "1.1")
        XCTAssertEqual(signal.evidence["resistance"], "1.11")
        XCTAssertEqual(signal.evidence["supportTouches"], "2")
        XCTAssertEqual(signal.evidence["resistanceTouches"], "3")
        XCTAssertNotNil(signal.evidence["slopeATR"])
        XCTAssertNotNil(signal.evidence["score.accumulation"])

        // With the range's opposite side as the target: 1.1100, reward/risk 95 ÷ 25 = 3.8.
        var p = H.parameters
        p.targetRule = .rangeOpposite
        let opposite = try XCTUnwrap(try H.analyse(h.bars, parameters: p).last?.signal)
        XCTAssertEqual(opposite.takeProfit, H.price(100))
        XCTAssertEqual(opposite.evidence["rewardRisk"], "3.80")

        // Below the confidence floor there is no signal, and the remark says why.
        p.minConfidence = 0.99
        let quiet = try XCTUnwrap(try H.analyse(h.bars, parameters: p).last)
        XCTAssertNil(quiet.signal)
        XCTAssertTrue(quiet.remarks.contains { $0.hasPrefix("spring: no signal, confidence") }, "\(quiet.remarks)")
    }
}
