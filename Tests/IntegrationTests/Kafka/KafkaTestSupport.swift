import Foundation
import Synchronization
import TMTCore
import XCTest

/// Shared helpers for the Kafka integration tests (real dev broker).
enum KafkaTestSupport {
    /// The dev broker's configuration, with the mock-friendly timeouts (the defaults).
    static func configuration(clientId: String = "kafka-tests") throws -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: try TestServices.kafkaBootstrap(), clientId: clientId)
    }

    /// A topic nobody else uses (auto-created on first produce).
    static func uniqueTopic(_ label: String = "t") -> String { "test.\(label).\(UUID().uuidString.prefix(8).lowercased())" }
    /// A fresh consumer group.
    static func uniqueGroup(_ label: String = "g") -> String { "test-\(label)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// Options that make tests quick: short backoff, frequent lag refresh.
    static var fastOptions: KafkaConsumerOptions {
        KafkaConsumerOptions(retry: KafkaRetryPolicy(maxAttempts: 3, initialBackoff: 0.05, maxBackoff: 0.2),
                             commitInterval: 0.05, lagRefreshInterval: 0.2)
    }

    /// A quiet logger (warnings and worse still show, so failures are explained).
    static let logger = Logger(service: "kafka-tests", level: .warning)

    /// Polls `condition` until true or `timeout` seconds pass.
    @discardableResult
    static func waitUntil(timeout: Double = 60, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// Reads `count` messages of `topics` that satisfy `filter` with a fresh group, from the
    /// start; returns what arrived within `timeout`.
    static func readAll(_ topics: [String], count: Int, timeout: Double = 30, on cluster: KafkaConfiguration? = nil,
                        filter: @escaping @Sendable (KafkaMessage) -> Bool = { _ in true }) throws -> [KafkaMessage] {
        let inbox = Inbox()
        let reader = try KafkaConsumer(configuration: cluster ?? configuration(), groupId: uniqueGroup("reader"), topics: topics,
                                       options: fastOptions, metrics: MetricsRegistry(), logger: logger)
        try reader.start { m in if filter(m) { inbox.append(m) } }
        waitUntil(timeout: timeout) { inbox.count >= count }
        reader.stop()
        return inbox.messages
    }
}

/// Messages received by a handler, readable from the test thread.
final class Inbox: Sendable {
    private let storage = Mutex<[KafkaMessage]>([])
    func append(_ m: KafkaMessage) { storage.withLock { $0.append(m) } }
    var messages: [KafkaMessage] { storage.withLock { $0 } }
    var count: Int { storage.withLock { $0.count } }
}
