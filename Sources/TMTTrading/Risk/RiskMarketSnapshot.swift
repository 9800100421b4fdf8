import TMTBase
import TMTModels

/// The market as ARIA sees it when a signal arrives: contract facts, latest quotes (for prices
/// and currency conversion) and recent bars per instrument (for ATR and return correlation).
public struct RiskMarketSnapshot: Sendable {
    /// Contract facts by symbol; default `Instrument.catalog`.
    public var instruments: [String: Instrument]
    /// Latest quotes and conversions between currencies.
    public var converter: CurrencyConverter
    /// Recent closed bars by instrument symbol, any order (sorted where used), one timeframe.
    public var bars: [String: [Bar]] { didSet { returns = bars.mapValues(RiskStatistics.returnsByTime) } }
    /// Each instrument's bar-to-bar returns by bar start (`RiskStatistics.returnsByTime`),
    /// computed once per snapshot: the correlation factor compares them for every account and
    /// every open position, and computing them there each time was most of ARIA's sizing.
    public private(set) var returns: [String: [Int64: Double]]

    public init(instruments: [String: Instrument] = Instrument.catalog, converter: CurrencyConverter, bars: [String: [Bar]]) {
        self.instruments = instruments
        self.converter = converter
        self.bars = bars
        returns = bars.mapValues(RiskStatistics.returnsByTime)
    }

    /// A snapshot from the latest `ticks` (newest per instrument wins) and `bars`.
    public init(ticks: [Tick], bars: [String: [Bar]], instruments: [String: Instrument] = Instrument.catalog) {
        self.init(instruments: instruments, converter: CurrencyConverter(ticks: ticks, instruments: instruments), bars: bars)
    }
}
