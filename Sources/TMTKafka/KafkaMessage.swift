import TMTBase

/// A record as a consumer received it.
public struct KafkaMessage: Sendable, Equatable {
    /// The topic it was read from.
    public var topic: String
    /// The partition it was read from.
    public var partition: Int32
    /// Its offset in that partition.
    public var offset: Int64
    /// The key, `nil` when the record has none.
    public var key: [UInt8]?
    /// The value; empty for a record with a null value.
    public var value: [UInt8]
    /// Headers in record order.
    public var headers: [KafkaHeader]
    /// The record timestamp in milliseconds since the Unix epoch (create time, or log-append time
    /// when the topic is configured so), `nil` when the broker did not supply one.
    public var timestampMillis: Int64?

    /// A message with every field given (consumers build these; tests and replays may too).
    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
                headers: [KafkaHeader] = [], timestampMillis: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMillis = timestampMillis
    }

    /// The key decoded as UTF-8.
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    /// The value decoded as UTF-8.
    public var valueString: String { String(decoding: value, as: UTF8.self) }
    /// The record timestamp as a `Date`.
    public var timestamp: Date? { timestampMillis.map { Date(timeIntervalSince1970: Double($0) / 1000) } }
    /// Topic and partition together.
    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }
}
