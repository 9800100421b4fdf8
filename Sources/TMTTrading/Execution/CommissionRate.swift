import TMTBase

/// A commission schedule: a fixed amount per lot, charged on each side (opening and closing
/// fills are charged separately), converted into the account currency at the fill.
public struct CommissionRate: Codable, Sendable, Equatable {
    /// Amount per lot per side, in `currency`; e.g. 3.5 for the common FX ECN "$7 round turn".
    public var perLotPerSide: Decimal
    /// ISO 4217 code of `perLotPerSide`; default USD.
    public var currency: String

    public init(perLotPerSide: Decimal, currency: String = "USD") {
        self.perLotPerSide = perLotPerSide
        self.currency = currency
    }
}
