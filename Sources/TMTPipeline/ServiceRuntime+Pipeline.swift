import TMTCore

/// What every pipeline agent opens the same way: its databases (schema migrated, a readiness
/// check, closed at shutdown) and its Kafka producer (a readiness check, flushed at shutdown).
/// Shutdown steps run in reverse order of registration, so open databases first, then Kafka,
/// then register the consumers: they stop first and the pools close last.
extension ServiceRuntime {
    /// The trading database from `DATABASE_URL`, with `TradingSchema` applied.
    public func openTradingDatabase(_ env: Environment = Environment()) throws -> PostgresPool {
        try openDatabase(env, key: "DATABASE_URL", name: "trading") { try TradingSchema.migrate(pool: $0, logger: logger) }
    }

    /// The market database from `MARKET_DATABASE_URL`, with `MarketSchema` applied.
    public func openMarketDatabase(_ env: Environment = Environment()) throws -> PostgresPool {
        try openDatabase(env, key: "MARKET_DATABASE_URL", name: "market") { try MarketSchema.migrate(pool: $0, logger: logger) }
    }

    private func openDatabase(_ env: Environment, key: String, name: String,
                              migrate: (PostgresPool) throws -> PostgresMigrationReport) throws -> PostgresPool {
        let pool = try PostgresPool(configuration: PostgresConfiguration(environment: env, key: key), name: name,
                                    metrics: metrics, logger: logger)
        lifecycle.onShutdown("\(name) database") { pool.shutdown() }
        let report = try migrate(pool)
        logger.info("\(name) schema ready", ["applied": String(report.applied.count)])
        health.add("\(name)-db") { try pool.withConnection { try $0.ping() } }
        return pool
    }

    /// The Kafka configuration from the environment and a producer (idempotent, acks=all).
    public func openKafka(_ env: Environment = Environment()) throws -> (KafkaConfiguration, KafkaProducer) {
        let kafka = try KafkaConfiguration.fromEnvironment(env, clientId: options.service)
        let probe = TCPProbe.Tolerant(kafka.bootstrapServers)
        health.add("kafka") { try probe.check() }
        if kafka.hasSeparateMarketData, let market = kafka.marketBootstrapServers {
            let marketProbe = TCPProbe.Tolerant(market)
            health.add("kafka-market") { try marketProbe.check() }
            logger.info("market.ticks on its own Kafka cluster", ["bootstrap": market])
        }
        let producer = try KafkaProducer(configuration: kafka, metrics: metrics, logger: logger)
        // Every pipeline topic's partitions and leaders now, so the first order after a start
        // does not wait up to a second per hop for librdkafka's topic scan.
        // (Not market.ticks: no service writes ticks, and asking a broker that auto-creates topics
        // about it would create one on this cluster when the ticks live on their own.)
        producer.prepare(topics: Topic.allCases.filter { $0 != .marketTicks }.map(\.name))
        lifecycle.onShutdown("kafka producer") { producer.close(timeout: 10) }
        return (kafka, producer)
    }
}
