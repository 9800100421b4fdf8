import Foundation
import Synchronization
import TMTCore
import TMTTrading

/// The latest quote of every instrument, kept current by a consumer of `market.ticks` in a group
/// of its own per process (every instance needs every quote; only the newest matters, so it
/// starts from the latest offsets). Agents read it to price orders and convert currencies.
public final class MarketView: Sendable {
    private let quotes = Locked<[String: Tick]>([:])
    private let clock = Locked(MarketClock(clock: SystemClock()))
    private let consumer: KafkaConsumer
    private let known: Gauge

    /// Subscribes; call `start()` to begin consuming.
    public init(kafka: KafkaConfiguration, service: String, instanceId: String, deadLetterProducer: KafkaProducer,
                metrics: MetricsRegistry, logger: Logger) throws {
        // Off the order path, but every tick (KAFKA_DATA_FETCH_WAIT_MAX_MS).
        var config = kafka.forDataPlane()
        config.autoOffsetReset = "latest"
        consumer = try KafkaConsumer(configuration: config, groupId: "\(service)-quotes-\(instanceId)", topics: [Topic.marketTicks.name],
                                     deadLetterProducer: deadLetterProducer, metrics: metrics, logger: logger)
        known = metrics.gauge("tmt_market_view_instruments", help: "Instruments with a live quote in this service's market view.").labels()
        let marketClock = metrics.gauge("tmt_market_clock_seconds",
                                        help: "Market time now on this service's clock (newest tick time, advanced by the wall time since), seconds since the epoch.")
            .labels()
        let quoteGauge = metrics.gauge("tmt_market_quote", help: "The newest quote of each instrument in this service's market view, by side.",
                                       labels: ["instrument", "side"])
        metrics.addCollector { [weak self] in
            guard let self else { return }
            if let now = marketNow() { marketClock.set(now.timeIntervalSince1970) }
            for tick in quotes.withLock({ Array($0.values) }) {
                quoteGauge.labels(tick.instrument, "bid").set(NSDecimalNumber(decimal: tick.bid).doubleValue)
                quoteGauge.labels(tick.instrument, "ask").set(NSDecimalNumber(decimal: tick.ask).doubleValue)
            }
        }
    }

    public func start() throws {
        try consumer.startEnvelopes(Tick.self) { [self] envelope, _ in
            let tick = envelope.payload
            clock.withLock { $0.observe(tickTime: tick.time) }
            let count = quotes.withLock { map -> Int in
                if let old = map[tick.instrument], old.time > tick.time { return map.count }
                map[tick.instrument] = tick
                return map.count
            }
            known.set(Double(count))
        }
    }

    public func stop() { consumer.stop(timeout: 10) }

    /// The newest tick of `instrument`.
    public func quote(_ instrument: String) -> Tick? { quotes.withLock { $0[instrument] } }

    /// Market time now: the newest tick time seen, advanced by the time elapsed since (the
    /// generator's simulated time, or a replay's); nil before the first tick.
    public func marketNow() -> Date? {
        clock.withLock { $0.now() }.map { Date(timeIntervalSince1970: Double($0) / 1e6) }
    }

    /// A converter over the newest quotes (ARIA's `CurrencyConverter`).
    public func converter() -> CurrencyConverter { CurrencyConverter(ticks: quotes.withLock { Array($0.values) }) }
}
