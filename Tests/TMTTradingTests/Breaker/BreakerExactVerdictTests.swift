import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

/// The breaker computes each tick's gap and volatility figures in `Double` and falls back to
/// exact `Decimal` arithmetic only near a limit; its verdicts must be those of exact arithmetic.
/// Checked tick by tick against a reference that does everything in `Decimal`.
final class BreakerExactVerdictTests: XCTestCase {
    typealias F = BreakerFixture

    /// The reference: the exact return of each tick's mid, the gap rule, and Σr² over the window
    /// (gap moves excluded) classified with the breaker's hysteresis.
    private struct ExactReference {
        let t: BreakerThresholds
        var lastMid: Decimal?
        var window: [(time: Int64, squared: Decimal)] = []
        var volatility: BreakerLevel = .clear

        mutating func apply(_ tick: Tick) -> (gap: BreakerLevel, volatility: BreakerLevel)? {
            let mid = tick.mid
            defer { lastMid = mid }
            guard let previous = lastMid else { return nil }
            let move = (mid - previous) * 100 / previous
            let size = move < 0 ? -move : move
            let gap = size >= t.priceGapPercent
            if !gap { window.append((tick.time, move * move)) }
            let cutoff = tick.time - BreakerTime.micros(seconds: t.volatilityWindowSeconds)
            window.removeAll { $0.time <= cutoff }
            if window.count >= t.volatilityMinimumReturns {
                let sum = window.reduce(Decimal(0)) { $0 + $1.squared }
                let w = t.volatilityWarningPercent, trip = t.volatilityTripPercent, clear = t.clearBelow(w)
                volatility = BreakerLevel.classify(sum, warning: w * w, trip: trip * trip, clearBelow: clear * clear, previous: volatility)
            } else {
                volatility = .clear
            }
            return (gap ? .breach : .clear, volatility)
        }
    }

    func testVerdictsMatchExactArithmeticTickByTick() {
        var t = BreakerThresholds.standard
        t.priceGapPercent = F.d("0.05")
        t.volatilityWindowSeconds = 20
        t.volatilityWarningPercent = F.d("0.06")
        t.volatilityTripPercent = F.d("0.09")
        t.volatilityMinimumReturns = 10
        var (cb, _) = F.live(t)
        var reference = ExactReference(t: t)
        _ = reference.apply(F.tick("EUR_USD", "1.00000", at: 0))   // the fixture's first tick

        // A seeded walk in 0.00001 steps with a one-pip spread: calm stretches, busy ones and the
        // odd jump past the gap limit, so every level of both conditions occurs.
        var state: UInt64 = 2026
        func next(_ n: UInt64) -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (state >> 33) % n
        }
        var mid: Int64 = 100_000
        var seen: [String: Int] = [:]
        for i in 1...6_000 {
            let busy = (i / 500) % 3
            var step = Int64(next(busy == 0 ? 2 : busy == 1 ? 8 : 30))
            if next(400) == 0 { step = 60 }
            mid += next(2) == 0 ? step : -step
            let bid = Decimal(sign: .plus, exponent: -5, significand: Decimal(mid))
            let tick = Tick(instrument: "EUR_USD", bid: bid, ask: bid + F.d("0.00001"), volume: 1000, time: Int64(i) * 250_000)
            _ = cb.apply(tick: tick)
            guard let expected = reference.apply(tick) else { continue }
            let conditions = cb.breaker(.instrument("EUR_USD"))?.conditions
            XCTAssertEqual(conditions?[.priceGap]?.level, expected.gap, "tick \(i)")
            XCTAssertEqual(conditions?[.volatility]?.level, expected.volatility, "tick \(i)")
            seen["gap \(expected.gap)", default: 0] += 1
            seen["volatility \(expected.volatility)", default: 0] += 1
        }
        // The walk reached every level, so the comparison covered each.
        for level in ["gap breach", "gap clear", "volatility clear", "volatility warning", "volatility breach"] {
            XCTAssertGreaterThan(seen[level] ?? 0, 0, "\(level) never occurred: \(seen)")
        }
    }

    func testQuotesWithANonPositiveBidAreMeasuredExactly() {
        // A bid of −1 or 0 with a positive mid: in Double the two sides cancel and the mid can be
        // off by half. Both mids here are exactly 2e-16: no move, whatever Double says.
        var (flat, _) = F.live()
        _ = flat.apply(tick: Tick(instrument: "EUR_USD", bid: F.d("-1"), ask: F.d("1.0000000000000004"), volume: 1, time: 10_000_000))
        _ = flat.apply(tick: Tick(instrument: "EUR_USD", bid: F.d("0"), ask: F.d("0.0000000000000004"), volume: 1, time: 11_000_000))
        XCTAssertEqual(flat.breaker(.instrument("EUR_USD"))?.conditions[.priceGap]?.level, .clear)
        XCTAssertEqual(flat.breaker(.instrument("EUR_USD"))?.conditions[.priceGap]?.reason.figures["movePercent"], "0")
        // From 2e-16 to 4e-16 (bid 0 both times) is +100 %: a gap.
        _ = flat.apply(tick: Tick(instrument: "EUR_USD", bid: F.d("0"), ask: F.d("0.0000000000000008"), volume: 1, time: 12_000_000))
        XCTAssertEqual(flat.breaker(.instrument("EUR_USD"))?.conditions[.priceGap]?.level, .breach)
    }

    func testTheWindowsFigureIsNeverNegativeAfterLargeReturnsLeaveIt() {
        var t = BreakerThresholds.standard
        t.priceGapPercent = 5
        t.volatilityWindowSeconds = 5
        t.volatilityWarningPercent = F.d("0.4")
        t.volatilityTripPercent = 1
        t.volatilityMinimumReturns = 2
        var (cb, clock) = F.live(t)
        // Large returns (Σr² ≈ 0.24: √ ≈ 0.49 %, a warning), then unchanged mids until they have
        // left the window: the exact Σr² is 0, and so must the figures be.
        for (i, mid) in ["1.00300", "1.00000", "1.00241", "1.00000"].enumerated() {
            _ = cb.apply(tick: F.tick("EUR_USD", mid, at: Double(10 + i)))
        }
        XCTAssertEqual(cb.breaker(.instrument("EUR_USD"))?.conditions[.volatility]?.level, .warning)
        for s in 14...30 {
            clock.advance(by: 1.5)
            _ = cb.apply(tick: F.tick("EUR_USD", "1.00000", at: Double(s)))
        }
        let volatility = cb.breaker(.instrument("EUR_USD"))?.conditions[.volatility]
        XCTAssertEqual(volatility?.level, .clear)
        XCTAssertEqual(volatility?.reason.figures["sumSquaredReturns"], "0")
        XCTAssertEqual(volatility?.reason.figures["realisedPercent"], "0")
    }

    func testAQuoteWithoutSpreadIsValidAndANonPositiveOneIsNot() {
        var (cb, _) = F.live()
        _ = cb.apply(tick: F.tick("EUR_USD", "1.00010", at: 10))   // bid == ask
        XCTAssertEqual(cb.breaker(.instrument("EUR_USD"))?.conditions[.priceGap]?.level, .clear)
        _ = cb.apply(tick: Tick(instrument: "EUR_USD", bid: F.d("-0.5"), ask: F.d("0.4"), volume: 1, time: 11_000_000))
        XCTAssertEqual(cb.breaker(.instrument("EUR_USD"))?.conditions[.priceGap]?.level, .breach, "mid −0.05")
        _ = cb.apply(tick: Tick(instrument: "GBP_USD", bid: F.d("1.2"), ask: F.d("1.19999999999999999999"), volume: 1, time: 12_000_000))
        XCTAssertEqual(cb.breaker(.instrument("GBP_USD"))?.conditions[.priceGap]?.level, .breach, "ask below bid by 1e-20")
    }

    /// The staging instruments at their own price levels (1.08 to 38,500), as the market-data
    /// generator writes them and as the agent reads them (encoded, then decoded by the tick
    /// reader): two feeds ~0.5 % apart interleave, so moves hover around the gap limit. Every
    /// gap verdict is the exact one, and no fast verdict is overturned.
    func testGeneratedTicksOfEveryInstrumentThroughTheTickReaderGetExactGapVerdicts() throws {
        let symbols = InstrumentProfile.defaults.map(\.instrument.symbol)
        let t = BreakerThresholds.standard
        var cb = CircuitBreaker(configuration: F.configuration(t, accounts: [], instruments: symbols), clock: ManualClock())
        let start: Int64 = 1_764_000_000_000_000
        var feeds = [MarketSimulator(.init(seed: 99, startMicros: start)),
                     MarketSimulator(.init(seed: 7, startMicros: start, profiles: InstrumentProfile.defaults.map { p in
                         var p = p
                         p.startPrice *= 1.005
                         return p
                     }))]
        var state: UInt64 = 11
        var last: [String: (time: Int64, mid: Decimal)] = [:]
        var verdicts: [BreakerLevel: Int] = [:]
        for i in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let generated = feeds[Int((state >> 33) % 2)].next()
            let bytes = try EnvelopeCoding.encode(Envelope(id: "t\(i)", type: "market.tick", traceId: "t\(i)", source: "test", payload: generated))
            let tick = try EnvelopeCoding.decode(Tick.self, from: bytes).payload
            XCTAssertEqual(tick, generated)
            _ = cb.apply(tick: tick)
            if let previous = last[tick.instrument], tick.time <= previous.time { continue }
            defer { last[tick.instrument] = (tick.time, tick.mid) }
            guard let previous = last[tick.instrument]?.mid else { continue }
            let move = (tick.mid - previous) * 100 / previous
            let expected: BreakerLevel = (move < 0 ? -move : move) >= t.priceGapPercent ? .breach : .clear
            XCTAssertEqual(cb.breaker(.instrument(tick.instrument))?.conditions[.priceGap]?.level, expected,
                           "tick \(i): \(tick.instrument) \(previous) → \(tick.mid), move \(move) %")
            verdicts[expected, default: 0] += 1
        }
        XCTAssertGreaterThan(verdicts[.breach] ?? 0, 50, "the feeds' moves should cross the gap limit often: \(verdicts)")
        XCTAssertGreaterThan(verdicts[.clear] ?? 0, 1_000, "\(verdicts)")
        XCTAssertEqual(cb.fastPathDisagreements.count, 0, cb.fastPathDisagreements.pending.joined(separator: "\n"))
    }

    /// A gap is never declared on the fast path alone: with the watch's Double mid corrupted (as
    /// no input can make it), the exact check overturns the gap, keeps the exact move, and
    /// records the disagreement for the agent to log and count.
    func testAFastGapVerdictIsConfirmedExactlyAndADisagreementIsRecorded() throws {
        var (cb, _) = F.live()
        _ = cb.apply(tick: F.tick("EUR_USD", "1.08490", at: 10))
        cb.instruments["EUR_USD"]?.lastMid = 1.2
        _ = cb.apply(tick: F.tick("EUR_USD", "1.08487", at: 11))
        let gap = try XCTUnwrap(cb.breaker(.instrument("EUR_USD"))?.conditions[.priceGap])
        XCTAssertEqual(gap.level, .clear, gap.reason.detail)
        XCTAssertEqual(gap.reason.figures["movePercent"], "-0.002765")
        XCTAssertEqual(cb.fastPathDisagreements.count, 1)
        let details = cb.takeFastPathDisagreements()
        XCTAssertEqual(details.count, 1)
        XCTAssertTrue(details[0].contains("EUR_USD fast move -9.5"), details[0])
        XCTAssertTrue(cb.fastPathDisagreements.pending.isEmpty)
        // The return entered the volatility window at its exact size, not the corrupted one.
        let r = try XCTUnwrap(cb.instruments["EUR_USD"]?.returns.last)
        XCTAssertEqual(r.move, -0.0027652, accuracy: 1e-6)
        // A real gap still trips.
        _ = cb.apply(tick: F.tick("EUR_USD", "1.09100", at: 12))
        XCTAssertEqual(cb.breaker(.instrument("EUR_USD"))?.conditions[.priceGap]?.level, .breach)
        XCTAssertEqual(cb.fastPathDisagreements.count, 1)
    }
}
