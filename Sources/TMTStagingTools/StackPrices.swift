import Foundation
import TMTCore
import TMTTrading
import TMTPipeline

/// Where a tool's simulated ticks start: the stack's own prices, so that a tool's ticks continue
/// the market the stack has seen instead of jumping back to the generator's starting prices (a
/// jump the circuit breaker rightly trips an instrument on: 1.2 % in one tick after an earlier
/// run moved the price).
public enum StackPrices {
    /// Each instrument's newest price the stack saw: the mid of its quote on the execution
    /// engine's quote board (`REDIS_URL`, key `MARKET_QUOTES_KEY`: the last tick) unless the close
    /// of its newest bar in the market database (`MARKET_DATABASE_URL`) is newer (the engine was
    /// down while ticks flowed), else that close, else the generator's starting price. The quote
    /// comes first because a bar is stored when the next one starts:
    /// after a fast run the unfinished last bar can be far from the newest close (US30 0.79 %
    /// away after a 1,000 ticks/s validator run, and every instrument's breaker tripped on the
    /// next run's first tick).
    public static func latest(_ env: Environment = Environment(), logger: Logger) -> [String: Decimal] {
        market(env, logger: logger).prices
    }

    /// The stack's market for a new source of ticks to continue: each instrument's newest price
    /// (as `latest`) and the newest market time the stack has seen.
    public static func market(_ env: Environment = Environment(), logger: Logger) -> StackMarket {
        var defaults: [String: Decimal] = [:]
        for profile in InstrumentProfile.defaults { defaults[profile.instrument.symbol] = Decimal(profile.startPrice) }
        let bars = barCloses(env, symbols: Array(defaults.keys), logger: logger)
        let quotes = quoteMids(env, logger: logger)
        let newest = (bars.values.map(\.end) + quotes.values.map(\.time)).max()
        return StackMarket(prices: choose(defaults: defaults, bars: bars, quotes: quotes), newestMicros: newest,
                           seen: Set(bars.keys).union(quotes.keys).filter { defaults[$0] != nil })
    }

    /// For each instrument of `defaults`: the quote's mid unless the bar ended after it, else the
    /// bar's close, else the default.
    public static func choose(defaults: [String: Decimal], bars: [String: (close: Decimal, end: Int64)],
                              quotes: [String: (mid: Decimal, time: Int64)]) -> [String: Decimal] {
        var prices = defaults
        for (symbol, bar) in bars where prices[symbol] != nil { prices[symbol] = bar.close }
        for (symbol, quote) in quotes where prices[symbol] != nil && quote.time >= bars[symbol]?.end ?? .min {
            prices[symbol] = quote.mid
        }
        return prices
    }

    /// The close of each symbol's newest bar and when that bar ended, µs (none without a market database).
    static func barCloses(_ env: Environment, symbols: [String], logger: Logger) -> [String: (close: Decimal, end: Int64)] {
        guard env.string("MARKET_DATABASE_URL") != nil,
              let market = try? PostgresPool(configuration: PostgresConfiguration(environment: env, key: "MARKET_DATABASE_URL"),
                                             metrics: MetricsRegistry(), logger: logger) else { return [:] }
        defer { market.shutdown() }
        var closes: [String: (close: Decimal, end: Int64)] = [:]
        for symbol in symbols {
            if let row = try? market.queryOne("""
                SELECT close, ((extract(epoch FROM start_time) + timeframe_seconds) * 1000000)::bigint AS ends
                FROM bars WHERE instrument = $1 ORDER BY start_time DESC LIMIT 1
                """, [symbol]),
               let close = try? row.decode(Decimal.self, column: "close"), let end = try? row.decode(Int64.self, column: "ends") {
                closes[symbol] = (close, end)
            }
        }
        return closes
    }

    /// The mid of each instrument's quote on the quote board and its time, µs (none without Redis or a board).
    static func quoteMids(_ env: Environment, logger: Logger) -> [String: (mid: Decimal, time: Int64)] {
        guard let url = env.string("REDIS_URL"), !url.isEmpty,
              let redis = try? RedisClient(url: url, metrics: MetricsRegistry(), logger: logger) else { return [:] }
        defer { redis.close() }
        do {
            var mids: [String: (mid: Decimal, time: Int64)] = [:]
            for tick in try QuoteBoard.read(redis, key: env.string("MARKET_QUOTES_KEY", default: QuoteBoard.defaultKey)) where tick.bid > 0 && tick.ask >= tick.bid {
                mids[tick.instrument] = (tick.mid, tick.time)
            }
            return mids
        } catch {
            logger.warning("could not read the quote board; starting from the newest bars", ["error": "\(error)"])
            return [:]
        }
    }

    /// `profiles` starting at `prices` (an instrument without a price keeps its own).
    public static func starting(_ profiles: [InstrumentProfile], at prices: [String: Decimal]) -> [InstrumentProfile] {
        profiles.map { profile in
            var p = profile
            if let price = prices[p.instrument.symbol], price > 0 { p.startPrice = NSDecimalNumber(decimal: price).doubleValue }
            return p
        }
    }
}

/// Where the stack's market stands (`StackPrices.market`).
public struct StackMarket: Sendable, Equatable {
    /// Each instrument's newest price; the generator's starting price for one the stack has not seen.
    public var prices: [String: Decimal]
    /// The newest market time the stack has seen, µs since the epoch: the latest quote on the
    /// board or the end of the newest stored bar. Nil when it has seen no tick.
    public var newestMicros: Int64?
    /// The instruments whose price comes from the stack (a quote or a stored bar).
    public var seen: Set<String>

    public init(prices: [String: Decimal], newestMicros: Int64?, seen: Set<String>) {
        self.prices = prices
        self.newestMicros = newestMicros
        self.seen = seen
    }
}
