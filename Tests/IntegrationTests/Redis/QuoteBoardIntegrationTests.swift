import Foundation
import TMTCore
import TMTPipeline
import XCTest

/// The quote board against the test services' Redis: the execution engine's publisher writes the
/// newest tick per instrument, a market view with `MARKET_QUOTES=redis` reads prices and the
/// market clock from it.
final class QuoteBoardIntegrationTests: XCTestCase {
    private func tick(_ instrument: String, _ bid: String, _ ask: String, time: Int64) -> Tick {
        Tick(instrument: instrument, bid: Decimal(string: bid)!, ask: Decimal(string: ask)!, volume: 1_000, time: time)
    }

    private func waitFor(_ what: String, timeout: Double = 5, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return }
            usleep(10_000)
        }
        XCTFail("timed out waiting for \(what)")
    }

    func testPublishedQuotesReachTheMarketViewNewestFirst() throws {
        let key = try redisKeyPrefix() + "quotes"
        let logger = Logger(service: "test", level: .warning)
        let publisherMetrics = MetricsRegistry(), viewMetrics = MetricsRegistry()
        let publisher = QuotePublisher(redis: try makeRedisClient(), key: key, interval: 0.005, metrics: publisherMetrics, logger: logger)
        let view = MarketView(redis: try makeRedisClient(), key: key, refreshInterval: 0.01, metrics: viewMetrics, logger: logger)
        publisher.start()
        try view.start()
        defer {
            view.stop()
            publisher.stop()
        }

        let t0: Int64 = 1_764_000_000_000_000
        publisher.update(tick("EUR_USD", "1.08500", "1.08508", time: t0))
        publisher.update(tick("USD_JPY", "150.000", "150.012", time: t0 + 1))
        // An older EUR_USD tick arriving late never replaces the newer one.
        publisher.update(tick("EUR_USD", "1.07000", "1.07008", time: t0 - 5))
        waitFor("both quotes") { view.quote("EUR_USD") != nil && view.quote("USD_JPY") != nil }
        XCTAssertEqual(view.quote("EUR_USD")?.bid, Decimal(string: "1.08500"))
        XCTAssertEqual(view.quote("USD_JPY")?.ask, Decimal(string: "150.012"))
        let clock = try XCTUnwrap(view.marketNow()).timeIntervalSince1970
        XCTAssertGreaterThanOrEqual(clock, Double(t0 + 1) / 1e6)
        XCTAssertLessThan(clock, Double(t0 + 1) / 1e6 + 5)

        // A newer tick replaces the quote; the board's hash holds exactly the two instruments.
        publisher.update(tick("EUR_USD", "1.08600", "1.08608", time: t0 + 2))
        waitFor("the newer EUR_USD quote") { view.quote("EUR_USD")?.bid == Decimal(string: "1.08600") }
        // A late older tick after the newer one was written does not overwrite it on the board.
        publisher.update(tick("EUR_USD", "1.07000", "1.07008", time: t0 + 1))
        usleep(100_000)
        let fields = try makeRedisClient().execute(.hgetAll(key)).check().fieldValues()
        let stored = try JSONDecoder().decode(Tick.self, from: Data(try XCTUnwrap(fields["EUR_USD"])))
        XCTAssertEqual(stored.bid, Decimal(string: "1.08600"))
        XCTAssertEqual(Set(fields.keys), ["EUR_USD", "USD_JPY"])
        XCTAssertGreaterThanOrEqual(metricValue(publisherMetrics, "tmt_quote_board_writes_total"), 3)
        XCTAssertEqual(metricValue(viewMetrics, "tmt_market_view_instruments"), 2)
    }

    func testAFieldThatDoesNotDecodeIsSkippedAndCounted() throws {
        let key = try redisKeyPrefix() + "quotes"
        let redis = try makeRedisClient()
        let good = try JSONEncoder().encode(tick("GBP_USD", "1.27000", "1.27012", time: 1_764_000_000_000_000))
        _ = try redis.execute(.hset(key, ["GBP_USD": Data(good), "EUR_USD": "not json", "AUD_USD": Data(good)])).check()
        let metrics = MetricsRegistry()
        let view = MarketView(redis: redis, key: key, refreshInterval: 0.01, metrics: metrics, logger: Logger(service: "test", level: .error))
        try view.start()
        defer { view.stop() }
        waitFor("the good quote") { view.quote("GBP_USD") != nil }
        XCTAssertNil(view.quote("EUR_USD"), "malformed field")
        XCTAssertNil(view.quote("AUD_USD"), "a field whose tick names another instrument")
        XCTAssertGreaterThanOrEqual(metricValue(metrics, "tmt_quote_board_read_failures_total"), 2)
    }

    func testMarketQuotesSettingIsCheckedAtStartUp() throws {
        let options = try ServiceOptions.parse(service: "quote-test", defaultPort: 0, arguments: [], environment: Environment([:]))
        let runtime = try ServiceRuntime(options: options, logSink: MemoryLogSink(), metrics: MetricsRegistry())
        let kafka = KafkaConfiguration(bootstrapServers: try TestServices.kafkaBootstrap(), clientId: "quote-test")
        let producer = try KafkaProducer(configuration: kafka, metrics: MetricsRegistry())
        defer { producer.close(timeout: 1) }
        XCTAssertThrowsError(try runtime.openMarketView(Environment(["MARKET_QUOTES": "memcached"]), kafka: kafka, deadLetterProducer: producer)) {
            XCTAssertTrue("\($0)".contains("MARKET_QUOTES"), "\($0)")
        }
        XCTAssertThrowsError(try runtime.openMarketView(Environment(["MARKET_QUOTES": "redis"]), kafka: kafka, deadLetterProducer: producer)) {
            XCTAssertTrue("\($0)".contains("REDIS_URL"), "\($0)")
        }
        XCTAssertThrowsError(try runtime.openMarketView(Environment(["MARKET_QUOTES": "redis", "REDIS_URL": try TestServices.redisURL(),
                                                                     "MARKET_QUOTES_REFRESH_MS": "0"]),
                                                        kafka: kafka, deadLetterProducer: producer)) {
            XCTAssertTrue("\($0)".contains("MARKET_QUOTES_REFRESH_MS"), "\($0)")
        }
        XCTAssertNil(try runtime.openQuotePublisher(Environment([:])), "no REDIS_URL, no board")
    }
}
