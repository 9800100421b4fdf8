import TMTBase
import TMTModels

/// How much of the normal risk to take given the instrument's current volatility: the Wilder
/// ATR of the latest bar ranked against the ATRs of the preceding `lookbackBars` bars.
///
/// Mapping (percentile rank p of the current ATR, defaults in brackets): factor 1 for
/// p ≤ `fullRiskPercentile` [50], falling linearly to `minimumFactor` [0.5] at
/// p ≥ `minimumFactorPercentile` [95]; e.g. p = 72.5 → 0.75, p = 83.2 → 0.6311 (rounded down
/// to 4 places). With fewer than `minimumSamples` earlier ATR values the percentile is not
/// trusted and the factor is `insufficientDataFactor` [0.75], a deliberately cautious value
/// between full risk and the floor; the note says so.
public struct VolatilityFactor: Sendable, Equatable {
    /// The mapping from ATR percentile to factor; see the type's documentation.
    public struct Parameters: Codable, Sendable, Equatable {
        /// Bars in Wilder's ATR; default 14.
        public var atrPeriod: Int
        /// Earlier ATR values the current one is ranked against; default 250.
        public var lookbackBars: Int
        /// Earlier ATR values needed before the percentile is used; default 30.
        public var minimumSamples: Int
        /// Percentile (0…100) at or below which the factor is 1; default 50.
        public var fullRiskPercentile: Decimal
        /// Percentile (0…100) at or above which the factor is `minimumFactor`; default 95.
        public var minimumFactorPercentile: Decimal
        /// Factor at the top of the distribution (0…1]; default 0.5.
        public var minimumFactor: Decimal
        /// Factor when there are too few bars (0…1]; default 0.75.
        public var insufficientDataFactor: Decimal

        public init(atrPeriod: Int = 14, lookbackBars: Int = 250, minimumSamples: Int = 30, fullRiskPercentile: Decimal = 50,
                    minimumFactorPercentile: Decimal = 95, minimumFactor: Decimal = Decimal(string: "0.5")!,
                    insufficientDataFactor: Decimal = Decimal(string: "0.75")!) {
            self.atrPeriod = atrPeriod
            self.lookbackBars = lookbackBars
            self.minimumSamples = minimumSamples
            self.fullRiskPercentile = fullRiskPercentile
            self.minimumFactorPercentile = minimumFactorPercentile
            self.minimumFactor = minimumFactor
            self.insufficientDataFactor = insufficientDataFactor
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Parameters()
            self.init(
                atrPeriod: try c.decodeIfPresent(Int.self, forKey: .atrPeriod) ?? d.atrPeriod,
                lookbackBars: try c.decodeIfPresent(Int.self, forKey: .lookbackBars) ?? d.lookbackBars,
                minimumSamples: try c.decodeIfPresent(Int.self, forKey: .minimumSamples) ?? d.minimumSamples,
                fullRiskPercentile: try c.decodeIfPresent(Decimal.self, forKey: .fullRiskPercentile) ?? d.fullRiskPercentile,
                minimumFactorPercentile: try c.decodeIfPresent(Decimal.self, forKey: .minimumFactorPercentile)
                    ?? d.minimumFactorPercentile,
                minimumFactor: try c.decodeIfPresent(Decimal.self, forKey: .minimumFactor) ?? d.minimumFactor,
                insufficientDataFactor: try c.decodeIfPresent(Decimal.self, forKey: .insufficientDataFactor)
                    ?? d.insufficientDataFactor)
        }

        /// The first invalid field as `(name, problem)`, or nil.
        func problem() -> (String, String)? {
            if atrPeriod < 1 { return ("atrPeriod", "must be at least 1, got \(atrPeriod)") }
            if minimumSamples < 2 { return ("minimumSamples", "must be at least 2, got \(minimumSamples)") }
            if lookbackBars < minimumSamples {
                return ("lookbackBars", "must be at least minimumSamples (\(minimumSamples)), got \(lookbackBars)")
            }
            if fullRiskPercentile < 0 || fullRiskPercentile >= 100 {
                return ("fullRiskPercentile", "must be in 0..<100, got \(fullRiskPercentile)")
            }
            if minimumFactorPercentile <= fullRiskPercentile || minimumFactorPercentile > 100 {
                return ("minimumFactorPercentile", "must be above fullRiskPercentile (\(fullRiskPercentile)) and at most 100, got \(minimumFactorPercentile)")
            }
            if minimumFactor <= 0 || minimumFactor > 1 { return ("minimumFactor", "must be in (0, 1], got \(minimumFactor)") }
            if insufficientDataFactor <= 0 || insufficientDataFactor > 1 {
                return ("insufficientDataFactor", "must be in (0, 1], got \(insufficientDataFactor)")
            }
            return nil
        }
    }

    /// The factor applied to the size, 0…1.
    public var factor: Decimal
    /// Wilder ATR of the latest bar, price units; nil with fewer than `atrPeriod` bars.
    public var atr: Double?
    /// Percentile rank (0…100, 2 places) of `atr` among the earlier ATRs; nil when not used.
    public var percentile: Decimal?
    /// Earlier ATR values the percentile was ranked against.
    public var samples: Int
    /// Why the default factor was used, when it was.
    public var note: String?

    public init(factor: Decimal, atr: Double?, percentile: Decimal?, samples: Int, note: String?) {
        self.factor = factor
        self.atr = atr
        self.percentile = percentile
        self.samples = samples
        self.note = note
    }

    /// The factor for `bars` of one instrument (sorted by start here; duplicates of a start are dropped).
    public static func assess(bars: [Bar], parameters p: Parameters) -> VolatilityFactor {
        var ordered: [Bar] = []
        ordered.reserveCapacity(bars.count)
        for bar in bars.sorted(by: { $0.start < $1.start }) where ordered.last?.start != bar.start {
            ordered.append(bar)
        }
        let series = RiskStatistics.wilderATR(ordered, period: p.atrPeriod)
        guard let current = series.last else {
            return VolatilityFactor(factor: p.insufficientDataFactor, atr: nil, percentile: nil, samples: 0,
                                    note: "only \(ordered.count) bar\(ordered.count == 1 ? "" : "s"), ATR(\(p.atrPeriod)) needs \(p.atrPeriod); default factor \(p.insufficientDataFactor)")
        }
        let earlier = Array(series.dropLast().suffix(p.lookbackBars))
        guard earlier.count >= p.minimumSamples, let rank = RiskStatistics.percentileRank(of: current, in: earlier) else {
            return VolatilityFactor(factor: p.insufficientDataFactor, atr: current, percentile: nil, samples: earlier.count,
                                    note: "only \(earlier.count) earlier ATR values, \(p.minimumSamples) needed for a percentile; default factor \(p.insufficientDataFactor)")
        }
        let percentile = RiskDecimal.decimal(rank, scale: 2)
        return VolatilityFactor(factor: factor(percentile: percentile, parameters: p), atr: current, percentile: percentile,
                                samples: earlier.count, note: nil)
    }

    /// The factor for an ATR percentile rank (0…100), per the mapping in the type's documentation.
    public static func factor(percentile: Decimal, parameters p: Parameters) -> Decimal {
        RiskDecimal.ramp(percentile, start: p.fullRiskPercentile, end: p.minimumFactorPercentile, minimum: p.minimumFactor)
    }
}
