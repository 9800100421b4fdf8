import Foundation
import TMTModels
@testable import TMTTrading

/// Hand-built EUR_USD bars in pips above 1.1000 (so support 0 = 1.1000, resistance 100 = 1.1100),
/// one minute apart, for tests whose verdicts can be checked with pencil and paper.
///
/// `range(cycles:)` draws the textbook range: 10-bar cycles of an up leg (bars with lows
/// 0, 20, 40, 60, 80 pips, each 20 pips tall, closing at the high) and a down leg (lows 80, 60, 40,
/// 20, 0, closing at the low). Every bar opens at the previous close, which lies inside it, so every
/// true range is exactly 20 pips and the Wilder ATR is 0.0020. Volume 1,000 per bar. With a swing
/// lookback of 1 the pivot highs are the up legs' last bars (4, 14, 24, …, high 100) and the
/// pivot lows the down legs' last bars (9, 19, 29, …, low 0).
struct WyckoffHandBars {
    /// Wednesday 2026-11-25 07:00 UTC.
    static let start: Int64 = 1_795_590_000_000_000
    var bars: [Bar] = []

    /// 1.1000 + pips × 0.0001, exactly (pips in tenths).
    static func price(_ pips: Double) -> Decimal {
        Decimal(string: "1.1")! + Decimal(Int((pips * 10).rounded())) / 100_000
    }

    /// Appends one bar (prices in pips above 1.1000).
    mutating func add(low: Double, high: Double, open: Double, close: Double, volume: Double = 1_000) {
        bars.append(Bar(instrument: "EUR_USD", timeframeSeconds: 60, start: Self.start + Int64(bars.count) * 60_000_000,
                        open: Self.price(open), high: Self.price(high), low: Self.price(low), close: Self.price(close),
                        volume: Decimal(volume), tickCount: 10))
    }

    /// Up-leg bars with the given lows, 20 pips tall, closing at their highs.
    mutating func up(lows: [Double], volume: Double = 1_000) {
        for l in lows { add(low: l, high: l + 20, open: l, close: l + 20, volume: volume) }
    }

    /// Down-leg bars with the given lows, 20 pips tall, closing at their lows.
    mutating func down(lows: [Double], volume: Double = 1_000) {
        for l in lows { add(low: l, high: l + 20, open: l + 20, close: l, volume: volume) }
    }

    /// `cycles` full 10-bar swings from support to resistance and back.
    mutating func range(cycles: Int) {
        for _ in 0..<cycles {
            up(lows: [0, 20, 40, 60, 80])
            down(lows: [80, 60, 40, 20, 0])
        }
    }

    /// The same bars upside down around 1.1050, so support and resistance swap and every bullish
    /// shape becomes its bearish mirror (a spring an upthrust, an SOS an SOW, an LPS an LPSY).
    func mirrored() -> [Bar] {
        let two = Decimal(string: "2.21")! // 2 × 1.1050
        return bars.map { b in
            Bar(instrument: b.instrument, timeframeSeconds: b.timeframeSeconds, start: b.start, open: two - b.open,
                high: two - b.low, low: two - b.high, close: two - b.close, volume: b.volume, tickCount: b.tickCount)
        }
    }

    /// Parameters small enough for hand arithmetic: ATR and volume over 4 bars, pivots confirmed
    /// by 1 bar each side, no prior-trend window; everything else at its default
    /// (tolerance 0.25 ATR, springs within 3 bars on ≥ 1.2× volume, SOS/SOW ≥ 1.5× on a ≥ 1 ATR bar).
    static var parameters: WyckoffParameters {
        var p = WyckoffParameters()
        p.atrPeriod = 4
        p.volumePeriod = 4
        p.swingLookback = 1
        p.rangeWindow = 40
        p.trendWindow = 10
        p.priorTrendBars = 0
        p.historyBars = 200
        return p
    }

    /// Runs the bars through a fresh detector and returns every analysis.
    static func analyse(_ bars: [Bar], parameters: WyckoffParameters = WyckoffHandBars.parameters) throws -> [WyckoffAnalysis] {
        var detector = try WyckoffDetector(parameters: parameters)
        return bars.map { detector.process($0) }
    }
}
