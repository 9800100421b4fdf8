/// Where the broker stored a produced record: the confirmation that it is durable
/// (with `acks=all`, on every in-sync replica).
public struct KafkaDeliveryReport: Sendable, Equatable {
    /// The topic written to.
    public var topic: String
    /// The partition the record landed in.
    public var partition: Int32
    /// Its offset, `nil` when the broker did not return one (librdkafka may not know it for a
    /// record that an idempotent producer had to retry).
    public var offset: Int64?

    /// A report with every field given.
    public init(topic: String, partition: Int32, offset: Int64?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}
