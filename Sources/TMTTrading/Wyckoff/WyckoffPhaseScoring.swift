import TMTBase

/// Turns measurable features of the bars into the four phase scores.
///
/// Accumulation and distribution exist only inside a valid range and share its quality (touches,
/// flat trend, contracting ATR); they differ in the evidence Wyckoff reads into the range:
/// volume drying up vs staying heavy, volume on up bars vs down bars, springs vs upthrusts, and
/// the trend that led into the range (a decline before accumulation, an advance before
/// distribution). Markup and markdown come from the regression slope, the pivot structure
/// (higher highs/lows vs lower ones) and a recent breakout on volume.
enum WyckoffPhaseScoring {
    struct Context {
        let series: WyckoffSeries
        let i: Int
        let atr: Double
        let range: WyckoffFoundRange?
        let springSeen: Bool
        let upthrustSeen: Bool
        let breakoutUpVolumeRatio: Double
        let breakoutDownVolumeRatio: Double
        let parameters: WyckoffParameters
    }

    static func scores(_ c: Context) -> WyckoffPhaseScores {
        let p = c.parameters
        let s = c.series
        var f = WyckoffPhaseScores.Features()
        guard c.atr > 0 else { return .none }

        let trendFrom = max(0, c.i - p.trendWindow + 1)
        f.slopeATR = WyckoffMath.slope(s.close[trendFrom...c.i]) / c.atr
        let move = f.slopeATR * Double(c.i - trendFrom) / p.trendMoveATR
        let up = WyckoffMath.unit(move), down = WyckoffMath.unit(-move), flat = 1 - WyckoffMath.unit(abs(move))

        let n = p.atrPeriod
        if c.i + 1 >= 2 * n {
            let recent = s.trueRange[(c.i - n + 1)...c.i].reduce(0, +) / Double(n)
            let earlier = s.trueRange[(c.i - 2 * n + 1)...(c.i - n)].reduce(0, +) / Double(n)
            if earlier > 0 { f.contraction = 1 - recent / earlier }
        }
        let contraction = WyckoffMath.unit(f.contraction / 0.5)

        f.structure = structure(c)
        f.breakoutUpVolumeRatio = c.breakoutUpVolumeRatio
        f.breakoutDownVolumeRatio = c.breakoutDownVolumeRatio
        let breakoutUp = WyckoffMath.unit(c.breakoutUpVolumeRatio / (2 * max(p.sosVolumeRatio, 1)))
        let breakoutDown = WyckoffMath.unit(c.breakoutDownVolumeRatio / (2 * max(p.sowVolumeRatio, 1)))
        let markup = WyckoffMath.weighted([(up, 2), (f.structure, 1), (breakoutUp, 1)])
        let markdown = WyckoffMath.weighted([(down, 2), (-f.structure, 1), (breakoutDown, 1)])

        var accumulation = 0.0, distribution = 0.0
        if let r = c.range {
            f.touches = r.supportTouches + r.resistanceTouches
            f.springSeen = c.springSeen
            f.upthrustSeen = c.upthrustSeen
            let body = r.firstIndex...r.lastIndex
            let meanVolume = s.volume[body].reduce(0, +) / Double(body.count)
            if body.count >= 3, meanVolume > 0 {
                f.rangeVolumeTrend = WyckoffMath.slope(s.volume[body]) * Double(body.count - 1) / meanVolume
            }
            var upVolume = 0.0, total = 0.0
            for k in body {
                total += s.volume[k]
                if s.close[k] > s.open[k] { upVolume += s.volume[k] }
            }
            if total > 0 { f.upVolumeShare = upVolume / total }
            let first = r.firstIndex
            if p.priorTrendBars > 0, first - p.priorTrendBars >= 0 {
                f.priorTrendATR = WyckoffMath.slope(s.close[(first - p.priorTrendBars)...first]) * Double(p.priorTrendBars) / c.atr
            }
            let touches = WyckoffMath.unit(Double(f.touches) / Double(2 * (p.minTouches + 1)))
            let drying = WyckoffMath.unit(-f.rangeVolumeTrend / 0.5)
            let heavy = WyckoffMath.unit(1 + f.rangeVolumeTrend / 0.5)
            let upShare = WyckoffMath.unit((f.upVolumeShare - 0.5) / 0.2)
            let downShare = WyckoffMath.unit((0.5 - f.upVolumeShare) / 0.2)
            let priorDecline = WyckoffMath.unit(-f.priorTrendATR / p.trendMoveATR)
            let priorAdvance = WyckoffMath.unit(f.priorTrendATR / p.trendMoveATR)
            accumulation = WyckoffMath.weighted([(touches, 1), (flat, 1), (contraction, 1), (drying, 1.5), (upShare, 0.5),
                                                 (f.springSeen ? 1 : 0, 1.5), (priorDecline, 1)])
            distribution = WyckoffMath.weighted([(touches, 1), (flat, 1), (contraction, 1), (heavy, 1.5), (downShare, 0.5),
                                                 (f.upthrustSeen ? 1 : 0, 1.5), (priorAdvance, 1)])
        }

        let all: [(WyckoffPhaseScores.Phase, Double)] = [(.accumulation, accumulation), (.markup, markup),
                                                          (.distribution, distribution), (.markdown, markdown)]
        let top = all.max { $0.1 < $1.1 }!
        return WyckoffPhaseScores(accumulation: accumulation, markup: markup, distribution: distribution, markdown: markdown,
                                  dominant: top.1 >= p.minPhaseScore && top.1 > 0 ? top.0 : nil, features: f)
    }

    /// (HH + HL − LH − LL) ÷ comparisons between consecutive confirmed pivots of the last
    /// `rangeWindow` bars (at most the last four highs and four lows); a difference within the
    /// tolerance counts as neither.
    private static func structure(_ c: Context) -> Double {
        let p = c.parameters
        let candidates = max(0, c.i - p.rangeWindow + 1)..<(c.i + 1)
        let tol = p.toleranceATR * c.atr
        let lows = WyckoffStructure.pivotLows(WyckoffView(series: c.series, mirrored: false), candidates: candidates,
                                              lastBar: c.i, lookback: p.swingLookback).suffix(4)
        let highs = WyckoffStructure.pivotHighs(c.series, candidates: candidates, lastBar: c.i, lookback: p.swingLookback).suffix(4)
        var score = 0, comparisons = 0
        for points in [Array(lows), Array(highs)] where points.count >= 2 {
            for (a, b) in zip(points, points.dropFirst()) {
                comparisons += 1
                if b.price > a.price + tol { score += 1 } else if b.price < a.price - tol { score -= 1 }
            }
        }
        return comparisons > 0 ? Double(score) / Double(comparisons) : 0
    }
}
