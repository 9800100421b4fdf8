import TMTBase
import TMTModels

/// What turns lots into a common-currency notional: the instruments (contract size, quote
/// currency, lot step), a current price per instrument (a mid from `market.ticks`) and the
/// value of one unit of each quote currency in the common currency. The agent fills these from
/// its latest quotes; the core does no I/O and makes up no rate.
public struct ExposurePricing: Sendable, Equatable {
    /// The currency every notional is expressed in; default `USD`.
    public var commonCurrency: String
    /// Instruments by symbol; default `Instrument.catalog`.
    public var instruments: [String: Instrument]
    /// Current price per instrument symbol, in its quote currency.
    public var prices: [String: Decimal]
    /// Units of `commonCurrency` per one unit of a currency (e.g. `JPY: 0.0066` for USD). The
    /// common currency itself is always 1 and need not be listed.
    public var rates: [String: Decimal]

    public init(commonCurrency: String = "USD", instruments: [String: Instrument] = Instrument.catalog,
                prices: [String: Decimal] = [:], rates: [String: Decimal] = [:]) {
        self.commonCurrency = commonCurrency
        self.instruments = instruments
        self.prices = prices
        self.rates = rates
    }

    /// The rate of `currency` into the common currency, or nil when unknown.
    public func rate(_ currency: String) -> Decimal? {
        currency == commonCurrency ? 1 : rates[currency]
    }

    /// Signed notional of `lots` (signed) of `symbol` in the common currency:
    /// lots × contract size × price × rate(quote currency). Nil when the instrument, its price
    /// or its quote currency's rate is unknown.
    public func notional(of symbol: String, lots: Decimal) -> Decimal? {
        guard let instrument = instruments[symbol], let price = prices[symbol],
              let rate = rate(instrument.quoteCurrency) else { return nil }
        return lots * instrument.contractSize * price * rate
    }
}
