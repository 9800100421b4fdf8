// tmt-data-generator: seeded simulated market data (or a recorded replay) onto market.ticks.
import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTStagingTools
import TMTTrading

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(GeneratorOptions.usage)
    exit(0)
}
let options: GeneratorOptions
do {
    options = try GeneratorOptions.parse(arguments)
} catch {
    FileHandle.standardError.write(Data("tmt-data-generator: \(error)\n".utf8))
    exit(2)
}

let logger = Logger(service: "data-generator", level: LogLevel(name: ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info") ?? .info)
let lifecycle = Lifecycle(logger: logger)
lifecycle.installSignalHandlers()

do {
    var kafka: KafkaConfiguration
    if let b = options.bootstrap {
        kafka = KafkaConfiguration(bootstrapServers: b, clientId: "data-generator")
        try kafka.validate()
    } else {
        kafka = try KafkaConfiguration.fromEnvironment(clientId: "data-generator")
    }
    // Ticks go to the market-data cluster when one is set (KAFKA_MARKET_BOOTSTRAP_*).
    let producer = try KafkaProducer(configuration: kafka.forMarketData(), metrics: MetricsRegistry(), logger: logger)
    producer.prepare(topics: [Topic.marketTicks.name])

    // The tick source: a recorded file, or the seeded simulator.
    var replay: [Tick]?
    if let path = options.replay {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TMTError(.configuration, "cannot read --replay file \(path)")
        }
        do { replay = try TickFileReader(path: path).parse(text) } catch {
            throw TMTError(.configuration, "--replay \(path): \(error)")
        }
        logger.info("replaying", ["file": path, "ticks": String(replay?.count ?? 0)])
    }
    var start = options.startMicros ?? Int64(Date().timeIntervalSince1970 * 1_000_000)
    var profiles = InstrumentProfile.defaults.filter { options.instruments.contains($0.instrument.symbol) }
    // Continue the stack's market (see --help): its prices, and a clock that does not go back.
    if replay == nil, options.startMicros == nil, !options.fresh {
        let market = StackPrices.market(logger: logger)
        let continued = options.instruments.filter { market.seen.contains($0) }
        profiles = StackPrices.starting(profiles, at: market.prices)
        if let newest = market.newestMicros, newest + 1_000_000 > start { start = newest + 1_000_000 }
        if market.newestMicros != nil {
            logger.notice("continuing the stack's market", [
                "prices": continued.isEmpty ? "-" : continued.map { "\($0)=\(market.prices[$0] ?? 0)" }.joined(separator: ","),
                "market_time": Logger.timestamp(Date(timeIntervalSince1970: Double(start) / 1e6)),
            ])
        }
    }
    var simulator = MarketSimulator(.init(seed: options.seed, startMicros: start, profiles: profiles, scenarios: options.scenarios))
    // The simulated news calendar goes to the trading database, where the compliance engine's
    // blackout rule reads it (only when a database is configured; a replay has no calendar).
    if replay == nil, let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
        let pool = try PostgresPool(configuration: PostgresConfiguration(environment: Environment(), key: "DATABASE_URL"),
                                    metrics: MetricsRegistry(), logger: logger)
        defer { pool.shutdown() }
        try TradingSchema.migrate(pool: pool, logger: logger)
        let added = try NewsStore(pool: pool).save(simulator.configuration.news)
        logger.info("news calendar stored", ["events": String(simulator.configuration.news.events.count), "new": String(added)])
    }
    if replay == nil {
        logger.info("simulating", ["seed": String(options.seed), "rate": String(options.rate),
                                   "instruments": options.instruments.joined(separator: ","),
                                   "scenarios": options.scenarios.map { "\($0.segments.first?.phase.rawValue ?? "?"):\($0.symbol)" }.joined(separator: ","),
                                   "news_events": String(simulator.configuration.news.events.count)])
    }

    let limit = min(options.count ?? Int.max, replay?.count ?? Int.max)
    let began = Monotonic.nanos()
    let deadline = options.duration.map { began + UInt64($0 * 1e9) }
    let interval = 1e9 / options.rate
    var sent = 0
    var lastReport = began
    var failures = 0
    while sent < limit, !lifecycle.isStopping {
        let now = Monotonic.nanos()
        if let deadline, now >= deadline { break }
        // Pace: tick i goes out at began + i × interval; sleep only when ahead of schedule.
        let due = began + UInt64(Double(sent) * interval)
        if due > now + 200_000 { usleep(UInt32((due - now) / 1000)) }
        let tick = replay?[sent] ?? simulator.next()
        let id = "\(tick.instrument)-\(tick.time)"
        let envelope = Envelope(id: id, type: "market.tick", traceId: id, source: "data-generator", payload: tick)
        do {
            _ = try producer.send(envelope, to: .marketTicks, key: tick.instrument)
        } catch {
            failures += 1
            logger.error("tick not sent", ["error": "\(error)"])
            if failures > 100 { throw TMTError(.kafka, "giving up after \(failures) failed sends") }
            continue
        }
        sent += 1
        if Monotonic.nanos() - lastReport >= 1_000_000_000 {
            lastReport = Monotonic.nanos()
            let elapsed = Monotonic.secondsSince(began)
            FileHandle.standardError.write(Data(String(format: "… %d ticks sent, %.0f/s, market time %@\n", sent,
                                                       Double(sent) / elapsed, Logger.timestamp(Date(timeIntervalSince1970: Double(tick.time) / 1e6))).utf8))
        }
    }
    try producer.flush(timeout: 30)
    producer.close()
    logger.info("done", ["ticks": String(sent), "seconds": String(format: "%.1f", Monotonic.secondsSince(began))])
    exit(0)
} catch {
    logger.error("failed", ["error": "\(error)"])
    FileHandle.standardError.write(Data("tmt-data-generator: \(error)\n".utf8))
    exit(1)
}
