import TMTBase
import TMTCore

/// The newest quote of every instrument in one Redis hash (field = instrument, value = the tick
/// as JSON), kept by the execution engine — which follows every tick anyway — so the agents that
/// only need the latest prices and the market clock (ARIA, compliance, anti-correlation) read it
/// there instead of each consuming `market.ticks` (`MARKET_QUOTES=redis`).
///
/// Why: every tick consumer costs the single-threaded dev broker a walk of the partition's
/// retained message sets per fetch (librdkafka 2.0.2's mock has no offset index), and each one
/// decodes every tick. Six groups followed the ticks; three of them only kept the newest quote.
public enum QuoteBoard {
    /// The hash's default key (`MARKET_QUOTES_KEY`).
    public static let defaultKey = "tmt:market:quotes"

    /// The board's ticks now (one `HGETALL`); fields that do not decode are left out.
    public static func read(_ redis: RedisClient, key: String = defaultKey) throws -> [Tick] {
        let fields = try redis.execute(.hgetAll(key)).check(command: "HGETALL").fieldValues()
        return decode(fields).ticks
    }

    static func encode(_ tick: Tick) throws -> [UInt8] {
        do { return Array(try JSONEncoder().encode(tick)) } catch {
            throw TMTError(.encoding, "cannot encode the \(tick.instrument) quote: \(error)")
        }
    }

    /// The board's ticks; a field that does not decode is left out and counted in `failures`.
    static func decode(_ fields: [String: [UInt8]]) -> (ticks: [Tick], failures: [String]) {
        var ticks: [Tick] = [], failures: [String] = []
        let decoder = JSONDecoder()
        for (field, value) in fields {
            if let tick = try? decoder.decode(Tick.self, from: Data(value)), tick.instrument == field {
                ticks.append(tick)
            } else {
                failures.append(field)
            }
        }
        return (ticks, failures)
    }
}

/// Writes the newest tick of each instrument to the quote board, at most every `interval`
/// seconds (one `HSET` with the instruments that changed), from its own thread: the tick
/// handler only records the tick in memory.
public final class QuotePublisher: Sendable {
    public let key: String
    public let interval: Double
    private let redis: RedisClient
    /// Ticks waiting to be written, and the newest tick time per instrument ever accepted (a
    /// late older tick never overwrites a newer quote, also after the newer one was written).
    private let pending = Locked<(ticks: [String: Tick], newest: [String: Int64])>(([:], [:]))
    private let task: PeriodicTask
    private let writes: Counter
    private let failures: Counter
    private let logger: Logger

    public init(redis: RedisClient, key: String = QuoteBoard.defaultKey, interval: Double = 0.01, metrics: MetricsRegistry, logger: Logger) {
        self.redis = redis
        self.key = key
        self.interval = interval
        self.logger = logger
        writes = metrics.counter("tmt_quote_board_writes_total", help: "Quotes written to the Redis quote board.").labels()
        failures = metrics.counter("tmt_quote_board_write_failures_total", help: "Quote board writes that failed (retried with the next quotes).").labels()
        task = PeriodicTask(interval: interval)
    }

    /// Records `tick` as its instrument's newest quote (an older tick than the one pending is ignored).
    public func update(_ tick: Tick) {
        pending.withLock { p in
            if let newest = p.newest[tick.instrument], newest > tick.time { return }
            p.newest[tick.instrument] = tick.time
            p.ticks[tick.instrument] = tick
        }
    }

    /// Clears the board — it holds what this publisher saw, never a previous run's quotes — and
    /// starts writing.
    public func start() {
        do { _ = try redis.execute(.del([key])).check(command: "DEL") } catch {
            logger.warning("could not clear the quote board; it may show an earlier run's quotes until new ticks arrive",
                           ["key": key, "error": "\(error)"])
        }
        task.start { [self] in flush() }
    }

    /// Stops the thread, then writes what is still pending (unless the thread's own write was
    /// still running after 5 s: two writes must not race).
    public func stop() {
        if task.stop() { flush() }
    }

    /// Writes what is pending now; on failure the quotes go back to pending unless newer ones came.
    func flush() {
        let batch = pending.withLock { p -> [String: Tick] in
            defer { p.ticks.removeAll(keepingCapacity: true) }
            return p.ticks
        }
        guard !batch.isEmpty else { return }
        do {
            var fields: [String: any RedisValueConvertible] = [:]
            for (instrument, tick) in batch { fields[instrument] = try QuoteBoard.encode(tick) }
            _ = try redis.execute(.hset(key, fields)).check(command: "HSET")
            writes.inc(Double(batch.count))
        } catch {
            failures.inc()
            logger.warning("quote board write failed; retrying with the next quotes", ["key": key, "error": "\(error)"])
            pending.withLock { p in
                for (instrument, tick) in batch where p.ticks[instrument] == nil { p.ticks[instrument] = tick }
            }
        }
    }
}

extension ServiceRuntime {
    /// The market view `MARKET_QUOTES` asks for: `kafka` (default; follow `market.ticks`) or
    /// `redis` (read the execution engine's quote board from `REDIS_URL`, key
    /// `MARKET_QUOTES_KEY`, every `MARKET_QUOTES_REFRESH_MS`, default 20). A bad value stops
    /// start-up naming the key; with `redis`, Redis joins the readiness checks.
    public func openMarketView(_ env: Environment, kafka: KafkaConfiguration, deadLetterProducer: KafkaProducer) throws -> MarketView {
        switch env.string("MARKET_QUOTES", default: "kafka") {
        case "kafka":
            return try MarketView(kafka: kafka, service: options.service, instanceId: options.instanceId,
                                  deadLetterProducer: deadLetterProducer, metrics: metrics, logger: logger)
        case "redis":
            let redis = try openQuoteBoardRedis(env)
            let refresh = try env.int("MARKET_QUOTES_REFRESH_MS", default: 20, range: 1...5_000)
            let key = env.string("MARKET_QUOTES_KEY", default: QuoteBoard.defaultKey)
            logger.info("market view reads the quote board", ["key": key, "refresh_ms": String(refresh)])
            return MarketView(redis: redis, key: key, refreshInterval: Double(refresh) / 1000, metrics: metrics, logger: logger)
        case let other:
            throw TMTError(.configuration, "MARKET_QUOTES must be kafka or redis, got '\(other)'")
        }
    }

    /// The execution engine's quote publisher when `REDIS_URL` is set (nil otherwise: agents with
    /// `MARKET_QUOTES=redis` then see no quotes, which the log says).
    public func openQuotePublisher(_ env: Environment) throws -> QuotePublisher? {
        guard env.string("REDIS_URL").map({ !$0.isEmpty }) == true else {
            logger.notice("REDIS_URL not set: no quote board is published (agents with MARKET_QUOTES=redis will have no quotes)")
            return nil
        }
        let redis = try openQuoteBoardRedis(env)
        let key = env.string("MARKET_QUOTES_KEY", default: QuoteBoard.defaultKey)
        logger.info("publishing the quote board", ["key": key])
        return QuotePublisher(redis: redis, key: key, metrics: metrics, logger: logger)
    }

    private func openQuoteBoardRedis(_ env: Environment) throws -> RedisClient {
        let redis = try RedisClient(url: env.require("REDIS_URL"), metrics: metrics, logger: logger)
        lifecycle.onShutdown("redis") { redis.close() }
        health.add("redis") { _ = try redis.ping() }
        return redis
    }
}
