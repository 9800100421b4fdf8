import TMTBase

/// A swing point: a bar whose low (in a view) is below its neighbours'.
struct WyckoffPivot: Sendable, Equatable {
    let index: Int
    let price: Double
}

/// A trading range in Double terms, with local bar indices; the detector publishes it as `TradingRange`.
struct WyckoffFoundRange: Sendable {
    let support: Double
    let resistance: Double
    let supportTouches: Int
    let resistanceTouches: Int
    let firstIndex: Int
    let lastIndex: Int
    let heightATR: Double
    let containment: Double
}

/// Swing points, support/resistance clusters and the trading range. Only bars that are passed in
/// are looked at, which is how the bar under test is kept out of the range it is tested against.
enum WyckoffStructure {
    /// Pivot lows of `view` among candidates in `candidates`, confirmed by `lookback` bars on each
    /// side that all lie at or before `lastBar`: strictly lower than the bars before it (so a flat
    /// bottom counts once, at its first bar) and no higher than the bars after it.
    static func pivotLows(_ view: WyckoffView, candidates: Range<Int>, lastBar: Int, lookback: Int) -> [WyckoffPivot] {
        guard lookback >= 1 else { return [] }
        let from = max(candidates.lowerBound, lookback)
        let through = min(candidates.upperBound - 1, lastBar - lookback)
        guard from <= through else { return [] }
        var pivots: [WyckoffPivot] = []
        for p in from...through {
            let x = view.low(p)
            var ok = true
            for q in (p - lookback)..<p where view.low(q) <= x { ok = false; break }
            if ok { for q in (p + 1)...(p + lookback) where view.low(q) < x { ok = false; break } }
            if ok { pivots.append(WyckoffPivot(index: p, price: x)) }
        }
        return pivots
    }

    /// Pivot highs in real prices (the pivot lows of the mirrored view, negated back).
    static func pivotHighs(_ series: WyckoffSeries, candidates: Range<Int>, lastBar: Int, lookback: Int) -> [WyckoffPivot] {
        pivotLows(WyckoffView(series: series, mirrored: true), candidates: candidates, lastBar: lastBar, lookback: lookback)
            .map { WyckoffPivot(index: $0.index, price: -$0.price) }
    }

    /// Levels where at least `minTouches` pivots lie within `tolerance` of one pivot. Each pivot
    /// seeds a candidate; identical member sets are kept once. Members are in bar order.
    static func levels(_ pivots: [WyckoffPivot], tolerance: Double, minTouches: Int) -> [[WyckoffPivot]] {
        var seen = Set<[Int]>()
        var result: [[WyckoffPivot]] = []
        for seed in pivots {
            let members = pivots.filter { abs($0.price - seed.price) <= tolerance }
            guard members.count >= minTouches else { continue }
            let key = members.map(\.index)
            if seen.insert(key).inserted { result.append(members) }
        }
        return result
    }

    /// The best trading range in the bars `max(0, end − rangeWindow)..<end` (the bar under test is
    /// `end` and is not looked at): a support level and a resistance level with enough touches,
    /// a height within the allowed ATR multiples and enough closes inside. The most-touched
    /// pair wins; ties go to the pair touched most recently, then the narrower one.
    static func findRange(_ series: WyckoffSeries, end: Int, atr: Double, parameters p: WyckoffParameters) -> WyckoffFoundRange? {
        guard end >= 1, atr > 0 else { return nil }
        let candidates = max(0, end - p.rangeWindow)..<end
        let tol = p.toleranceATR * atr
        let lows = pivotLows(WyckoffView(series: series, mirrored: false), candidates: candidates, lastBar: end - 1,
                             lookback: p.swingLookback)
        let highs = pivotHighs(series, candidates: candidates, lastBar: end - 1, lookback: p.swingLookback)
        let supports = levels(lows, tolerance: tol, minTouches: p.minTouches)
        let resistances = levels(highs, tolerance: tol, minTouches: p.minTouches)
        var best: WyckoffFoundRange?
        func better(_ a: WyckoffFoundRange, than b: WyckoffFoundRange?) -> Bool {
            guard let b else { return true }
            let ta = a.supportTouches + a.resistanceTouches, tb = b.supportTouches + b.resistanceTouches
            if ta != tb { return ta > tb }
            if a.lastIndex != b.lastIndex { return a.lastIndex > b.lastIndex }
            return a.heightATR < b.heightATR
        }
        for s in supports {
            let support = s.map(\.price).reduce(0, +) / Double(s.count)
            for r in resistances {
                let resistance = r.map(\.price).reduce(0, +) / Double(r.count)
                let heightATR = (resistance - support) / atr
                guard heightATR >= p.minRangeHeightATR, heightATR <= p.maxRangeHeightATR else { continue }
                let first = min(s[0].index, r[0].index)
                let last = max(s[s.count - 1].index, r[r.count - 1].index)
                var inside = 0
                for k in first..<end where series.close[k] >= support - tol && series.close[k] <= resistance + tol { inside += 1 }
                let containment = Double(inside) / Double(end - first)
                guard containment >= p.rangeContainment else { continue }
                let candidate = WyckoffFoundRange(support: support, resistance: resistance, supportTouches: s.count,
                                                  resistanceTouches: r.count, firstIndex: first, lastIndex: last,
                                                  heightATR: heightATR, containment: containment)
                if better(candidate, than: best) { best = candidate }
            }
        }
        return best
    }
}
