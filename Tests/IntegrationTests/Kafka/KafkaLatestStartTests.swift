import Foundation
import Synchronization
import TMTCore
import XCTest

/// A new group with `auto.offset.reset=latest` starts at each partition's end as of its
/// assignment: a record produced once the member holds its partitions is read, the ones before
/// are not. (librdkafka alone looks the end up at the first fetch, a moment later, and skipped
/// a record produced in between.)
final class KafkaLatestStartTests: XCTestCase {
    func testARecordProducedRightAfterTheAssignmentIsRead() throws {
        var config = try KafkaTestSupport.configuration()
        config.autoOffsetReset = "latest"
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        // Several fresh groups, each on a topic with history, so that a gap shows at least once.
        for round in 0..<6 {
            let topic = KafkaTestSupport.uniqueTopic("latest")
            for i in 0..<3 { _ = try producer.sendAndWait(topic: topic, key: Array("k\(i)".utf8), value: Array("old-\(i)".utf8)) }
            let inbox = Inbox()
            let consumer = try KafkaConsumer(configuration: config, groupId: KafkaTestSupport.uniqueGroup("latest"), topics: [topic],
                                             options: KafkaTestSupport.fastOptions, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
            try consumer.start { inbox.append($0) }
            XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: 30) { !consumer.assignment.isEmpty }, "round \(round): never assigned")
            // Right away, spread over the partitions by key.
            let expected = 6
            for i in 0..<expected { _ = try producer.sendAndWait(topic: topic, key: Array("n\(i)".utf8), value: Array("new-\(i)".utf8)) }
            KafkaTestSupport.waitUntil(timeout: 15) { inbox.count >= expected }
            usleep(300_000)
            let values = inbox.messages.map { String(decoding: $0.value, as: UTF8.self) }
            XCTAssertEqual(values.filter { $0.hasPrefix("new-") }.count, expected, "round \(round): a record produced after the assignment was skipped: \(values)")
            XCTAssertTrue(values.allSatisfy { $0.hasPrefix("new-") }, "round \(round): a record from before the group existed was read: \(values)")
            consumer.stop()
        }
    }
}
