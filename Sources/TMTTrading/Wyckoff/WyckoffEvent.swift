import TMTBase
import TMTModels

/// A Wyckoff event recognised on the newest bar, measured against the range of the bars before it.
/// Prices carry one digit more than the instrument quotes, since bars are built from mid prices.
public struct WyckoffEvent: Codable, Sendable, Equatable {
    /// The events the detector knows. Raw values are what `Signal.pattern` carries.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Low pierces support by more than the tolerance and the close returns above support, on volume.
        case spring
        /// High pierces resistance by more than the tolerance and the close returns below it, on volume.
        case upthrust
        /// Sign of strength: first close above resistance + tolerance on a wide bar and high volume.
        case sos
        /// Sign of weakness: first close below support − tolerance on a wide bar and high volume.
        case sow
        /// Last point of support: after a spring or SOS, a pullback on lower volume making a higher
        /// low that holds support (after a spring) or the old resistance (after an SOS).
        case lps
        /// Last point of supply: the mirror of LPS after an upthrust or SOW.
        case lpsy

        /// Bullish events suggest buying, bearish ones selling.
        public var side: Side {
            switch self {
            case .spring, .sos, .lps: .buy
            case .upthrust, .sow, .lpsy: .sell
            }
        }
    }

    /// Which event.
    public var kind: Kind
    /// Start (µs since the epoch) of the bar that completed the event.
    public var barStart: Int64
    /// The level the event is about: support for spring/SOW, resistance for upthrust/SOS, the level
    /// that held for LPS/LPSY.
    public var level: Decimal
    /// The event's extreme price: lowest low of a spring's excursion, highest high of an upthrust's,
    /// the breakout bar's low (SOS) or high (SOW), the pullback's low (LPS) or rally's high (LPSY).
    /// Stops go beyond it.
    public var extreme: Decimal
    /// Mean volume of the event's bars ÷ the average bar volume before them; for LPS/LPSY, the
    /// pullback's mean volume ÷ that of the advance (decline) before it.
    public var volumeRatio: Double
    /// How far the event went past its level, in ATRs: pierce depth (spring/upthrust), close beyond
    /// the level (SOS/SOW), or distance held above/below the level (LPS/LPSY).
    public var depthATR: Double
    /// Bars the event spans (excursion outside the range for spring/upthrust, 1 for SOS/SOW,
    /// bars from the anchoring event to the confirmed pullback for LPS/LPSY).
    public var bars: Int
    /// Quality of the event in 0…1 from its measured features (volume, depth, close position, speed).
    public var strength: Double
    /// Support of the range the event was judged against (for LPS/LPSY: of the range at the
    /// spring/SOS or upthrust/SOW it follows). Targets are measured from it and `resistance`.
    public var support: Decimal
    /// Resistance of that range.
    public var resistance: Decimal
    /// For LPS/LPSY: the event it follows (spring or SOS; upthrust or SOW), which decides whether
    /// the signal is a reversal inside the range or a breakout continuation.
    public var follows: Kind?

    /// An event with all its measurements.
    public init(kind: Kind, barStart: Int64, level: Decimal, extreme: Decimal, volumeRatio: Double, depthATR: Double,
                bars: Int, strength: Double, support: Decimal, resistance: Decimal, follows: Kind? = nil) {
        self.kind = kind
        self.barStart = barStart
        self.level = level
        self.extreme = extreme
        self.volumeRatio = volumeRatio
        self.depthATR = depthATR
        self.bars = bars
        self.strength = strength
        self.support = support
        self.resistance = resistance
        self.follows = follows
    }

    /// Whether the event trades back across the range (spring, upthrust and the LPS/LPSY that
    /// follow them) rather than in the direction of a breakout.
    public var isReversal: Bool {
        switch kind {
        case .spring, .upthrust: true
        case .sos, .sow: false
        case .lps, .lpsy: follows == .spring || follows == .upthrust
        }
    }
}
