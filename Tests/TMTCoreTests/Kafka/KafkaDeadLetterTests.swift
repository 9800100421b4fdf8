import Foundation
import XCTest
@testable import TMTKafka
import TMTBase
import TMTModels

/// DLQ record construction, failure classification, retry backoff and envelope decoding:
/// the pure parts of the consumer's failure handling.
final class KafkaDeadLetterTests: XCTestCase {
    private let original = KafkaMessage(
        topic: "orders.proposed", partition: 4, offset: 1234, key: Array("acc-7".utf8), value: [0x7B, 0xFF, 0x00],
        headers: [KafkaHeader("traceparent", string: "00-abc-01"), KafkaHeader("dlq.reason", string: "old failure"),
                  KafkaHeader("nullable", nil)],
        timestampMillis: 1_800_000_000_123)

    func testDeadLetterKeepsTheOriginalBytesAndNamesTheOrigin() {
        let letter = KafkaDeadLetter(message: original, category: "undecodable", reason: "missing field 'payload.price'",
                                     consumerGroup: "compliance-engine", attempts: 1, failedAtMicros: 42)
        XCTAssertEqual(letter.key, Array("acc-7".utf8))
        XCTAssertEqual(letter.value, [0x7B, 0xFF, 0x00], "value bytes are carried unchanged, even when not UTF-8")
        let h = letter.headers
        XCTAssertEqual(h.string("dlq.reason"), "missing field 'payload.price'")
        XCTAssertEqual(h.string("dlq.category"), "undecodable")
        XCTAssertEqual(h.string("dlq.origin.topic"), "orders.proposed")
        XCTAssertEqual(h.string("dlq.origin.partition"), "4")
        XCTAssertEqual(h.string("dlq.origin.offset"), "1234")
        XCTAssertEqual(h.string("dlq.origin.timestamp"), "1800000000123")
        XCTAssertEqual(h.string("dlq.consumer.group"), "compliance-engine")
        XCTAssertEqual(h.string("dlq.attempts"), "1")
        XCTAssertEqual(h.string("dlq.failed.at"), "42")
        // Original headers first and intact (null value included); a stale dlq.* header replaced.
        XCTAssertEqual(Array(h.prefix(2)), [KafkaHeader("traceparent", string: "00-abc-01"), KafkaHeader("nullable", nil)])
        XCTAssertEqual(h.filter { $0.name == "dlq.reason" }.count, 1)
    }

    func testDeadLetterReadsBackFromADLQRecord() {
        let letter = KafkaDeadLetter(message: original, category: "handler_failed", reason: "kafka: broker down",
                                     consumerGroup: "g", attempts: 3, failedAtMicros: 99)
        let record = KafkaMessage(topic: "dlq", partition: 0, offset: 8, key: letter.key, value: letter.value, headers: letter.headers)
        XCTAssertEqual(KafkaDeadLetter(dlqRecord: record), letter)
        XCTAssertNil(KafkaDeadLetter(dlqRecord: original), "an ordinary record is not a dead letter")
    }

    func testLongReasonsAreCutOnACharacterBoundary() {
        let reason = String(repeating: "é", count: 3000)
        let letter = KafkaDeadLetter(message: original, category: "x", reason: reason, consumerGroup: "g", attempts: 1)
        XCTAssertLessThanOrEqual(letter.reason.utf8.count, KafkaDeadLetter.maxReasonBytes)
        XCTAssertTrue(letter.reason.hasSuffix("…"))
        XCTAssertTrue(letter.reason.dropLast().allSatisfy { $0 == "é" })
    }

    func testDecodingErrorsArePermanentOthersAreRetried() {
        XCTAssertEqual(KafkaPermanentFailure.classify(TMTError(.decoding, "missing field 'id'")).category, "undecodable")
        XCTAssertTrue(KafkaPermanentFailure.classify(TMTError(.decoding, "x")).permanent)
        XCTAssertEqual(KafkaPermanentFailure.classify(TMTError(.decoding, "missing field 'id'")).reason, "missing field 'id'")
        let swiftDecoding = DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "bad"))
        XCTAssertTrue(KafkaPermanentFailure.classify(swiftDecoding).permanent)
        XCTAssertEqual(KafkaPermanentFailure.classify(KafkaPermanentFailure.unsupportedSchema("v9")).category, "unsupported_schema")
        let transient = KafkaPermanentFailure.classify(TMTError(.connection, "database unavailable"))
        XCTAssertFalse(transient.permanent)
        XCTAssertEqual(transient.category, "handler_failed")
        XCTAssertEqual(transient.reason, "connection: database unavailable")
    }

    func testBackoffGrowsAndIsCapped() {
        let p = KafkaRetryPolicy(maxAttempts: 5, initialBackoff: 0.1, multiplier: 2, maxBackoff: 0.3)
        XCTAssertEqual(p.backoff(afterAttempt: 1), 0.1, accuracy: 1e-9)
        XCTAssertEqual(p.backoff(afterAttempt: 2), 0.2, accuracy: 1e-9)
        XCTAssertEqual(p.backoff(afterAttempt: 3), 0.3, accuracy: 1e-9)
        XCTAssertEqual(p.backoff(afterAttempt: 50), 0.3, accuracy: 1e-9)
        XCTAssertEqual(KafkaRetryPolicy(maxAttempts: 0).maxAttempts, 1, "at least one attempt")
    }

    private struct Quote: Codable, Sendable, Equatable {
        var instrument: String
        var price: Double
    }

    private func message(_ json: String) -> KafkaMessage {
        KafkaMessage(topic: "t", partition: 0, offset: 0, key: nil, value: Array(json.utf8))
    }

    func testEnvelopeDecodingNamesTheBadField() throws {
        let good = try EnvelopeCoding.encode(Envelope(id: "1", type: "quote", traceId: "tr", source: "test",
                                                      payload: Quote(instrument: "EUR_USD", price: 1.1)))
        let env = try KafkaConsumer.decodeEnvelope(Quote.self, from: KafkaMessage(topic: "t", partition: 0, offset: 0, key: nil, value: good))
        XCTAssertEqual(env.payload, Quote(instrument: "EUR_USD", price: 1.1))

        let noPrice = #"{"id":"1","type":"q","schemaVersion":1,"traceId":"t","createdAt":1,"source":"s","hops":[],"payload":{"instrument":"EUR_USD"}}"#
        XCTAssertThrowsError(try KafkaConsumer.decodeEnvelope(Quote.self, from: message(noPrice))) { error in
            XCTAssertEqual(error as? KafkaPermanentFailure, .undecodable("missing field 'payload.price'"))
        }
        XCTAssertThrowsError(try KafkaConsumer.decodeEnvelope(Quote.self, from: message("{not json"))) { error in
            XCTAssertEqual((error as? KafkaPermanentFailure)?.category, "undecodable")
        }
    }

    func testUnknownSchemaVersionIsItsOwnCategoryEvenWhenThePayloadChangedShape() {
        let v2 = #"{"id":"1","type":"q","schemaVersion":2,"traceId":"t","createdAt":1,"source":"s","hops":[],"payload":{"instrument":"EUR_USD","price":1.1}}"#
        XCTAssertThrowsError(try KafkaConsumer.decodeEnvelope(Quote.self, from: message(v2))) { error in
            XCTAssertEqual(error as? KafkaPermanentFailure, .unsupportedSchema("schemaVersion 2 is not supported (supported: 1)"))
        }
        let v3Reshaped = #"{"id":"1","type":"q","schemaVersion":3,"traceId":"t","createdAt":1,"source":"s","hops":[],"payload":{"symbol":"EUR_USD"}}"#
        XCTAssertThrowsError(try KafkaConsumer.decodeEnvelope(Quote.self, from: message(v3Reshaped))) { error in
            XCTAssertEqual((error as? KafkaPermanentFailure)?.category, "unsupported_schema")
        }
        XCTAssertNoThrow(try KafkaConsumer.decodeEnvelope(Quote.self, from: message(v2), supportedSchemaVersions: 1...2))
    }
}
