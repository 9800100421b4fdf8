import Synchronization
import TMTBase
import TMTMetrics
import TMTModels

/// An idempotent Kafka producer (`enable.idempotence=true`, `acks=all`): keyed records with
/// headers, enqueued without blocking, with delivery reports served on a dedicated thread.
///
/// `send` returns a `KafkaDelivery` that completes when the broker has stored the record; wait
/// on it when a later step depends on durability (the pipeline's "produce the result, then
/// commit the input offset"), or drop it for fire-and-forget records. Either way every outcome
/// is counted: `tmt_kafka_messages_produced_total{topic}`,
/// `tmt_kafka_produce_errors_total{topic,error}` (and logged),
/// `tmt_kafka_delivery_duration_seconds{topic}`.
///
/// Thread-safe. `close()` (also run on deinit) flushes what is outstanding first.
public final class KafkaProducer: Sendable {
    private let state: ProducerState

    /// Creates the producer and starts its delivery-report thread. Throws
    /// `TMTError(.configuration)` naming a bad setting.
    public init(configuration: KafkaConfiguration, metrics: MetricsRegistry = .shared,
                logger: Logger = Logger(service: "kafka")) throws {
        try configuration.validate()
        let log = logger.with("component", "kafka-producer")
        let client = try RDKafkaClient.producer(settings: configuration.producerSettings(), logger: log)
        state = ProducerState(client: client, enqueueTimeout: configuration.enqueueTimeout, metrics: metrics, logger: log)
        state.startPolling()
    }

    deinit {
        state.close(timeout: 30)
    }

    /// Enqueues a record for `topic` and returns at once (unless the local queue is full, when it
    /// waits up to `KafkaConfiguration.enqueueTimeout` for room). Records with the same key go to
    /// the same partition, in order.
    ///
    /// Throws `TMTError(.timeout)` when the queue stays full, `TMTError(.closed)` after `close()`,
    /// `TMTError(.kafka)` when librdkafka refuses the record (e.g. too large) or the producer
    /// hit a fatal error.
    @discardableResult
    public func send(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) throws -> KafkaDelivery {
        try state.send(topic: topic, key: key, value: value, headers: headers)
    }

    /// `send` with a UTF-8 string key. (Not optional, so `key: nil` stays unambiguous.)
    @discardableResult
    public func send(topic: String, key: String, value: [UInt8], headers: [KafkaHeader] = []) throws -> KafkaDelivery {
        try state.send(topic: topic, key: Array(key.utf8), value: value, headers: headers)
    }

    /// `send` to a pipeline topic with a UTF-8 string key.
    @discardableResult
    public func send(topic: Topic, key: String?, value: [UInt8], headers: [KafkaHeader] = []) throws -> KafkaDelivery {
        try state.send(topic: topic.name, key: key.map { Array($0.utf8) }, value: value, headers: headers)
    }

    /// Encodes `envelope` with `EnvelopeCoding` and sends it to `topic` under `key`.
    @discardableResult
    public func send<P>(_ envelope: Envelope<P>, to topic: Topic, key: String?, headers: [KafkaHeader] = []) throws -> KafkaDelivery {
        try state.send(topic: topic.name, key: key.map { Array($0.utf8) }, value: EnvelopeCoding.encode(envelope), headers: headers)
    }

    /// Learns the partitions and leaders of `topics` now, waiting up to `timeout` seconds in all,
    /// so the first record sent to each is not held until librdkafka's next one-second
    /// topic scan (up to a second per topic and per hop otherwise, measured on a fresh service).
    /// Call once after creating the producer with the topics it will write. A topic whose
    /// metadata does not arrive is logged and otherwise harmless: its first record is just slower.
    /// Returns the topics that could not be prepared.
    @discardableResult
    public func prepare(topics: [String], timeout: Double = 5) -> [String] {
        let failed = state.prepare(topics, timeoutMs: Int32(max(0, min(timeout, 60)) * 1000))
        for f in failed {
            state.logger.warning("Kafka topic metadata not available yet; its first record may wait for the next metadata scan",
                                 ["topic": f.topic, "error": f.error])
        }
        return failed.map(\.topic)
    }

    /// Sends and blocks until the broker has stored the record, at most `timeout` seconds.
    /// For dedicated threads only (never Swift's cooperative pool).
    @discardableResult
    public func sendAndWait(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [],
                            timeout: Double = 30) throws -> KafkaDeliveryReport {
        try send(topic: topic, key: key, value: value, headers: headers).wait(timeout: timeout)
    }

    /// Blocks until every record sent so far has a delivery report, at most `timeout` seconds
    /// (lingering is skipped meanwhile). Throws `TMTError(.timeout)` naming how many are left.
    public func flush(timeout: Double) throws {
        try state.flush(timeout: timeout)
    }

    /// Records sent whose delivery report has not arrived yet.
    public var outstanding: Int { state.outstanding }

    /// Records of `topic` the broker has acknowledged so far (`tmt_kafka_messages_produced_total`
    /// on this producer's registry).
    public func acknowledged(topic: String) -> Double { state.produced.labels(topic).value }

    /// Stops accepting records, flushes the outstanding ones for up to `timeout` seconds, stops
    /// the delivery thread and destroys the handle. Records still undelivered then are failed
    /// (their `KafkaDelivery` throws `TMTError(.closed)`), counted and logged. Idempotent.
    public func close(timeout: Double = 30) {
        state.close(timeout: timeout)
    }
}

/// The producer's shared state: referenced by the public object and its poll thread, so the
/// public object can be released (and close on deinit) while the thread still runs.
private final class ProducerState: Sendable {
    private struct Pending {
        let delivery: KafkaDelivery
        let topic: String
        let startNanos: UInt64
    }

    private enum Phase: Int { case open = 0, closing = 1, closed = 2 }

    let client: RDKafkaClient
    private let enqueueTimeout: Double
    let logger: Logger
    private let pending = Locked<[UInt64: Pending]>([:])
    private let nextId = Atomic<UInt64>(1)
    private let phase = Atomic<Int>(Phase.open.rawValue)
    /// Sends between their phase check and their return, so `close` never destroys the handle
    /// under one.
    private let sendsInFlight = Atomic<Int>(0)
    private let fatalError = Locked<TMTError?>(nil)
    private let stopPolling = Atomic<Bool>(false)
    private let pollStopped = DispatchSemaphore(value: 0)
    private let closeLock = Locked<Void>(())

    let produced: CounterFamily
    private let produceErrors: CounterFamily
    private let deliveryDuration: HistogramFamily
    private let clientErrors: CounterFamily

    init(client: RDKafkaClient, enqueueTimeout: Double, metrics: MetricsRegistry, logger: Logger) {
        self.client = client
        self.enqueueTimeout = enqueueTimeout
        self.logger = logger
        produced = metrics.counter("tmt_kafka_messages_produced_total", help: "Records the broker acknowledged, by topic.", labels: ["topic"])
        produceErrors = metrics.counter("tmt_kafka_produce_errors_total",
                                        help: "Records that could not be enqueued or delivered, by topic and librdkafka error.",
                                        labels: ["topic", "error"])
        deliveryDuration = metrics.histogram("tmt_kafka_delivery_duration_seconds",
                                             help: "Time from send to the broker's acknowledgement, by topic.", labels: ["topic"])
        clientErrors = metrics.counter("tmt_kafka_client_errors_total",
                                       help: "Errors librdkafka reported outside a single record (e.g. broker down), by role and error.",
                                       labels: ["role", "error"])
    }

    func startPolling() {
        TMTThread.detach(name: "kafka-producer-poll") { [self] in
            while !stopPolling.load(ordering: .acquiring) {
                serve(timeoutMs: 100)
            }
            while serve(timeoutMs: 0) {}
            pollStopped.signal()
        }
    }

    @discardableResult
    private func serve(timeoutMs: Int32) -> Bool {
        client.pollEvents(timeoutMs: timeoutMs, deliveries: { results in
            for r in results { complete(r) }
        }, errors: { name, text, fatal in
            clientErrors.labels("producer", name).inc()
            if fatal {
                fatalError.withLock { $0 = TMTError(.kafka, "Kafka producer fatal error: \(text)") }
                logger.critical("Kafka producer fatal error; every send now fails", ["error": name, "detail": text])
            } else {
                logger.warning("Kafka producer error", ["error": name, "detail": text])
            }
        })
    }

    private func complete(_ r: RDKafkaDeliveryResult) {
        guard let p = pending.withLock({ $0.removeValue(forKey: r.opaque) }) else {
            logger.error("Kafka delivery report for an unknown record", ["topic": r.topic, "opaque": String(r.opaque)])
            return
        }
        if let error = r.error {
            produceErrors.labels(r.topic, error.name).inc()
            logger.error("Kafka delivery failed", ["topic": r.topic, "error": error.name, "detail": error.text])
            p.delivery.complete(.failure(TMTError(.kafka, "delivery to \(r.topic) failed: \(error.text)")))
        } else {
            produced.labels(r.topic).inc()
            deliveryDuration.labels(r.topic).observeSince(p.startNanos)
            p.delivery.complete(.success(KafkaDeliveryReport(topic: r.topic, partition: r.partition, offset: r.offset)))
        }
    }

    func send(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader]) throws -> KafkaDelivery {
        sendsInFlight.add(1, ordering: .sequentiallyConsistent)
        defer { sendsInFlight.subtract(1, ordering: .sequentiallyConsistent) }
        guard phase.load(ordering: .sequentiallyConsistent) == Phase.open.rawValue else {
            throw TMTError(.closed, "Kafka producer is closed; cannot send to \(topic)")
        }
        if let fatal = fatalError.withLock({ $0 }) { throw fatal }
        let id = nextId.add(1, ordering: .relaxed).oldValue
        let delivery = KafkaDelivery()
        let start = Monotonic.nanos()
        pending.withLock { $0[id] = Pending(delivery: delivery, topic: topic, startNanos: start) }
        let deadline = start &+ UInt64(enqueueTimeout * 1e9)
        while true {
            switch client.produce(topic: topic, key: key, value: value, headers: headers, opaque: id) {
            case .enqueued:
                return delivery
            case .queueFull:
                // The poll thread drains the queue as reports arrive; wait for room, bounded.
                if Monotonic.nanos() >= deadline {
                    _ = pending.withLock { $0.removeValue(forKey: id) }
                    produceErrors.labels(topic, "queue_full").inc()
                    logger.error("Kafka producer queue full", ["topic": topic, "waited_s": String(enqueueTimeout)])
                    throw TMTError(.timeout, "Kafka producer queue still full after \(enqueueTimeout) s; cannot send to \(topic)")
                }
                usleep(1000)
            case .failed(let name, let text):
                _ = pending.withLock { $0.removeValue(forKey: id) }
                produceErrors.labels(topic, name).inc()
                logger.error("Kafka produce refused", ["topic": topic, "error": name, "detail": text])
                throw TMTError(.kafka, "cannot send to \(topic): \(text)")
            }
        }
    }

    var outstanding: Int { pending.withLock { $0.count } }

    /// `RDKafkaClient.prepareTopics`, counted like a send so `close` never destroys the handle
    /// under it; every topic fails once the producer is closing.
    func prepare(_ topics: [String], timeoutMs: Int32) -> [(topic: String, error: String)] {
        sendsInFlight.add(1, ordering: .sequentiallyConsistent)
        defer { sendsInFlight.subtract(1, ordering: .sequentiallyConsistent) }
        guard phase.load(ordering: .sequentiallyConsistent) == Phase.open.rawValue else { return topics.map { ($0, "producer closed") } }
        return client.prepareTopics(topics, timeoutMs: timeoutMs)
    }

    func flush(timeout: Double) throws {
        guard phase.load(ordering: .sequentiallyConsistent) != Phase.closed.rawValue else { return }
        if !client.flush(timeoutMs: Self.millis(timeout)) {
            throw TMTError(.timeout, "Kafka producer flush: \(outstanding) records still undelivered after \(timeout) s")
        }
    }

    func close(timeout: Double) {
        closeLock.withLock { _ in
            guard phase.load(ordering: .sequentiallyConsistent) == Phase.open.rawValue else { return }
            phase.store(Phase.closing.rawValue, ordering: .sequentiallyConsistent)
            while sendsInFlight.load(ordering: .sequentiallyConsistent) > 0 { usleep(100) }
            if !client.flush(timeoutMs: Self.millis(timeout)) {
                logger.error("Kafka producer closing with undelivered records", ["count": String(outstanding), "waited_s": String(timeout)])
            }
            stopPolling.store(true, ordering: .releasing)
            pollStopped.wait()
            let leftovers = pending.withLock { p -> [UInt64: Pending] in
                let all = p
                p.removeAll()
                return all
            }
            for (_, p) in leftovers {
                produceErrors.labels(p.topic, "closed_undelivered").inc()
                p.delivery.complete(.failure(TMTError(.closed, "Kafka producer closed before the record to \(p.topic) was delivered")))
            }
            client.destroy()
            phase.store(Phase.closed.rawValue, ordering: .sequentiallyConsistent)
        }
    }

    private static func millis(_ seconds: Double) -> Int32 {
        Int32(clamping: Int((max(0, seconds) * 1000).rounded(.up)))
    }
}
