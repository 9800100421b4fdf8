import Foundation
import TMTCore
import TMTTrading

/// Where a tool's simulated ticks start: the stack's own prices, so that a tool's ticks continue
/// the market the stack has seen instead of jumping back to the generator's starting prices (a
/// jump the circuit breaker rightly trips an instrument on: 1.2 % in one tick after an earlier
/// run moved the price).
public enum StackPrices {
    /// Each instrument's close of its newest bar in the market database (`MARKET_DATABASE_URL`),
    /// the generator's starting price where there is none (or no market database).
    public static func latest(_ env: Environment = Environment(), logger: Logger) -> [String: Decimal] {
        var prices: [String: Decimal] = [:]
        for profile in InstrumentProfile.defaults { prices[profile.instrument.symbol] = Decimal(profile.startPrice) }
        guard env.string("MARKET_DATABASE_URL") != nil,
              let market = try? PostgresPool(configuration: PostgresConfiguration(environment: env, key: "MARKET_DATABASE_URL"),
                                             metrics: MetricsRegistry(), logger: logger) else { return prices }
        defer { market.shutdown() }
        for symbol in prices.keys {
            if let row = try? market.queryOne("SELECT close FROM bars WHERE instrument = $1 ORDER BY start_time DESC LIMIT 1", [symbol]),
               let close = try? row.decode(Decimal.self, column: "close") {
                prices[symbol] = close
            }
        }
        return prices
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
