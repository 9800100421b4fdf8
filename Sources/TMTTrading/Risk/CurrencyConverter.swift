import TMTBase
import TMTModels

/// Converts amounts between currencies using the mid prices of the latest quotes, and nothing
/// else: when no quote links two currencies the answer is `nil`, never a guessed rate.
///
/// A quote of `BASE_QUOTE` at mid m says 1 BASE = m QUOTE, so it converts BASE → QUOTE at m
/// and QUOTE → BASE at 1 / m. When no pair links two currencies directly, the converter goes
/// through a pivot currency (USD by default): JPY → EUR = (JPY → USD) × (USD → EUR).
public struct CurrencyConverter: Sendable {
    /// One way of converting, with the quotes it used (for the sizing breakdown).
    public struct Conversion: Sendable, Equatable {
        /// Source currency.
        public var from: String
        /// Target currency.
        public var to: String
        /// Units of `to` per unit of `from`; exactly 1 when the currencies are equal.
        public var rate: Decimal
        /// How the rate was obtained, e.g. `1 / USD_JPY mid 150` or `identity`.
        public var path: String

        public init(from: String, to: String, rate: Decimal, path: String) {
            self.from = from
            self.to = to
            self.rate = rate
            self.path = path
        }
    }

    private struct Pair: Sendable {
        var symbol: String
        var mid: Decimal
    }

    /// Latest tick per instrument symbol (the newest `time` wins).
    public private(set) var ticks: [String: Tick]
    /// Currencies tried, in order, to bridge two currencies that share no pair; default `["USD"]`.
    public var pivots: [String]
    /// Mid price by `BASE/QUOTE`.
    private var pairs: [String: Pair] = [:]

    /// A converter from `ticks` (several per instrument allowed; the newest is kept).
    /// `instruments` gives each symbol's base and quote currency; a symbol it does not list is
    /// read as `BASE_QUOTE` when it has that shape. Ticks with a non-positive mid are ignored.
    public init(ticks: [Tick], instruments: [String: Instrument] = Instrument.catalog, pivots: [String] = ["USD"]) {
        var latest: [String: Tick] = [:]
        for tick in ticks where latest[tick.instrument].map({ $0.time <= tick.time }) ?? true {
            latest[tick.instrument] = tick
        }
        self.ticks = latest
        self.pivots = pivots
        for (symbol, tick) in latest {
            guard tick.mid > 0, let (base, quote) = Self.currencies(of: symbol, instruments: instruments) else { continue }
            pairs[base + "/" + quote] = Pair(symbol: symbol, mid: tick.mid)
        }
    }

    /// The latest tick of `instrument`, if any.
    public func tick(for instrument: String) -> Tick? { ticks[instrument] }

    /// The conversion from `from` to `to`: identity, a direct or inverted pair, or a cross
    /// through a pivot; nil when the quotes cannot link them.
    public func conversion(from: String, to: String) -> Conversion? {
        if from == to { return Conversion(from: from, to: to, rate: 1, path: "identity") }
        if let direct = pairConversion(from: from, to: to) { return direct }
        for pivot in pivots where pivot != from && pivot != to {
            guard let first = pairConversion(from: from, to: pivot), let second = pairConversion(from: pivot, to: to) else {
                continue
            }
            return Conversion(from: from, to: to, rate: first.rate * second.rate, path: "(\(first.path)) × (\(second.path))")
        }
        return nil
    }

    /// Units of `to` per unit of `from`; nil when no quote links them.
    public func rate(from: String, to: String) -> Decimal? { conversion(from: from, to: to)?.rate }

    private func pairConversion(from: String, to: String) -> Conversion? {
        if let p = pairs[from + "/" + to] {
            return Conversion(from: from, to: to, rate: p.mid, path: "\(p.symbol) mid \(p.mid)")
        }
        if let p = pairs[to + "/" + from] {
            return Conversion(from: from, to: to, rate: 1 / p.mid, path: "1 / \(p.symbol) mid \(p.mid)")
        }
        return nil
    }

    private static func currencies(of symbol: String, instruments: [String: Instrument]) -> (String, String)? {
        if let i = instruments[symbol] { return (i.base, i.quoteCurrency) }
        let parts = symbol.split(separator: "_")
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
