import TMTBase
import TMTModels

/// How much of the normal risk to take given what the account already holds: the Pearson
/// correlation of the candidate instrument's bar returns with each open position's
/// instrument's returns, signed by direction, weighted by the positions' notional.
///
/// For each open position i with enough common bars: ρᵢ = Pearson(candidate returns, returns
/// of i) over the last `windowBars` common close-to-close returns, and sᵢ = +1 when the
/// position and the candidate point the same way (long and buy, short and sell), −1 when
/// opposite. A long EUR_USD with a buy GBP_USD and ρ = 0.8 adds risk (sᵢρᵢ = +0.8); a short
/// EUR_USD hedges it (−0.8). ρ_eff = Σ wᵢ sᵢ ρᵢ / Σ wᵢ with wᵢ the position's notional in the
/// account currency, rounded to 4 places; factor = 1 − `sensitivity` × max(0, ρ_eff) (default
/// sensitivity 0.5, so 0.5…1). Hedges never raise the factor above 1. Positions with fewer
/// than `minimumOverlap` common returns are left out with a note; when none is left the
/// factor is 1.
public struct CorrelationFactor: Sendable, Equatable {
    /// The correlation window and mapping; see the type's documentation.
    public struct Parameters: Codable, Sendable, Equatable {
        /// Most recent common returns used; default 100.
        public var windowBars: Int
        /// Common returns needed before a correlation counts; default 30.
        public var minimumOverlap: Int
        /// How much a fully correlated same-direction book cuts the size (0…1); default 0.5.
        public var sensitivity: Decimal

        public init(windowBars: Int = 100, minimumOverlap: Int = 30, sensitivity: Decimal = Decimal(string: "0.5")!) {
            self.windowBars = windowBars
            self.minimumOverlap = minimumOverlap
            self.sensitivity = sensitivity
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Parameters()
            self.init(windowBars: try c.decodeIfPresent(Int.self, forKey: .windowBars) ?? d.windowBars,
                      minimumOverlap: try c.decodeIfPresent(Int.self, forKey: .minimumOverlap) ?? d.minimumOverlap,
                      sensitivity: try c.decodeIfPresent(Decimal.self, forKey: .sensitivity) ?? d.sensitivity)
        }

        /// The first invalid field as `(name, problem)`, or nil.
        func problem() -> (String, String)? {
            if minimumOverlap < 3 { return ("minimumOverlap", "must be at least 3, got \(minimumOverlap)") }
            if windowBars < minimumOverlap {
                return ("windowBars", "must be at least minimumOverlap (\(minimumOverlap)), got \(windowBars)")
            }
            if sensitivity < 0 || sensitivity > 1 { return ("sensitivity", "must be in [0, 1], got \(sensitivity)") }
            return nil
        }
    }

    /// An open position as the correlation sees it.
    public struct Holding: Sendable, Equatable {
        /// Instrument symbol.
        public var instrument: String
        /// Signed lots: positive long, negative short.
        public var quantity: Decimal
        /// Absolute notional in the account currency (the weight).
        public var notional: Decimal

        public init(instrument: String, quantity: Decimal, notional: Decimal) {
            self.instrument = instrument
            self.quantity = quantity
            self.notional = notional
        }
    }

    /// One open position's measured correlation with the candidate.
    public struct Exposure: Sendable, Equatable {
        /// Instrument of the open position.
        public var instrument: String
        /// Direction of the open position.
        public var positionSide: Side
        /// Signed lots of the open position.
        public var quantity: Decimal
        /// Pearson ρ of the two return series, 4 places.
        public var correlation: Decimal
        /// ρ × (+1 same direction, −1 opposite), 4 places.
        public var signedCorrelation: Decimal
        /// Weight (notional in account currency).
        public var weight: Decimal
        /// Common returns the correlation was computed on.
        public var samples: Int

        public init(instrument: String, positionSide: Side, quantity: Decimal, correlation: Decimal, signedCorrelation: Decimal,
                    weight: Decimal, samples: Int) {
            self.instrument = instrument
            self.positionSide = positionSide
            self.quantity = quantity
            self.correlation = correlation
            self.signedCorrelation = signedCorrelation
            self.weight = weight
            self.samples = samples
        }

        /// `0.72 with EUR_USD long`.
        public var summary: String {
            "\(RiskDecimal.fixed(correlation, 2)) with \(instrument) \(positionSide == .buy ? "long" : "short")"
        }
    }

    /// The factor applied to the size, (0…1].
    public var factor: Decimal
    /// Notional-weighted signed correlation, 4 places; nil when no position could be measured.
    public var effectiveCorrelation: Decimal?
    /// The measured positions, in the order given.
    public var exposures: [Exposure]
    /// Positions left out and why (too few common bars, zero variance).
    public var notes: [String]

    public init(factor: Decimal, effectiveCorrelation: Decimal?, exposures: [Exposure], notes: [String]) {
        self.factor = factor
        self.effectiveCorrelation = effectiveCorrelation
        self.exposures = exposures
        self.notes = notes
    }

    /// The exposure adding the most same-direction correlation, if any adds.
    public var strongest: Exposure? {
        exposures.filter { $0.signedCorrelation > 0 }.max { $0.signedCorrelation < $1.signedCorrelation }
    }

    /// The factor for a `side` order in `instrument` next to `holdings`, from `bars` by instrument.
    public static func assess(side: Side, instrument: String, holdings: [Holding], bars: [String: [Bar]],
                              parameters p: Parameters) -> CorrelationFactor {
        assess(side: side, instrument: instrument, holdings: holdings, returns: bars.mapValues(RiskStatistics.returnsByTime), parameters: p)
    }

    /// The same from each instrument's returns by bar start (`RiskStatistics.returnsByTime`).
    public static func assess(side: Side, instrument: String, holdings: [Holding], returns: [String: [Int64: Double]],
                              parameters p: Parameters) -> CorrelationFactor {
        let open = holdings.filter { $0.quantity != 0 }
        guard !open.isEmpty else { return CorrelationFactor(factor: 1, effectiveCorrelation: nil, exposures: [], notes: ["no open positions"]) }
        let candidate = returns[instrument] ?? [:]
        var exposures: [Exposure] = []
        var notes: [String] = []
        for h in open {
            let (a, b) = RiskStatistics.aligned(candidate, returns[h.instrument] ?? [:], window: p.windowBars)
            guard a.count >= p.minimumOverlap else {
                notes.append("\(h.instrument): \(a.count) common returns, \(p.minimumOverlap) needed; left out")
                continue
            }
            guard let rho = RiskStatistics.pearson(a, b) else {
                notes.append("\(h.instrument): a return series has no variance; left out")
                continue
            }
            let positionSide: Side = h.quantity > 0 ? .buy : .sell
            let correlation = RiskDecimal.decimal(rho, scale: 4)
            let signed = positionSide == side ? correlation : -correlation
            exposures.append(Exposure(instrument: h.instrument, positionSide: positionSide, quantity: h.quantity,
                                      correlation: correlation, signedCorrelation: signed, weight: h.notional, samples: a.count))
        }
        let totalWeight = exposures.reduce(Decimal(0)) { $0 + $1.weight }
        guard !exposures.isEmpty, totalWeight > 0 else {
            if exposures.isEmpty { notes.append("no position with enough overlapping bars; factor 1") }
            else { notes.append("positions carry no notional; factor 1") }
            return CorrelationFactor(factor: 1, effectiveCorrelation: nil, exposures: exposures, notes: notes)
        }
        let weighted = exposures.reduce(Decimal(0)) { $0 + $1.weight * $1.signedCorrelation }
        let effective = RiskDecimal.round(weighted / totalWeight, 4)
        let factor = RiskDecimal.round(1 - p.sensitivity * max(0, effective), 4, .down)
        return CorrelationFactor(factor: factor, effectiveCorrelation: effective, exposures: exposures, notes: notes)
    }
}
