import TMTBase
import TMTModels

/// The statistics ARIA sizing needs, on plain `Double` series: mean, sample standard deviation,
/// Pearson correlation, percentiles, true range and Wilder's ATR, and bar returns aligned by
/// time. Results are `nil` where the statistic is undefined (too few values, zero variance)
/// rather than a made-up number.
public enum RiskStatistics {
    /// Arithmetic mean; nil for an empty series.
    public static func mean(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        return values.reduce(0, +) / Double(values.count)
    }

    /// Sample standard deviation (n − 1 in the denominator); nil below two values.
    public static func standardDeviation(_ values: [Double]) -> Double? {
        guard values.count >= 2, let m = mean(values) else { return nil }
        let ss = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        return (ss / Double(values.count - 1)).squareRoot()
    }

    /// Pearson's correlation coefficient of two equally long series, in −1…1; nil when the
    /// lengths differ, there are fewer than two pairs, or either series has zero variance.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count == y.count, x.count >= 2, let mx = mean(x), let my = mean(y) else { return nil }
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = x[i] - mx, dy = y[i] - my
            sxy += dx * dy
            sxx += dx * dx
            syy += dy * dy
        }
        guard sxx > 0, syy > 0 else { return nil }
        return max(-1, min(1, sxy / (sxx * syy).squareRoot()))
    }

    /// The percentile rank (0…100) of `value` within `distribution`, counting ties as half:
    /// 100 × (count below + ½ × count equal) / n. A value above every sample ranks 100, one
    /// equal to every sample ranks 50. Nil for an empty distribution.
    public static func percentileRank(of value: Double, in distribution: [Double]) -> Double? {
        guard !distribution.isEmpty else { return nil }
        var below = 0.0, equal = 0.0
        for x in distribution {
            if x < value { below += 1 } else if x == value { equal += 1 }
        }
        return 100 * (below + 0.5 * equal) / Double(distribution.count)
    }

    /// The `p`-th percentile (0…100) of `values` with linear interpolation between closest
    /// ranks (the common "type 7" definition); nil for an empty series or `p` outside 0…100.
    public static func percentile(_ p: Double, of values: [Double]) -> Double? {
        guard !values.isEmpty, p >= 0, p <= 100 else { return nil }
        let sorted = values.sorted()
        let h = Double(sorted.count - 1) * p / 100
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// True range of each bar, in price units: the first bar's high − low, then
    /// max(high − low, |high − previous close|, |low − previous close|).
    public static func trueRanges(_ bars: [Bar]) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(bars.count)
        for (i, bar) in bars.enumerated() {
            let h = RiskDecimal.double(bar.high), l = RiskDecimal.double(bar.low)
            if i == 0 {
                out.append(h - l)
            } else {
                let pc = RiskDecimal.double(bars[i - 1].close)
                out.append(max(h - l, abs(h - pc), abs(l - pc)))
            }
        }
        return out
    }

    /// Wilder's average true range after each bar from the `period`-th on: the first value is
    /// the simple mean of the first `period` true ranges, then ATR = (ATR × (period − 1) + TR)
    /// / period. Empty when there are fewer than `period` bars or `period` < 1.
    public static func wilderATR(_ bars: [Bar], period: Int) -> [Double] {
        guard period >= 1, bars.count >= period else { return [] }
        let tr = trueRanges(bars)
        var atr = tr[0..<period].reduce(0, +) / Double(period)
        var out = [atr]
        out.reserveCapacity(tr.count - period + 1)
        for value in tr[period...] {
            atr = (atr * Double(period - 1) + value) / Double(period)
            out.append(atr)
        }
        return out
    }

    /// Close-to-close simple returns keyed by the start of the later bar (µs). Bars are sorted
    /// by start first; a bar whose start repeats the previous one is ignored.
    public static func returnsByTime(_ bars: [Bar]) -> [Int64: Double] {
        let sorted = bars.sorted { $0.start < $1.start }
        var out: [Int64: Double] = [:]
        out.reserveCapacity(sorted.count)
        var previous: (start: Int64, close: Double)?
        for bar in sorted {
            // Each close as a Double once, the difference in Double: a close of ~1.1 is within
            // 1.1e-16 of its decimal value, so a return of 1e-5 is off by about 2e-11 of itself,
            // far below what a volatility or a correlation can tell. (The difference in Decimal,
            // one 38-digit subtraction per bar, was a tenth of ARIA's CPU per signal.)
            let close = RiskDecimal.double(bar.close)
            if let p = previous {
                if p.start == bar.start { continue }
                if p.close != 0 { out[bar.start] = (close - p.close) / p.close }
            }
            previous = (bar.start, close)
        }
        return out
    }

    /// The two return series on their common timestamps, oldest first, keeping the last `window`.
    public static func alignedReturns(_ a: [Bar], _ b: [Bar], window: Int) -> (a: [Double], b: [Double]) {
        aligned(returnsByTime(a), returnsByTime(b), window: window)
    }

    /// Two return series (`returnsByTime`) on their common timestamps, oldest first, keeping the last `window`.
    public static func aligned(_ ra: [Int64: Double], _ rb: [Int64: Double], window: Int) -> (a: [Double], b: [Double]) {
        let common = ra.keys.filter { rb[$0] != nil }.sorted().suffix(max(0, window))
        return (common.map { ra[$0]! }, common.map { rb[$0]! })
    }
}
