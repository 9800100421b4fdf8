import TMTBase

/// A tradable instrument and the contract facts sizing and P&L depend on.
public struct Instrument: Codable, Sendable, Hashable {
    /// Symbol as the pipeline uses it, e.g. `EUR_USD`.
    public var symbol: String
    /// Base currency or asset (`EUR`, `XAU`, `US30`).
    public var base: String
    /// Currency prices are quoted in; P&L accrues in it before conversion to the account currency.
    public var quoteCurrency: String
    /// One pip in price units: 0.0001 for most FX, 0.01 for JPY pairs, 0.01 for gold, 1 for an index.
    public var pipSize: Decimal
    /// Units per lot: 100,000 for FX, 100 oz for gold, 1 for an index CFD.
    public var contractSize: Decimal
    /// Decimal places of a price.
    public var pricePrecision: Int
    /// Smallest tradable lot step (e.g. 0.01).
    public var lotStep: Decimal
    /// Fraction of notional required as margin (e.g. 0.0333 for 30:1).
    public var marginRate: Decimal

    public init(symbol: String, base: String, quoteCurrency: String, pipSize: Decimal, contractSize: Decimal,
                pricePrecision: Int, lotStep: Decimal = Decimal(string: "0.01")!, marginRate: Decimal) {
        self.symbol = symbol
        self.base = base
        self.quoteCurrency = quoteCurrency
        self.pipSize = pipSize
        self.contractSize = contractSize
        self.pricePrecision = pricePrecision
        self.lotStep = lotStep
        self.marginRate = marginRate
    }

    /// Value of one pip for one lot, in the quote currency (pipSize × contractSize):
    /// 10 USD for EUR_USD, 1,000 JPY for USD_JPY, 1 USD for XAU_USD.
    public var pipValueInQuote: Decimal { pipSize * contractSize }

    /// The staging instruments (ARCHITECTURE.md, data generator).
    public static let eurUsd = Instrument(symbol: "EUR_USD", base: "EUR", quoteCurrency: "USD", pipSize: Decimal(string: "0.0001")!,
                                          contractSize: 100_000, pricePrecision: 5, marginRate: Decimal(string: "0.0333")!)
    public static let gbpUsd = Instrument(symbol: "GBP_USD", base: "GBP", quoteCurrency: "USD", pipSize: Decimal(string: "0.0001")!,
                                          contractSize: 100_000, pricePrecision: 5, marginRate: Decimal(string: "0.0333")!)
    public static let usdJpy = Instrument(symbol: "USD_JPY", base: "USD", quoteCurrency: "JPY", pipSize: Decimal(string: "0.01")!,
                                          contractSize: 100_000, pricePrecision: 3, marginRate: Decimal(string: "0.0333")!)
    public static let audUsd = Instrument(symbol: "AUD_USD", base: "AUD", quoteCurrency: "USD", pipSize: Decimal(string: "0.0001")!,
                                          contractSize: 100_000, pricePrecision: 5, marginRate: Decimal(string: "0.05")!)
    public static let xauUsd = Instrument(symbol: "XAU_USD", base: "XAU", quoteCurrency: "USD", pipSize: Decimal(string: "0.01")!,
                                          contractSize: 100, pricePrecision: 2, marginRate: Decimal(string: "0.05")!)
    public static let us30 = Instrument(symbol: "US30", base: "US30", quoteCurrency: "USD", pipSize: 1,
                                        contractSize: 1, pricePrecision: 1, lotStep: Decimal(string: "0.1")!, marginRate: Decimal(string: "0.05")!)

    /// All staging instruments by symbol.
    public static let catalog: [String: Instrument] = Dictionary(uniqueKeysWithValues:
        [eurUsd, gbpUsd, usdJpy, audUsd, xauUsd, us30].map { ($0.symbol, $0) })
}

/// Buy or sell.
public enum Side: String, Codable, Sendable, CaseIterable {
    case buy, sell

    /// +1 for buy, −1 for sell.
    public var sign: Decimal { self == .buy ? 1 : -1 }
    public var opposite: Side { self == .buy ? .sell : .buy }
}
