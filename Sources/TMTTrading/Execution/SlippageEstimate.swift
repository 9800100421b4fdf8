import TMTBase

/// The size-dependent slippage of one pass, as the fill model worked it out.
public struct SlippageEstimate: Sendable, Equatable {
    /// k × (lots / depth)^α × (spread / typical spread), before the cap, in pips.
    public var rawPips: Double
    /// Whether the cap (`InstrumentLiquidity.maxSlippagePips`) applied.
    public var capped: Bool
    /// The slippage charged, in whole points (rounded to the nearest point, never negative).
    public var points: Int
    /// The slippage charged, in price units (points × the instrument's point); always adverse:
    /// added to a buy price, subtracted from a sell price.
    public var price: Decimal

    public init(rawPips: Double, capped: Bool, points: Int, price: Decimal) {
        self.rawPips = rawPips
        self.capped = capped
        self.points = points
        self.price = price
    }

    /// No slippage (limit orders, take-profits, empty passes).
    public static let none = SlippageEstimate(rawPips: 0, capped: false, points: 0, price: 0)
}
