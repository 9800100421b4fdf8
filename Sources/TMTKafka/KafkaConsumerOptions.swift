import TMTModels

/// How a `KafkaConsumer` handles failures, commits and lag. The librdkafka-level settings
/// (timeouts, fetch wait) are in `KafkaConfiguration`.
public struct KafkaConsumerOptions: Sendable, Equatable {
    /// Retries for a handler that throws a transient error. Default: 3 attempts, 0.1 s backoff
    /// doubling up to 2 s.
    public var retry: KafkaRetryPolicy
    /// Where messages go that cannot be processed. Default `dlq`.
    public var deadLetterTopic: String
    /// How long to wait for the DLQ record's delivery report before trying again, in seconds.
    /// Default 10. The input offset is committed only after that report.
    public var deadLetterTimeout: Double
    /// Offsets of processed messages are committed at least this often, in seconds. Default 0.1.
    /// After a crash at most this much work (or `commitBatchSize` messages) is redelivered.
    public var commitInterval: Double
    /// Offsets are committed as soon as this many processed messages are uncommitted.
    /// Default 1000 (each commit is a broker round trip the consumer thread waits for: at a
    /// 36k msgs/s burst that is ~36 commits a second, 10 more come from the interval); 1 commits
    /// after every message.
    public var commitBatchSize: Int
    /// How often `tmt_kafka_consumer_lag` is recomputed (broker round trips per assigned
    /// partition), in seconds. Default 5.
    public var lagRefreshInterval: Double
    /// Longest single wait for a message, in seconds; bounds how quickly `stop()` and interval
    /// commits are noticed while idle. Default 0.1.
    public var pollTimeout: Double
    /// Timeout for the broker queries behind the lag metric, in seconds. Default 5.
    public var brokerQueryTimeout: Double

    /// Options with the defaults described on each field.
    public init(retry: KafkaRetryPolicy = KafkaRetryPolicy(), deadLetterTopic: String = Topic.dlq.name,
                deadLetterTimeout: Double = 10, commitInterval: Double = 0.1, commitBatchSize: Int = 1000,
                lagRefreshInterval: Double = 5, pollTimeout: Double = 0.1, brokerQueryTimeout: Double = 5) {
        self.retry = retry
        self.deadLetterTopic = deadLetterTopic
        self.deadLetterTimeout = deadLetterTimeout
        self.commitInterval = commitInterval
        self.commitBatchSize = max(1, commitBatchSize)
        self.lagRefreshInterval = lagRefreshInterval
        self.pollTimeout = pollTimeout
        self.brokerQueryTimeout = brokerQueryTimeout
    }
}
