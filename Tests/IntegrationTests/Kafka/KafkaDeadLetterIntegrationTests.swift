import Foundation
import Synchronization
import TMTCore
import XCTest

/// Messages that cannot be processed land in `dlq` with their reason and origin, the consumer
/// moves on, and they are not processed again.
final class KafkaDeadLetterIntegrationTests: XCTestCase {
    private struct Quote: Codable, Sendable, Equatable {
        var instrument: String
        var price: Double
    }

    private func envelope(_ id: String) throws -> [UInt8] {
        try EnvelopeCoding.encode(Envelope(id: id, type: "quote", traceId: "trace-\(id)", source: "kafka-tests",
                                           payload: Quote(instrument: "EUR_USD", price: 1.0842)))
    }

    private func dlqRecords(from topic: String, count: Int) throws -> [KafkaDeadLetter] {
        try KafkaTestSupport.readAll([Topic.dlq.name], count: count) { $0.headers.string("dlq.origin.topic") == topic }
            .compactMap { KafkaDeadLetter(dlqRecord: $0) }
            .sorted { $0.originOffset < $1.originOffset }
    }

    func testMalformedEnvelopesGoToDLQWithReasonAndOriginAndTheConsumerKeepsGoing() throws {
        let config = try KafkaTestSupport.configuration()
        let topic = KafkaTestSupport.uniqueTopic("dlq-malformed")
        let group = KafkaTestSupport.uniqueGroup("dlq-malformed")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        let noPrice = Array(#"{"id":"bad2","type":"quote","schemaVersion":1,"traceId":"t","createdAt":1,"source":"s","hops":[],"payload":{"instrument":"EUR_USD"}}"#.utf8)
        let values: [[UInt8]] = [try envelope("a"), Array("{not json".utf8), noPrice, try envelope("b")]
        for v in values {
            try producer.sendAndWait(topic: topic, key: Array("acc-1".utf8), value: v, headers: [KafkaHeader("origin-header", string: "kept")])
        }

        let metrics = MetricsRegistry()
        let handled = Mutex<[String]>([])
        let consumer = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: KafkaTestSupport.fastOptions,
                                         deadLetterProducer: producer, metrics: metrics, logger: KafkaTestSupport.logger)
        try consumer.startEnvelopes(Quote.self) { env, _ in handled.withLock { $0.append(env.id) } }
        KafkaTestSupport.waitUntil { handled.withLock { $0.count } >= 2 }
        let dlqCounter = metrics.counter("tmt_kafka_dlq_total", help: "", labels: ["topic", "reason"]).labels(topic, "undecodable")
        KafkaTestSupport.waitUntil { dlqCounter.value >= 2 }
        XCTAssertTrue(consumer.stop(timeout: 30))
        XCTAssertEqual(handled.withLock { $0 }, ["a", "b"], "the good messages around the bad ones were processed")
        XCTAssertEqual(dlqCounter.value, 2)

        let letters = try dlqRecords(from: topic, count: 2)
        XCTAssertEqual(letters.count, 2)
        guard letters.count == 2 else { return }
        XCTAssertEqual(letters.map(\.originOffset), [1, 2])
        XCTAssertEqual(letters.map(\.value), [values[1], values[2]], "original bytes kept")
        XCTAssertEqual(letters.map(\.category), ["undecodable", "undecodable"])
        XCTAssertEqual(letters[0].reason, "not valid JSON")
        XCTAssertEqual(letters[1].reason, "missing field 'payload.price'", "the reason names the field")
        for l in letters {
            XCTAssertEqual(l.originTopic, topic)
            XCTAssertEqual(l.consumerGroup, group)
            XCTAssertEqual(l.attempts, 1, "undecodable messages are not retried")
            XCTAssertEqual(l.key, Array("acc-1".utf8))
            XCTAssertEqual(l.originalHeaders.string("origin-header"), "kept")
        }

        // Dead-lettered messages were committed: the group's next member only sees new data.
        try producer.sendAndWait(topic: topic, key: Array("acc-1".utf8), value: try envelope("c"))
        let again = Mutex<[String]>([])
        let metrics2 = MetricsRegistry()
        let next = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: KafkaTestSupport.fastOptions,
                                     deadLetterProducer: producer, metrics: metrics2, logger: KafkaTestSupport.logger)
        try next.startEnvelopes(Quote.self) { env, _ in again.withLock { $0.append(env.id) } }
        KafkaTestSupport.waitUntil { again.withLock { $0.count } >= 1 }
        XCTAssertTrue(next.stop(timeout: 30))
        XCTAssertEqual(again.withLock { $0 }, ["c"])
        XCTAssertEqual(metrics2.counter("tmt_kafka_dlq_total", help: "", labels: ["topic", "reason"]).labels(topic, "undecodable").value, 0,
                       "nothing was dead-lettered twice")
    }

    func testHandlerThatKeepsFailingIsRetriedThenDeadLettered() throws {
        let config = try KafkaTestSupport.configuration()
        let topic = KafkaTestSupport.uniqueTopic("dlq-failing")
        let group = KafkaTestSupport.uniqueGroup("dlq-failing")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        try producer.sendAndWait(topic: topic, key: Array("k".utf8), value: Array("poison".utf8))
        try producer.sendAndWait(topic: topic, key: Array("k".utf8), value: Array("fine".utf8))

        let metrics = MetricsRegistry()
        let attempts = Atomic<Int>(0)
        let done = Inbox()
        var options = KafkaTestSupport.fastOptions
        options.retry = KafkaRetryPolicy(maxAttempts: 4, initialBackoff: 0.02, maxBackoff: 0.1)
        let consumer = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: options,
                                         deadLetterProducer: producer, metrics: metrics, logger: Logger(service: "kafka-tests", level: .critical))
        try consumer.start { message in
            if message.valueString == "poison" {
                attempts.add(1, ordering: .relaxed)
                throw TMTError(.connection, "simulated outage")
            }
            done.append(message)
        }
        KafkaTestSupport.waitUntil { done.count >= 1 }
        XCTAssertTrue(consumer.stop(timeout: 30))
        XCTAssertEqual(done.messages.map(\.valueString), ["fine"], "the consumer moved on to the next message")
        XCTAssertEqual(attempts.load(ordering: .relaxed), 4, "tried exactly maxAttempts times")
        XCTAssertEqual(metrics.counter("tmt_kafka_dlq_total", help: "", labels: ["topic", "reason"]).labels(topic, "handler_failed").value, 1)
        XCTAssertEqual(metrics.counter("tmt_kafka_handler_failures_total", help: "", labels: ["topic", "category"])
            .labels(topic, "handler_failed").value, 4)

        let letters = try dlqRecords(from: topic, count: 1)
        XCTAssertEqual(letters.count, 1)
        XCTAssertEqual(letters.first?.value, Array("poison".utf8))
        XCTAssertEqual(letters.first?.category, "handler_failed")
        XCTAssertEqual(letters.first?.attempts, 4)
        XCTAssertEqual(letters.first?.reason, "connection: simulated outage")
        XCTAssertEqual(letters.first?.originOffset, 0)
    }

    func testMessageIsNotCommittedWhileTheDLQCannotBeWritten() throws {
        let config = try KafkaTestSupport.configuration()
        let topic = KafkaTestSupport.uniqueTopic("dlq-down")
        let group = KafkaTestSupport.uniqueGroup("dlq-down")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        defer { producer.close() }
        try producer.sendAndWait(topic: topic, key: Array("k".utf8), value: Array("{broken".utf8))

        // A DLQ producer that refuses every record, as during an outage.
        let brokenDLQ = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        brokenDLQ.close()
        let metrics = MetricsRegistry()
        let first = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: KafkaTestSupport.fastOptions,
                                      deadLetterProducer: brokenDLQ, metrics: metrics, logger: Logger(service: "kafka-tests", level: .critical))
        try first.startEnvelopes(Quote.self) { _, _ in XCTFail("a broken message reached the handler") }
        let failures = metrics.counter("tmt_kafka_handler_failures_total", help: "", labels: ["topic", "category"]).labels(topic, "undecodable")
        XCTAssertTrue(KafkaTestSupport.waitUntil { failures.value >= 1 }, "the message was never received")
        usleep(300_000) // a few DLQ attempts fail meanwhile
        XCTAssertTrue(first.stop(timeout: 30))
        XCTAssertEqual(metrics.counter("tmt_kafka_dlq_total", help: "", labels: ["topic", "reason"]).labels(topic, "undecodable").value, 0)

        // Not committed, not dropped: the next member gets it and, with a working DLQ, parks it there.
        let metrics2 = MetricsRegistry()
        let second = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: KafkaTestSupport.fastOptions,
                                       deadLetterProducer: producer, metrics: metrics2, logger: KafkaTestSupport.logger)
        try second.startEnvelopes(Quote.self) { _, _ in XCTFail("a broken message reached the handler") }
        let dead = metrics2.counter("tmt_kafka_dlq_total", help: "", labels: ["topic", "reason"]).labels(topic, "undecodable")
        KafkaTestSupport.waitUntil { dead.value >= 1 }
        XCTAssertTrue(second.stop(timeout: 30))
        XCTAssertEqual(dead.value, 1)
        let letters = try dlqRecords(from: topic, count: 1)
        XCTAssertEqual(letters.map(\.value), [Array("{broken".utf8)])
    }
}
