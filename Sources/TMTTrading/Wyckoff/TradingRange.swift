import TMTBase

/// A trading range found from the swing points of the bars *before* the bar under test: support
/// and resistance are the means of clusters of pivot lows and pivot highs within the tolerance.
/// Prices carry one digit more than the instrument quotes, since bars are built from mid prices.
public struct TradingRange: Codable, Sendable, Equatable {
    /// Support level (mean of the pivot lows in its cluster), in price units.
    public var support: Decimal
    /// Resistance level (mean of the pivot highs in its cluster), in price units.
    public var resistance: Decimal
    /// Pivot lows in the support cluster.
    public var supportTouches: Int
    /// Pivot highs in the resistance cluster.
    public var resistanceTouches: Int
    /// Start (µs since the epoch) of the bar of the range's first touch.
    public var firstTouch: Int64
    /// Start (µs since the epoch) of the bar of the range's last touch.
    public var lastTouch: Int64
    /// Resistance − support, in ATRs (ATR of the bar before the one under test).
    public var heightATR: Double
    /// Fraction of the range's bars that closed inside it (with the tolerance).
    public var containment: Double

    /// A range with its measurements.
    public init(support: Decimal, resistance: Decimal, supportTouches: Int, resistanceTouches: Int, firstTouch: Int64,
                lastTouch: Int64, heightATR: Double, containment: Double) {
        self.support = support
        self.resistance = resistance
        self.supportTouches = supportTouches
        self.resistanceTouches = resistanceTouches
        self.firstTouch = firstTouch
        self.lastTouch = lastTouch
        self.heightATR = heightATR
        self.containment = containment
    }

    /// Resistance − support, in price units.
    public var height: Decimal { resistance - support }
}
