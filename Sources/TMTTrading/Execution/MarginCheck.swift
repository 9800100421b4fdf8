import TMTBase

/// The margin check of a pass that adds exposure: the margin it needs and the account's free
/// margin before it. Passes that only reduce exposure are never checked (and never refused).
public struct MarginCheck: Codable, Sendable, Equatable {
    /// Lots by which the pass increases the absolute position.
    public var addedLots: Decimal
    /// The price used: the touch on the order's side.
    public var price: Decimal
    /// addedLots × contract size × price × margin rate × rate to account currency, rounded to
    /// the money scale.
    public var requiredMargin: Decimal
    /// Account equity before the pass.
    public var equity: Decimal
    /// Margin in use before the pass.
    public var usedMargin: Decimal
    /// Equity − used margin.
    public var freeMargin: Decimal
    /// Account currency of the figures.
    public var currency: String

    public init(addedLots: Decimal, price: Decimal, requiredMargin: Decimal, equity: Decimal, usedMargin: Decimal,
                freeMargin: Decimal, currency: String) {
        self.addedLots = addedLots
        self.price = price
        self.requiredMargin = requiredMargin
        self.equity = equity
        self.usedMargin = usedMargin
        self.freeMargin = freeMargin
        self.currency = currency
    }

    /// Whether the required margin fits the free margin (exactly equal fits).
    public var passed: Bool { requiredMargin <= freeMargin }

    /// A sentence with the figures, e.g. `required margin 10,839.95 USD > free margin 10,000.00
    /// USD (equity 10,000.00 USD − used 0.00 USD) for 3 lots at 1.08508`.
    public func detail(pricePrecision: Int) -> String {
        let cmp = passed ? "≤" : ">"
        return "required margin \(ExecutionFormat.money(requiredMargin, currency)) \(cmp) free margin "
            + "\(ExecutionFormat.money(freeMargin, currency)) (equity \(ExecutionFormat.money(equity, currency)) − used "
            + "\(ExecutionFormat.money(usedMargin, currency))) for \(ExecutionFormat.exact(addedLots)) lots at "
            + ExecutionFormat.price(price, precision: pricePrecision)
    }
}
