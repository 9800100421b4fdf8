import TMTBase

/// Everything the Wyckoff detector can be tuned with. Lengths are in bars of `timeframeSeconds`,
/// distances in multiples of the ATR (so one set of parameters suits EUR_USD and US30 alike),
/// volume figures as ratios to the average bar volume of the preceding `volumePeriod` bars.
///
/// Decoding fills missing keys with the defaults, so a config file names only what it changes;
/// `validate()` must pass before use (the detector checks it), and `applying(updates:)` is how
/// `config.updates` changes fields at run time.
public struct WyckoffParameters: Codable, Sendable, Equatable {
    /// How a signal's take-profit is placed.
    public enum TargetRule: String, Codable, Sendable, CaseIterable {
        /// Reversals inside the range (spring, upthrust and their LPS/LPSY) aim at the opposite side
        /// of the range; breakouts (SOS, SOW and their LPS/LPSY) aim at the measured move, because
        /// the opposite side is already behind them.
        case rangeOpposite
        /// Every signal aims at the measured move: the range height projected beyond the side it
        /// trades towards (resistance + height for longs, support − height for shorts).
        case measuredMove
    }

    /// An invalid parameter, with the field named.
    public struct InvalidParameter: Error, CustomStringConvertible, Sendable, Equatable {
        /// The parameter's name as it appears in JSON and in `config.updates` (e.g. `swingLookback`).
        public var field: String
        /// What is wrong, including the rejected value.
        public var reason: String
        /// An error for `field` saying what is wrong with it.
        public init(field: String, reason: String) {
            self.field = field
            self.reason = reason
        }
        /// `wyckoff parameter <field>: <reason>`.
        public var description: String { "wyckoff parameter \(field): \(reason)" }
    }

    /// Bar length in seconds that the agent's `BarBuilder` uses. Default 60 (M1).
    public var timeframeSeconds = 60
    /// Bars kept per instrument. Default 400; must cover `rangeWindow + priorTrendBars` and two ATR periods.
    public var historyBars = 400
    /// Wilder ATR period in bars. Default 14.
    public var atrPeriod = 14
    /// Bars (before the bar under test) averaged for the volume baseline. Default 20.
    public var volumePeriod = 20
    /// Bars on each side that a swing high/low must exceed to count as a pivot. Default 3.
    public var swingLookback = 3
    /// Bars before the bar under test searched for the pivots that define the trading range. Default 60.
    public var rangeWindow = 60
    /// Pivots a support or resistance level needs (each side) for a valid range. Default 2.
    public var minTouches = 2
    /// Price tolerance in ATRs: pivots within it form one level, and a pierce or breakout must exceed it. Default 0.25.
    public var toleranceATR = 0.25
    /// Smallest range height (resistance − support) in ATRs; tighter "ranges" are noise. Default 2.
    public var minRangeHeightATR = 2.0
    /// Largest range height in ATRs; wider spans are trends, not ranges. Default 12.
    public var maxRangeHeightATR = 12.0
    /// Fraction of the range's bars (first touch to the bar before the one under test) that must
    /// close within support − tolerance … resistance + tolerance. Default 0.8.
    public var rangeContainment = 0.8
    /// Spring: the excursion's mean volume must be at least this × average. Default 1.2; 0 disables the check.
    public var springVolumeRatio = 1.2
    /// Upthrust: as `springVolumeRatio`, at resistance. Default 1.2.
    public var upthrustVolumeRatio = 1.2
    /// Spring/upthrust: most bars from the first bar that closed outside the range to the bar that
    /// closes back inside it (1 = the pierce and the recovery are the same bar). Default 3.
    public var springMaxBars = 3
    /// SOS: the breakout bar's volume must be at least this × average. Default 1.5.
    public var sosVolumeRatio = 1.5
    /// SOW: as `sosVolumeRatio`, for the breakdown bar. Default 1.5.
    public var sowVolumeRatio = 1.5
    /// SOS/SOW: the breakout bar's high − low must be at least this many ATRs ("wide range"). Default 1.0.
    public var breakoutBarRangeATR = 1.0
    /// LPS/LPSY: the pullback low (high) must come within this many bars after the spring/SOS (upthrust/SOW). Default 20.
    public var lpsMaxBars = 20
    /// LPS/LPSY: bars on each side that confirm the pullback's low (high). Default 2.
    public var lpsConfirmBars = 2
    /// LPS/LPSY: the pullback's mean volume must be at most this × the mean volume of the advance
    /// (decline) from the spring/SOS (upthrust/SOW) bar to the rally high (reaction low) before it. Default 1.0.
    public var lpsVolumeRatio = 1.0
    /// LPS/LPSY: the pullback must retrace at least this many ATRs from the rally high (reaction low). Default 0.5.
    public var lpsMinPullbackATR = 0.5
    /// Bars of closes in the least-squares trend slope. Default 20.
    public var trendWindow = 20
    /// A move of this many ATRs across `trendWindow` (or `priorTrendBars`) counts as a full trend. Default 4.
    public var trendMoveATR = 4.0
    /// Bars before the range's first touch used to measure the trend into the range. Default 30; 0 disables.
    public var priorTrendBars = 30
    /// Stop distance beyond the event's extreme, in ATRs. Default 0.5.
    public var stopATR = 0.5
    /// Where the take-profit goes. Default `measuredMove`: Wyckoff's law of cause and effect (the
    /// range is the cause, the trend out of it the effect); `rangeOpposite` is the cautious choice.
    public var targetRule = TargetRule.measuredMove
    /// Smallest reward/risk (target distance ÷ stop distance, after rounding) for a signal. Default 1.5.
    public var minRewardRisk = 1.5
    /// Smallest confidence (0…1) for a signal. Default 0.5.
    public var minConfidence = 0.5
    /// Bars after a signal during which the instrument emits no other. Default 10.
    public var cooldownBars = 10
    /// Whether an SOS (SOW) itself is a long (short) signal, besides the spring/LPS (upthrust/LPSY). Default false.
    public var signalOnSOS = false
    /// A phase is dominant only if its score reaches this (0…1); below it the phase is `undetermined`. Default 0.3.
    public var minPhaseScore = 0.3

    /// The defaults documented on each field.
    public init() {}

    /// Decodes the fields present and keeps the defaults for the rest (no validation: call `validate()`).
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.timeframeSeconds, &timeframeSeconds)
        try read(.historyBars, &historyBars)
        try read(.atrPeriod, &atrPeriod)
        try read(.volumePeriod, &volumePeriod)
        try read(.swingLookback, &swingLookback)
        try read(.rangeWindow, &rangeWindow)
        try read(.minTouches, &minTouches)
        try read(.toleranceATR, &toleranceATR)
        try read(.minRangeHeightATR, &minRangeHeightATR)
        try read(.maxRangeHeightATR, &maxRangeHeightATR)
        try read(.rangeContainment, &rangeContainment)
        try read(.springVolumeRatio, &springVolumeRatio)
        try read(.upthrustVolumeRatio, &upthrustVolumeRatio)
        try read(.springMaxBars, &springMaxBars)
        try read(.sosVolumeRatio, &sosVolumeRatio)
        try read(.sowVolumeRatio, &sowVolumeRatio)
        try read(.breakoutBarRangeATR, &breakoutBarRangeATR)
        try read(.lpsMaxBars, &lpsMaxBars)
        try read(.lpsConfirmBars, &lpsConfirmBars)
        try read(.lpsVolumeRatio, &lpsVolumeRatio)
        try read(.lpsMinPullbackATR, &lpsMinPullbackATR)
        try read(.trendWindow, &trendWindow)
        try read(.trendMoveATR, &trendMoveATR)
        try read(.priorTrendBars, &priorTrendBars)
        try read(.stopATR, &stopATR)
        try read(.targetRule, &targetRule)
        try read(.minRewardRisk, &minRewardRisk)
        try read(.minConfidence, &minConfidence)
        try read(.cooldownBars, &cooldownBars)
        try read(.signalOnSOS, &signalOnSOS)
        try read(.minPhaseScore, &minPhaseScore)
    }

    /// Throws `InvalidParameter` naming the first field that is out of its range.
    public func validate() throws {
        func need(_ ok: Bool, _ field: String, _ rule: String, _ value: Any) throws {
            if !ok { throw InvalidParameter(field: field, reason: "must be \(rule), got \(value)") }
        }
        func ratio(_ v: Double, _ field: String) throws {
            try need(v.isFinite && v >= 0 && v <= 100, field, "a ratio in 0...100", v)
        }
        try need((1...86_400).contains(timeframeSeconds), "timeframeSeconds", "1...86400 seconds", timeframeSeconds)
        try need((2...500).contains(atrPeriod), "atrPeriod", "2...500 bars", atrPeriod)
        try need((2...500).contains(volumePeriod), "volumePeriod", "2...500 bars", volumePeriod)
        try need((1...50).contains(swingLookback), "swingLookback", "1...50 bars", swingLookback)
        try need(rangeWindow >= 4 * swingLookback + 2 && rangeWindow <= 2_000, "rangeWindow",
                 "4 × swingLookback + 2 (\(4 * swingLookback + 2))...2000 bars", rangeWindow)
        try need((2...50).contains(minTouches), "minTouches", "2...50", minTouches)
        try need(toleranceATR.isFinite && toleranceATR > 0 && toleranceATR <= 5, "toleranceATR", "in (0, 5] ATR", toleranceATR)
        try need(minRangeHeightATR.isFinite && minRangeHeightATR > 0, "minRangeHeightATR", "> 0 ATR", minRangeHeightATR)
        try need(maxRangeHeightATR.isFinite && maxRangeHeightATR > minRangeHeightATR, "maxRangeHeightATR",
                 "> minRangeHeightATR (\(minRangeHeightATR))", maxRangeHeightATR)
        try need(rangeContainment.isFinite && rangeContainment > 0 && rangeContainment <= 1, "rangeContainment",
                 "in (0, 1]", rangeContainment)
        try ratio(springVolumeRatio, "springVolumeRatio")
        try ratio(upthrustVolumeRatio, "upthrustVolumeRatio")
        try need((1...20).contains(springMaxBars), "springMaxBars", "1...20 bars", springMaxBars)
        try ratio(sosVolumeRatio, "sosVolumeRatio")
        try ratio(sowVolumeRatio, "sowVolumeRatio")
        try need(breakoutBarRangeATR.isFinite && breakoutBarRangeATR >= 0, "breakoutBarRangeATR", ">= 0 ATR", breakoutBarRangeATR)
        try need((1...10).contains(lpsConfirmBars), "lpsConfirmBars", "1...10 bars", lpsConfirmBars)
        try need(lpsMaxBars >= 2 * lpsConfirmBars + 1 && lpsMaxBars <= 500, "lpsMaxBars",
                 "2 × lpsConfirmBars + 1 (\(2 * lpsConfirmBars + 1))...500 bars", lpsMaxBars)
        try need(lpsVolumeRatio.isFinite && lpsVolumeRatio > 0 && lpsVolumeRatio <= 100, "lpsVolumeRatio", "in (0, 100]", lpsVolumeRatio)
        try need(lpsMinPullbackATR.isFinite && lpsMinPullbackATR >= 0, "lpsMinPullbackATR", ">= 0 ATR", lpsMinPullbackATR)
        try need((3...1_000).contains(trendWindow), "trendWindow", "3...1000 bars", trendWindow)
        try need(trendMoveATR.isFinite && trendMoveATR > 0, "trendMoveATR", "> 0 ATR", trendMoveATR)
        try need(priorTrendBars == 0 || (3...1_000).contains(priorTrendBars), "priorTrendBars", "0 or 3...1000 bars", priorTrendBars)
        let needed = max(rangeWindow + priorTrendBars, 2 * atrPeriod + 1, volumePeriod + springMaxBars + 1, trendWindow, lpsMaxBars + lpsConfirmBars + 1)
        try need(historyBars >= needed && historyBars <= 100_000, "historyBars", "\(needed)...100000 bars (enough for the windows)", historyBars)
        try need(stopATR.isFinite && stopATR >= 0 && stopATR <= 20, "stopATR", "0...20 ATR", stopATR)
        try need(minRewardRisk.isFinite && minRewardRisk >= 0 && minRewardRisk <= 100, "minRewardRisk", "0...100", minRewardRisk)
        try need(minConfidence.isFinite && (0...1).contains(minConfidence), "minConfidence", "0...1", minConfidence)
        try need((0...100_000).contains(cooldownBars), "cooldownBars", "0...100000 bars", cooldownBars)
        try need(minPhaseScore.isFinite && (0...1).contains(minPhaseScore), "minPhaseScore", "0...1", minPhaseScore)
    }

    private enum Field {
        case int(WritableKeyPath<WyckoffParameters, Int>)
        case double(WritableKeyPath<WyckoffParameters, Double>)
        case bool(WritableKeyPath<WyckoffParameters, Bool>)
        case targetRule
    }

    private static var fields: [String: Field] {
        [
            "timeframeSeconds": .int(\.timeframeSeconds), "historyBars": .int(\.historyBars), "atrPeriod": .int(\.atrPeriod),
            "volumePeriod": .int(\.volumePeriod), "swingLookback": .int(\.swingLookback), "rangeWindow": .int(\.rangeWindow),
            "minTouches": .int(\.minTouches), "toleranceATR": .double(\.toleranceATR),
            "minRangeHeightATR": .double(\.minRangeHeightATR), "maxRangeHeightATR": .double(\.maxRangeHeightATR),
            "rangeContainment": .double(\.rangeContainment), "springVolumeRatio": .double(\.springVolumeRatio),
            "upthrustVolumeRatio": .double(\.upthrustVolumeRatio), "springMaxBars": .int(\.springMaxBars),
            "sosVolumeRatio": .double(\.sosVolumeRatio), "sowVolumeRatio": .double(\.sowVolumeRatio),
            "breakoutBarRangeATR": .double(\.breakoutBarRangeATR), "lpsMaxBars": .int(\.lpsMaxBars),
            "lpsConfirmBars": .int(\.lpsConfirmBars), "lpsVolumeRatio": .double(\.lpsVolumeRatio),
            "lpsMinPullbackATR": .double(\.lpsMinPullbackATR), "trendWindow": .int(\.trendWindow),
            "trendMoveATR": .double(\.trendMoveATR), "priorTrendBars": .int(\.priorTrendBars), "stopATR": .double(\.stopATR),
            "targetRule": .targetRule, "minRewardRisk": .double(\.minRewardRisk), "minConfidence": .double(\.minConfidence),
            "cooldownBars": .int(\.cooldownBars), "signalOnSOS": .bool(\.signalOnSOS), "minPhaseScore": .double(\.minPhaseScore),
        ]
    }

    /// Names accepted by `applying(updates:)`: the JSON keys of the fields.
    public static var fieldNames: [String] { fields.keys.sorted() }

    /// A copy with the named fields changed, as `config.updates` delivers them (field name → text,
    /// e.g. `["swingLookback": "4", "targetRule": "measuredMove"]`). All or nothing: an unknown
    /// name, an unparsable value or a result that fails `validate()` throws `InvalidParameter`
    /// naming the field, and nothing changes.
    public func applying(updates: [String: String]) throws -> WyckoffParameters {
        var copy = self
        let table = Self.fields
        for key in updates.keys.sorted() {
            let raw = updates[key]!.trimmingWhitespace()
            guard let field = table[key] else {
                throw InvalidParameter(field: key, reason: "unknown parameter (known: \(Self.fieldNames.joined(separator: ", ")))")
            }
            switch field {
            case .int(let path):
                guard let v = Int(raw) else { throw InvalidParameter(field: key, reason: "expected an integer, got '\(raw)'") }
                copy[keyPath: path] = v
            case .double(let path):
                guard let v = Double(raw), v.isFinite else { throw InvalidParameter(field: key, reason: "expected a number, got '\(raw)'") }
                copy[keyPath: path] = v
            case .bool(let path):
                switch raw.lowercased() {
                case "true", "1", "yes", "on": copy[keyPath: path] = true
                case "false", "0", "no", "off": copy[keyPath: path] = false
                default: throw InvalidParameter(field: key, reason: "expected true or false, got '\(raw)'")
                }
            case .targetRule:
                guard let v = TargetRule(rawValue: raw) else {
                    let allowed = TargetRule.allCases.map(\.rawValue).joined(separator: ", ")
                    throw InvalidParameter(field: key, reason: "expected one of \(allowed), got '\(raw)'")
                }
                copy.targetRule = v
            }
        }
        do {
            try copy.validate()
        } catch var e as InvalidParameter where updates[e.field] == nil {
            e.reason += " (after updating \(updates.keys.sorted().joined(separator: ", ")))"
            throw e
        }
        return copy
    }
}
