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
        env["DATABASE_URL"] = nil
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
        let config = KafkaConfiguration(bootstrapServers: try TestServices.kafkaBootstrap(), clientId: "generator-test")
        let found = Mutex<[String: (Envelope<Tick>, KafkaMessage)]>([:])
        let consumer = try KafkaConsumer(configuration: config, groupId: "generator-test-\(UUID().uuidString)",
                                         topics: [Topic.marketTicks.name], metrics: MetricsRegistry(),
                                         logger: Logger(service: "generator-test", level: .warning))
        try consumer.startEnvelopes(Tick.self) { envelope, message in
            if wanted.contains(envelope.id) { found.withLock { $0[envelope.id] = (envelope, message) } }
        }
        defer { consumer.stop(timeout: 10) }
        let end = Date().addingTimeInterval(timeout)
        while Date() < end, found.withLock({ $0.count }) < wanted.count { usleep(50_000) }
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
