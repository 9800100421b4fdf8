import TMTModels

/// A message that could not be processed, as it is written to (and read back from) the `dlq`
/// topic.
///
/// The DLQ record keeps the original key and value bytes untouched (so it can be replayed onto
/// its origin topic as it was) and the original headers, followed by these `dlq.*` headers
/// (UTF-8 text):
///
/// | header | content |
/// |---|---|
/// | `dlq.reason` | why, for people: e.g. `missing field 'payload.price'` |
/// | `dlq.category` | why, for machines: `undecodable`, `unsupported_schema`, `handler_failed`, … |
/// | `dlq.origin.topic` / `.partition` / `.offset` | where the message was read |
/// | `dlq.origin.timestamp` | its record timestamp, ms since epoch (absent if it had none) |
/// | `dlq.consumer.group` | the group that gave up on it |
/// | `dlq.attempts` | how many times the handler ran |
/// | `dlq.failed.at` | when it was dead-lettered, µs since epoch |
///
/// Original headers whose names start with `dlq.` (a message dead-lettered before and replayed)
/// are replaced, so every DLQ record describes its latest failure only.
public struct KafkaDeadLetter: Sendable, Equatable {
    /// `dlq.reason`
    public static let reasonHeader = "dlq.reason"
    /// `dlq.category`
    public static let categoryHeader = "dlq.category"
    /// `dlq.origin.topic`
    public static let originTopicHeader = "dlq.origin.topic"
    /// `dlq.origin.partition`
    public static let originPartitionHeader = "dlq.origin.partition"
    /// `dlq.origin.offset`
    public static let originOffsetHeader = "dlq.origin.offset"
    /// `dlq.origin.timestamp`
    public static let originTimestampHeader = "dlq.origin.timestamp"
    /// `dlq.consumer.group`
    public static let consumerGroupHeader = "dlq.consumer.group"
    /// `dlq.attempts`
    public static let attemptsHeader = "dlq.attempts"
    /// `dlq.failed.at`
    public static let failedAtHeader = "dlq.failed.at"
    /// Longest `dlq.reason` kept, in UTF-8 bytes; longer reasons are cut with `…`.
    public static let maxReasonBytes = 2000

    /// See `KafkaPermanentFailure.category`.
    public var category: String
    /// Human-readable reason.
    public var reason: String
    /// The topic the message was read from.
    public var originTopic: String
    /// Its partition there.
    public var originPartition: Int32
    /// Its offset there.
    public var originOffset: Int64
    /// The original record timestamp, ms since epoch.
    public var originTimestampMillis: Int64?
    /// The consumer group that gave up on it.
    public var consumerGroup: String
    /// Handler runs before giving up (1 for an undecodable message).
    public var attempts: Int
    /// When the consumer gave up, µs since epoch.
    public var failedAtMicros: Int64
    /// Original key, unchanged.
    public var key: [UInt8]?
    /// Original value, unchanged.
    public var value: [UInt8]
    /// Original headers, without any `dlq.*` ones.
    public var originalHeaders: [KafkaHeader]

    /// The dead letter for `message`, which `consumerGroup` gave up on after `attempts` runs.
    public init(message: KafkaMessage, category: String, reason: String, consumerGroup: String, attempts: Int,
                failedAtMicros: Int64 = HopClock.nowMicros()) {
        self.category = category
        self.reason = Self.truncate(reason)
        originTopic = message.topic
        originPartition = message.partition
        originOffset = message.offset
        originTimestampMillis = message.timestampMillis
        self.consumerGroup = consumerGroup
        self.attempts = attempts
        self.failedAtMicros = failedAtMicros
        key = message.key
        value = message.value
        originalHeaders = message.headers.filter { !$0.name.hasPrefix("dlq.") }
    }

    /// Reads a record from the DLQ topic back; `nil` when it lacks the origin headers.
    public init?(dlqRecord message: KafkaMessage) {
        let h = message.headers
        guard let topic = h.string(Self.originTopicHeader),
              let partition = h.string(Self.originPartitionHeader).flatMap({ Int32($0) }),
              let offset = h.string(Self.originOffsetHeader).flatMap({ Int64($0) }) else { return nil }
        category = h.string(Self.categoryHeader) ?? ""
        reason = h.string(Self.reasonHeader) ?? ""
        originTopic = topic
        originPartition = partition
        originOffset = offset
        originTimestampMillis = h.string(Self.originTimestampHeader).flatMap { Int64($0) }
        consumerGroup = h.string(Self.consumerGroupHeader) ?? ""
        attempts = h.string(Self.attemptsHeader).flatMap { Int($0) } ?? 0
        failedAtMicros = h.string(Self.failedAtHeader).flatMap { Int64($0) } ?? 0
        key = message.key
        value = message.value
        originalHeaders = h.filter { !$0.name.hasPrefix("dlq.") }
    }

    /// The headers of the DLQ record: the original ones, then the `dlq.*` ones.
    public var headers: [KafkaHeader] {
        var out = originalHeaders
        out.append(KafkaHeader(Self.reasonHeader, string: reason))
        out.append(KafkaHeader(Self.categoryHeader, string: category))
        out.append(KafkaHeader(Self.originTopicHeader, string: originTopic))
        out.append(KafkaHeader(Self.originPartitionHeader, string: String(originPartition)))
        out.append(KafkaHeader(Self.originOffsetHeader, string: String(originOffset)))
        if let ts = originTimestampMillis { out.append(KafkaHeader(Self.originTimestampHeader, string: String(ts))) }
        out.append(KafkaHeader(Self.consumerGroupHeader, string: consumerGroup))
        out.append(KafkaHeader(Self.attemptsHeader, string: String(attempts)))
        out.append(KafkaHeader(Self.failedAtHeader, string: String(failedAtMicros)))
        return out
    }

    static func truncate(_ reason: String) -> String {
        guard reason.utf8.count > maxReasonBytes else { return reason }
        var out = ""
        var bytes = 0
        for ch in reason {
            let n = String(ch).utf8.count
            if bytes + n > maxReasonBytes - 3 { break }
            out.append(ch)
            bytes += n
        }
        return out + "…"
    }
}
