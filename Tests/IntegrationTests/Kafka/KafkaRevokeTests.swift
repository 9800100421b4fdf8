import Foundation
import Synchronization
import TMTCore
@testable import TMTKafka
import XCTest

/// `KafkaConsumer.onRevoke`: when a member stops (it leaves its group), the handler runs on the
/// consumer thread with the partitions it gives up, after its last message was handled and
/// while it still holds them, so the group's next member finds what it saved (Wyckoff's open
/// bars); the offsets of what was handled are committed.
final class KafkaRevokeTests: XCTestCase {
    func testStoppingHandsItsPartitionsToTheRevokeHandlerAfterTheLastMessage() throws {
        let config = try KafkaTestSupport.configuration()
        let topic = KafkaTestSupport.uniqueTopic("revoke")
        let group = KafkaTestSupport.uniqueGroup("revoke")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        for i in 0..<5 { try producer.sendAndWait(topic: topic, key: Array("k".utf8), value: Array("m\(i)".utf8)) }

        let events = Mutex<[String]>([])
        let consumer = try KafkaConsumer(configuration: config, groupId: group, topics: [topic],
                                         options: KafkaConsumerOptions(commitInterval: 3600, commitBatchSize: 1000),
                                         deadLetterProducer: producer, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        let probe = try RDKafkaClient.consumer(settings: config.consumerSettings(groupId: group), logger: KafkaTestSupport.logger)
        defer { probe.destroy() }
        consumer.onRevoke { partitions, lost in
            events.withLock { $0.append("revoked " + partitions.map(\.description).sorted().joined(separator: ",") + (lost ? " (lost)" : "")) }
        }
        let used = Mutex<KafkaTopicPartition?>(nil)
        try consumer.start { message in
            used.withLock { $0 = message.topicPartition }
            events.withLock { $0.append("message \(message.offset)") }
        }
        XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: 60) { events.withLock { $0.contains("message 4") } }, "\(events.withLock { $0 })")
        // One key: every message in one partition.
        let partition = try XCTUnwrap(used.withLock { $0 })
        XCTAssertNil(probe.committed([partition], timeoutMs: 5000)[partition], "nothing committed yet (a batch of 1000, an hour's interval)")

        let assigned = consumer.assignment.map(\.description).sorted().joined(separator: ",")
        XCTAssertTrue(consumer.stop(timeout: 30))
        let seen = events.withLock { $0 }
        XCTAssertEqual(seen.last, "revoked \(assigned)", "every partition it held, after the last message: \(seen)")
        XCTAssertEqual(seen.filter { $0.hasPrefix("revoked") }.count, 1)
        var committed: Int64?
        KafkaTestSupport.waitUntil(timeout: 10) {
            committed = probe.committed([partition], timeoutMs: 5000)[partition]
            return committed == 5
        }
        XCTAssertEqual(committed, 5, "the stop commits what was handled")
    }
}
