import Synchronization
import TMTBase
import TMTMetrics
import TMTModels

/// A Kafka consumer-group member that runs a handler for every message on a dedicated thread
/// and commits a message's offset only after its handler succeeded (or after the message was
/// safely dead-lettered): at-least-once delivery, never a silent drop.
///
/// - **Commits**: `enable.auto.commit` and `enable.auto.offset.store` are off. After a handler
///   returns, the message's next offset is marked done and committed synchronously in small
///   batches (`KafkaConsumerOptions.commitInterval` / `commitBatchSize`), on revocation and on
///   stop. A message whose handler has not returned successfully is never committed.
/// - **Failures**: a transient error (anything not below) is retried per
///   `KafkaConsumerOptions.retry`; a decoding error (`TMTError.Code.decoding`, `DecodingError`)
///   or a `KafkaPermanentFailure` goes straight to the DLQ. A DLQ record is waited for
///   (delivery report) before the offset is committed; if the DLQ cannot be written, the
///   consumer keeps trying and does not move on. See `KafkaDeadLetter` for the record format.
/// - **Rebalances**: handlers run on the same thread that polls, so when librdkafka revokes
///   partitions no handler is mid-message; the revoke callback commits what is done for those
///   partitions before they are unassigned, so the next owner starts right after it. Assigned
///   partitions are simply assigned (eager or cooperative protocol alike).
/// - **Stop**: `stop()` lets the current handler finish (if it fails now, the message is left
///   uncommitted for redelivery instead of retried), commits, leaves the group
///   (`rd_kafka_consumer_close`) and destroys the handle.
///
/// Metrics: `tmt_kafka_messages_consumed_total{topic}`, `tmt_kafka_handler_failures_total{topic,category}`,
/// `tmt_kafka_dlq_total{topic,reason}`, `tmt_kafka_consumer_lag{topic,partition,group}` (high
/// watermark minus the next offset to process, refreshed every `lagRefreshInterval`),
/// `tmt_kafka_commit_errors_total{group}`.
public final class KafkaConsumer: Sendable {
    /// The consumer group.
    public let groupId: String
    /// The subscribed topics.
    public let topics: [String]
    private let state: ConsumerState

    /// Creates the consumer (it joins the group only on `start`). `deadLetterProducer` writes
    /// DLQ records; when `nil` the consumer creates (and closes) one of its own from
    /// `configuration`. Throws `TMTError(.configuration)` naming a bad setting.
    public init(configuration: KafkaConfiguration, groupId: String, topics: [String],
                options: KafkaConsumerOptions = KafkaConsumerOptions(), deadLetterProducer: KafkaProducer? = nil,
                metrics: MetricsRegistry = .shared, logger: Logger = Logger(service: "kafka")) throws {
        guard !groupId.isEmpty else { throw TMTError(.configuration, "Kafka consumer needs a group id") }
        guard !topics.isEmpty else { throw TMTError(.configuration, "Kafka consumer in group \(groupId) needs at least one topic") }
        try configuration.validate()
        self.groupId = groupId
        self.topics = topics
        let log = logger.with("component", "kafka-consumer").with("group", groupId)
        let client = try RDKafkaClient.consumer(settings: configuration.consumerSettings(groupId: groupId), logger: log)
        let dlq: KafkaProducer
        let ownsDLQ: Bool
        if let deadLetterProducer {
            dlq = deadLetterProducer
            ownsDLQ = false
        } else {
            dlq = try KafkaProducer(configuration: configuration, metrics: metrics, logger: logger)
            ownsDLQ = true
        }
        state = ConsumerState(client: client, groupId: groupId, topics: topics, options: options,
                              startAtEarliest: configuration.autoOffsetReset == "earliest",
                              deadLetterProducer: dlq, ownsDeadLetterProducer: ownsDLQ, metrics: metrics, logger: log)
    }

    deinit {
        state.stop(timeout: 30)
    }

    /// Subscribes and starts consuming on a dedicated thread, calling `handler` for each message
    /// in partition order. Returns at once. Throws if already started or stopped, or if the
    /// subscription is refused.
    ///
    /// The handler runs on the consumer thread only, one message at a time; it may block
    /// (database writes, waiting for a `KafkaDelivery`). Return normally when the message's
    /// effect is durable; throw to retry (or see `KafkaPermanentFailure`).
    public func start(handler: @escaping @Sendable (KafkaMessage) throws -> Void) throws {
        try state.start(handler: handler)
    }

    /// Stops gracefully (see the type's notes) and waits up to `timeout` seconds for it.
    /// Returns false if the current handler did not finish in time (the consumer then stops
    /// once it does). Idempotent. Called from inside a handler it only requests the stop.
    @discardableResult
    public func stop(timeout: Double = 30) -> Bool {
        state.stop(timeout: timeout)
    }

    /// Sets what runs when partitions are taken from this member: in a rebalance, and when it
    /// stops (it leaves its group then), on the consumer thread, after the last message's handler
    /// and before the member gives them up, so that another member taking them over finds what
    /// this one saves for them. `lost` is true when the member lost them without a rebalance
    /// (another member may own them already: nothing should be saved for them then, as no offset
    /// is committed for them). Set it before `start`.
    public func onRevoke(_ handler: @escaping @Sendable (_ partitions: [KafkaTopicPartition], _ lost: Bool) -> Void) {
        state.revokeHandler.withLock { $0 = handler }
    }

    /// Whether `stop()` has been called; a long-running handler may check it to give up early.
    public var isStopRequested: Bool { state.isStopRequested }

    /// The partitions currently assigned to this member.
    public var assignment: Set<KafkaTopicPartition> { state.assignedPartitions }

    /// The lag per assigned partition as last computed (also exported as
    /// `tmt_kafka_consumer_lag`).
    public var lag: [KafkaTopicPartition: Int64] { state.lagSnapshot }

    /// Whether the member has partitions and has processed everything they held at the last lag
    /// check: a reader that replays a topic at start has caught up.
    public var hasCaughtUp: Bool {
        let assigned = assignment
        let lag = self.lag
        return !assigned.isEmpty && assigned.allSatisfy { lag[$0] == 0 }
    }

    /// Waits until `hasCaughtUp`, a stop is requested or `timeout` seconds pass; whether it caught up.
    public func waitUntilCaughtUp(timeout: Double) -> Bool {
        let began = Date()
        while !hasCaughtUp, !isStopRequested, Date().timeIntervalSince(began) < timeout { usleep(50_000) }
        return hasCaughtUp
    }
}

/// Shared by the public object and the consumer and lag threads, so that the public object can
/// be released (and stop on deinit) while they run.
private final class ConsumerState: Sendable {
    private enum Phase { case idle, running, stopped }
    private enum Outcome { case completed, abandoned }

    let client: RDKafkaClient
    let groupId: String
    let topics: [String]
    let options: KafkaConsumerOptions
    let startAtEarliest: Bool
    let deadLetterProducer: KafkaProducer
    let ownsDeadLetterProducer: Bool
    let logger: Logger

    private let phase = Locked<Phase>(.idle)
    private let stopFlag = Atomic<Bool>(false)
    private let finished = DispatchGroup()
    private let lagWake = DispatchSemaphore(value: 0)
    private let lagStopped = DispatchGroup()
    private let consumerThread = Locked<UInt?>(nil)
    /// Called with the partitions taken from this member (see `KafkaConsumer.onRevoke`).
    let revokeHandler = Locked<(@Sendable ([KafkaTopicPartition], Bool) -> Void)?>(nil)

    /// Next offset to commit per partition: processed but not yet committed. Consumer thread only.
    private let uncommitted = Locked<[KafkaTopicPartition: Int64]>([:])
    /// Next offset to process per partition, for the lag.
    private let progress = Locked<[KafkaTopicPartition: Int64]>([:])
    /// Assigned partitions; also guards adding and removing their lag gauges.
    private let assigned = Locked<Set<KafkaTopicPartition>>([])
    private let lagValues = Locked<[KafkaTopicPartition: Int64]>([:])

    private let consumed: CounterFamily
    private let handlerFailures: CounterFamily
    private let deadLettered: CounterFamily
    private let lagGauge: GaugeFamily
    private let commitErrors: CounterFamily
    private let clientErrors: CounterFamily

    init(client: RDKafkaClient, groupId: String, topics: [String], options: KafkaConsumerOptions, startAtEarliest: Bool,
         deadLetterProducer: KafkaProducer, ownsDeadLetterProducer: Bool, metrics: MetricsRegistry, logger: Logger) {
        self.client = client
        self.groupId = groupId
        self.topics = topics
        self.options = options
        self.startAtEarliest = startAtEarliest
        self.deadLetterProducer = deadLetterProducer
        self.ownsDeadLetterProducer = ownsDeadLetterProducer
        self.logger = logger
        consumed = metrics.counter("tmt_kafka_messages_consumed_total", help: "Messages handed to a consumer's handler, by topic.",
                                   labels: ["topic"])
        handlerFailures = metrics.counter("tmt_kafka_handler_failures_total",
                                          help: "Handler attempts that threw, by topic and failure category.", labels: ["topic", "category"])
        deadLettered = metrics.counter("tmt_kafka_dlq_total", help: "Messages written to the dead-letter topic, by origin topic and reason.",
                                       labels: ["topic", "reason"])
        lagGauge = metrics.gauge("tmt_kafka_consumer_lag",
                                 help: "Messages in an assigned partition not yet processed: high watermark minus next offset to process.",
                                 labels: ["topic", "partition", "group"])
        commitErrors = metrics.counter("tmt_kafka_commit_errors_total", help: "Failed offset commits, by group.", labels: ["group"])
        clientErrors = metrics.counter("tmt_kafka_client_errors_total",
                                       help: "Errors librdkafka reported outside a single record (e.g. broker down), by role and error.",
                                       labels: ["role", "error"])
    }

    var isStopRequested: Bool { stopFlag.load(ordering: .acquiring) }
    var assignedPartitions: Set<KafkaTopicPartition> { assigned.withLock { $0 } }
    var lagSnapshot: [KafkaTopicPartition: Int64] { lagValues.withLock { $0 } }

    // MARK: - Lifecycle

    func start(handler: @escaping @Sendable (KafkaMessage) throws -> Void) throws {
        try phase.withLock { p in
            guard p == .idle else { throw TMTError(.invalidArgument, "Kafka consumer in group \(groupId) was already started or stopped") }
            client.setRebalanceHandler { [weak self] event in self?.rebalanced(event) }
            try client.subscribe(topics)
            p = .running
            // Inside the lock, so a concurrent stop() always finds something to wait for.
            finished.enter()
            lagStopped.enter()
        }
        TMTThread.detach(name: "kafka-consumer-\(groupId)") { [self] in
            consumerThread.withLock { $0 = TMTThread.currentID }
            run(handler)
            finished.leave()
        }
        TMTThread.detach(name: "kafka-lag-\(groupId)") { [self] in
            while !isStopRequested {
                refreshLag()
                _ = lagWake.wait(timeout: .now() + max(0.01, options.lagRefreshInterval))
            }
            lagStopped.leave()
        }
        logger.info("Kafka consumer started", ["topics": topics.joined(separator: ",")])
    }

    @discardableResult
    func stop(timeout: Double) -> Bool {
        stopFlag.store(true, ordering: .releasing)
        let previous = phase.withLock { p -> Phase in
            defer { p = .stopped }
            return p
        }
        if previous == .idle {
            // Never joined a group: nothing to commit or leave.
            client.destroy()
            if ownsDeadLetterProducer { deadLetterProducer.close() }
            return true
        }
        lagWake.signal()
        // From inside a handler: the consumer thread finishes by itself once the handler returns.
        if consumerThread.withLock({ $0 }) == TMTThread.currentID { return false }
        let done = finished.wait(timeout: .now() + max(0, timeout)) == .success
        if !done { logger.error("Kafka consumer did not stop in time; its handler is still running", ["waited_s": String(timeout)]) }
        return done
    }

    // MARK: - Consumer thread

    private func run(_ handler: @Sendable (KafkaMessage) throws -> Void) {
        let pollMs = Int32(clamping: Int((max(0, options.pollTimeout) * 1000).rounded()))
        var lastCommit = Monotonic.nanos()
        // The counter of each topic, looked up once (a family lookup per message hashes the label
        // values under the family's lock).
        var consumedCounters: [String: Counter] = [:]
        // Messages completed since the last commit. (This compared the number of *partitions*
        // with uncommitted offsets with `commitBatchSize`, so only the interval ever committed.)
        var completedSinceCommit = 0
        while !isStopRequested {
            let partitions = uncommitted.withLock { $0.count }
            if partitions > 0, completedSinceCommit >= options.commitBatchSize || Monotonic.secondsSince(lastCommit) >= options.commitInterval {
                commitUncommitted()
                lastCommit = Monotonic.nanos()
                completedSinceCommit = 0
            }
            guard let event = client.consumerPoll(timeoutMs: pollMs) else { continue }
            switch event {
            case .error(let name, let text, let fatal):
                clientErrors.labels("consumer", name).inc()
                if fatal {
                    logger.critical("Kafka consumer fatal error; stopping", ["error": name, "detail": text])
                    stopFlag.store(true, ordering: .releasing)
                } else {
                    logger.warning("Kafka consumer error", ["error": name, "detail": text])
                }
            case .message(let message):
                if let counter = consumedCounters[message.topic] {
                    counter.inc()
                } else {
                    let counter = consumed.labels(message.topic)
                    consumedCounters[message.topic] = counter
                    counter.inc()
                }
                switch process(message, handler) {
                case .completed:
                    let tp = message.topicPartition
                    uncommitted.withLock { $0[tp] = message.offset + 1 }
                    progress.withLock { $0[tp] = message.offset + 1 }
                    completedSinceCommit += 1
                    if options.commitBatchSize == 1 {
                        commitUncommitted()
                        lastCommit = Monotonic.nanos()
                        completedSinceCommit = 0
                    }
                case .abandoned:
                    logger.notice("Kafka consumer stopping with a message unfinished; it will be redelivered",
                                  ["topic": message.topic, "partition": String(message.partition), "offset": String(message.offset)])
                }
            }
        }
        commitUncommitted()
        // Leaves the group; the revoke callback runs here and finds nothing left to commit.
        if let err = client.consumerClose() { logger.warning("Kafka consumer close", ["detail": err]) }
        lagWake.signal()
        lagStopped.wait()
        client.destroy()
        if ownsDeadLetterProducer { deadLetterProducer.close() }
        let stale = assigned.withLock { a -> Set<KafkaTopicPartition> in
            let all = a
            a.removeAll()
            return all
        }
        for tp in stale { lagGauge.remove([tp.topic, String(tp.partition), groupId]) }
        logger.info("Kafka consumer stopped")
    }

    /// Runs the handler with retries; dead-letters what cannot succeed.
    private func process(_ message: KafkaMessage, _ handler: @Sendable (KafkaMessage) throws -> Void) -> Outcome {
        var attempt = 1
        while true {
            do {
                try handler(message)
                return .completed
            } catch {
                let failure = KafkaPermanentFailure.classify(error)
                handlerFailures.labels(message.topic, failure.category).inc()
                let fields: KeyValuePairs<String, String> = [
                    "topic": message.topic, "partition": String(message.partition), "offset": String(message.offset),
                    "attempt": String(attempt), "category": failure.category, "reason": failure.reason,
                ]
                if failure.permanent {
                    return deadLetter(message, category: failure.category, reason: failure.reason, attempts: attempt)
                }
                if isStopRequested { return .abandoned }
                if attempt >= options.retry.maxAttempts {
                    logger.error("Kafka handler failed on every attempt; dead-lettering", fields)
                    return deadLetter(message, category: failure.category, reason: failure.reason, attempts: attempt)
                }
                logger.warning("Kafka handler failed; retrying", fields)
                if !sleep(options.retry.backoff(afterAttempt: attempt)) { return .abandoned }
                attempt += 1
            }
        }
    }

    /// Writes the dead letter and waits for its delivery report; retries until that works or a
    /// stop is requested (the message is then left uncommitted, never dropped).
    private func deadLetter(_ message: KafkaMessage, category: String, reason: String, attempts: Int) -> Outcome {
        let letter = KafkaDeadLetter(message: message, category: category, reason: reason, consumerGroup: groupId, attempts: attempts)
        var failures = 0
        while true {
            do {
                let report = try deadLetterProducer.send(topic: options.deadLetterTopic, key: letter.key, value: letter.value,
                                                         headers: letter.headers).wait(timeout: options.deadLetterTimeout)
                deadLettered.labels(message.topic, category).inc()
                logger.error("Kafka message dead-lettered", [
                    "topic": message.topic, "partition": String(message.partition), "offset": String(message.offset),
                    "category": category, "reason": letter.reason, "dlq_partition": String(report.partition),
                ])
                return .completed
            } catch {
                failures += 1
                logger.error("cannot write to the dead-letter topic; retrying", [
                    "topic": message.topic, "offset": String(message.offset), "dlq": options.deadLetterTopic, "detail": "\(error)",
                ])
                if isStopRequested { return .abandoned }
                if !sleep(options.retry.backoff(afterAttempt: failures + 1)) { return .abandoned }
            }
        }
    }

    /// Sleeps, waking early for a stop. Returns false when a stop was requested.
    private func sleep(_ seconds: Double) -> Bool {
        let end = Monotonic.nanos() &+ UInt64(max(0, seconds) * 1e9)
        while Monotonic.nanos() < end {
            if isStopRequested { return false }
            usleep(UInt32(min(10_000, max(1, (end &- Monotonic.nanos()) / 1000))))
        }
        return !isStopRequested
    }

    private func commitUncommitted() {
        let offsets = uncommitted.withLock { u -> [KafkaTopicPartition: Int64] in
            let all = u
            u.removeAll()
            return all
        }
        guard !offsets.isEmpty else { return }
        if let err = client.commit(offsets) {
            commitErrors.labels(groupId).inc()
            logger.warning("Kafka offset commit failed; will retry", ["detail": err])
            // Keep them for the next try, but only for partitions still ours.
            let mine = assigned.withLock { $0 }
            uncommitted.withLock { u in
                for (tp, off) in offsets where mine.contains(tp) { u[tp] = max(u[tp] ?? off, off) }
            }
        }
    }

    /// Runs on the consumer thread, inside `consumerPoll` or `consumerClose`.
    private func rebalanced(_ event: RDKafkaRebalance) {
        switch event {
        case .assigned(let tps):
            assigned.withLock { $0.formUnion(tps) }
            logger.info("Kafka partitions assigned", ["partitions": tps.map(\.description).sorted().joined(separator: ",")])
            lagWake.signal()
        case .revoked(let tps, let lost):
            let revoked = Set(tps)
            if let handler = revokeHandler.withLock({ $0 }) { handler(tps, lost) }
            let offsets = uncommitted.withLock { u -> [KafkaTopicPartition: Int64] in
                let mine = u.filter { revoked.contains($0.key) }
                for tp in revoked { u.removeValue(forKey: tp) }
                return mine
            }
            if lost {
                // Another member may own them already; committing could move its offsets back.
                if !offsets.isEmpty { logger.warning("Kafka partitions lost before commit; they will be redelivered", ["count": String(offsets.count)]) }
            } else if let err = client.commit(offsets) {
                commitErrors.labels(groupId).inc()
                logger.warning("Kafka commit on revoke failed; the next owner will redo those messages", ["detail": err])
            }
            progress.withLock { p in for tp in revoked { p.removeValue(forKey: tp) } }
            lagValues.withLock { l in for tp in revoked { l.removeValue(forKey: tp) } }
            assigned.withLock { a in
                for tp in revoked {
                    a.remove(tp)
                    lagGauge.remove([tp.topic, String(tp.partition), groupId])
                }
            }
            logger.info("Kafka partitions revoked", ["partitions": tps.map(\.description).sorted().joined(separator: ","),
                                                     "lost": String(lost)])
        }
    }

    // MARK: - Lag thread

    private func refreshLag() {
        let partitions = assigned.withLock { $0 }
        guard !partitions.isEmpty else { return }
        let timeoutMs = Int32(clamping: Int(options.brokerQueryTimeout * 1000))
        let known = progress.withLock { $0 }
        let unknown = partitions.filter { known[$0] == nil }
        let committed = unknown.isEmpty ? [:] : client.committed(Array(unknown), timeoutMs: timeoutMs)
        for tp in partitions {
            if isStopRequested { return }
            guard let marks = client.watermarks(tp, timeoutMs: timeoutMs) else { continue }
            // Progress may have moved while the broker answered; the newest value is the truest.
            let next = progress.withLock { $0[tp] } ?? committed[tp] ?? (startAtEarliest ? marks.low : marks.high)
            let lag = max(0, marks.high - next)
            assigned.withLock { a in
                guard a.contains(tp) else { return }
                lagGauge.labels(tp.topic, String(tp.partition), groupId).set(Double(lag))
                lagValues.withLock { $0[tp] = lag }
            }
        }
    }
}
