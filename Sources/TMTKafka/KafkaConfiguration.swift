import TMTBase

/// Settings shared by `KafkaProducer` and `KafkaConsumer`, validated against librdkafka itself.
///
/// The latency settings default to values that suit a single-host staging pipeline and the dev
/// broker (librdkafka's mock cluster): short lingering, and a short `fetch.wait.max.ms` because
/// the mock answers an empty fetch only after the full wait. Real Kafka long-polls well, so a
/// deployment against Apache Kafka may raise `fetchWaitMaxMs` (e.g. to 100–500 ms) to cut idle
/// fetch traffic without hurting latency.
///
/// The settings the delivery guarantees depend on are not configurable: producers always run
/// with `enable.idempotence=true` and `acks=all`; consumers always run with
/// `enable.auto.commit=false` and `enable.auto.offset.store=false`.
public struct KafkaConfiguration: Sendable, Equatable {
    /// `bootstrap.servers`: comma-separated `host:port` list. Required.
    public var bootstrapServers: String
    /// `client.id`, shown in broker logs and quotas. Default `tmt`.
    public var clientId: String

    /// `linger.ms` (librdkafka alias: `queue.buffering.max.ms`, which is the same setting, so
    /// there is no separate field for it): how long the producer waits to fill a batch before
    /// sending, in milliseconds. Default 0: the order path's messages are sparse and each hop
    /// waited up to a millisecond for company that never came (signal → decision p50 25.5 →
    /// 19.6 ms over five hops when this went from 1 to 0); a burst still batches, because
    /// librdkafka gathers what is queued while earlier requests are in flight.
    public var lingerMs: Int
    /// `batch.num.messages`: most records in one batch. Default 10 000.
    public var batchNumMessages: Int
    /// `batch.size`: most bytes in one batch. Default 1 000 000.
    public var batchSizeBytes: Int
    /// `queue.buffering.max.messages`: most records waiting in the producer's local queue before
    /// `send` has to wait (see `enqueueTimeout`). Default 100 000.
    public var queueBufferingMaxMessages: Int
    /// `queue.buffering.max.kbytes`: most KiB waiting in the producer's local queue. Default 1 048 576.
    public var queueBufferingMaxKBytes: Int
    /// `message.timeout.ms`: how long librdkafka keeps trying to deliver a record before
    /// reporting it failed, in milliseconds. Default 30 000 (librdkafka's own is 300 000; a
    /// trading pipeline wants to hear about an unreachable broker sooner).
    public var messageTimeoutMs: Int
    /// How long `KafkaProducer.send` waits for room when the local queue is full before throwing,
    /// in seconds. Default 5.
    public var enqueueTimeout: Double

    /// `fetch.wait.max.ms`: how long the broker may hold a fetch open waiting for data, in
    /// milliseconds. Default 1 (the mock broker always waits the full time, so every hop of the
    /// order path waits up to this long; see the type's notes and `controlFetchWaitMaxMs`).
    public var fetchWaitMaxMs: Int
    /// `fetch.wait.max.ms` of the consumers that follow a busy topic off the order path
    /// (`forDataPlane()`: quotes from every tick, account and position state, fills, the
    /// dashboard's stream). The mock broker answers each fetch after the full wait with a bounded
    /// amount of data, so a long wait would cap how fast they can read. Default 5.
    public var dataFetchWaitMaxMs: Int
    /// `fetch.wait.max.ms` of the consumers of rare messages (`forControlPlane()`: breaker and
    /// staging commands, heartbeats): they can wait this long,
    /// and every idle fetch is work for the broker. Default 100.
    public var controlFetchWaitMaxMs: Int
    /// `session.timeout.ms`: a consumer that sends no heartbeat for this long is removed from its
    /// group, in milliseconds. Default 6000 (the smallest real Kafka accepts by default).
    public var sessionTimeoutMs: Int
    /// `heartbeat.interval.ms`: consumer heartbeat period, in milliseconds. Default 500.
    public var heartbeatIntervalMs: Int
    /// `auto.offset.reset`: where a group with no committed offset starts: `earliest` or
    /// `latest`. Default `earliest`, so nothing produced before the first start is skipped.
    public var autoOffsetReset: String

    /// Extra librdkafka properties for producers and consumers alike (applied after the fields
    /// above, so they can override them). librdkafka logs a warning for a consumer-only property
    /// given to a producer and vice versa; use the role-specific maps for those.
    public var properties: [String: String]
    /// Extra librdkafka properties for producers only.
    public var producerProperties: [String: String]
    /// Extra librdkafka properties for consumers only.
    public var consumerProperties: [String: String]

    /// Where `market.ticks` lives when it is not on `bootstrapServers`: a separate cluster for
    /// market data (`KAFKA_MARKET_BOOTSTRAP_SERVERS` / `KAFKA_MARKET_BOOTSTRAP_FILE`). Nil (the
    /// default, and the Docker deployment's setting): the same cluster as everything else. The
    /// native stack sets it to the dev broker's second mock cluster: the mock serves a cluster
    /// from one thread and walks a partition's retained batches on every fetch that returns data,
    /// so at 1,000 ticks/s the ticks' fetches held up every order-path hop (11–15 ms each at the
    /// median, 2–6 ms at 250 ticks/s). Trading firms commonly keep market data on its own bus.
    public var marketBootstrapServers: String?

    /// `linger.ms` of the producers of `market.ticks` (`forMarketData()`,
    /// `KAFKA_MARKET_LINGER_MS`): how long ticks may wait to be sent together. Default 20. On
    /// the dev broker every message set costs each consumer group a fetch and a walk over the
    /// partition's retained sets; one tick per set took 81 % of a core at 1,000 ticks/s, 20 ms
    /// batches 22 %, and signal → decision p95 fell from 52.8 to 32.6 ms (BENCHMARKS.md).
    public var marketLingerMs: Int

    /// This configuration for the producers and consumers of `market.ticks`: the market-data
    /// cluster's bootstrap servers when one is set, and `marketLingerMs` as `linger.ms`.
    public func forMarketData() -> KafkaConfiguration {
        var c = self
        if let market = marketBootstrapServers { c.bootstrapServers = market }
        c.lingerMs = marketLingerMs
        return c
    }

    /// Whether `market.ticks` is on a cluster of its own.
    public var hasSeparateMarketData: Bool { marketBootstrapServers.map { $0 != bootstrapServers } ?? false }

    /// This configuration for a consumer of a busy topic off the order path: `fetch.wait.max.ms`
    /// is `dataFetchWaitMaxMs`.
    public func forDataPlane() -> KafkaConfiguration {
        var c = self
        c.fetchWaitMaxMs = dataFetchWaitMaxMs
        return c
    }

    /// This configuration for a consumer of rare messages: `fetch.wait.max.ms` is
    /// `controlFetchWaitMaxMs`.
    public func forControlPlane() -> KafkaConfiguration {
        var c = self
        c.fetchWaitMaxMs = controlFetchWaitMaxMs
        return c
    }

    /// A configuration with every setting at its default.
    public init(bootstrapServers: String, clientId: String = "tmt") {
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
        lingerMs = 0
        marketLingerMs = 20
        batchNumMessages = 10_000
        batchSizeBytes = 1_000_000
        queueBufferingMaxMessages = 100_000
        queueBufferingMaxKBytes = 1_048_576
        messageTimeoutMs = 30_000
        enqueueTimeout = 5
        fetchWaitMaxMs = 1
        dataFetchWaitMaxMs = 5
        controlFetchWaitMaxMs = 100
        sessionTimeoutMs = 6000
        heartbeatIntervalMs = 500
        autoOffsetReset = "earliest"
        properties = [:]
        producerProperties = [:]
        consumerProperties = [:]
    }

    /// Reads the configuration from the environment:
    ///
    /// - `KAFKA_BOOTSTRAP_SERVERS` (`host:port,...`), or `KAFKA_BOOTSTRAP_FILE`: a file holding
    ///   that list, as the dev broker writes it. One of the two is required; the first wins.
    /// - `KAFKA_CLIENT_ID` (default: `clientId`), `KAFKA_LINGER_MS`, `KAFKA_MARKET_LINGER_MS`, `KAFKA_BATCH_NUM_MESSAGES`,
    ///   `KAFKA_MESSAGE_TIMEOUT_MS`, `KAFKA_FETCH_WAIT_MAX_MS`, `KAFKA_DATA_FETCH_WAIT_MAX_MS`, `KAFKA_CONTROL_FETCH_WAIT_MAX_MS`, `KAFKA_SESSION_TIMEOUT_MS`,
    ///   `KAFKA_HEARTBEAT_INTERVAL_MS`, `KAFKA_AUTO_OFFSET_RESET`: the fields of the same name.
    ///
    /// - `KAFKA_MARKET_BOOTSTRAP_SERVERS` or `KAFKA_MARKET_BOOTSTRAP_FILE` (optional): the cluster
    ///   `market.ticks` lives on (`marketBootstrapServers`).
    ///
    /// The result is validated; any bad value throws an error naming the variable or setting.
    public static func fromEnvironment(_ env: Environment = Environment(), clientId: String) throws -> KafkaConfiguration {
        guard let bootstrap = try Self.bootstrap(env, "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_FILE") else {
            throw TMTError(.configuration, "environment variable KAFKA_BOOTSTRAP_SERVERS (or KAFKA_BOOTSTRAP_FILE) is required but not set")
        }
        var c = KafkaConfiguration(bootstrapServers: bootstrap, clientId: env.string("KAFKA_CLIENT_ID", default: clientId))
        c.marketBootstrapServers = try Self.bootstrap(env, "KAFKA_MARKET_BOOTSTRAP_SERVERS", "KAFKA_MARKET_BOOTSTRAP_FILE")
        c.lingerMs = try env.int("KAFKA_LINGER_MS", default: c.lingerMs, range: 0...900_000)
        c.marketLingerMs = try env.int("KAFKA_MARKET_LINGER_MS", default: c.marketLingerMs, range: 0...900_000)
        c.batchNumMessages = try env.int("KAFKA_BATCH_NUM_MESSAGES", default: c.batchNumMessages, range: 1...1_000_000)
        c.messageTimeoutMs = try env.int("KAFKA_MESSAGE_TIMEOUT_MS", default: c.messageTimeoutMs, range: 0...2_147_483_647)
        c.fetchWaitMaxMs = try env.int("KAFKA_FETCH_WAIT_MAX_MS", default: c.fetchWaitMaxMs, range: 0...300_000)
        c.dataFetchWaitMaxMs = try env.int("KAFKA_DATA_FETCH_WAIT_MAX_MS", default: c.dataFetchWaitMaxMs, range: 0...300_000)
        c.controlFetchWaitMaxMs = try env.int("KAFKA_CONTROL_FETCH_WAIT_MAX_MS", default: c.controlFetchWaitMaxMs, range: 0...300_000)
        c.sessionTimeoutMs = try env.int("KAFKA_SESSION_TIMEOUT_MS", default: c.sessionTimeoutMs, range: 1...3_600_000)
        c.heartbeatIntervalMs = try env.int("KAFKA_HEARTBEAT_INTERVAL_MS", default: c.heartbeatIntervalMs, range: 1...3_600_000)
        c.autoOffsetReset = env.string("KAFKA_AUTO_OFFSET_RESET", default: c.autoOffsetReset)
        try c.validate()
        return c
    }

    /// A bootstrap list from `serversKey`, or from the file `fileKey` names (the first wins); nil
    /// when neither is set. A file that cannot be read or is empty is an error naming the key.
    private static func bootstrap(_ env: Environment, _ serversKey: String, _ fileKey: String) throws -> String? {
        if let servers = env.string(serversKey) {
            let list = servers.trimmingWhitespace()
            if list.isEmpty { throw TMTError(.configuration, "environment variable \(serversKey) is empty") }
            return list
        }
        guard let file = env.string(fileKey) else { return nil }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw TMTError(.configuration, "environment variable \(fileKey): cannot read \(file)")
        }
        let list = text.trimmingWhitespace()
        if list.isEmpty { throw TMTError(.configuration, "environment variable \(fileKey): \(file) is empty") }
        return list
    }

    /// Checks every setting, including the raw property maps, with librdkafka's own parser
    /// (no broker needed). Throws `TMTError(.configuration)` naming the first bad key.
    public func validate() throws {
        if bootstrapServers.trimmingWhitespace().isEmpty {
            throw TMTError(.configuration, "Kafka setting 'bootstrap.servers' is empty")
        }
        if let market = marketBootstrapServers, market.trimmingWhitespace().isEmpty {
            throw TMTError(.configuration, "Kafka setting 'marketBootstrapServers' (KAFKA_MARKET_BOOTSTRAP_SERVERS) is empty")
        }
        guard enqueueTimeout.isFinite, enqueueTimeout >= 0 else {
            throw TMTError(.configuration, "Kafka setting 'enqueueTimeout' must be a number of seconds ≥ 0, got \(enqueueTimeout)")
        }
        guard ["earliest", "latest"].contains(autoOffsetReset) else {
            throw TMTError(.configuration, "Kafka setting 'auto.offset.reset' must be 'earliest' or 'latest', got '\(autoOffsetReset)'")
        }
        try RDKafkaConfig.validate(producerSettings())
        try RDKafkaConfig.validate(consumerSettings(groupId: "validation"))
    }

    private var commonSettings: [(String, String)] {
        // TCP_NODELAY, as Kafka brokers set on their side: with Nagle's algorithm on (librdkafka's
        // default) an idempotent producer's third ProduceRequest in a row (one per partition)
        // waited for the ACK of the first, which the peer delays by ~40 ms — ARIA's three
        // orders of one signal took 48 ms to be acknowledged instead of 2–5.
        [("bootstrap.servers", bootstrapServers), ("client.id", clientId), ("socket.nagle.disable", "true")]
    }

    /// Everything a producer is created with, in the order it is applied.
    func producerSettings() -> [(String, String)] {
        var s = commonSettings
        s += [
            ("linger.ms", String(lingerMs)),
            ("batch.num.messages", String(batchNumMessages)),
            ("batch.size", String(batchSizeBytes)),
            ("queue.buffering.max.messages", String(queueBufferingMaxMessages)),
            ("queue.buffering.max.kbytes", String(queueBufferingMaxKBytes)),
            ("message.timeout.ms", String(messageTimeoutMs)),
            // Java's partitioner, so a key lands in the same partition whichever client wrote it.
            ("partitioner", "murmur2_random"),
        ]
        s += Self.sorted(properties)
        s += Self.sorted(producerProperties)
        // Applied last: at-least-once without duplicates from producer retries depends on these.
        s += [("enable.idempotence", "true"), ("acks", "all")]
        return s
    }

    /// Everything a consumer in `groupId` is created with, in the order it is applied.
    func consumerSettings(groupId: String) -> [(String, String)] {
        var s = commonSettings
        s += [
            ("group.id", groupId),
            ("fetch.wait.max.ms", String(fetchWaitMaxMs)),
            ("session.timeout.ms", String(sessionTimeoutMs)),
            ("heartbeat.interval.ms", String(heartbeatIntervalMs)),
            ("auto.offset.reset", autoOffsetReset),
            ("enable.partition.eof", "false"),
            // The prefetch queue per consumer (librdkafka's default 64 MiB): a consumer that fell
            // behind during a tick burst held it full, and the nine services' proportional memory
            // rose from ~100 to ~290 MB. 8 MiB is still thousands of messages per partition.
            // (`properties`/`consumerProperties` can override it.)
            ("queued.max.messages.kbytes", "8192"),
        ]
        s += Self.sorted(properties)
        s += Self.sorted(consumerProperties)
        // Applied last: offsets are committed only for messages whose handler succeeded.
        s += [("enable.auto.commit", "false"), ("enable.auto.offset.store", "false")]
        return s
    }

    private static func sorted(_ map: [String: String]) -> [(String, String)] {
        map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
