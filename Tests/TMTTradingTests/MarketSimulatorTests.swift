import Foundation
import TMTBase
import XCTest
@testable import TMTModels
@testable import TMTTrading

final class MarketSimulatorTests: XCTestCase {
    /// Wednesday 2026-11-25 07:00 UTC.
    let wednesday: Int64 = 1_795_590_000_000_000

    func testSameSeedSameTicksDifferentSeedDifferentTicks() {
        var a = MarketSimulator(.init(seed: 42, startMicros: wednesday))
        var b = MarketSimulator(.init(seed: 42, startMicros: wednesday))
        var c = MarketSimulator(.init(seed: 43, startMicros: wednesday))
        let ta = (0..<2000).map { _ in a.next() }
        let tb = (0..<2000).map { _ in b.next() }
        let tc = (0..<2000).map { _ in c.next() }
        XCTAssertEqual(ta, tb)
        XCTAssertNotEqual(ta, tc)
        XCTAssertEqual(Set(ta.map(\.instrument)), Set(Instrument.catalog.keys))
        // Time never goes backwards.
        XCTAssertTrue(zip(ta, ta.dropFirst()).allSatisfy { $0.time <= $1.time })
    }

    func testSpreadsArePositiveAtPricePrecisionAndRealistic() throws {
        var sim = MarketSimulator(.init(seed: 7, startMicros: wednesday + 6 * 3_600_000_000, news: NewsCalendar(events: [])))
        var spreadsInPips: [String: [Double]] = [:]
        for _ in 0..<20_000 {
            let t = sim.next()
            let inst = try XCTUnwrap(Instrument.catalog[t.instrument])
            XCTAssertGreaterThan(t.ask, t.bid)
            XCTAssertEqual(t.bid, t.bid.rounded(inst.pricePrecision), "bid not at price precision")
            XCTAssertGreaterThan(t.volume, 0)
            spreadsInPips[t.instrument, default: []].append(NSDecimalNumber(decimal: t.spread / inst.pipSize).doubleValue)
        }
        // London/New York overlap (13:00 UTC): EUR_USD around a pip, gold a few tenths of a dollar.
        let eur = median(spreadsInPips["EUR_USD"]!)
        XCTAssertTrue((0.5...2.0).contains(eur), "EUR_USD median spread \(eur) pips")
        let gold = median(spreadsInPips["XAU_USD"]!)
        XCTAssertTrue((15...45).contains(gold), "XAU_USD median spread \(gold) pips")
    }

    func testSpreadsWidenAroundScheduledNews() {
        let release = wednesday + 5 * 3_600_000_000 + 30 * 60_000_000 // 12:30 UTC
        let calendar = NewsCalendar(events: [NewsEvent(id: "nfp", time: release, currency: "USD", title: "NFP", impact: "high")])
        var sim = MarketSimulator(.init(seed: 3, startMicros: release - 20 * 60_000_000, profiles: [InstrumentProfile.defaults[0]], news: calendar))
        var quiet: [Decimal] = [], news: [Decimal] = []
        while true {
            let t = sim.next()
            if t.time > release + 60_000_000 { break }
            if t.time < release - 5 * 60_000_000 { quiet.append(t.spread) }
            if abs(t.time - release) < 30_000_000 { news.append(t.spread) }
        }
        XCTAssertGreaterThan(news.count, 20)
        let q = median(quiet.map { NSDecimalNumber(decimal: $0).doubleValue })
        let n = median(news.map { NSDecimalNumber(decimal: $0).doubleValue })
        XCTAssertGreaterThan(n, q * 2.5, "spread at the release \(n) vs quiet \(q)")
    }

    func testNoTicksOverTheWeekendAndAGapAtTheOpen() {
        let fridayEvening = wednesday + 2 * 86_400_000_000 + 13 * 3_600_000_000 + 50 * 60_000_000 // Fri 20:50
        var sim = MarketSimulator(.init(seed: 11, startMicros: fridayEvening, profiles: [InstrumentProfile.defaults[0]],
                                        news: NewsCalendar(events: []), weekendGapSigma: 0.01))
        var last: Tick?
        var gapSeen = false
        for _ in 0..<5000 {
            let t = sim.next()
            XCTAssertFalse(TradingSession.isWeekendClosed(atMicros: t.time), "tick during the weekend at \(t.time)")
            if let l = last, t.time - l.time > 40 * 3_600_000_000 {
                gapSeen = true
                XCTAssertEqual(TradingSession.reopening(afterMicros: l.time + 1) <= t.time, true)
                let jump = abs(NSDecimalNumber(decimal: (t.mid - l.mid) / l.mid).doubleValue)
                XCTAssertGreaterThan(jump, 0.0001, "the weekend gap should move the price")
            }
            last = t
        }
        XCTAssertTrue(gapSeen, "the run did not cross the weekend")
    }

    /// The scripted accumulation dips below the range's support during the spring and closes the
    /// script above the range (markup).
    func testAccumulationScenarioShapesAPathWithASpringAndMarkup() throws {
        for seed: UInt64 in [5, 17, 99, 1234] { try checkAccumulation(seed: seed) }
    }

    private func checkAccumulation(seed: UInt64) throws {
        let scenario = WyckoffScenario.accumulation(symbol: "EUR_USD", minutes: 10)
        var sim = MarketSimulator(.init(seed: seed, startMicros: wednesday, profiles: [InstrumentProfile.defaults[0]],
                                        scenarios: [scenario], news: NewsCalendar(events: [])))
        let start = log(1.0850)
        let hw = scenario.rangeHalfWidth
        var minInSpring = Double.infinity, maxInAccumulation = -Double.infinity, minInAccumulation = Double.infinity
        var last = 0.0
        while true {
            let t = sim.next()
            let elapsed = Double(t.time - wednesday) / 1e6
            guard let phase = scenario.target(elapsed: elapsed)?.phase else { break }
            let x = log(NSDecimalNumber(decimal: t.mid).doubleValue) - start
            switch phase {
            case .spring: minInSpring = min(minInSpring, x)
            case .accumulation where elapsed < 600: maxInAccumulation = max(maxInAccumulation, x); minInAccumulation = min(minInAccumulation, x)
            default: break
            }
            last = x
        }
        XCTAssertLessThan(minInSpring, minInAccumulation, "seed \(seed): the spring must undercut the range low")
        XCTAssertLessThan(minInSpring, -hw, "seed \(seed): the spring must break support")
        XCTAssertGreaterThan(last, maxInAccumulation + hw, "seed \(seed): markup must leave the range upward")
    }

    func testNewsCalendarIsDeterministicAndSkipsWeekends() {
        let a = NewsCalendar.generate(seed: 1, startMicros: wednesday, days: 10)
        XCTAssertEqual(a, NewsCalendar.generate(seed: 1, startMicros: wednesday, days: 10))
        XCTAssertNotEqual(a, NewsCalendar.generate(seed: 2, startMicros: wednesday, days: 10))
        XCTAssertGreaterThan(a.events.count, 20)
        XCTAssertTrue(a.events.allSatisfy { !TradingSession.isWeekendClosed(atMicros: $0.time) })
    }

    func testSeededRandomIsStable() {
        var r = SeededRandom(seed: 0)
        // Pinned values: a change here means every seeded scenario changes.
        let first = (0..<3).map { _ in r.next() }
        var again = SeededRandom(seed: 0)
        XCTAssertEqual(first, (0..<3).map { _ in again.next() })
        var n = SeededRandom(seed: 9)
        let samples = (0..<20_000).map { _ in n.normal() }
        let mean = samples.reduce(0, +) / Double(samples.count)
        let variance = samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
    }

    func testADelayedScenarioWalksFreelyUntilItsStartThenFollowsTheScript() {
        // EUR_USD alone, accumulation starting 20 simulated minutes in: until then the ticks are
        // exactly those of a run without a scenario; from then the script's phases apply.
        let profile = [InstrumentProfile.defaults[0]]
        let offset = 20.0 * 60
        let delayed = WyckoffScenario.accumulation(symbol: "EUR_USD", minutes: 10, startOffset: offset)
        var scripted = MarketSimulator(.init(seed: 9, startMicros: wednesday, profiles: profile, scenarios: [delayed],
                                             news: NewsCalendar(events: [])))
        var free = MarketSimulator(.init(seed: 9, startMicros: wednesday, profiles: profile, news: NewsCalendar(events: [])))
        let start = wednesday + Int64(offset * 1e6)
        var before = 0, after = 0
        var divergedAfterStart = false
        for _ in 0..<12_000 {
            let a = scripted.next(), b = free.next()
            if a.time < start {
                XCTAssertEqual(a, b)
                before += 1
            } else {
                after += 1
                if a.bid != b.bid { divergedAfterStart = true }
            }
        }
        XCTAssertGreaterThan(before, 1000)
        XCTAssertGreaterThan(after, 1000)
        XCTAssertTrue(divergedAfterStart)
        XCTAssertNil(scripted.scenarioPhase(symbol: "EUR_USD", atMicros: start - 1_000_000))
        XCTAssertEqual(scripted.scenarioPhase(symbol: "EUR_USD", atMicros: start + 1_000_000), .accumulation)
        XCTAssertEqual(scripted.scenarioPhase(symbol: "EUR_USD", atMicros: start + 10 * 60_000_000 + 30_000_000), .spring)
    }

    private func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? .nan : s[s.count / 2]
    }
}

extension Decimal {
    func rounded(_ scale: Int) -> Decimal {
        var v = self, r = Decimal()
        NSDecimalRound(&r, &v, scale, .plain)
        return r
    }
}
