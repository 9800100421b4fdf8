import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading
import XCTest

/// `tmt-data-generator` as a user runs it: a separate process publishing to the dev broker.
final class DataGeneratorTests: XCTestCase {
    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = TestServices.executable("tmt-data-generator")
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KAFKA_MARKET_") }
        // A stack's databases and quote board only where a test gives them.
        for key in ["DATABASE_URL", "MARKET_DATABASE_URL", "REDIS_URL", "MARKET_QUOTES_KEY"] { env[key] = nil }
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Reads `market.ticks` from the start with a fresh group until every wanted id has arrived.
    private func collectTicks(ids wanted: Set<String>, timeout: Double = 60) throws -> [String: (Envelope<Tick>, KafkaMessage)] {
        try collectTicks(count: wanted.count, timeout: timeout) { wanted.contains($0.id) }
    }

    /// Reads `market.ticks` from the start with a fresh group until `count` ticks that `include`
    /// accepts have arrived (or the timeout), by id.
    private func collectTicks(count: Int, timeout: Double = 60,
                              where include: @escaping @Sendable (Envelope<Tick>) -> Bool) throws -> [String: (Envelope<Tick>, KafkaMessage)] {
        let config = KafkaConfiguration(bootstrapServers: try TestServices.kafkaBootstrap(), clientId: "generator-test")
        let found = Mutex<[String: (Envelope<Tick>, KafkaMessage)]>([:])
        let consumer = try KafkaConsumer(configuration: config, groupId: "generator-test-\(UUID().uuidString)",
                                         topics: [Topic.marketTicks.name], metrics: MetricsRegistry(),
                                         logger: Logger(service: "generator-test", level: .warning))
        try consumer.startEnvelopes(Tick.self) { envelope, message in
            if include(envelope) { found.withLock { $0[envelope.id] = (envelope, message) } }
        }
        defer { consumer.stop(timeout: 10) }
        let end = Date().addingTimeInterval(timeout)
        while Date() < end, found.withLock({ $0.count }) < count { usleep(50_000) }
        return found.withLock { $0 }
    }

    /// The process publishes exactly the ticks the seeded simulator computes, keyed by instrument.
    func testPublishesTheSeededSimulationDeterministically() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        // A start instant unique to this run, so its tick ids cannot collide with earlier runs.
        let startSeconds = Int64(Date().timeIntervalSince1970) - 86_400 * 3
        let startISO = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(startSeconds)))
        let databaseURL = try TestServices.postgresURL()
        let result = try run(["--seed", "7", "--count", "300", "--rate", "3000", "--instruments", "EUR_USD,USD_JPY",
                              "--scenario", "accumulation:EUR_USD", "--start", startISO, "--bootstrap", bootstrap],
                             environment: ["DATABASE_URL": databaseURL])
        XCTAssertEqual(result.status, 0, result.stderr)

        // Its news calendar is in the trading database for the compliance engine.
        let calendar = NewsCalendar.generate(seed: 7, startMicros: startSeconds * 1_000_000, days: 14)
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let stored = try NewsStore(pool: pool).calendar(fromMicros: startSeconds * 1_000_000, toMicros: startSeconds * 1_000_000 + 15 * 86_400_000_000)
        XCTAssertFalse(calendar.events.isEmpty)
        XCTAssertTrue(Set(calendar.events.map(\.id)).isSubset(of: Set(stored.events.map(\.id))), "calendar not stored")

        var sim = MarketSimulator(.init(seed: 7, startMicros: startSeconds * 1_000_000,
                                        profiles: InstrumentProfile.defaults.filter { ["EUR_USD", "USD_JPY"].contains($0.instrument.symbol) },
                                        scenarios: [.accumulation(symbol: "EUR_USD", minutes: 30)]))
        let expected = (0..<300).map { _ in sim.next() }
        let ids = Set(expected.map { "\($0.instrument)-\($0.time)" })
        XCTAssertEqual(ids.count, 300)
        let got = try collectTicks(ids: ids)
        XCTAssertEqual(got.count, 300, "missing \(ids.subtracting(got.keys).prefix(5))")
        for tick in expected {
            guard let (envelope, message) = got["\(tick.instrument)-\(tick.time)"] else { continue }
            XCTAssertEqual(envelope.payload, tick)
            XCTAssertEqual(envelope.source, "data-generator")
            XCTAssertEqual(envelope.traceId, envelope.id)
            XCTAssertEqual(message.keyString, tick.instrument)
        }
    }

    /// Without `--start` the generator continues the stack's market: each instrument from its
    /// newest quote on the execution engine's board, the clock from just after the newest tick.
    /// (It used to start at the profile's price and now: a restart, or a start after a tool's
    /// run, gapped the price — USD_JPY 150.287 → 147.9885, and the breaker tripped it — and sent
    /// ticks days older than the stack's clock, which never became its quotes.)
    func testContinuesTheStacksMarketFromTheQuoteBoard() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let key = try redisKeyPrefix() + "quotes"
        let redis = try makeRedisClient()
        // Far from EUR_USD's own 1.0850, at a market time days ahead of now that no other test uses:
        // a Wednesday at 12:00 UTC, mid-week (a day at random could be a weekend, and the
        // simulator resumes at the next open with its weekend gap, as a market does).
        let day = Int64(Date().timeIntervalSince1970) / 86_400 + Int64.random(in: 400...4000)
        let wednesday = day - (day + 3) % 7 + 2   // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays
        let boardTime = (wednesday * 86_400 + 12 * 3_600) * 1_000_000
        let quote = Tick(instrument: "EUR_USD", bid: Decimal(string: "1.2000")!, ask: Decimal(string: "1.2002")!, volume: 1, time: boardTime)
        _ = try redis.execute(.hset(key, ["EUR_USD": Array(try JSONEncoder().encode(quote))])).check()
        let board = ["REDIS_URL": try TestServices.redisURL(), "MARKET_QUOTES_KEY": key]

        let result = try run(["--seed", "7", "--count", "40", "--rate", "2000", "--instruments", "EUR_USD", "--bootstrap", bootstrap],
                             environment: board)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("continuing the stack's market") && result.stderr.contains("EUR_USD=1.2001"), result.stderr)
        let got = try collectTicks(count: 40) { $0.payload.instrument == "EUR_USD" && $0.payload.time > boardTime - 86_400_000_000 && $0.payload.time < boardTime + 86_400_000_000 }
        XCTAssertEqual(got.count, 40)
        let ticks = got.values.map(\.0.payload).sorted { $0.time < $1.time }
        let first = try XCTUnwrap(ticks.first)
        XCTAssertGreaterThanOrEqual(first.time, boardTime + 1_000_000, "the clock went back")
        XCTAssertLessThan(first.time, boardTime + 60_000_000)
        let mid = NSDecimalNumber(decimal: first.mid).doubleValue
        XCTAssertEqual(mid, 1.2001, accuracy: 1.2001 * 0.0005, "the first tick gapped from the board's price: \(first)")

        // --fresh starts from the profile's own price at now, whatever the stack holds.
        let fresh = try run(["--seed", "7", "--count", "5", "--rate", "2000", "--instruments", "EUR_USD", "--fresh", "--bootstrap", bootstrap],
                            environment: board)
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        XCTAssertFalse(fresh.stderr.contains("continuing"), fresh.stderr)
        let usage = try run(["--fresh", "--start", "2026-11-24T07:00:00Z"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.contains("--fresh and --start"), usage.stderr)
    }

    func testReplaysARecordedCSVFile() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let base = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString).csv")
        try """
        # recorded quotes
        instrument,time,bid,ask,volume
        EUR_USD,\(base),1.08412,1.08420,100000
        USD_JPY,\(base + 1000),149.512,149.521,200000
        XAU_USD,\(base + 2000),2351.10,2351.35,10

        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try run(["--replay", file.path, "--rate", "100", "--bootstrap", bootstrap])
        XCTAssertEqual(result.status, 0, result.stderr)
        let ids: Set<String> = ["EUR_USD-\(base)", "USD_JPY-\(base + 1000)", "XAU_USD-\(base + 2000)"]
        let got = try collectTicks(ids: ids)
        XCTAssertEqual(Set(got.keys), ids)
        XCTAssertEqual(got["USD_JPY-\(base + 1000)"]?.0.payload.ask, Decimal(string: "149.521"))
    }

    func testBadArgumentsAndBadReplayLinesAreNamed() throws {
        let usage = try run(["--rate", "fast"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.contains("--rate"), usage.stderr)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).csv")
        try "instrument,time,bid,ask,volume\nEUR_USD,1,1.1,abc,5\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let bad = try run(["--replay", file.path, "--bootstrap", try TestServices.kafkaBootstrap()])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("line 2: ask"), bad.stderr)
    }
}
