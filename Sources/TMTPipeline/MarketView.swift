import TMTBase
import Synchronization
import TMTCore
import TMTTrading

/// The latest quote of every instrument and the market clock, from one of two sources:
/// - **Kafka** (`MARKET_QUOTES=kafka`): a consumer of `market.ticks` in a group of its own per
///   process (every instance needs every quote; only the newest matters, so it starts from the
///   latest offsets);
/// - **the quote board** (`MARKET_QUOTES=redis`, staging's setting): the Redis hash the execution
///   engine keeps (`QuotePublisher`), read every `MARKET_QUOTES_REFRESH_MS`. Quotes then trail
///   the ticks by up to the publisher's and the refresh interval (10 + 20 ms by default), and
///   the dev broker has three fewer consumers of every tick.
/// Agents read it to price orders and convert currencies.
public final class MarketView: Sendable {
    private let quotes = Locked<[String: Tick]>([:])
    private let clock = Locked(MarketClock(clock: SystemClock()))
    private let consumer: KafkaConsumer?
    private let board: Board?
    private let known: Gauge

    /// The quote board reader's settings and state.
    private struct Board: Sendable {
        var redis: RedisClient
        var key: String
        var task: PeriodicTask
        var failures: Counter
        var logger: Logger
        /// Each field's bytes at the last read: only changed quotes are decoded again.
        var seen = Locked<[String: [UInt8]]>([:])
    }

    /// Follows `market.ticks`; call `start()` to begin consuming.
    public init(kafka: KafkaConfiguration, service: String, instanceId: String, deadLetterProducer: KafkaProducer,
                metrics: MetricsRegistry, logger: Logger) throws {
        // Off the order path, but every tick (KAFKA_DATA_FETCH_WAIT_MAX_MS).
        var config = kafka.forDataPlane().forMarketData()
        config.autoOffsetReset = "latest"
        consumer = try KafkaConsumer(configuration: config, groupId: "\(service)-quotes-\(instanceId)", topics: [Topic.marketTicks.name],
                                     deadLetterProducer: deadLetterProducer, metrics: metrics, logger: logger)
        board = nil
        known = Self.registerMetrics(metrics)
        registerCollector(metrics)
    }

    /// Reads the quote board in Redis every `refreshInterval` seconds; call `start()` to begin.
    public init(redis: RedisClient, key: String = QuoteBoard.defaultKey, refreshInterval: Double = 0.02,
                metrics: MetricsRegistry, logger: Logger) {
        consumer = nil
        board = Board(redis: redis, key: key, task: PeriodicTask(interval: refreshInterval),
                      failures: metrics.counter("tmt_quote_board_read_failures_total",
                                                help: "Quote board reads that failed, or fields that did not decode.").labels(),
                      logger: logger)
        known = Self.registerMetrics(metrics)
        registerCollector(metrics)
    }

    private static func registerMetrics(_ metrics: MetricsRegistry) -> Gauge {
        metrics.gauge("tmt_market_view_instruments", help: "Instruments with a live quote in this service's market view.").labels()
    }

    private func registerCollector(_ metrics: MetricsRegistry) {
        let marketClock = metrics.gauge("tmt_market_clock_seconds",
                                        help: "Market time now on this service's clock (newest tick time, advanced by the wall time since), seconds since the epoch.")
            .labels()
        let quoteGauge = metrics.gauge("tmt_market_quote", help: "The newest quote of each instrument in this service's market view, by side.",
                                       labels: ["instrument", "side"])
        metrics.addCollector { [weak self] in
            guard let self else { return }
            if let now = marketNow() { marketClock.set(now.timeIntervalSince1970) }
            for tick in quotes.withLock({ Array($0.values) }) {
                quoteGauge.labels(tick.instrument, "bid").set(DecimalMath.double(tick.bid))
                quoteGauge.labels(tick.instrument, "ask").set(DecimalMath.double(tick.ask))
            }
        }
    }

    public func start() throws {
        if let consumer {
            try consumer.startEnvelopes(Tick.self) { [self] envelope, _ in observe(envelope.payload) }
        }
        if let board {
            board.task.start { [self] in readBoard(board) }
        }
    }

    private func observe(_ tick: Tick) {
        clock.withLock { $0.observe(tickTime: tick.time) }
        let count = quotes.withLock { map -> Int in
            if let old = map[tick.instrument], old.time > tick.time { return map.count }
            map[tick.instrument] = tick
            return map.count
        }
        known.set(Double(count))
    }

    private func readBoard(_ board: Board) {
        do {
            let all = try board.redis.execute(.hgetAll(board.key)).check(command: "HGETALL").fieldValues()
            let fields = board.seen.withLock { seen -> [String: [UInt8]] in
                let changed = all.filter { seen[$0.key] != $0.value }
                for (k, v) in changed { seen[k] = v }
                return changed
            }
            let (ticks, failures) = QuoteBoard.decode(fields)
            for tick in ticks { observe(tick) }
            if !failures.isEmpty {
                board.failures.inc(Double(failures.count))
                board.logger.warning("quote board fields that do not decode were skipped", ["key": board.key, "fields": failures.sorted().joined(separator: ",")])
            }
        } catch {
            board.failures.inc()
            board.logger.warning("quote board read failed; keeping the last quotes", ["key": board.key, "error": "\(error)"])
        }
    }

    public func stop() {
        consumer?.stop(timeout: 10)
        board?.task.stop()
    }

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
