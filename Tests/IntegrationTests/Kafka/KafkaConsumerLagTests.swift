import Foundation
import Synchronization
import TMTCore
import XCTest

/// `tmt_kafka_consumer_lag` shows unprocessed messages while they wait and drops to zero once
/// they are handled.
final class KafkaConsumerLagTests: XCTestCase {
    func testLagCountsWaitingMessagesThenFallsToZero() throws {
        let config = try KafkaTestSupport.configuration()
        let topic = KafkaTestSupport.uniqueTopic("lag")
        let group = KafkaTestSupport.uniqueGroup("lag")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        var partition: Int32 = -1
        for i in 0..<5 {
            partition = try producer.sendAndWait(topic: topic, key: Array("one-key".utf8), value: Array("m\(i)".utf8)).partition
        }

        let metrics = MetricsRegistry()
        let release = DispatchSemaphore(value: 0)
        let handled = Inbox()
        let consumer = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: KafkaTestSupport.fastOptions,
                                         deadLetterProducer: producer, metrics: metrics, logger: KafkaTestSupport.logger)
        defer { consumer.stop() }
        try consumer.start { message in
            if message.offset == 0 { _ = release.wait(timeout: .now() + 30) }
            handled.append(message)
        }
        let sample = "tmt_kafka_consumer_lag{topic=\"\(topic)\",partition=\"\(partition)\",group=\"\(group)\"}"
        func exported() -> String? {
            metrics.exposition().split(separator: "\n").first { $0.hasPrefix(sample + " ") }.map { String($0.dropFirst(sample.count + 1)) }
        }

        // The handler holds the first message: all five are still unprocessed.
        KafkaTestSupport.waitUntil { consumer.lag.values.reduce(0, +) == 5 }
        XCTAssertEqual(consumer.lag[KafkaTopicPartition(topic: topic, partition: partition)], 5)
        XCTAssertEqual(exported(), "5")

        release.signal()
        KafkaTestSupport.waitUntil { handled.count == 5 && consumer.lag.values.reduce(0, +) == 0 }
        XCTAssertEqual(handled.count, 5)
        XCTAssertEqual(consumer.lag.values.reduce(0, +), 0)
        XCTAssertEqual(exported(), "0")
        XCTAssertEqual(metrics.counter("tmt_kafka_messages_consumed_total", help: "", labels: ["topic"]).labels(topic).value, 5)
    }
}
