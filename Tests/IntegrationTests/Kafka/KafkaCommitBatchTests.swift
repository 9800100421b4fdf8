import Foundation
import TMTCore
@testable import TMTKafka
import XCTest

/// `commitBatchSize` counts processed messages: with the interval out of the way, offsets are
/// committed after every full batch and not in between.
final class KafkaCommitBatchTests: XCTestCase {
    func testOffsetsAreCommittedAfterEveryBatchOfMessages() throws {
        let config = try KafkaTestSupport.configuration()
        let topic = KafkaTestSupport.uniqueTopic("batch")
        let group = KafkaTestSupport.uniqueGroup("batch")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        // One key: one partition, offsets 0…24 in order.
        for i in 0..<25 { try producer.sendAndWait(topic: topic, key: Array("k".utf8), value: Array("m\(i)".utf8)) }

        let inbox = Inbox()
        let consumer = try KafkaConsumer(configuration: config, groupId: group, topics: [topic],
                                         options: KafkaConsumerOptions(commitInterval: 3600, commitBatchSize: 10),
                                         deadLetterProducer: producer, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        try consumer.start { inbox.append($0) }
        defer { consumer.stop(timeout: 30) }
        XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: 60) { inbox.count >= 25 }, "received \(inbox.count) of 25")
        let partition = try XCTUnwrap(inbox.messages.first).topicPartition

        // The group's committed offset, read by a separate client of the same group (it does not
        // join, so the consumer keeps its partition and commits nothing on a rebalance).
        let probe = try RDKafkaClient.consumer(settings: config.consumerSettings(groupId: group), logger: KafkaTestSupport.logger)
        defer { probe.destroy() }
        // After the 20th message the loop commits 20 (before its next poll); 21…25 are a partial
        // batch, and the interval is an hour away.
        var committed: Int64?
        KafkaTestSupport.waitUntil(timeout: 10) {
            committed = probe.committed([partition], timeoutMs: 5000)[partition]
            return committed == 20
        }
        usleep(500_000)
        committed = probe.committed([partition], timeoutMs: 5000)[partition]
        XCTAssertEqual(committed, 20, "committed offset after 25 processed messages in batches of 10")
    }
}
