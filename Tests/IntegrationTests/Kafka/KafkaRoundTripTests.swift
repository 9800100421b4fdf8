import Foundation
import Synchronization
import TMTCore
import XCTest

/// Producer and consumer against the dev broker: keys, ordering, headers, flush on close.
final class KafkaRoundTripTests: XCTestCase {
    func testKeyedMessagesStayInOnePartitionInOrderWithHeaders() throws {
        let topic = KafkaTestSupport.uniqueTopic("keyed")
        let metrics = MetricsRegistry()
        let producer = try KafkaProducer(configuration: KafkaTestSupport.configuration(), metrics: metrics, logger: KafkaTestSupport.logger)
        defer { producer.close() }
        let keys = ["EUR_USD", "USD_JPY", "XAU_USD"]
        var reports: [String: Set<Int32>] = [:]
        var deliveries: [(String, KafkaDelivery)] = []
        for i in 0..<30 {
            let key = keys[i % keys.count]
            let d = try producer.send(topic: topic, key: key, value: Array("\(key)#\(i)".utf8),
                                      headers: [KafkaHeader("seq", string: String(i)), KafkaHeader("empty", []), KafkaHeader("null", nil)])
            deliveries.append((key, d))
        }
        for (key, d) in deliveries {
            let report = try d.wait(timeout: 30)
            XCTAssertEqual(report.topic, topic)
            XCTAssertNotNil(report.offset)
            reports[key, default: []].insert(report.partition)
        }
        XCTAssertEqual(metrics.counter("tmt_kafka_messages_produced_total", help: "", labels: ["topic"]).labels(topic).value, 30)

        let received = try KafkaTestSupport.readAll([topic], count: 30)
        XCTAssertEqual(received.count, 30)
        for key in keys {
            let mine = received.filter { $0.keyString == key }
            XCTAssertEqual(mine.count, 10)
            XCTAssertEqual(Set(mine.map(\.partition)).count, 1, "one key, one partition")
            XCTAssertEqual(Set(mine.map(\.partition)), reports[key], "consumed where the delivery report said")
            let seqs = mine.compactMap { $0.headers.string("seq").flatMap(Int.init) }
            XCTAssertEqual(seqs, seqs.sorted(), "order kept within a key")
            XCTAssertEqual(mine.map(\.valueString), seqs.map { "\(key)#\($0)" })
        }
        let first = try XCTUnwrap(received.first)
        XCTAssertEqual(first.headers.map(\.name), ["seq", "empty", "null"])
        XCTAssertEqual(first.headers[2].value, nil, "a null header value stays null")
        XCTAssertNotNil(first.timestamp)
    }

    func testOneConsumerOfSeveralTopicsNamesEachMessagesTopic() throws {
        // The consumer keeps the last topic's name rather than making it anew for every message;
        // interleaved topics must each still be named right.
        let topics = [KafkaTestSupport.uniqueTopic("multi-a"), KafkaTestSupport.uniqueTopic("multi-bb"), KafkaTestSupport.uniqueTopic("multi-a2")]
        let producer = try KafkaProducer(configuration: KafkaTestSupport.configuration(), metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        var deliveries: [KafkaDelivery] = []
        for i in 0..<60 {
            let topic = topics[(i * 7 + i / 5) % topics.count]
            deliveries.append(try producer.send(topic: topic, key: "k\(i % 4)", value: Array("\(topic)|\(i)".utf8)))
        }
        for d in deliveries { _ = try d.wait(timeout: 30) }
        let received = try KafkaTestSupport.readAll(topics, count: 60)
        XCTAssertEqual(received.count, 60)
        for message in received {
            XCTAssertEqual(message.topic, String(message.valueString.split(separator: "|")[0]), message.valueString)
        }
        XCTAssertEqual(Set(received.map(\.topic)), Set(topics))
    }
}

/// `close()` flushes: everything sent before it is on the broker afterwards.
final class KafkaProducerFlushTests: XCTestCase {
    func testCloseDeliversEveryOutstandingRecord() throws {
        let topic = KafkaTestSupport.uniqueTopic("flush")
        let metrics = MetricsRegistry()
        var config = try KafkaTestSupport.configuration()
        // Long lingering, so the records are surely still queued when close() is called.
        config.lingerMs = 2000
        let producer = try KafkaProducer(configuration: config, metrics: metrics, logger: KafkaTestSupport.logger)
        var deliveries: [KafkaDelivery] = []
        for i in 0..<1000 {
            deliveries.append(try producer.send(topic: topic, key: "k\(i % 17)", value: Array("record-\(i)".utf8)))
        }
        XCTAssertGreaterThan(producer.outstanding, 0, "records are still queued before close")
        producer.close(timeout: 30)
        XCTAssertEqual(producer.outstanding, 0)
        XCTAssertEqual(deliveries.filter { (try? $0.result?.get()) != nil }.count, 1000, "every delivery completed successfully")
        XCTAssertEqual(metrics.counter("tmt_kafka_messages_produced_total", help: "", labels: ["topic"]).labels(topic).value, 1000)
        XCTAssertThrowsError(try producer.send(topic: topic, key: "k", value: [1])) { error in
            XCTAssertEqual((error as? TMTError)?.code, .closed)
        }

        let received = try KafkaTestSupport.readAll([topic], count: 1000)
        XCTAssertEqual(received.count, 1000)
        XCTAssertEqual(Set(received.map(\.valueString)), Set((0..<1000).map { "record-\($0)" }))
    }
}

/// `prepare(topics:)`: metadata learned up front, bounded when the broker is away.
final class KafkaProducerPrepareTests: XCTestCase {
    func testPreparedTopicsAreKnownAndSendsWork() throws {
        let producer = try KafkaProducer(configuration: KafkaTestSupport.configuration(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        // The dev broker creates the pipeline's topics at start.
        let topics = [Topic.ordersProposed.name, Topic.marketTicks.name]
        XCTAssertEqual(producer.prepare(topics: topics, timeout: 10), [], "the dev broker knows both topics")
        XCTAssertEqual(producer.prepare(topics: topics, timeout: 10), [], "preparing again reuses the handles")
        let topic = KafkaTestSupport.uniqueTopic("prepared")
        XCTAssertEqual(producer.prepare(topics: [topic], timeout: 10), [], "an unknown topic is created on first use")
        let report = try producer.send(topic: topic, key: "k", value: Array("v".utf8)).wait(timeout: 30)
        XCTAssertEqual(report.topic, topic)
        XCTAssertEqual(try KafkaTestSupport.readAll([topic], count: 1).map(\.valueString), ["v"])
    }

    func testUnreachableBrokerReportsEveryTopicWithinTheBudget() throws {
        // A port nothing listens on (bound, then closed).
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &len) } }
        close(probe)
        let port = UInt16(bigEndian: addr.sin_port)
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:\(port)", clientId: "prepare-test"),
                                         logger: KafkaTestSupport.logger)
        defer { producer.close(timeout: 1) }
        let started = Date()
        let failed = producer.prepare(topics: ["a.one", "a.two", "a.three"], timeout: 1)
        XCTAssertEqual(failed, ["a.one", "a.two", "a.three"], "no metadata without a broker; every topic reported")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "the timeout covers all topics together, not each")
    }
}

/// The dev broker's market-data cluster: `market.ticks` alone, on its own mock cluster (own
/// thread), reached through `KafkaConfiguration.forMarketData()`.
final class KafkaMarketDataClusterTests: XCTestCase {
    func testTicksRoundTripOnTheMarketClusterAndNotOnTheMainOne() throws {
        var config = try KafkaTestSupport.configuration()
        config.marketBootstrapServers = try TestServices.kafkaMarketBootstrap()
        XCTAssertTrue(config.hasSeparateMarketData, "the dev broker runs two clusters on different ports")
        let market = config.forMarketData()
        let producer = try KafkaProducer(configuration: market, logger: KafkaTestSupport.logger)
        defer { producer.close() }
        XCTAssertEqual(producer.prepare(topics: [Topic.marketTicks.name], timeout: 10), [], "market.ticks exists there")
        let key = "EUR_USD-\(UUID().uuidString)"
        let report = try producer.send(topic: Topic.marketTicks.name, key: key, value: Array("tick".utf8)).wait(timeout: 30)
        XCTAssertEqual(report.topic, Topic.marketTicks.name)
        let got = try KafkaTestSupport.readAll([Topic.marketTicks.name], count: 1, on: market) { $0.keyString == key }
        XCTAssertEqual(got.map(\.valueString), ["tick"])
        // The main cluster's market.ticks never sees this key.
        let main = try KafkaTestSupport.readAll([Topic.marketTicks.name], count: 1, timeout: 5) { $0.keyString == key }
        XCTAssertEqual(main.count, 0, "the record stayed on the market-data cluster")
        XCTAssertNotEqual(market.bootstrapServers, config.bootstrapServers)
    }
}
