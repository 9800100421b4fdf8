import TMTBase
import TMTModels

/// Conversion rates between currencies, from explicit rates and the latest quotes: what turns
/// P&L in a quote currency, margin, or a commission schedule into the account currency.
///
/// A rate is "units of `to` per unit of `from`". Lookup order: same currency (1); an explicit
/// rate (or the inverse of one the other way round); the mid of a quoted `FROM_TO` instrument
/// (or 1 / mid of `TO_FROM`); finally a cross through USD. Mids are used because a conversion
/// is a valuation, not a trade.
public struct CurrencyRates: Sendable, Equatable {
    /// The latest quote per instrument symbol.
    public var quotes: [String: Tick]
    /// Explicit rates keyed `"FROM/TO"` (e.g. `"JPY/USD": 0.00667`); they win over quotes.
    public var fixed: [String: Decimal]

    public init(quotes: [String: Tick] = [:], fixed: [String: Decimal] = [:]) {
        self.quotes = quotes
        self.fixed = fixed
    }

    /// Rates from a list of quotes (a later quote of the same instrument replaces an earlier one).
    public init(ticks: [Tick], fixed: [String: Decimal] = [:]) {
        self.init(quotes: Dictionary(ticks.map { ($0.instrument, $0) }, uniquingKeysWith: { _, last in last }), fixed: fixed)
    }

    /// Records `tick` as its instrument's latest quote, unless an already recorded quote is newer.
    public mutating func update(_ tick: Tick) {
        if let current = quotes[tick.instrument], current.time > tick.time { return }
        quotes[tick.instrument] = tick
    }

    /// The latest quote of `symbol`.
    public func quote(_ symbol: String) -> Tick? { quotes[symbol] }

    /// Units of `to` per unit of `from`, or nil when neither an explicit rate nor a quote links them.
    public func rate(from: String, to: String) -> Decimal? {
        if let direct = directRate(from: from, to: to) { return direct }
        if from != "USD", to != "USD", let a = directRate(from: from, to: "USD"), let b = directRate(from: "USD", to: to) {
            return a * b
        }
        return nil
    }

    private func directRate(from: String, to: String) -> Decimal? {
        if from == to { return 1 }
        if let r = fixed["\(from)/\(to)"], r > 0 { return r }
        if let r = fixed["\(to)/\(from)"], r > 0 { return 1 / r }
        if let q = quotes["\(from)_\(to)"], q.mid > 0 { return q.mid }
        if let q = quotes["\(to)_\(from)"], q.mid > 0 { return 1 / q.mid }
        return nil
    }
}
