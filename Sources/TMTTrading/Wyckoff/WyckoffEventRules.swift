import TMTBase

/// A spring or SOS remembered so that a later pullback can be judged as an LPS (upthrust or SOW
/// for LPSY). Prices are real (not mirrored); `index` is absolute.
struct WyckoffAnchor: Sendable {
    let kind: WyckoffEvent.Kind
    let index: Int
    let support: Double
    let resistance: Double
    let extreme: Double
    var used = false
}

/// An event found in a view, in that view's coordinates and with bullish kinds (spring, SOS,
/// LPS); the detector maps mirrored results back to upthrust, SOW and LPSY.
struct WyckoffRawEvent: Sendable {
    var kind: WyckoffEvent.Kind
    var level: Double
    var extreme: Double
    var volumeRatio: Double
    var depthATR: Double
    var bars: Int
    var strength: Double
    var support: Double
    var resistance: Double
    var anchorKind: WyckoffEvent.Kind?
    var anchorIndex: Int?
}

/// The bullish event rules, applied to the newest bar `i` of a view. The levels are those of the
/// range found in the bars before `i`, and `atr` is the ATR of bar `i − 1`, so the bar under
/// test neither defines the range nor widens the tolerance it is measured with.
struct WyckoffEventRules {
    let view: WyckoffView
    let i: Int
    let atr: Double
    let parameters: WyckoffParameters

    private var tolerance: Double { parameters.toleranceATR * atr }

    /// Where the close sits in the bar's span, 0 at the low and 1 at the high (0.5 for a flat bar).
    func closePosition(_ k: Int) -> Double {
        let span = view.high(k) - view.low(k)
        return span > 0 ? (view.close(k) - view.low(k)) / span : 0.5
    }

    /// Volume score: 1 at twice the required ratio (at least twice the average).
    private func volumeScore(_ ratio: Double, required: Double) -> Double {
        WyckoffMath.unit(ratio / (2 * max(required, 1)))
    }

    /// Spring: the newest bar closes back above support (and below resistance) after an excursion
    /// of at most `springMaxBars` bars (the bars before it that closed at or below support, plus
    /// itself) that came from inside the range and whose lowest low pierced support by more than
    /// the tolerance, on a mean volume of at least `springVolumeRatio` × the average before it.
    /// `lastSpring` (local index of the previous spring in this view) keeps one excursion from
    /// being reported twice.
    func spring(support s: Double, resistance r: Double, lastSpring: Int?, requiredVolume: Double) -> WyckoffRawEvent? {
        guard view.close(i) > s, view.close(i) < r else { return nil }
        var m = 0
        while m < parameters.springMaxBars, i - m - 1 >= 0, view.close(i - m - 1) <= s { m += 1 }
        let before = i - m - 1
        guard m <= parameters.springMaxBars - 1, before >= 0, view.close(before) > s else { return nil }
        if let lastSpring, lastSpring >= before { return nil }
        let first = i - m
        let lowest = (first...i).map(view.low).min()!
        let pierce = s - lowest
        guard pierce > tolerance else { return nil }
        guard first >= parameters.volumePeriod,
              let eventVolume = view.series.meanVolume(first, i + 1),
              let base = view.series.meanVolume(first - parameters.volumePeriod, first), base > 0 else { return nil }
        let ratio = eventVolume / base
        guard ratio >= requiredVolume else { return nil }
        let speed = Double(parameters.springMaxBars - m) / Double(parameters.springMaxBars)
        let strength = (volumeScore(ratio, required: requiredVolume) + WyckoffMath.unit(pierce / atr) + closePosition(i) + speed) / 4
        return WyckoffRawEvent(kind: .spring, level: s, extreme: lowest, volumeRatio: ratio, depthATR: pierce / atr, bars: m + 1,
                               strength: strength, support: s, resistance: r)
    }

    /// Sign of strength: the newest bar is the first to close above resistance + tolerance, its
    /// span is at least `breakoutBarRangeATR` ATRs and its volume at least `requiredVolume` × average.
    func signOfStrength(support s: Double, resistance r: Double, requiredVolume: Double) -> WyckoffRawEvent? {
        guard i >= 1, view.close(i) > r + tolerance, view.close(i - 1) <= r + tolerance else { return nil }
        let span = view.high(i) - view.low(i)
        guard span >= parameters.breakoutBarRangeATR * atr else { return nil }
        guard i >= parameters.volumePeriod, let base = view.series.meanVolume(i - parameters.volumePeriod, i), base > 0 else { return nil }
        let ratio = view.volume(i) / base
        guard ratio >= requiredVolume else { return nil }
        let strength = (volumeScore(ratio, required: requiredVolume) + WyckoffMath.unit(span / (2 * atr)) + closePosition(i)) / 3
        return WyckoffRawEvent(kind: .sos, level: r, extreme: view.low(i), volumeRatio: ratio, depthATR: (view.close(i) - r) / atr,
                               bars: 1, strength: strength, support: s, resistance: r)
    }

    /// Last point of support: bar `p = i − lpsConfirmBars` is a low after a spring or SOS anchor
    /// (within `lpsMaxBars`), lower than the bars between the anchor and it (up to
    /// `lpsConfirmBars` of them) and no higher than the bars after it; the decline into it from
    /// the rally high is at least `lpsMinPullbackATR` ATRs, on a mean volume of at most
    /// `lpsVolumeRatio` × the mean volume of the advance (the anchor bar through the rally high);
    /// the low holds support (after a spring, and is a higher low than the spring) or the old
    /// resistance (after an SOS), within the tolerance; and the newest bar closes above the
    /// pullback bar's close and above that level. `anchors` are in view coordinates with
    /// bullish kinds, newest first.
    func lastPointOfSupport(anchors: [WyckoffAnchor], localIndex: (Int) -> Int) -> WyckoffRawEvent? {
        let c = parameters.lpsConfirmBars
        let p = i - c
        for anchor in anchors where !anchor.used {
            let a = localIndex(anchor.index)
            guard a >= 0, p - a >= 2, p - a <= parameters.lpsMaxBars else { continue }
            let x = view.low(p)
            guard (max(a + 1, p - c)..<p).allSatisfy({ view.low($0) > x }), ((p + 1)...i).allSatisfy({ view.low($0) >= x }) else { continue }
            var h = a
            for k in a..<p where view.high(k) > view.high(h) { h = k }
            let pullback = view.high(h) - x
            guard pullback >= parameters.lpsMinPullbackATR * atr else { continue }
            let level = anchor.kind == .spring ? anchor.support : anchor.resistance
            guard x >= level - tolerance else { continue }
            if anchor.kind == .spring { guard x > anchor.extreme + tolerance else { continue } }
            guard let pullbackVolume = view.series.meanVolume(h + 1, p + 1), let advanceVolume = view.series.meanVolume(a, h + 1),
                  advanceVolume > 0 else { continue }
            let ratio = pullbackVolume / advanceVolume
            guard ratio <= parameters.lpsVolumeRatio else { continue }
            guard view.close(i) > view.close(p), view.close(i) > level else { continue }
            let hold = WyckoffMath.unit((x - (level - tolerance)) / atr)
            let strength = (WyckoffMath.unit(1 - ratio / (2 * parameters.lpsVolumeRatio)) + hold + closePosition(i)) / 3
            return WyckoffRawEvent(kind: .lps, level: level, extreme: x, volumeRatio: ratio, depthATR: (x - level) / atr, bars: i - a,
                                   strength: strength, support: anchor.support, resistance: anchor.resistance, anchorKind: anchor.kind, anchorIndex: anchor.index)
        }
        return nil
    }
}
