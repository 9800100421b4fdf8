import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import XCTest

/// The Wyckoff agent end to end: the data generator's scripted accumulation goes through the
/// real broker into `tmt-wyckoff-analysis`, which stores bars in the market database and
/// publishes a long signal from the spring.
final class WyckoffAgentTests: XCTestCase {
    func testScriptedAccumulationYieldsStoredBarsAndALongSignal() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        // Signal ids are deterministic, so earlier runs' identical signals may be in the topic;
        // this run's are the ones published after this instant.
        let testStarted = HopClock.nowMicros()
        let marketURL = try TestServices.marketDatabaseURL()
        let group = "wyckoff-test-\(UUID().uuidString.prefix(8))"
        let agent = try AgentProcess(executable: "tmt-wyckoff-analysis", port: AgentProcess.freePort(), environment: [
            "MARKET_DATABASE_URL": marketURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": group,
            // Only ticks produced from now on: earlier runs' ticks stay in the broker.
            "KAFKA_AUTO_OFFSET_RESET": "latest", "HEARTBEAT_INTERVAL_SECONDS": "1", "CONFIG_DIR": "/nonexistent",
        ])
        try agent.waitUntilReady()
        // Joined the group once lag is reported for market.ticks partitions.
        let joined = KafkaWait.until(timeout: 40) {
            ((try? agent.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"market.ticks\"")
        }
        XCTAssertTrue(joined, "the agent never joined its group:\n\(agent.log)")

        // Tuesday 07:00 UTC: London session, far from the weekend; 30-minute script, 60 s bars.
        let startMicros = ScriptedAccumulation.startMicros
        try ScriptedAccumulation.feed(agent, bootstrap: bootstrap)

        // The signal, read back from signals.generated.
        let found = Mutex<[Envelope<Signal>]>([])
        let reader = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "wyckoff-test"),
                                       groupId: "wyckoff-test-reader-\(UUID().uuidString)", topics: [Topic.signalsGenerated.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.startEnvelopes(Signal.self) { envelope, _ in
            let s = envelope.payload
            if s.instrument == "EUR_USD", envelope.createdAt >= testStarted, s.createdAt >= startMicros, s.createdAt < startMicros + 6_000_000_000 {
                found.withLock { $0.append(envelope) }
            }
        }
        defer { reader.stop(timeout: 10) }
        let gotLong = KafkaWait.until(timeout: 90) { found.withLock { $0.contains { $0.payload.side == .buy } } }
        XCTAssertTrue(gotLong, "no long EUR_USD signal; signals: \(found.withLock { $0.map(\.payload.id) })\nagent log:\n\(agent.log.suffix(3000))")
        if let long = found.withLock({ $0.first { $0.payload.side == .buy } }) {
            let s = long.payload
            XCTAssertTrue(["spring", "lps", "sos"].contains(s.pattern), s.pattern)
            XCTAssertLessThan(s.stopLoss, s.entry)
            XCTAssertGreaterThan(s.takeProfit, s.entry)
            XCTAssertFalse(s.evidence.isEmpty)
            XCTAssertEqual(long.source, "wyckoff-analysis")
            XCTAssertEqual(long.hops.last?.agent, "wyckoff-analysis")
            XCTAssertTrue(long.traceId.hasPrefix("EUR_USD-"), "the signal keeps the trace of the tick that closed its bar")
        }

        // Bars were stored, one per minute of market time.
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: marketURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let row = try XCTUnwrap(pool.queryOne("""
            SELECT count(*)::bigint AS n, min(low) AS lo, max(high) AS hi FROM bars
            WHERE instrument = 'EUR_USD' AND timeframe_seconds = 60 AND start_time >= $1 AND start_time < $2
            """, [Date(timeIntervalSince1970: Double(startMicros) / 1e6), Date(timeIntervalSince1970: Double(startMicros) / 1e6 + 6000)]))
        XCTAssertGreaterThan(try row.decode(Int.self, column: "n"), 60)
        XCTAssertLessThan(try row.decode(Decimal.self, column: "lo"), try row.decode(Decimal.self, column: "hi"))

        let metrics = try agent.metrics()
        XCTAssertTrue(metrics.contains("tmt_wyckoff_bars_total{instrument=\"EUR_USD\"}"), metrics)
        XCTAssertTrue(metrics.contains("tmt_signals_generated_total{instrument=\"EUR_USD\",side=\"buy\""), metrics)
        XCTAssertTrue(metrics.contains("tmt_agent_processing_duration_seconds_bucket{agent=\"wyckoff-analysis\""), metrics)
        let (status, output) = try Promtool.checkMetrics(metrics)
        XCTAssertEqual(status, 0, output)

        XCTAssertEqual(agent.terminate(), 0, "graceful shutdown failed:\n\(agent.log.suffix(2000))")
        XCTAssertTrue(agent.log.contains("shutdown complete"), agent.log.suffix(2000).description)

        // A restarted agent (or one that takes over EUR_USD after a rebalance) picks up the stored
        // bars that lead up to the market time of its first tick instead of starting from nothing.
        let restarted = try AgentProcess(executable: "tmt-wyckoff-analysis", port: AgentProcess.freePort(), environment: [
            "MARKET_DATABASE_URL": marketURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": group + "-restart",
            "KAFKA_AUTO_OFFSET_RESET": "latest", "HEARTBEAT_INTERVAL_SECONDS": "1", "CONFIG_DIR": "/nonexistent",
        ])
        try restarted.waitUntilReady()
        XCTAssertTrue(KafkaWait.until(timeout: 40) { ((try? restarted.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"market.ticks\"") })
        let later = startMicros + 4_500_000_000 // after the script's last bar
        let tickProducer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "wyckoff-test"),
                                             metrics: MetricsRegistry())
        defer { tickProducer.close() }
        let replayed = KafkaWait.until(timeout: 30) {
            let tick = Tick(instrument: "EUR_USD", bid: Decimal(string: "1.09000")!, ask: Decimal(string: "1.09008")!, volume: 1000, time: later)
            _ = try? tickProducer.send(Envelope(id: "EUR_USD-\(later)-\(UUID().uuidString)", type: "market.tick", traceId: "t",
                                                source: "test", payload: tick), to: .marketTicks, key: "EUR_USD").wait(timeout: 5)
            usleep(300_000)
            return restarted.log.contains("bar history replayed")
        }
        XCTAssertTrue(replayed, "no history replayed after a restart:\n\(restarted.log.suffix(2000))")
        XCTAssertNotNil(restarted.log.range(of: #"instrument=EUR_USD bars=[0-9]{2,}"#, options: .regularExpression),
                        "expected the script's ~70 bars: \(restarted.log.suffix(1000))")
        XCTAssertEqual(restarted.terminate(), 0)
    }
}

/// `tmt-wyckoff-analysis` across restarts: the bar each instrument had open is saved at a
/// graceful stop and resumed by the next process; after a crash, redelivered ticks of a stored
/// bar do not rebuild it.
final class WyckoffOpenBarTests: XCTestCase {
    /// One instrument's ticks in a minute of 2099 no other run uses (a Monday 08:00 plus a
    /// random number of minutes), sent to agents of one consumer group.
    private final class Rig {
        let bootstrap: String
        let marketURL: String
        let pool: PostgresPool
        let producer: KafkaProducer
        let instrument: String
        let group = "wyckoff-open-\(UUID().uuidString.prefix(8))"
        let m0 = Int64(4_076_726_400) * 1_000_000 + Int64.random(in: 0..<500_000) * 60_000_000
        private var sent = 0

        init(instrument: String) throws {
            self.instrument = instrument
            bootstrap = try TestServices.kafkaBootstrap()
            marketURL = try TestServices.marketDatabaseURL()
            pool = try PostgresPool(configuration: PostgresConfiguration(url: marketURL), metrics: MetricsRegistry())
            producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "wyckoff-open-test"),
                                         metrics: MetricsRegistry())
            // Another run's saved bar would be resumed (and closed) by this run's first tick.
            _ = try pool.execute("DELETE FROM open_bars WHERE instrument = $1", [instrument])
        }

        deinit {
            producer.close()
            pool.shutdown()
        }

        func start() throws -> AgentProcess {
            let agent = try AgentProcess(executable: "tmt-wyckoff-analysis", port: AgentProcess.freePort(), environment: [
                "MARKET_DATABASE_URL": marketURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": group,
                "KAFKA_AUTO_OFFSET_RESET": "latest", "HEARTBEAT_INTERVAL_SECONDS": "1", "CONFIG_DIR": "/nonexistent",
            ])
            try agent.waitUntilReady()
            XCTAssertTrue(KafkaWait.until(timeout: 40) { ((try? agent.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"market.ticks\"") },
                          "the agent never joined its group:\n\(agent.log)")
            return agent
        }

        /// A tick `seconds` after m0, the ask 0.0001 above `bid`.
        func tick(_ seconds: Double, bid: String) throws {
            sent += 1
            let at = m0 + Int64(seconds * 1_000_000)
            let b = Decimal(string: bid)!
            let t = Tick(instrument: instrument, bid: b, ask: b + Decimal(string: "0.00010")!, volume: 1000, time: at)
            _ = try producer.send(Envelope(id: "\(instrument)-\(at)-\(sent)", type: "market.tick", traceId: "open-\(sent)", source: "test",
                                           payload: t), to: .marketTicks, key: instrument).wait(timeout: 10)
        }

        func ticksHandled(_ agent: AgentProcess) -> Double {
            metricValue(in: (try? agent.metrics()) ?? "", "tmt_agent_processing_duration_seconds_count{agent=\"wyckoff-analysis\",type=\"tick\"}")
        }

        /// The stored bar of the minute `minutes` after m0 (in `open_bars`: this group's).
        func bar(_ minutes: Int64 = 0, table: String = "bars") -> PostgresRow? {
            (try? pool.queryOne("""
                SELECT open, high, low, close, volume, tick_count FROM \(table)
                WHERE instrument = $1 AND timeframe_seconds = 60 AND start_time = $2
                """ + (table == "open_bars" ? " AND consumer_group = $3" : ""),
                [instrument, Date(timeIntervalSince1970: Double(m0 + minutes * 60_000_000) / 1e6)] + (table == "open_bars" ? [group] : []))) ?? nil
        }
    }

    /// Three ticks of a minute, a restart, then one more tick of that minute and the next
    /// minute's first: the stored bar holds all four ticks (it used to hold only the one after
    /// the restart, with that tick's price as its open).
    func testTheBarOpenAtAStopIsResumedByTheNextProcess() throws {
        let rig = try Rig(instrument: "AUD_USD")
        let first = try rig.start()
        try rig.tick(1, bid: "0.65000")    // mid 0.65005: the open
        try rig.tick(10, bid: "0.65100")   // mid 0.65105: the high
        try rig.tick(20, bid: "0.64900")   // mid 0.64905: the low
        XCTAssertTrue(KafkaWait.until(timeout: 30) { rig.ticksHandled(first) >= 3 }, first.log.suffix(3000).description)
        XCTAssertEqual(first.terminate(), 0, first.log.suffix(2000).description)
        // Saved as the consumer gave its partitions up, before it left the group (a member taking
        // them over would otherwise look before the save).
        XCTAssertTrue(first.log.contains(#"why="partitions revoked""#), first.log.suffix(2000).description)
        XCTAssertEqual(try rig.bar(table: "open_bars")?.decode(Int.self, column: "tick_count"), 3)

        let second = try rig.start()
        try rig.tick(30, bid: "0.64950")   // mid 0.64955: the close
        try rig.tick(61, bid: "0.65000")
        XCTAssertTrue(KafkaWait.until(timeout: 30) { rig.bar() != nil }, "the minute was never stored:\n\(second.log.suffix(3000))")
        let bar = try XCTUnwrap(rig.bar())
        XCTAssertEqual(try bar.decode(Int.self, column: "tick_count"), 4, "the ticks before the restart belong to the bar")
        XCTAssertEqual(try bar.decode(Decimal.self, column: "open"), Decimal(string: "0.65005"))
        XCTAssertEqual(try bar.decode(Decimal.self, column: "high"), Decimal(string: "0.65105"))
        XCTAssertEqual(try bar.decode(Decimal.self, column: "low"), Decimal(string: "0.64905"))
        XCTAssertEqual(try bar.decode(Decimal.self, column: "close"), Decimal(string: "0.64955"))
        XCTAssertEqual(try bar.decode(Decimal.self, column: "volume"), 4000)
        XCTAssertTrue(second.log.contains("open bar resumed"), second.log.suffix(2000).description)
        XCTAssertNil(rig.bar(table: "open_bars"), "a resumed bar is taken, not left for another")
        XCTAssertEqual(second.terminate(), 0, second.log.suffix(2000).description)
    }

    /// A crash leaves the ticks since the last offset commit to be redelivered: a tick of a bar
    /// stored before the crash must not start that bar again (the next minute's tick would then
    /// store a bar of that one tick over the whole one).
    func testAfterACrashTicksOfAStoredBarDoNotRebuildIt() throws {
        let rig = try Rig(instrument: "GBP_USD")
        let first = try rig.start()
        for (s, bid) in [(1.0, "1.27000"), (10, "1.27100"), (20, "1.26900"), (61, "1.27000")] { try rig.tick(s, bid: bid) }
        XCTAssertTrue(KafkaWait.until(timeout: 30) { rig.bar() != nil }, "the minute was never stored:\n\(first.log.suffix(3000))")
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        let second = try rig.start()
        try rig.tick(30, bid: "1.28000")   // as redelivered: a tick of the stored minute
        try rig.tick(121, bid: "1.27000")  // opens minute 2 …
        try rig.tick(181, bid: "1.27000")  // … and this closes it
        XCTAssertTrue(KafkaWait.until(timeout: 30) { rig.bar(2) != nil }, "minute 2 was never stored:\n\(second.log.suffix(3000))")
        let bar = try XCTUnwrap(rig.bar())
        XCTAssertEqual(try bar.decode(Int.self, column: "tick_count"), 3, "the stored bar was rebuilt from the late tick")
        XCTAssertEqual(try bar.decode(Decimal.self, column: "high"), Decimal(string: "1.27105"))
        XCTAssertEqual(second.terminate(), 0, second.log.suffix(2000).description)
    }
}

/// `tmt-wyckoff-analysis` when a closed bar cannot be stored (the market database refuses it),
/// and when a tick is unusable.
final class WyckoffBarFailureTests: XCTestCase {
    /// The tick that closes a bar is folded into the next bar once, however often its handling is
    /// retried, and the bar it closed is stored once the database takes it again (by the next
    /// tick, after the failing one was dead-lettered). Unusable ticks go to the DLQ named.
    func testAClosedBarThatCannotBeStoredIsStoredLaterAndItsTickCountedOnce() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let marketURL = try TestServices.marketDatabaseURL()
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: marketURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        // Bars are refused while their start is listed.
        let refusing = try RefusingTrigger(pool: pool, table: "bars", column: "start_time", type: "timestamptz")
        defer { refusing.remove() }

        let group = "wyckoff-fail-\(UUID().uuidString.prefix(8))"
        let agent = try AgentProcess(executable: "tmt-wyckoff-analysis", port: AgentProcess.freePort(), environment: [
            "MARKET_DATABASE_URL": marketURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CONSUMER_GROUP": group,
            "KAFKA_AUTO_OFFSET_RESET": "latest", "HEARTBEAT_INTERVAL_SECONDS": "1", "CONFIG_DIR": "/nonexistent",
        ])
        try agent.waitUntilReady()
        XCTAssertTrue(KafkaWait.until(timeout: 40) { ((try? agent.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"market.ticks\"") },
                      "the agent never joined its group:\n\(agent.log)")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "wyckoff-fail-test"),
                                         metrics: MetricsRegistry())
        defer { producer.close() }
        // A minute of 2097 no other run uses (bars of 60 s; one Tuesday plus a random minute).
        let minute: Int64 = 60_000_000
        let m0 = Int64(4_013_568_000) * 1_000_000 + Int64.random(in: 0..<500_000) * minute
        var sent = 0
        func tick(_ at: Int64, bid: String = "1.10000", ask: String = "1.10008", _ instrument: String = "EUR_USD") throws {
            sent += 1
            let t = Tick(instrument: instrument, bid: Decimal(string: bid)!, ask: Decimal(string: ask)!, volume: 1000, time: at)
            _ = try producer.send(Envelope(id: "\(instrument)-\(at)-\(sent)", type: "market.tick", traceId: "fail-\(sent)", source: "test",
                                           payload: t), to: .marketTicks, key: instrument).wait(timeout: 10)
        }
        func tickCount(_ start: Int64) -> Int? {
            (try? pool.queryOne("""
                SELECT tick_count FROM bars WHERE instrument = 'EUR_USD' AND timeframe_seconds = 60 AND start_time = $1
                """, [Date(timeIntervalSince1970: Double(start) / 1e6)])).flatMap { $0 }.flatMap { try? $0.decode(Int.self, column: "tick_count") }
        }
        func metric(_ sample: String) -> Double { metricValue(in: (try? agent.metrics()) ?? "", sample) }
        try refusing.refuse(Date(timeIntervalSince1970: Double(m0) / 1e6))

        // Bar m0: five ticks. The first tick of m1 closes it; the database refuses it on every
        // attempt, so that tick is dead-lettered.
        for i in 0..<5 { try tick(m0 + Int64(i) * 1_000_000) }
        try tick(m0 + minute)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { agent.log.contains("Kafka handler failed on every attempt; dead-lettering") },
                      "the refused bar did not fail the tick:\n\(agent.log.suffix(3000))")
        XCTAssertNil(tickCount(m0))
        // A tick that closes no bar tries the kept bar again but does not fail over it: no second
        // dead letter while the database still refuses.
        try tick(m0 + minute + 500_000)
        XCTAssertTrue(KafkaWait.until(timeout: 20) { agent.log.contains("closed bars still not stored or published; will retry") },
                      agent.log.suffix(3000).description)
        XCTAssertEqual(agent.log.components(separatedBy: "Kafka handler failed on every attempt; dead-lettering").count - 1, 1)
        try refusing.accept(Date(timeIntervalSince1970: Double(m0) / 1e6))

        // Two more ticks in m1, then m2 closes m1 (and m0 is stored by then at the latest).
        try tick(m0 + minute + 1_000_000)
        try tick(m0 + minute + 2_000_000)
        try tick(m0 + 2 * minute)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { tickCount(m0 + minute) != nil }, "m1 was not stored:\n\(agent.log.suffix(3000))")
        XCTAssertEqual(tickCount(m0), 5, "the refused bar, stored once the database took it")
        XCTAssertEqual(tickCount(m0 + minute), 4, "the closing tick counted once in the next bar, not once per attempt")

        // Malformed ticks: dead-lettered with the reason. A crossed quote (ask below bid): counted
        // and left out of the bars.
        try tick(m0 + 2 * minute + 1_000_000, bid: "0", ask: "1.10008")
        try tick(-5)
        try tick(m0 + 2 * minute + 2_000_000, bid: "1.10010", ask: "1.10000")
        XCTAssertTrue(KafkaWait.until(timeout: 20) {
            metric("tmt_kafka_dlq_total{topic=\"market.ticks\",reason=\"invalid_tick\"}") == 2
                && metric("tmt_wyckoff_crossed_ticks_total{instrument=\"EUR_USD\"}") == 1
        }, (try? agent.metrics()) ?? "")
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}

enum KafkaWait {
    static func until(timeout: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }
}
