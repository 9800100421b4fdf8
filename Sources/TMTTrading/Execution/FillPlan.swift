import TMTBase
import TMTModels

/// What one pass of an order against one quote would fill: level by level down the simulated
/// book, with the size-dependent slippage on top. Pure arithmetic; nothing is booked.
public struct FillPlan: Sendable, Equatable {
    /// The part filled at one depth level.
    public struct Leg: Sendable, Equatable {
        /// 0 = the touch, 1 = one level deeper, …
        public var level: Int
        /// Lots filled at this level.
        public var quantity: Decimal
        /// Price after the level offset and the slippage.
        public var price: Decimal
        /// Price distance from the touch (level offset + size slippage), in price units; ≥ 0,
        /// i.e. adverse.
        public var slippage: Decimal

        public init(level: Int, quantity: Decimal, price: Decimal, slippage: Decimal) {
            self.level = level
            self.quantity = quantity
            self.price = price
            self.slippage = slippage
        }
    }

    public var side: Side
    /// The price the order takes at the top of the book: the ask for a buy, the bid for a sell.
    public var touch: Decimal
    /// The quote's spread, in price units.
    public var spread: Decimal
    /// Lots available per level for this pass (session-scaled touch depth).
    public var depthPerLevel: Decimal
    /// The size slippage charged on every leg of this pass.
    public var slippage: SlippageEstimate
    /// Fills by level, best first.
    public var legs: [Leg]
    /// Lots this pass leaves unfilled (book exhausted, or deeper levels beyond a limit price).
    public var unfilled: Decimal

    public init(side: Side, touch: Decimal, spread: Decimal, depthPerLevel: Decimal, slippage: SlippageEstimate,
                legs: [Leg], unfilled: Decimal) {
        self.side = side
        self.touch = touch
        self.spread = spread
        self.depthPerLevel = depthPerLevel
        self.slippage = slippage
        self.legs = legs
        self.unfilled = unfilled
    }

    /// Lots this pass fills.
    public var filledQuantity: Decimal { legs.reduce(0) { $0 + $1.quantity } }

    /// Volume-weighted price of the legs (exact division; nil when nothing fills).
    public var averagePrice: Decimal? {
        let q = filledQuantity
        guard q > 0 else { return nil }
        return legs.reduce(0) { $0 + $1.price * $1.quantity } / q
    }
}
