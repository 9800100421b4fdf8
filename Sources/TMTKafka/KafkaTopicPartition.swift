/// A partition of a topic: the unit of ordering, assignment, offsets and lag.
public struct KafkaTopicPartition: Sendable, Hashable, CustomStringConvertible {
    /// Topic name.
    public var topic: String
    /// Partition number, from 0.
    public var partition: Int32

    /// A topic and one of its partitions.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}
