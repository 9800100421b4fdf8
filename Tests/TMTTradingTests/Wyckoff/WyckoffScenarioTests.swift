import Foundation
import XCTest
import TMTModels
@testable import TMTTrading

/// The detector on the data generator's scripted Wyckoff scenarios and on a plain random walk:
/// ticks → `BarBuilder` → `WyckoffDetector`, with default parameters throughout.
///
/// Scale: `minutes: 30` with 60-second bars. The script's accumulation is then 30 bars with three
/// swings between support and resistance (10 bars each), the spring 5 bars and the range about
/// 5 ATRs high, which is how such a structure looks on a chart. The script is time-based, so what
/// matters is minutes ÷ bar seconds: at 0.5 or less (20/60, 30/60, 60/120 all pass for 10 seeds
/// each) the scripted spring spends at most 2 bar closes below support; at 40/60 it spends 3, at
/// 60/60 about 4, longer than the default `springMaxBars` (3), i.e. a slow breakdown and recovery
/// rather than a spring, and no spring is reported.
final class WyckoffScenarioTests: XCTestCase {
    let harness = WyckoffScenarioHarness()

    /// (seed, offset in seconds): different noise and different alignment of the script to the bars.
    let runs: [(UInt64, Int64)] = [(5, 0), (17, 13), (99, 29), (1234, 41), (2024, 52)]

    func testAccumulationScenarioYieldsASpringInTheScriptedSpringAndALongSignal() throws {
        for (seed, offset) in runs {
            let r = try harness.run(.accumulation(symbol: "EUR_USD", minutes: 30), seed: seed, offsetSeconds: offset)
            let spring = try XCTUnwrap(r.bars(in: .spring), "seed \(seed)")
            // "Right after": the bar that closes the excursion back above support may start once
            // the script has moved on, up to two bars later.
            let window = spring.lowerBound...(spring.upperBound + 2)
            let springs = r.events.filter { $0.event.kind == .spring }
            XCTAssertFalse(springs.isEmpty, "seed \(seed): no spring at all")
            for s in springs {
                XCTAssertTrue(window.contains(s.bar), "seed \(seed): spring at bar \(s.bar), scripted spring bars \(spring)")
                XCTAssertGreaterThanOrEqual(s.event.volumeRatio, 1.2, "seed \(seed)")
            }
            XCTAssertTrue(r.events.allSatisfy { $0.event.kind != .upthrust }, "seed \(seed): an upthrust in an accumulation script")

            let longs = r.signals.filter { $0.signal.side == .buy }
            let first = try XCTUnwrap(longs.first, "seed \(seed): no long signal")
            XCTAssertTrue(["spring", "lps"].contains(first.signal.pattern), "seed \(seed): \(first.signal.pattern)")
            XCTAssertGreaterThanOrEqual(first.bar, spring.lowerBound, "seed \(seed)")
            XCTAssertEqual(first.signal.phase, "accumulation", "seed \(seed)")
            XCTAssertLessThan(first.signal.stopLoss, first.signal.entry)
            XCTAssertGreaterThan(first.signal.takeProfit, first.signal.entry)
            XCTAssertTrue(r.signals.allSatisfy { $0.signal.side == .buy }, "seed \(seed): a short signal in an accumulation script")
            // The script does mark up afterwards: the long's target is reached before its stop.
            XCTAssertEqual(harness.outcome(of: first.signal, after: first.bar, in: r), .target, "seed \(seed)")
        }
    }

    /// The performance validator compresses market time by sampling ticks more sparsely, down to
    /// `SimulatedPace.minTicksPerBar` (15) ticks per one-minute bar: the scripts must still read as
    /// what they are at that density. (At 10 ticks per bar seed 17's upthrust is missed.)
    func testScenariosAreStillDetectedWithFifteenTicksPerBar() throws {
        for (seed, offset) in runs {
            let up = try harness.run(.accumulation(symbol: "EUR_USD", minutes: 30), seed: seed, offsetSeconds: offset, tickInterval: 4)
            let spring = try XCTUnwrap(up.bars(in: .spring), "seed \(seed)")
            let long = try XCTUnwrap(up.signals.first { $0.signal.side == .buy }, "seed \(seed): no long signal at 15 ticks per bar")
            XCTAssertGreaterThanOrEqual(long.bar, spring.lowerBound, "seed \(seed)")
            XCTAssertTrue(up.signals.allSatisfy { $0.signal.side == .buy }, "seed \(seed): a short signal in an accumulation script")

            let down = try harness.run(.distribution(symbol: "EUR_USD", minutes: 30), seed: seed, offsetSeconds: offset, tickInterval: 4)
            let upthrust = try XCTUnwrap(down.bars(in: .upthrust), "seed \(seed)")
            let short = try XCTUnwrap(down.signals.first { $0.signal.side == .sell }, "seed \(seed): no short signal at 15 ticks per bar")
            XCTAssertGreaterThanOrEqual(short.bar, upthrust.lowerBound, "seed \(seed)")
            XCTAssertTrue(down.signals.allSatisfy { $0.signal.side == .sell }, "seed \(seed): a long signal in a distribution script")
        }
    }

    func testDistributionScenarioYieldsAnUpthrustInTheScriptedUpthrustAndAShortSignal() throws {
        for (seed, offset) in runs {
            let r = try harness.run(.distribution(symbol: "EUR_USD", minutes: 30), seed: seed, offsetSeconds: offset)
            let upthrust = try XCTUnwrap(r.bars(in: .upthrust), "seed \(seed)")
            let window = upthrust.lowerBound...(upthrust.upperBound + 2)
            let upthrusts = r.events.filter { $0.event.kind == .upthrust }
            XCTAssertFalse(upthrusts.isEmpty, "seed \(seed): no upthrust at all")
            for u in upthrusts {
                XCTAssertTrue(window.contains(u.bar), "seed \(seed): upthrust at bar \(u.bar), scripted upthrust bars \(upthrust)")
                XCTAssertGreaterThanOrEqual(u.event.volumeRatio, 1.2, "seed \(seed)")
            }
            XCTAssertTrue(r.events.allSatisfy { $0.event.kind != .spring }, "seed \(seed): a spring in a distribution script")

            let shorts = r.signals.filter { $0.signal.side == .sell }
            let first = try XCTUnwrap(shorts.first, "seed \(seed): no short signal")
            XCTAssertTrue(["upthrust", "lpsy"].contains(first.signal.pattern), "seed \(seed): \(first.signal.pattern)")
            XCTAssertGreaterThanOrEqual(first.bar, upthrust.lowerBound, "seed \(seed)")
            XCTAssertEqual(first.signal.phase, "distribution", "seed \(seed)")
            XCTAssertGreaterThan(first.signal.stopLoss, first.signal.entry)
            XCTAssertLessThan(first.signal.takeProfit, first.signal.entry)
            XCTAssertTrue(r.signals.allSatisfy { $0.signal.side == .sell }, "seed \(seed): a long signal in a distribution script")
            XCTAssertEqual(harness.outcome(of: first.signal, after: first.bar, in: r), .target, "seed \(seed)")
        }
    }
}

/// Drives the generator through the bar builder into the detector.
struct WyckoffScenarioHarness {
    /// Wednesday 2026-11-25 07:00 UTC: London session, no news slot for EUR or USD before 08:30.
    let wednesday: Int64 = 1_795_590_000_000_000
    let timeframe = 60
    let parameters = WyckoffParameters()

    struct Run {
        var analyses: [(analysis: WyckoffAnalysis, phase: WyckoffScenario.Phase?)] = []
        var events: [(event: WyckoffEvent, phase: WyckoffScenario.Phase?, bar: Int)] {
            analyses.enumerated().flatMap { n, a in a.analysis.events.map { ($0, a.phase, n) } }
        }
        var signals: [(signal: Signal, phase: WyckoffScenario.Phase?, bar: Int)] {
            analyses.enumerated().compactMap { n, a in a.analysis.signal.map { ($0, a.phase, n) } }
        }
        /// Bar numbers (first, last) whose start lies in a scripted phase.
        func bars(in phase: WyckoffScenario.Phase) -> ClosedRange<Int>? {
            let ns = analyses.enumerated().filter { $0.element.phase == phase }.map(\.offset)
            guard let first = ns.first, let last = ns.last else { return nil }
            return first...last
        }
    }

    /// Runs a scenario (seeded; `offsetSeconds` shifts the script against the bar grid) to 10
    /// minutes past its end.
    func run(_ scenario: WyckoffScenario, seed: UInt64, offsetSeconds: Int64, tickInterval: Double? = nil) throws -> Run {
        let start = wednesday + offsetSeconds * 1_000_000
        var profile = InstrumentProfile.defaults[0]
        if let tickInterval { profile.meanTickInterval = tickInterval }
        var sim = MarketSimulator(.init(seed: seed, startMicros: start, profiles: [profile], scenarios: [scenario]))
        var builder = try BarBuilder(timeframeSeconds: timeframe)
        var detector = try WyckoffDetector(parameters: parameters)
        var out = Run()
        let end = start + Int64((scenario.duration + 600) * 1e6)
        func take(_ bars: [Bar]) {
            for bar in bars {
                out.analyses.append((detector.process(bar), sim.scenarioPhase(symbol: "EUR_USD", atMicros: bar.start)))
            }
        }
        while true {
            let tick = sim.next()
            if tick.time > end { break }
            take(builder.apply(tick))
        }
        take(builder.flush(upTo: end + Int64(timeframe) * 1_000_000))
        return out
    }

    enum Outcome { case target, stop, open }

    /// Which of the signal's levels the later bars reach first (a bar touching both counts as the stop).
    func outcome(of signal: Signal, after bar: Int, in run: Run) -> Outcome {
        for (a, _) in run.analyses.dropFirst(bar + 1) {
            let b = a.bar
            let stopHit = signal.side == .buy ? b.low <= signal.stopLoss : b.high >= signal.stopLoss
            let targetHit = signal.side == .buy ? b.high >= signal.takeProfit : b.low <= signal.takeProfit
            if stopHit { return .stop }
            if targetHit { return .target }
        }
        return .open
    }
}

/// A plain random walk (no scenario) must rarely produce signals.
final class WyckoffRandomWalkTests: XCTestCase {
    /// Thursday 2026-11-26 07:00 UTC: 3,000 one-minute bars run through Friday's close, the
    /// weekend gap and into Monday's Asian session, with the seeded news calendar.
    let thursday: Int64 = 1_795_676_400_000_000

    /// Bound: fewer than 1 signal per 100 bars. A spring or upthrust needs a level touched at
    /// least twice within the tolerance on each side of a range 2–12 ATRs high, a pierce beyond the
    /// tolerance that closes back inside within 3 bars, volume 1.2 × average, reward/risk ≥ 1.5 and
    /// confidence ≥ 0.5, then a 10-bar cooldown. A random walk meets all of these by chance only
    /// now and then; 1 per 100 bars would be a signal every 100 minutes, i.e. noise. The volume in
    /// the generator carries no information outside the scripts (it moves with the session and news,
    /// not with price), so the check is repeated with the volume conditions switched off: the
    /// price structure alone must keep to the bound as well.
    func testRandomWalkYieldsFewerThanOneSignalPer100Bars() throws {
        var noVolume = WyckoffParameters()
        noVolume.springVolumeRatio = 0
        noVolume.upthrustVolumeRatio = 0
        for seed: UInt64 in [1, 2, 3, 4] {
            let (bars, withVolume, priceOnly) = try run(seed: seed, bars: 3_000, parameters: [WyckoffParameters(), noVolume])
            XCTAssertEqual(bars, 3_000)
            XCTAssertLessThan(withVolume, bars / 100, "seed \(seed): \(withVolume) signals in \(bars) bars")
            XCTAssertLessThan(priceOnly, bars / 100, "seed \(seed): \(priceOnly) signals in \(bars) bars without volume checks")
        }
    }

    /// One tick a second on average (a quarter of the default rate, to keep the test quick; the
    /// price process does not depend on the tick rate, and fewer ticks make bar volume noisier,
    /// so the volume conditions are easier to meet by chance, not harder).
    private func run(seed: UInt64, bars: Int, parameters: [WyckoffParameters]) throws -> (Int, Int, Int) {
        let profile = InstrumentProfile(instrument: .eurUsd, startPrice: 1.0850, baseSpreadPips: 0.8, annualVolatility: 0.07,
                                        baseVolume: 250_000, meanTickInterval: 1.0)
        var sim = MarketSimulator(.init(seed: seed, startMicros: thursday, profiles: [profile]))
        var builder = try BarBuilder(timeframeSeconds: 60)
        var detectors = try parameters.map { try WyckoffDetector(parameters: $0) }
        var signals = [Int](repeating: 0, count: detectors.count)
        var n = 0
        while n < bars {
            for bar in builder.apply(sim.next()) where n < bars {
                n += 1
                for k in detectors.indices where detectors[k].process(bar).signal != nil { signals[k] += 1 }
            }
        }
        return (n, signals[0], signals[1])
    }
}
