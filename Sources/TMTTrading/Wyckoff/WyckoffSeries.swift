import TMTBase
import TMTModels

/// One instrument's recent bars as Doubles (statistics need no exact decimals), with the Wilder
/// ATR kept incrementally. Indices are local to the arrays; `dropped` turns them into absolute bar
/// numbers, which stay valid when old bars are trimmed.
struct WyckoffSeries: Sendable {
    private(set) var bars: [Bar] = []
    private(set) var open: [Double] = []
    private(set) var high: [Double] = []
    private(set) var low: [Double] = []
    private(set) var close: [Double] = []
    private(set) var volume: [Double] = []
    private(set) var trueRange: [Double] = []
    /// Wilder ATR after each bar; nil until `atrPeriod` true ranges exist.
    private(set) var atr: [Double?] = []
    /// Bars trimmed from the front so far.
    private(set) var dropped = 0
    private var atrPeriod: Int

    init(atrPeriod: Int) {
        self.atrPeriod = atrPeriod
    }

    var count: Int { close.count }
    var last: Bar? { bars.last }

    func absolute(_ local: Int) -> Int { local + dropped }
    func local(_ absolute: Int) -> Int { absolute - dropped }

    mutating func append(_ bar: Bar) {
        let h = WyckoffMath.double(bar.high), l = WyckoffMath.double(bar.low), c = WyckoffMath.double(bar.close)
        let tr: Double
        if let prev = close.last {
            tr = max(h - l, abs(h - prev), abs(l - prev))
        } else {
            tr = h - l
        }
        bars.append(bar)
        open.append(WyckoffMath.double(bar.open))
        high.append(h)
        low.append(l)
        close.append(c)
        volume.append(WyckoffMath.double(bar.volume))
        trueRange.append(tr)
        atr.append(Self.nextATR(previous: atr.last ?? nil, trueRanges: trueRange, period: atrPeriod))
    }

    /// Wilder: the first value is the mean of the first `period` true ranges, then
    /// ATR = (ATR × (period − 1) + TR) / period.
    private static func nextATR(previous: Double?, trueRanges: [Double], period: Int) -> Double? {
        let n = trueRanges.count
        if let previous { return (previous * Double(period - 1) + trueRanges[n - 1]) / Double(period) }
        guard n >= period else { return nil }
        return trueRanges[(n - period)...].reduce(0, +) / Double(period)
    }

    /// Recomputes the ATR series for a new period (a parameter update keeps the bars).
    mutating func setATRPeriod(_ period: Int) {
        guard period != atrPeriod else { return }
        atrPeriod = period
        var series: [Double?] = []
        series.reserveCapacity(trueRange.count)
        var sum = 0.0
        for (n, tr) in trueRange.enumerated() {
            if let previous = series.last ?? nil {
                series.append((previous * Double(period - 1) + tr) / Double(period))
            } else {
                sum += tr
                if n >= period { sum -= trueRange[n - period] }
                series.append(n + 1 >= period ? sum / Double(period) : nil)
            }
        }
        atr = series
    }

    /// Keeps at most `keep` bars once the history is `slack` bars over it (trimming in batches).
    mutating func trim(keep: Int, slack: Int = 64) {
        let excess = count - keep
        guard excess > slack else { return }
        bars.removeFirst(excess)
        open.removeFirst(excess)
        high.removeFirst(excess)
        low.removeFirst(excess)
        close.removeFirst(excess)
        volume.removeFirst(excess)
        trueRange.removeFirst(excess)
        atr.removeFirst(excess)
        dropped += excess
    }

    /// Mean volume of bars `from..<to` (local indices, clamped); nil if empty.
    func meanVolume(_ from: Int, _ to: Int) -> Double? {
        let a = max(from, 0), b = min(to, count)
        guard b > a else { return nil }
        return volume[a..<b].reduce(0, +) / Double(b - a)
    }
}

/// The series seen either as it is or upside down (prices negated, highs and lows swapped), so
/// every bearish rule is its bullish mirror and is written once.
struct WyckoffView {
    let series: WyckoffSeries
    let mirrored: Bool

    func high(_ i: Int) -> Double { mirrored ? -series.low[i] : series.high[i] }
    func low(_ i: Int) -> Double { mirrored ? -series.high[i] : series.low[i] }
    func close(_ i: Int) -> Double { mirrored ? -series.close[i] : series.close[i] }
    func open(_ i: Int) -> Double { mirrored ? -series.open[i] : series.open[i] }
    func volume(_ i: Int) -> Double { series.volume[i] }
    /// A price of the real series in this view's coordinates (and back: the map is its own inverse).
    func price(_ x: Double) -> Double { mirrored ? -x : x }
    var count: Int { series.count }
}
