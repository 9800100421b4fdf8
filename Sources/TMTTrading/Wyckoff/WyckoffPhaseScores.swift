import TMTBase

/// How strongly the bars up to the newest one look like each Wyckoff phase (each 0…1, not a
/// probability: they need not sum to 1), with the measured features behind the scores.
public struct WyckoffPhaseScores: Codable, Sendable, Equatable {
    /// The four market phases.
    public enum Phase: String, Codable, Sendable, CaseIterable {
        /// A range after a decline where supply is absorbed.
        case accumulation
        /// The advance out of accumulation.
        case markup
        /// A range after an advance where demand is absorbed.
        case distribution
        /// The decline out of distribution.
        case markdown
    }

    /// The measurements the scores are computed from.
    public struct Features: Codable, Sendable, Equatable {
        /// Least-squares slope of the last `trendWindow` closes, in ATRs per bar.
        public var slopeATR = 0.0
        /// 1 − recent ATR ÷ earlier ATR (mean true range of the last `atrPeriod` bars vs the
        /// `atrPeriod` before them); positive when the range is contracting.
        public var contraction = 0.0
        /// Relative volume change across the range's body (first to last touch) from a least-squares
        /// fit: −0.4 means the volume fell by 40 %.
        public var rangeVolumeTrend = 0.0
        /// Share of the range body's volume on bars that closed up (0…1; 0.5 when unknown).
        public var upVolumeShare = 0.5
        /// (HH + HL − LH − LL) ÷ comparisons over the recent pivots: +1 a clean uptrend, −1 a clean downtrend.
        public var structure = 0.0
        /// Close-to-close move over `priorTrendBars` before the range's first touch, in ATRs (0 when unknown).
        public var priorTrendATR = 0.0
        /// Touches of support plus resistance (0 without a range).
        public var touches = 0
        /// Whether a spring happened since the range's first touch.
        public var springSeen = false
        /// Whether an upthrust happened since the range's first touch.
        public var upthrustSeen = false
        /// Volume ratio of the latest SOS within `rangeWindow` bars, 0 if none.
        public var breakoutUpVolumeRatio = 0.0
        /// Volume ratio of the latest SOW within `rangeWindow` bars, 0 if none.
        public var breakoutDownVolumeRatio = 0.0

        /// All features at their neutral values.
        public init() {}
    }

    /// Inside a valid range: touches, flatness and contraction, drying volume, volume on up bars,
    /// a spring, a decline into the range (weighted 1, 1, 1, 1.5, 0.5, 1.5, 1). 0 without a range.
    public var accumulation: Double
    /// Regression slope up, higher highs/lows, a recent SOS on volume (weighted 2, 1, 1).
    public var markup: Double
    /// As `accumulation` with heavy volume, volume on down bars, an upthrust and an advance into the range.
    public var distribution: Double
    /// As `markup`, downwards.
    public var markdown: Double
    /// The highest-scoring phase if it reaches `minPhaseScore`, otherwise nil (undetermined).
    public var dominant: Phase?
    /// The measurements behind the scores.
    public var features: Features

    /// Scores as computed; `dominant` is not re-derived.
    public init(accumulation: Double, markup: Double, distribution: Double, markdown: Double, dominant: Phase?, features: Features) {
        self.accumulation = accumulation
        self.markup = markup
        self.distribution = distribution
        self.markdown = markdown
        self.dominant = dominant
        self.features = features
    }

    /// All zero: not enough bars yet.
    public static let none = WyckoffPhaseScores(accumulation: 0, markup: 0, distribution: 0, markdown: 0, dominant: nil, features: Features())

    /// The score of one phase.
    public func score(_ phase: Phase) -> Double {
        switch phase {
        case .accumulation: accumulation
        case .markup: markup
        case .distribution: distribution
        case .markdown: markdown
        }
    }
}
