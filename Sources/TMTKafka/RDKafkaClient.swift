import CRdKafka
import Synchronization
import TMTBase

/// A partition-assignment change, as the consumer's rebalance callback reports it.
enum RDKafkaRebalance: Sendable {
    /// Partitions newly assigned to this member.
    case assigned([KafkaTopicPartition])
    /// Partitions about to be taken away (not yet unassigned: commits still count).
    case revoked([KafkaTopicPartition], lost: Bool)
}

/// One delivery report from the producer's event queue.
struct RDKafkaDeliveryResult: Sendable {
    var opaque: UInt64
    var topic: String
    var partition: Int32
    var offset: Int64?
    /// `(name, text)` of the librdkafka error, `nil` when delivered.
    var error: (name: String, text: String)?
}

/// What `produce` did with a record.
enum RDKafkaProduceOutcome: Sendable {
    case enqueued
    /// The local queue is full; poll (or wait for the poll thread) and retry.
    case queueFull
    case failed(name: String, text: String)
}

/// What one `consumerPoll` returned.
enum RDKafkaConsumerEvent: Sendable {
    case message(KafkaMessage)
    case error(name: String, text: String, fatal: Bool)
}

/// State that librdkafka's C callbacks need. It crosses the C boundary once, as the
/// configuration opaque (`Unmanaged.passRetained`), and is released after `rd_kafka_destroy`
/// (or after a failed `rd_kafka_new`), when no callback can run any more.
final class RDKafkaClientContext: Sendable {
    let logger: Logger
    let rebalanceHandler = Locked<(@Sendable (RDKafkaRebalance) -> Void)?>(nil)
    /// A consumer whose `auto.offset.reset` is `latest`: its uncommitted partitions start at their
    /// end as of the assignment (see `RDKafkaClient.pinUncommittedToEnd`).
    let startsAtEnd: Bool

    init(logger: Logger, startsAtEnd: Bool = false) {
        self.logger = logger
        self.startsAtEnd = startsAtEnd
    }
}

/// The librdkafka handle (`rd_kafka_t`) and every call made on it. All C interop of the
/// producer and consumer lives here and in `RDKafkaConfig`; nothing else touches the pointers.
///
/// librdkafka handles are thread-safe; the owners (`KafkaProducer`, `KafkaConsumer`) make sure
/// `destroy()` runs only after their poll threads have stopped.
final class RDKafkaClient: @unchecked Sendable {
    enum Role: Sendable { case producer, consumer }

    let role: Role
    private let handle: OpaquePointer
    private let context: Unmanaged<RDKafkaClientContext>
    /// The producer's main queue, where delivery reports and errors arrive as events.
    private let mainQueue: OpaquePointer?
    private let destroyed = Atomic<Bool>(false)
    /// Topic handles held by `prepareTopics` so their metadata stays known (destroyed with the client).
    private let preparedTopics = Locked<[String: OpaquePointer]>([:])
    /// The name of the last message's topic `consumerPoll` returned: a consumer reads one topic or
    /// a few, and making a `String` of the C name for every message (UTF-8 validated) was a
    /// measurable share of a tick consumer's time; comparing the bytes is cheaper. Only the
    /// consumer's thread touches it.
    private var lastTopic = ""

    // MARK: - Creation

    /// A producer whose delivery reports and errors are served by `pollEvents`.
    static func producer(settings: [(String, String)], logger: Logger) throws -> RDKafkaClient {
        let config = try RDKafkaConfig(settings)
        config.enableEvents(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR)
        return try RDKafkaClient(role: .producer, config: config, context: RDKafkaClientContext(logger: logger))
    }

    /// A consumer (group membership, fetching) served by `consumerPoll`. Its rebalance callback
    /// runs inside `consumerPoll` and `consumerClose`, on the caller's thread.
    static func consumer(settings: [(String, String)], logger: Logger) throws -> RDKafkaClient {
        let config = try RDKafkaConfig(settings)
        let startsAtEnd = settings.last { $0.0 == "auto.offset.reset" }?.1 == "latest"
        return try RDKafkaClient(role: .consumer, config: config, context: RDKafkaClientContext(logger: logger, startsAtEnd: startsAtEnd))
    }

    private init(role: Role, config: RDKafkaConfig, context: RDKafkaClientContext) throws {
        guard let conf = config.pointer else { preconditionFailure("configuration already used") }
        self.role = role
        let ctx = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, ctx.toOpaque())
        // Called on librdkafka's own threads; the logger is thread-safe.
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, text in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let ctx = Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
            ctx.logger.log(RDKafkaClient.logLevel(syslog: level), text.map { String(cString: $0) } ?? "",
                           ["component": "librdkafka", "facility": facility.map { String(cString: $0) } ?? ""])
        }
        if role == .consumer {
            rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
                guard let opaque else { return }
                let ctx = Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
                let code = rd_kafka_resp_err_t(rawValue: err)
                let fatal = code == RD_KAFKA_RESP_ERR__FATAL
                ctx.logger.log(fatal ? .critical : .warning, "Kafka consumer error: \(reason.map { String(cString: $0) } ?? "")",
                               ["error": RDKafkaClient.errorName(code)])
            }
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let rk, let opaque else { return }
                let ctx = Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
                RDKafkaClient.rebalance(rk: rk, err: err, partitions: partitions, context: ctx)
            }
        }
        var errbuf = [CChar](repeating: 0, count: 512)
        let type = role == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        guard let rk = rd_kafka_new(type, conf, &errbuf, errbuf.count) else {
            // rd_kafka_new frees the configuration only on success; `config`'s deinit frees it here.
            ctx.release()
            throw TMTError(.configuration, "cannot create Kafka \(role == .producer ? "producer" : "consumer"): \(String(cBuffer: errbuf))")
        }
        config.relinquish()
        handle = rk
        self.context = ctx
        if role == .consumer {
            // Rebalances and errors are then served by rd_kafka_consumer_poll.
            rd_kafka_poll_set_consumer(rk)
            mainQueue = nil
        } else {
            mainQueue = rd_kafka_queue_get_main(rk)
        }
    }

    deinit {
        destroy()
    }

    /// Destroys the handle (blocking until librdkafka's threads are gone) and releases the
    /// callback context. Idempotent. For a consumer, call `consumerClose` first.
    func destroy() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if let mainQueue { rd_kafka_queue_destroy(mainQueue) }
        for rkt in preparedTopics.withLock({ t in defer { t = [:] }; return Array(t.values) }) { rd_kafka_topic_destroy(rkt) }
        rd_kafka_destroy(handle)
        context.takeUnretainedValue().rebalanceHandler.withLock { $0 = nil }
        context.release()
    }

    var isDestroyed: Bool { destroyed.load(ordering: .acquiring) }

    /// Sets the function the rebalance callback calls (consumer only).
    func setRebalanceHandler(_ handler: @escaping @Sendable (RDKafkaRebalance) -> Void) {
        context.takeUnretainedValue().rebalanceHandler.withLock { $0 = handler }
    }

    // MARK: - Producer

    /// Creates a handle for each topic and waits (up to `timeoutMs` in all) for its metadata:
    /// partitions and leaders. A producer that sends to a topic it has no metadata for yet holds
    /// the record until librdkafka's next one-second topic scan — measured here up to a second
    /// for each topic's first record (the first orders after a service start waited that long at
    /// every hop). Returns the topics whose metadata did not arrive, with the error.
    func prepareTopics(_ names: [String], timeoutMs: Int32) -> [(topic: String, error: String)] {
        var failed: [(topic: String, error: String)] = []
        let deadline = Monotonic.nanos() &+ UInt64(max(0, timeoutMs)) * 1_000_000
        for name in names {
            let now = Monotonic.nanos()
            guard now < deadline, !isDestroyed else {
                failed.append((name, isDestroyed ? "client closed" : "no time left"))
                continue
            }
            let rkt: OpaquePointer? = preparedTopics.withLock { held in
                if let known = held[name] { return known }
                guard let created = rd_kafka_topic_new(handle, name, nil) else { return nil }
                held[name] = created
                return created
            }
            guard let rkt else {
                failed.append((name, String(cString: rd_kafka_err2str(rd_kafka_last_error()))))
                continue
            }
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(handle, 0, rkt, &metadata, Int32(max(1, (deadline - now) / 1_000_000)))
            defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                failed.append((name, String(cString: rd_kafka_err2str(err))))
                continue
            }
            // The request can succeed while the topic itself is unknown or leaderless: that is in
            // the topic's own entry.
            guard let md = metadata?.pointee, md.topic_cnt >= 1, let topic = md.topics?.pointee else {
                failed.append((name, "no metadata for the topic"))
                continue
            }
            if topic.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                failed.append((name, String(cString: rd_kafka_err2str(topic.err))))
            } else if topic.partition_cnt < 1 {
                failed.append((name, "no partitions"))
            } else if let partitions = topic.partitions,
                      UnsafeBufferPointer(start: partitions, count: Int(topic.partition_cnt)).contains(where: { $0.leader < 0 }) {
                failed.append((name, "a partition has no leader"))
            }
        }
        return failed
    }

    /// Enqueues one record (copied; the caller's buffers may go right after). `opaque` comes back
    /// in its delivery report.
    func produce(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader], opaque: UInt64) -> RDKafkaProduceOutcome {
        // Header names (NUL-terminated) and values packed into one buffer, so one allocation
        // keeps every pointer valid for the duration of the call.
        var blob: [UInt8] = []
        var spans: [(name: Int, value: Int, size: Int, isNull: Bool)] = []
        spans.reserveCapacity(headers.count)
        for h in headers {
            let nameAt = blob.count
            blob.append(contentsOf: h.name.utf8)
            blob.append(0)
            let valueAt = blob.count
            if let v = h.value { blob.append(contentsOf: v) }
            spans.append((nameAt, valueAt, h.value?.count ?? 0, h.value == nil))
        }
        let error: OpaquePointer? = topic.withCString { topicPtr in
            blob.withUnsafeBufferPointer { blobBuf in
                value.withUnsafeBytes { valueBuf in
                    withOptionalBytes(key) { keyBuf in
                        var vus: [rd_kafka_vu_t] = []
                        vus.reserveCapacity(5 + spans.count)
                        var vu = rd_kafka_vu_t()
                        vu.vtype = RD_KAFKA_VTYPE_TOPIC
                        vu.u.cstr = topicPtr
                        vus.append(vu)
                        vu = rd_kafka_vu_t()
                        vu.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                        vu.u.i = RD_KAFKA_MSG_F_COPY
                        vus.append(vu)
                        vu = rd_kafka_vu_t()
                        vu.vtype = RD_KAFKA_VTYPE_VALUE
                        vu.u.mem.ptr = valueBuf.count > 0 ? UnsafeMutableRawPointer(mutating: valueBuf.baseAddress) : nil
                        vu.u.mem.size = valueBuf.count
                        vus.append(vu)
                        if let keyBuf {
                            vu = rd_kafka_vu_t()
                            vu.vtype = RD_KAFKA_VTYPE_KEY
                            vu.u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBuf.baseAddress)
                            vu.u.mem.size = keyBuf.count
                            vus.append(vu)
                        }
                        vu = rd_kafka_vu_t()
                        vu.vtype = RD_KAFKA_VTYPE_OPAQUE
                        vu.u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(opaque))
                        vus.append(vu)
                        if let base = blobBuf.baseAddress {
                            let raw = UnsafeRawPointer(base)
                            for s in spans {
                                vu = rd_kafka_vu_t()
                                vu.vtype = RD_KAFKA_VTYPE_HEADER
                                vu.u.header.name = raw.advanced(by: s.name).assumingMemoryBound(to: CChar.self)
                                vu.u.header.val = s.isNull ? nil : raw.advanced(by: s.value)
                                vu.u.header.size = s.size
                                vus.append(vu)
                            }
                        }
                        return rd_kafka_produceva(handle, vus, vus.count)
                    }
                }
            }
        }
        guard let error else { return .enqueued }
        defer { rd_kafka_error_destroy(error) }
        let code = rd_kafka_error_code(error)
        if code == RD_KAFKA_RESP_ERR__QUEUE_FULL { return .queueFull }
        return .failed(name: Self.errorName(code), text: String(cString: rd_kafka_error_string(error)))
    }

    /// Serves the producer's event queue for up to `timeoutMs`: delivery reports and errors.
    /// Returns whether an event was served.
    @discardableResult
    func pollEvents(timeoutMs: Int32, deliveries: ([RDKafkaDeliveryResult]) -> Void,
                    errors: (_ name: String, _ text: String, _ fatal: Bool) -> Void) -> Bool {
        guard let mainQueue, let event = rd_kafka_queue_poll(mainQueue, timeoutMs) else { return false }
        defer { rd_kafka_event_destroy(event) }
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_DR:
            var results: [RDKafkaDeliveryResult] = []
            results.reserveCapacity(Int(rd_kafka_event_message_count(event)))
            while let msg = rd_kafka_event_message_next(event) {
                let m = msg.pointee
                let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                let opaque = UInt64(UInt(bitPattern: m._private))
                let failure: (String, String)? = m.err == RD_KAFKA_RESP_ERR_NO_ERROR
                    ? nil : (Self.errorName(m.err), String(cString: rd_kafka_err2str(m.err)))
                results.append(RDKafkaDeliveryResult(opaque: opaque, topic: topic, partition: m.partition,
                                                     offset: m.offset >= 0 ? m.offset : nil, error: failure))
            }
            deliveries(results)
        case RD_KAFKA_EVENT_ERROR:
            let code = rd_kafka_event_error(event)
            let fatal = rd_kafka_event_error_is_fatal(event) != 0
            var text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            if fatal {
                var errbuf = [CChar](repeating: 0, count: 512)
                let original = rd_kafka_fatal_error(handle, &errbuf, errbuf.count)
                text = "\(Self.errorName(original)): \(String(cBuffer: errbuf))"
            }
            errors(Self.errorName(code), text, fatal)
        default:
            break
        }
        return true
    }

    /// Waits until every enqueued record has been reported (needs the event queue served on
    /// another thread). Returns false on timeout.
    func flush(timeoutMs: Int32) -> Bool {
        rd_kafka_flush(handle, timeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Records (and other requests) librdkafka still holds.
    var outqLen: Int { Int(rd_kafka_outq_len(handle)) }

    // MARK: - Consumer

    func subscribe(_ topics: [String]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for t in topics { rd_kafka_topic_partition_list_add(list, t, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw TMTError(.kafka, "cannot subscribe to \(topics.joined(separator: ",")): \(String(cString: rd_kafka_err2str(err)))")
        }
    }

    /// Waits up to `timeoutMs` for the next message, serving rebalances and errors meanwhile.
    func consumerPoll(timeoutMs: Int32) -> RDKafkaConsumerEvent? {
        guard let msg = rd_kafka_consumer_poll(handle, timeoutMs) else { return nil }
        defer { rd_kafka_message_destroy(msg) }
        let m = msg.pointee
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = m.payload.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: m.len), as: UTF8.self) }
                ?? String(cString: rd_kafka_err2str(m.err))
            let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) }
            return .error(name: Self.errorName(m.err), text: topic.map { "\($0): \(text)" } ?? text,
                          fatal: m.err == RD_KAFKA_RESP_ERR__FATAL)
        }
        var topic = ""
        if let rkt = m.rkt, let cName = rd_kafka_topic_name(rkt) {
            if lastTopic.withCString({ strcmp($0, cName) == 0 }) {
                topic = lastTopic
            } else {
                topic = String(cString: cName)
                lastTopic = topic
            }
        }
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        var headers: [KafkaHeader] = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var idx = 0
            var name: UnsafePointer<CChar>?
            var val: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let v = val.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(name.map { String(cString: $0) } ?? "", v))
                idx += 1
            }
        }
        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(msg, &tsType)
        return .message(KafkaMessage(topic: topic, partition: m.partition, offset: m.offset, key: key, value: value,
                                     headers: headers, timestampMillis: ts >= 0 ? ts : nil))
    }

    /// Commits `offsets` (the next offset to read, per partition) and waits for the broker's
    /// answer. Returns `nil` on success, else the error text.
    func commit(_ offsets: [KafkaTopicPartition: Int64]) -> String? {
        guard !offsets.isEmpty else { return nil }
        let list = Self.makeList(offsets.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(handle, list, 0)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { return "\(Self.errorName(err)): \(String(cString: rd_kafka_err2str(err)))" }
        // The request can succeed while single partitions fail.
        var failures: [String] = []
        for e in Self.elements(list) where e.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            failures.append("\(String(cString: e.topic))[\(e.partition)]: \(String(cString: rd_kafka_err2str(e.err)))")
        }
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }

    /// The committed offsets of the group for `partitions` (a broker round trip); partitions
    /// without a commit are missing from the result.
    func committed(_ partitions: [KafkaTopicPartition], timeoutMs: Int32) -> [KafkaTopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let list = Self.makeList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard rd_kafka_committed(handle, list, timeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
        var out: [KafkaTopicPartition: Int64] = [:]
        for e in Self.elements(list) where e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0 {
            out[KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition)] = e.offset
        }
        return out
    }

    /// Low and high watermark of a partition, asked of the broker (a round trip).
    func watermarks(_ tp: KafkaTopicPartition, timeoutMs: Int32) -> (low: Int64, high: Int64)? {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(handle, tp.topic, tp.partition, &low, &high, timeoutMs)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? (low, high) : nil
    }

    /// Leaves the group: runs the revoke callback (on this thread), then stops fetching.
    func consumerClose() -> String? {
        let err = rd_kafka_consumer_close(handle)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : String(cString: rd_kafka_err2str(err))
    }

    // MARK: - Rebalance

    private static func rebalance(rk: OpaquePointer, err: rd_kafka_resp_err_t,
                                  partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
                                  context: RDKafkaClientContext) {
        let handler = context.rebalanceHandler.withLock { $0 }
        let tps = partitions.map { list in
            elements(list).map { KafkaTopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
        } ?? []
        let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } == "COOPERATIVE"
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if context.startsAtEnd, let partitions { pinUncommittedToEnd(rk: rk, partitions: partitions, context: context) }
            if cooperative {
                if let e = rd_kafka_incremental_assign(rk, partitions) { logError(context, "incremental assign", e) }
            } else {
                rd_kafka_assign(rk, partitions)
            }
            handler?(.assigned(tps))
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            // Before unassigning, while the commit still counts for this generation.
            handler?(.revoked(tps, lost: rd_kafka_assignment_lost(rk) != 0))
            if cooperative {
                if let e = rd_kafka_incremental_unassign(rk, partitions) { logError(context, "incremental unassign", e) }
            } else {
                rd_kafka_assign(rk, nil)
            }
        default:
            context.logger.error("Kafka rebalance failed", ["error": errorName(err), "detail": String(cString: rd_kafka_err2str(err))])
            handler?(.revoked(tps, lost: true))
            rd_kafka_assign(rk, nil)
        }
    }

    /// Sets each assigned partition that has no committed offset to start at its end *as of this
    /// assignment*. Left to librdkafka, `latest` is looked up at the partition's first fetch, a
    /// moment after the assignment: a record produced in between was skipped, although it came
    /// after the member reported its partitions (a test, or a process waiting for a consumer to
    /// join before publishing, lost it). One round trip for the committed offsets and one
    /// ListOffsets per leader; if either fails, the partition keeps librdkafka's own resolution.
    private static func pinUncommittedToEnd(rk: OpaquePointer, partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
                                            context: RDKafkaClientContext) {
        let timeoutMs: Int32 = 5_000
        // (A cooperative rebalance often adds nothing: no round trip then.)
        guard partitions.pointee.cnt > 0, let committed = rd_kafka_topic_partition_list_copy(partitions) else { return }
        defer { rd_kafka_topic_partition_list_destroy(committed) }
        let err = rd_kafka_committed(rk, committed, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            context.logger.warning("cannot read committed offsets at assignment; new partitions start where librdkafka resolves 'latest'",
                                   ["error": errorName(err)])
            return
        }
        // The partitions to pin: no committed offset, and no start offset set by librdkafka.
        var positions: [Int] = []
        for (i, e) in elements(committed).enumerated()
            where e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset == Int64(RD_KAFKA_OFFSET_INVALID)
            && partitions.pointee.elems[i].offset == Int64(RD_KAFKA_OFFSET_INVALID) {
            positions.append(i)
        }
        guard !positions.isEmpty else { return }
        // ListOffsets with the timestamp -1 asks for the end offset.
        let query = rd_kafka_topic_partition_list_new(Int32(positions.count))!
        defer { rd_kafka_topic_partition_list_destroy(query) }
        for i in positions {
            let e = partitions.pointee.elems[i]
            rd_kafka_topic_partition_list_add(query, e.topic, e.partition).pointee.offset = Int64(RD_KAFKA_OFFSET_END)
        }
        let listed = rd_kafka_offsets_for_times(rk, query, timeoutMs)
        guard listed == RD_KAFKA_RESP_ERR_NO_ERROR else {
            context.logger.warning("cannot look up partition ends at assignment; new partitions start where librdkafka resolves 'latest'",
                                   ["error": errorName(listed)])
            return
        }
        for (n, i) in positions.enumerated() {
            let end = query.pointee.elems[n]
            if end.err == RD_KAFKA_RESP_ERR_NO_ERROR && end.offset >= 0 { partitions.pointee.elems[i].offset = end.offset }
        }
    }

    private static func logError(_ context: RDKafkaClientContext, _ what: String, _ error: OpaquePointer) {
        context.logger.error("Kafka \(what) failed", ["detail": String(cString: rd_kafka_error_string(error))])
        rd_kafka_error_destroy(error)
    }

    // MARK: - Helpers

    private static func makeList(_ entries: [(KafkaTopicPartition, Int64)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(entries.count))!
        for (tp, offset) in entries {
            rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset
        }
        return list
    }

    private static func elements(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> UnsafeBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
    }

    /// librdkafka's error name without the leading underscores of its local errors, lowercased:
    /// `_MSG_TIMED_OUT` → `msg_timed_out`. Stable and low-cardinality, fit for a metric label.
    static func errorName(_ err: rd_kafka_resp_err_t) -> String {
        let name = String(cString: rd_kafka_err2name(err))
        return String(name.drop { $0 == "_" }).lowercased()
    }

    static func logLevel(syslog level: Int32) -> LogLevel {
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    }
}

/// Runs `body` with the bytes of `bytes`, or with `nil` when there are none.
private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}
