import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

/// Wires the human-behaviour scheduler to Kafka, Redis (the delay queue) and the trading database.
final class HumanBehaviorAgent: Sendable {
    static let queueKey = "tmt:human:queue"
    static let ordersKey = "tmt:human:orders"

    private let runtime: ServiceRuntime
    private let scheduler: HumanScheduler
    private let metrics: AgentMetrics
    private let holds: HistogramFamily
    private let released: CounterFamily
    private let cancelledLate: CounterFamily
    private let maxReleaseLatenessSeconds: Double
    /// Wakes the release loop early (an order parked already due, or shutdown).
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)

    init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let configuration = try HumanBehaviorConfiguration().applying(environment: Environment())
        scheduler = try HumanScheduler(configuration: configuration)
        metrics = AgentMetrics(registry: runtime.metrics)
        holds = runtime.metrics.histogram("tmt_human_hold_seconds", help: "Seconds an order is held before release, by account.",
                                          labels: ["account"], buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600, 14400, 57600])
        released = runtime.metrics.counter("tmt_human_released_total", help: "Orders released on orders.humanized, by account.", labels: ["account"])
        cancelledLate = runtime.metrics.counter("tmt_human_cancelled_late_total",
                                                help: "Orders cancelled as more than HUMAN_MAX_RELEASE_LATENESS_SECONDS late (released past their planned time, or read that long after anti-correlation), by account.",
                                                labels: ["account"])
        maxReleaseLatenessSeconds = configuration.maxReleaseLatenessSeconds
        runtime.metrics.gauge("tmt_human_delay_scale", help: "HUMAN_DELAY_SCALE this instance runs with (0: orders released at once).")
            .labels().set(configuration.delayScale)
        runtime.logger.info("scheduler configured", ["delay_scale": String(configuration.delayScale),
                                                     "max_release_lateness_s": String(configuration.maxReleaseLatenessSeconds)])
    }

    func start() throws {
        let env = Environment()
        let log = runtime.logger
        let pool = try runtime.openTradingDatabase(env)
        let redis = try RedisClient(url: try env.require("REDIS_URL"), metrics: runtime.metrics, logger: log)
        runtime.lifecycle.onShutdown("redis") { redis.close() }
        runtime.health.add("redis") { _ = try redis.ping() }
        let depth = runtime.metrics.gauge("tmt_human_queue_depth", help: "Orders waiting in the delay queue.").labels()
        runtime.metrics.addCollector { if let n = try? redis.zcard(Self.queueKey) { depth.set(Double(n)) } }

        let (kafka, producer) = try runtime.openKafka(env)
        let orders = try KafkaConsumer(configuration: kafka, groupId: env.string("CONSUMER_GROUP", default: "human-behavior"),
                                       topics: [Topic.ordersDecorrelated.name], deadLetterProducer: producer,
                                       metrics: runtime.metrics, logger: log)

        // The release loop: publish what is due, then take it off the queue (a crash in between
        // publishes it again after the restart: at least once, never lost).
        // It runs every 50 ms, and at once when an order is parked already due (no delay).
        let stopped = DispatchSemaphore(value: 0)
        TMTThread.detach { [self] in
            repeat {
                do { try releaseDue(redis: redis, pool: pool, producer: producer) } catch {
                    metrics.communicationErrors.labels(runtime.options.service, "redis").inc()
                    log.warning("release pass failed", ["error": "\(error)"])
                }
                _ = wake.wait(timeout: .now() + 0.05)
            } while !stopping.load(ordering: .acquiring)
            stopped.signal()
        }
        runtime.lifecycle.onShutdown("consumers and release loop") {
            orders.stop(timeout: 10)
            self.stopping.store(true, ordering: .releasing)
            self.wake.signal()
            _ = stopped.wait(timeout: .now() + 10)
        }

        try runtime.startHTTP()
        runtime.startHeartbeat(producer: producer)
        try orders.startEnvelopes(Order.self) { [self] envelope, _ in
            try schedule(envelope, redis: redis, pool: pool, producer: producer)
        }
    }

    /// Schedules one order. One due already (no delay: `HUMAN_DELAY_SCALE=0`, or nothing to
    /// wait for) and not parked by an earlier delivery is released from here: recorded, published
    /// and acknowledged before the offset is committed, as durable as parking it and without the
    /// queue's round trips and the hand-over to the release thread. Any other is parked; the
    /// offset is committed once Redis holds it.
    private func schedule(_ envelope: Envelope<Order>, redis: RedisClient, pool: PostgresPool, producer: KafkaProducer) throws {
        let received = HopClock.nowMicros()
        let started = Monotonic.nanos()
        // Unread while this agent was down (or far behind): as stale as a late release.
        let dueHere = max(envelope.hops.last?.outMicros ?? envelope.createdAt, envelope.payload.notBefore ?? 0)
        // (Unless an earlier delivery parked it already: that copy's own release decides.)
        if let decision = LateRelease.cancellation(of: envelope.payload, due: dueHere, now: received, stage: .arriving,
                                                   maxLatenessSeconds: maxReleaseLatenessSeconds, agent: runtime.options.service),
           try redis.hget(Self.ordersKey, "\(envelope.payload.id):humanized") == nil {
            let out = envelope.derive(id: "\(envelope.payload.id):humanized", type: "order.cancelled", source: runtime.options.service,
                                      receivedMicros: received, payload: envelope.payload)
            try cancelLate(out, decision: decision, pool: pool, producer: producer)
            metrics.processing.labels(runtime.options.service, "order").observeSince(started)
            metrics.handled.labels(runtime.options.service, "order", "cancelled").inc()
            return
        }
        let plan = scheduler.schedule(order: envelope.payload, now: Date())
        var order = plan.applied(to: envelope.payload)
        try order.advance(to: .humanized, decision: plan.decision)
        let releaseAt = max(plan.releaseAt, order.notBefore ?? 0)
        let parked = envelope.derive(id: "\(order.id):humanized", type: "order.humanized", source: runtime.options.service,
                                     receivedMicros: received, payload: order)
        let entry = try DelayQueueEntry(envelopeId: parked.id, releaseAt: releaseAt).validated()
        if releaseAt <= HopClock.nowMicros(), try redis.hget(Self.ordersKey, entry.member) == nil {
            try release(parked, processingMs: Double(HopClock.nowMicros() - received) / 1000, pool: pool, producer: producer)
            holds.labels(order.accountId).observe(0)
            metrics.processing.labels(runtime.options.service, "order").observeSince(started)
            metrics.handled.labels(runtime.options.service, "order", plan.decision.verdict.rawValue).inc()
            runtime.logger.debug("order released at once", traceId: envelope.traceId, ["order": order.id])
            return
        }
        // The order first, then its place in the queue; NX keeps the first release time when the
        // same order is redelivered.
        _ = try redis.hset(Self.ordersKey, field: entry.member, value: EnvelopeCoding.encode(parked), retry: .once)
        _ = try redis.command(["ZADD", Self.queueKey, "NX", entry.scoreString, entry.member], retry: .once)
        holds.labels(order.accountId).observe(Double(releaseAt - received) / 1e6)
        if releaseAt <= HopClock.nowMicros() { wake.signal() }
        metrics.processing.labels(runtime.options.service, "order").observeSince(started)
        metrics.handled.labels(runtime.options.service, "order", plan.decision.verdict.rawValue).inc()
        runtime.logger.debug("order scheduled", traceId: envelope.traceId, ["order": order.id, "hold_s": String(cFormat: "%.3f", Double(releaseAt - received) / 1e6)])
    }

    /// Claims up to ARGV[3] members due by ARGV[1] by moving their score to ARGV[2] (a lease):
    /// another instance's release pass does not see them until the lease runs out, and if this
    /// one dies before taking them off the queue, they come due again then (at least once).
    static let claimScript = """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
        for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m) end
        return due
        """
    /// How long a claimed order stays invisible to other instances: 30 s, in µs.
    static let claimLeaseMicros: Int64 = 30_000_000

    private func releaseDue(redis: RedisClient, pool: PostgresPool, producer: KafkaProducer) throws {
        let now = HopClock.nowMicros()
        let due = try redis.eval(Self.claimScript, keys: [Self.queueKey],
                                 args: [String(now), String(now + Self.claimLeaseMicros), "100"]).check(command: "EVAL").bytesArray()
        for raw in due {
            let member = String(decoding: raw, as: UTF8.self)
            guard let bytes = try redis.hget(Self.ordersKey, member) else {
                _ = try redis.zrem(Self.queueKey, member) // its order is gone (released by another instance)
                continue
            }
            let parked: Envelope<Order>
            do { parked = try EnvelopeCoding.decode(Order.self, from: bytes) } catch {
                // Kept where an operator looks for bad input (the DLQ, with the reason and the
                // bytes as they were), then taken out of the queue and the order store.
                let origin = KafkaMessage(topic: "redis:\(Self.ordersKey)", partition: 0, offset: 0, key: Array(member.utf8), value: bytes)
                let letter = KafkaDeadLetter(message: origin, category: "unreadable_queued_order",
                                             reason: "queued order \(member) cannot be decoded: \(error)",
                                             consumerGroup: runtime.options.service, attempts: 1)
                _ = try producer.send(topic: Topic.dlq.name, key: letter.key, value: letter.value, headers: letter.headers).wait(timeout: 30)
                runtime.logger.error("unreadable queued order dead-lettered and dropped from the queue", ["member": member, "error": "\(error)"])
                _ = try redis.zrem(Self.queueKey, member)
                _ = try redis.hdel(Self.ordersKey, member)
                continue
            }
            // The planned release from the order itself: the queue's score is a lease once a pass
            // has claimed it (a pass that failed half-way leaves it so), which would make a stale
            // order look punctual. The same plan gives the same verdict on every pass.
            let planned = LateRelease.plannedRelease(of: parked.payload, agent: runtime.options.service)
            if planned == nil {
                runtime.logger.warning("queued order without a planned release time; released without a lateness check", ["member": member])
            }
            // Stamp the hop's out time at the real release, so the hold shows in the latency trail.
            var out = parked
            out.stampLeaving()
            if let planned, let decision = LateRelease.cancellation(of: parked.payload, due: planned, now: now, stage: .queued,
                                                                    maxLatenessSeconds: maxReleaseLatenessSeconds, agent: runtime.options.service) {
                out.type = "order.cancelled"
                try cancelLate(out, decision: decision, pool: pool, producer: producer)
                _ = try redis.zrem(Self.queueKey, member)
                _ = try redis.hdel(Self.ordersKey, member)
                continue
            }
            try release(out, processingMs: Double(now - (out.hops.last?.inMicros ?? now)) / 1000, pool: pool, producer: producer)
            _ = try redis.zrem(Self.queueKey, member)
            _ = try redis.hdel(Self.ordersKey, member)
        }
    }

    /// Cancels an order too late to trade (parked past its time, or read long after anti-correlation
    /// let it through): recorded under `out`'s id (status cancelled, with the decision; a redelivery
    /// is a no-op there), then published on `orders.blocked`, the topic of orders that will not
    /// reach the market, so anti-correlation stops counting it as exposure on its way.
    private func cancelLate(_ out: Envelope<Order>, decision: Decision, pool: PostgresPool, producer: KafkaProducer) throws {
        var order = out.payload
        try order.advance(to: .cancelled, decision: decision)
        var cancelled = out
        cancelled.payload = order
        try OrderStore(pool: pool).recordEvent(order: order, agent: runtime.options.service, messageId: out.id,
                                               processingMs: 0, hops: cancelled.hops)
        _ = try producer.send(cancelled, to: .ordersBlocked, key: order.accountId).wait(timeout: 30)
        cancelledLate.labels(order.accountId).inc()
        runtime.logger.warning("order cancelled: too late to trade", traceId: out.traceId,
                               ["order": order.id, "account": order.accountId, "late_s": decision.figures["lateSeconds"] ?? "?",
                                "max_s": decision.figures["maxLatenessSeconds"] ?? "?"])
    }

    /// Releases one humanized order: durable first (idempotent by message id), then published
    /// and acknowledged — the breaker downstream may record its verdict before this agent would
    /// otherwise have written its own.
    private func release(_ out: Envelope<Order>, processingMs: Double, pool: PostgresPool, producer: KafkaProducer) throws {
        let order = out.payload
        try OrderStore(pool: pool).recordEvent(order: order, agent: runtime.options.service, messageId: out.id,
                                               processingMs: processingMs, hops: out.hops)
        _ = try producer.send(out, to: .ordersHumanized, key: order.accountId).wait(timeout: 30)
        released.labels(order.accountId).inc()
    }
}
