import Foundation
import TMTCore
import TMTPipeline
import TMTStagingTools
import TMTTrading
import XCTest

/// Where the tools' simulated ticks start, read from the test services' Redis: the quote board's
/// newest tick (its mid) wins over everything else, since the newest stored bar can be a whole
/// fast bar behind it.
final class StackPricesIntegrationTests: XCTestCase {
    func testTheQuoteBoardsMidIsWhereTicksContinue() throws {
        let key = try redisKeyPrefix() + "quotes"
        let redis = try makeRedisClient()
        defer { _ = try? redis.execute(.del([key])) }
        let tick = Tick(instrument: "US30", bid: Decimal(string: "38260.4")!, ask: Decimal(string: "38261.9")!, volume: 26, time: 1_795_702_775_626_527)
        _ = try redis.execute(.hset(key, ["US30": Array(try JSONEncoder().encode(tick)), "EUR_USD": Array("not a tick".utf8)])).check()
        let logger = Logger(service: "test", level: .error)
        let defaults = Dictionary(uniqueKeysWithValues: InstrumentProfile.defaults.map { ($0.instrument.symbol, Decimal($0.startPrice)) })

        let prices = StackPrices.latest(Environment(["REDIS_URL": try TestServices.redisURL(), "MARKET_QUOTES_KEY": key]), logger: logger)
        XCTAssertEqual(prices["US30"], Decimal(string: "38261.15"))
        // A field that does not decode leaves the instrument where it would otherwise start.
        XCTAssertEqual(prices["EUR_USD"], defaults["EUR_USD"])
        XCTAssertEqual(Set(prices.keys), Set(defaults.keys))

        // The market a new source of ticks continues: those prices, the board's newest tick time,
        // and which instruments the stack has seen.
        let market = StackPrices.market(Environment(["REDIS_URL": try TestServices.redisURL(), "MARKET_QUOTES_KEY": key]), logger: logger)
        XCTAssertEqual(market.prices, prices)
        XCTAssertEqual(market.newestMicros, tick.time)
        XCTAssertEqual(market.seen, ["US30"])

        // Without Redis (and no market database) every instrument starts at the generator's price.
        XCTAssertEqual(StackPrices.latest(Environment([:]), logger: logger), defaults)
        XCTAssertEqual(StackPrices.market(Environment([:]), logger: logger), StackMarket(prices: defaults, newestMicros: nil, seen: []))
    }
}
