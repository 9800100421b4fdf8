import TMTBase

/// How deep and how forgiving the simulated market is for one instrument: the book the fill
/// model walks and the size-dependent slippage it charges.
public struct InstrumentLiquidity: Codable, Sendable, Equatable {
    /// Lots available at the touch (and at each deeper level) at normal session activity (1.0);
    /// scaled by `TradingSession.activity` when the configuration asks for it. Must be > 0.
    public var touchDepthLots: Decimal
    /// How much worse each deeper level is than the one before, in points (one point = the
    /// instrument's last price decimal, e.g. 0.00001 for EUR_USD). Must be ≥ 1.
    public var levelStepPoints: Int
    /// The spread in pips this instrument shows in liquid hours; slippage scales with the
    /// current spread relative to it, so a news-widened spread slips more. Must be > 0.
    public var typicalSpreadPips: Double
    /// k: slippage in pips of an order exactly as large as the touch depth at the typical
    /// spread. Must be ≥ 0 (0 disables slippage for the instrument).
    public var slippagePipsAtDepth: Double
    /// Cap on the size-dependent slippage, in pips. Must be ≥ 0.
    public var maxSlippagePips: Double

    public init(touchDepthLots: Decimal, levelStepPoints: Int, typicalSpreadPips: Double, slippagePipsAtDepth: Double,
                maxSlippagePips: Double) {
        self.touchDepthLots = touchDepthLots
        self.levelStepPoints = levelStepPoints
        self.typicalSpreadPips = typicalSpreadPips
        self.slippagePipsAtDepth = slippagePipsAtDepth
        self.maxSlippagePips = maxSlippagePips
    }
}
