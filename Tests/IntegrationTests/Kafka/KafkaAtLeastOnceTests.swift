import Foundation
import Synchronization
import TMTCore
import XCTest

/// Offsets are committed only after the handler succeeded: what was not finished comes back
/// to the next member of the group, what was finished does not.
final class KafkaAtLeastOnceTests: XCTestCase {
    private struct SimulatedCrash: Error {}

    func testUnfinishedMessageIsRedeliveredAndFinishedOneIsNot() throws {
        let config = try KafkaTestSupport.configuration()
        let topic = KafkaTestSupport.uniqueTopic("alo")
        let group = KafkaTestSupport.uniqueGroup("alo")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        try producer.sendAndWait(topic: topic, key: Array("k".utf8), value: Array("first".utf8))

        // 1. The first member receives the message but goes down before its effect is done:
        //    the handler is still working when the process is told to stop, and then fails.
        let metrics1 = MetricsRegistry()
        let first = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: KafkaTestSupport.fastOptions,
                                      deadLetterProducer: producer, metrics: metrics1, logger: KafkaTestSupport.logger)
        let gotIt = DispatchSemaphore(value: 0)
        try first.start { [first] message in
            gotIt.signal()
            while !first.isStopRequested { usleep(2000) }
            throw SimulatedCrash()
        }
        XCTAssertEqual(gotIt.wait(timeout: .now() + 30), .success, "first member never received the message")
        XCTAssertTrue(first.stop(timeout: 30))
        XCTAssertEqual(metrics1.counter("tmt_kafka_dlq_total", help: "", labels: ["topic", "reason"]).labels(topic, "handler_failed").value, 0,
                       "a failure during shutdown is left for redelivery, not dead-lettered")

        // 2. The next member of the group gets the same message again and finishes it.
        let second = Inbox()
        let c2 = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: KafkaTestSupport.fastOptions,
                                   deadLetterProducer: producer, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        try c2.start { second.append($0) }
        KafkaTestSupport.waitUntil { second.count >= 1 }
        XCTAssertTrue(c2.stop(timeout: 30))
        XCTAssertEqual(second.messages.map(\.valueString), ["first"], "the unfinished message was redelivered")
        XCTAssertEqual(second.messages.first?.offset, 0)

        // 3. It was committed: a third member starts after it, with the next message.
        try producer.sendAndWait(topic: topic, key: Array("k".utf8), value: Array("second".utf8))
        let third = Inbox()
        let c3 = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: KafkaTestSupport.fastOptions,
                                   deadLetterProducer: producer, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        try c3.start { third.append($0) }
        // Same key, same partition: a wrongly redelivered "first" (offset 0) would arrive first.
        KafkaTestSupport.waitUntil { third.count >= 1 }
        XCTAssertTrue(c3.stop(timeout: 30))
        XCTAssertEqual(third.messages.map(\.valueString), ["second"], "a finished message is not delivered again")
    }
}
