import Foundation
import XCTest
@testable import TMTKafka
import TMTBase
import TMTMetrics

/// Configuration checks run through librdkafka's own parser, without a broker.
final class KafkaConfigurationTests: XCTestCase {
    private func assertConfigurationError(_ config: KafkaConfiguration, mentions expected: String,
                                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try config.validate(), file: file, line: line) { error in
            guard let e = error as? TMTError else { return XCTFail("not a TMTError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.code, .configuration, file: file, line: line)
            XCTAssertTrue(e.message.contains(expected), "'\(e.message)' does not mention \(expected)", file: file, line: line)
        }
    }

    func testDefaultsAreValidAndKeepTheDeliveryGuarantees() throws {
        let c = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        XCTAssertNoThrow(try c.validate())
        let producer = Dictionary(c.producerSettings(), uniquingKeysWith: { _, last in last })
        XCTAssertEqual(producer["enable.idempotence"], "true")
        XCTAssertEqual(producer["acks"], "all")
        XCTAssertEqual(producer["linger.ms"], "0", "the order path's sparse messages do not wait for company")
        XCTAssertEqual(producer["socket.nagle.disable"], "true", "no Nagle delay behind a burst of per-partition requests")
        XCTAssertNil(producer["fetch.wait.max.ms"], "consumer-only settings stay off the producer")
        let consumer = Dictionary(c.consumerSettings(groupId: "g"), uniquingKeysWith: { _, last in last })
        XCTAssertEqual(consumer["enable.auto.commit"], "false")
        XCTAssertEqual(consumer["enable.auto.offset.store"], "false")
        XCTAssertEqual(consumer["fetch.wait.max.ms"], "1")
        XCTAssertEqual(consumer["socket.nagle.disable"], "true")
        let control = Dictionary(c.forControlPlane().consumerSettings(groupId: "g"), uniquingKeysWith: { _, last in last })
        XCTAssertEqual(control["fetch.wait.max.ms"], "100", "consumers of rare messages poll the broker less")
        XCTAssertEqual(Dictionary(c.forDataPlane().consumerSettings(groupId: "g"), uniquingKeysWith: { _, last in last })["fetch.wait.max.ms"], "5")
        XCTAssertEqual(consumer["session.timeout.ms"], "6000")
        XCTAssertEqual(consumer["heartbeat.interval.ms"], "500")
        XCTAssertEqual(consumer["auto.offset.reset"], "earliest")
        XCTAssertEqual(consumer["group.id"], "g")
        XCTAssertEqual(consumer["queued.max.messages.kbytes"], "8192", "a bounded prefetch queue")
        var raised = c
        raised.consumerProperties = ["queued.max.messages.kbytes": "65536"]
        XCTAssertEqual(Dictionary(raised.consumerSettings(groupId: "g"), uniquingKeysWith: { _, last in last })["queued.max.messages.kbytes"], "65536")
    }

    func testRawPropertiesCannotTurnOffAutoCommitSafetyOrIdempotence() {
        var c = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        c.properties = ["enable.auto.commit": "true", "acks": "1"]
        // The guarantees are applied last, whatever the raw maps say.
        XCTAssertEqual(c.consumerSettings(groupId: "g").last { $0.0 == "enable.auto.commit" }?.1, "false")
        XCTAssertEqual(c.producerSettings().last { $0.0 == "acks" }?.1, "all")
    }

    func testUnknownPropertyIsNamed() {
        var c = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        c.properties = ["linger.msec": "5"]
        assertConfigurationError(c, mentions: "'linger.msec'")
    }

    func testInvalidValueNamesTheKeyAndLibrdkafkasReason() {
        var c = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        c.lingerMs = -3
        assertConfigurationError(c, mentions: "'linger.ms'")
        var d = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        d.consumerProperties = ["session.timeout.ms": "soon"]
        XCTAssertThrowsError(try d.validate()) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.message.contains("'session.timeout.ms'"), true, "\(error)")
            // librdkafka's own explanation comes along.
            XCTAssertEqual(e?.message.lowercased().contains("invalid value"), true, "\(error)")
        }
    }

    func testSecretValuesStayOutOfTheMessage() {
        var c = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        c.properties = ["sasl.kerberos.min.time.before.relogin": "hunter2"]
        XCTAssertThrowsError(try c.validate()) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.message.contains("'sasl.kerberos.min.time.before.relogin'"), true, "\(error)")
            XCTAssertEqual(e?.message.contains("hunter2"), false, "\(error)")
        }
    }

    func testBadOffsetResetAndEmptyBootstrapAreRejected() {
        var c = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        c.autoOffsetReset = "newest"
        assertConfigurationError(c, mentions: "'auto.offset.reset'")
        assertConfigurationError(KafkaConfiguration(bootstrapServers: " "), mentions: "'bootstrap.servers'")
    }

    func testFromEnvironmentReadsTheBootstrapFileAndNamesBadVariables() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-bootstrap-\(UUID().uuidString)")
        try "127.0.0.1:41234\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let c = try KafkaConfiguration.fromEnvironment(Environment(["KAFKA_BOOTSTRAP_FILE": file.path, "KAFKA_FETCH_WAIT_MAX_MS": "2"]),
                                                       clientId: "wyckoff-analysis")
        XCTAssertEqual(c.bootstrapServers, "127.0.0.1:41234")
        XCTAssertEqual(c.clientId, "wyckoff-analysis")
        XCTAssertEqual(c.fetchWaitMaxMs, 2)

        let servers = try KafkaConfiguration.fromEnvironment(
            Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_BOOTSTRAP_FILE": file.path]), clientId: "x")
        XCTAssertEqual(servers.bootstrapServers, "kafka:9092", "KAFKA_BOOTSTRAP_SERVERS wins over the file")

        XCTAssertThrowsError(try KafkaConfiguration.fromEnvironment(Environment([:]), clientId: "x")) { error in
            XCTAssertTrue("\(error)".contains("KAFKA_BOOTSTRAP_SERVERS"), "\(error)")
        }
        XCTAssertThrowsError(try KafkaConfiguration.fromEnvironment(
            Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_LINGER_MS": "fast"]), clientId: "x")) { error in
            XCTAssertTrue("\(error)".contains("KAFKA_LINGER_MS"), "\(error)")
        }
    }

    func testMarketDataClusterFromTheEnvironment() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-market-\(UUID().uuidString)")
        try "127.0.0.1:41999\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        // Unset: market.ticks on the same cluster.
        let same = try KafkaConfiguration.fromEnvironment(Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"]), clientId: "x")
        XCTAssertNil(same.marketBootstrapServers)
        XCTAssertFalse(same.hasSeparateMarketData)
        XCTAssertEqual(same.forMarketData().bootstrapServers, "kafka:9092")
        // From the file (as the native stack sets it): ticks' clients go there, the rest stays.
        var c = try KafkaConfiguration.fromEnvironment(Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
                                                                    "KAFKA_MARKET_BOOTSTRAP_FILE": file.path]), clientId: "x")
        XCTAssertEqual(c.marketBootstrapServers, "127.0.0.1:41999")
        XCTAssertTrue(c.hasSeparateMarketData)
        c.fetchWaitMaxMs = 3
        let market = c.forMarketData()
        XCTAssertEqual(market.bootstrapServers, "127.0.0.1:41999")
        XCTAssertEqual(market.fetchWaitMaxMs, 3, "only the servers change")
        XCTAssertEqual(Dictionary(market.consumerSettings(groupId: "g"), uniquingKeysWith: { _, l in l })["bootstrap.servers"], "127.0.0.1:41999")
        XCTAssertEqual(Dictionary(c.consumerSettings(groupId: "g"), uniquingKeysWith: { _, l in l })["bootstrap.servers"], "kafka:9092")
        XCTAssertEqual(c.forDataPlane().forMarketData().bootstrapServers, "127.0.0.1:41999")
        // The variable wins over the file; the same servers as the main cluster are not separate.
        let servers = try KafkaConfiguration.fromEnvironment(Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
                                                                          "KAFKA_MARKET_BOOTSTRAP_SERVERS": "kafka:9092",
                                                                          "KAFKA_MARKET_BOOTSTRAP_FILE": file.path]), clientId: "x")
        XCTAssertEqual(servers.marketBootstrapServers, "kafka:9092")
        XCTAssertFalse(servers.hasSeparateMarketData)
        // Bad values name the variable.
        XCTAssertThrowsError(try KafkaConfiguration.fromEnvironment(Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
                                                                                 "KAFKA_MARKET_BOOTSTRAP_FILE": "/nonexistent/market"]), clientId: "x")) {
            XCTAssertTrue("\($0)".contains("KAFKA_MARKET_BOOTSTRAP_FILE"), "\($0)")
        }
        XCTAssertThrowsError(try KafkaConfiguration.fromEnvironment(Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
                                                                                 "KAFKA_MARKET_BOOTSTRAP_SERVERS": "  "]), clientId: "x")) {
            XCTAssertTrue("\($0)".contains("KAFKA_MARKET_BOOTSTRAP_SERVERS"), "\($0)")
        }
    }

    func testMarketDataProducersLingerAsConfigured() throws {
        let c = try KafkaConfiguration.fromEnvironment(Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_MARKET_LINGER_MS": "20"]),
                                                       clientId: "x")
        let market = Dictionary(c.forMarketData().producerSettings(), uniquingKeysWith: { _, last in last })
        let orders = Dictionary(c.producerSettings(), uniquingKeysWith: { _, last in last })
        XCTAssertEqual(market["linger.ms"], "20", "ticks batch for up to 20 ms")
        XCTAssertEqual(orders["linger.ms"], "0", "the order path does not wait")
        XCTAssertEqual(Dictionary(KafkaConfiguration(bootstrapServers: "k:1").forMarketData().producerSettings(), uniquingKeysWith: { _, l in l })["linger.ms"], "20",
                       "ticks batch by default (the dev broker's cost is per message set)")
        let unbatched = try KafkaConfiguration.fromEnvironment(Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_MARKET_LINGER_MS": "0"]),
                                                               clientId: "x")
        XCTAssertEqual(Dictionary(unbatched.forMarketData().producerSettings(), uniquingKeysWith: { _, l in l })["linger.ms"], "0")
        XCTAssertThrowsError(try KafkaConfiguration.fromEnvironment(Environment(["KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_MARKET_LINGER_MS": "soon"]),
                                                                    clientId: "x")) {
            XCTAssertTrue("\($0)".contains("KAFKA_MARKET_LINGER_MS"), "\($0)")
        }
    }

    func testProducerCreationFailsCleanlyOnInconsistentSettings() {
        var c = KafkaConfiguration(bootstrapServers: "127.0.0.1:9")
        // Each value parses, but idempotence needs max.in.flight ≤ 5: rd_kafka_new rejects it,
        // and the configuration it did not take over must be freed (not leaked or double-freed).
        c.producerProperties = ["max.in.flight.requests.per.connection": "50"]
        XCTAssertThrowsError(try KafkaProducer(configuration: c, metrics: MetricsRegistry())) { error in
            XCTAssertEqual((error as? TMTError)?.code, .configuration)
            XCTAssertTrue("\(error)".contains("max.in.flight"), "\(error)")
        }
    }
}
