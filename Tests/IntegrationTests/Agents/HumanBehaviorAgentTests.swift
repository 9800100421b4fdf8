import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import XCTest

/// `tmt-human-behavior` as a process: orders wait in the Redis delay queue until their release
/// time, survive the agent's restart there, and come out on `orders.humanized`.
final class HumanBehaviorAgentTests: XCTestCase {
    func testDelayQueueReleasesOnTimeAndSurvivesARestart() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let run = UUID().uuidString.prefix(6).lowercased()
        // Scale 0: no human delay of its own, so the only hold is the upstream stagger (notBefore),
        // which makes release times exact whatever the hour the test runs at.
        let environment = try environment(group: "human-test-\(run)")
        let first = try joinedAgent(environment)

        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "human-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let arrivals = Mutex<[String: (order: Order, at: Int64, hops: [Hop])]>([:])
        let reader = try KafkaConsumer(configuration: config, groupId: "human-reader-\(UUID().uuidString)", topics: [Topic.ordersHumanized.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.startEnvelopes(Order.self) { envelope, _ in
            if envelope.payload.id.hasSuffix(run) {
                arrivals.withLock { $0[envelope.payload.id] = (envelope.payload, HopClock.nowMicros(), envelope.hops) }
            }
        }
        defer { reader.stop(timeout: 10) }

        func decorrelated(_ id: String, notBefore: Int64?) throws -> Order {
            try sendDecorrelated(producer, id: "\(id)-\(run)", quantity: Decimal(string: "1.37")!, notBefore: notBefore)
        }
        let now = HopClock.nowMicros()
        let immediate = try decorrelated("now", notBefore: nil)
        let staggered = try decorrelated("stagger", notBefore: now + 3_000_000)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { arrivals.withLock { $0.count } >= 2 }, "released: \(arrivals.withLock { $0.keys })\n\(first.log.suffix(2000))")
        let got = arrivals.withLock { $0 }
        XCTAssertEqual(got[immediate.id]?.order.status, .humanized)
        XCTAssertEqual(got[immediate.id]?.order.quantity, Decimal(string: "1.37"), "scale 0 leaves the size as proposed")
        XCTAssertEqual(got[immediate.id]?.order.decisions.last?.agent, "human-behavior")
        // Released from the consumer (nothing to wait for): recorded like a queued release.
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: try TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        XCTAssertEqual(try pool.queryOne("SELECT count(*)::bigint AS n FROM order_events WHERE order_id = $1 AND agent = 'human-behavior'",
                                         [immediate.id])?.decode(Int64.self, column: "n"), 1)
        let staggeredAt = try XCTUnwrap(got[staggered.id]?.at)
        XCTAssertGreaterThanOrEqual(staggeredAt, now + 3_000_000, "released before its notBefore")
        XCTAssertLessThan(staggeredAt, now + 8_000_000, "released far too late")
        // The hold shows in the hop: out − in covers the wait.
        let hop = try XCTUnwrap(got[staggered.id]?.hops.last)
        XCTAssertEqual(hop.agent, "human-behavior")
        XCTAssertGreaterThanOrEqual(hop.outMicros, now + 3_000_000, "the hop ends before the hold did")
        XCTAssertLessThan(hop.inMicros, now + 3_000_000 - 500_000, "the hop starts after the hold")

        // Queued across a restart: parked in Redis, released by the next process.
        let parkedAt = HopClock.nowMicros()
        let parked = try decorrelated("parked", notBefore: parkedAt + 6_000_000)
        XCTAssertTrue(KafkaWait.until(timeout: 10) { metricValue(in: (try? first.metrics()) ?? "", "tmt_human_queue_depth") >= 1 })
        XCTAssertEqual(first.terminate(), 0, first.log.suffix(2000).description)
        XCTAssertNil(arrivals.withLock { $0[parked.id] })
        let second = try AgentProcess(executable: "tmt-human-behavior", port: AgentProcess.freePort(), environment: environment)
        try second.waitUntilReady()
        XCTAssertTrue(KafkaWait.until(timeout: 40) { arrivals.withLock { $0[parked.id] } != nil }, "the parked order was lost:\n\(second.log.suffix(2000))")
        XCTAssertGreaterThanOrEqual(arrivals.withLock { $0[parked.id]?.at } ?? 0, parkedAt + 6_000_000)
        XCTAssertEqual(try Promtool.checkMetrics(try second.metrics()).status, 0)
        XCTAssertEqual(second.terminate(), 0, second.log.suffix(2000).description)
    }

    /// Orders parked when the agent stops and released long after their time by the next process
    /// (here 2 s allowed, HUMAN_MAX_RELEASE_LATENESS_SECONDS): the risk-increasing one is cancelled
    /// (recorded with the reason, published on orders.blocked), the risk-reducing one still goes out.
    /// Sends an order on orders.decorrelated as anti-correlation lets one through; with
    /// `throughAt` (µs) it carries anti-correlation's hop from that moment, as if it had waited
    /// unread since.
    private func sendDecorrelated(_ producer: KafkaProducer, id: String, account: String = "acct-ftmo-100k", quantity: Decimal = 1,
                                  riskReducing: Bool = false, notBefore: Int64? = nil, throughAt: Int64? = nil) throws -> Order {
        let created = throughAt ?? HopClock.nowMicros()
        var o = Order(id: id, signalId: "sig", accountId: account, instrument: "EUR_USD", side: .buy, type: .market,
                      quantity: quantity, stopLoss: nil, takeProfit: nil, riskReducing: riskReducing, createdAt: created)
        let d = Decision(agent: "test", verdict: .approved, decidedAt: created)
        try o.advance(to: .approved, decision: d)
        try o.advance(to: .decorrelated, decision: d)
        o.notBefore = notBefore
        let hops = throughAt.map { [Hop(agent: "anti-correlation", inMicros: $0, outMicros: $0)] } ?? []
        _ = try producer.send(Envelope(id: "\(o.id):decorrelated", type: "order.decorrelated", traceId: "trace-\(o.id)", createdAt: created,
                                       source: "anti-correlation", hops: hops, payload: o), to: .ordersDecorrelated, key: o.accountId).wait(timeout: 5)
        return o
    }

    /// The agent's environment against the test services: scale 0, latest offsets, `group`.
    private func environment(group: String, _ extra: [String: String] = [:]) throws -> [String: String] {
        ["DATABASE_URL": try TestServices.postgresURL(), "REDIS_URL": try TestServices.redisURL(),
         "KAFKA_BOOTSTRAP_SERVERS": try TestServices.kafkaBootstrap(), "CONSUMER_GROUP": group,
         "KAFKA_AUTO_OFFSET_RESET": "latest", "HUMAN_DELAY_SCALE": "0"].merging(extra) { $1 }
    }

    /// A started agent whose consumer has joined orders.decorrelated.
    private func joinedAgent(_ environment: [String: String]) throws -> AgentProcess {
        let agent = try AgentProcess(executable: "tmt-human-behavior", port: AgentProcess.freePort(), environment: environment)
        try agent.waitUntilReady()
        XCTAssertTrue(KafkaWait.until(timeout: 40) { ((try? agent.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"orders.decorrelated\"") },
                      "never joined:\n\(agent.log)")
        return agent
    }

    /// A queued order whose stored bytes cannot be decoded is not silently dropped: it goes to
    /// the DLQ with the reason and its bytes, and leaves the queue and the order store.
    func testAnUnreadableQueuedOrderIsDeadLettered() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let run = UUID().uuidString.prefix(6).lowercased()
        let member = "garbled-\(run):humanized"
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "human-dlq-test")
        let letters = Mutex<[KafkaDeadLetter]>([])
        let reader = try KafkaConsumer(configuration: config, groupId: "human-dlq-reader-\(UUID().uuidString)", topics: [Topic.dlq.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.start { message in
            if let letter = KafkaDeadLetter(dlqRecord: message), letter.key == Array(member.utf8) { letters.withLock { $0.append(letter) } }
        }
        defer { reader.stop(timeout: 10) }
        let redis = try RedisClient(url: try TestServices.redisURL(), metrics: MetricsRegistry())
        defer { redis.close() }
        _ = try redis.hset("tmt:human:orders", field: member, value: Array("{not an envelope".utf8))
        _ = try redis.zadd("tmt:human:queue", score: Double(HopClock.nowMicros()), member: member)
        let agent = try joinedAgent(try environment(group: "human-dlq-\(run)"))
        XCTAssertTrue(KafkaWait.until(timeout: 30) { !letters.withLock { $0.isEmpty } }, "no dead letter:\n\(agent.log.suffix(2000))")
        let letter = try XCTUnwrap(letters.withLock { $0.first })
        XCTAssertEqual(letter.category, "unreadable_queued_order")
        XCTAssertTrue(letter.reason.contains(member), letter.reason)
        XCTAssertEqual(letter.value, Array("{not an envelope".utf8))
        XCTAssertNil(try redis.hget("tmt:human:orders", member), "left in the order store")
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }

    func testAnOrderReleasedTooLateAfterADowntimeIsCancelled() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let run = UUID().uuidString.prefix(6).lowercased()
        let environment = try environment(group: "human-late-\(run)", ["HUMAN_MAX_RELEASE_LATENESS_SECONDS": "2"])
        let first = try joinedAgent(environment)
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "human-late-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let seen = Mutex<[String: (topic: String, order: Order)]>([:])
        let reader = try KafkaConsumer(configuration: config, groupId: "human-late-reader-\(run)",
                                       topics: [Topic.ordersHumanized.name, Topic.ordersBlocked.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.start { message in
            let envelope = try KafkaConsumer.decodeEnvelope(Order.self, from: message)
            if envelope.payload.id.hasSuffix(run) { seen.withLock { $0[envelope.payload.id] = (message.topic, envelope.payload) } }
        }
        defer { reader.stop(timeout: 10) }

        let notBefore = HopClock.nowMicros() + 3_000_000
        func parked(_ id: String, riskReducing: Bool) throws -> Order {
            try sendDecorrelated(producer, id: "\(id)-\(run)", riskReducing: riskReducing, notBefore: notBefore)
        }
        let opening = try parked("open", riskReducing: false)
        let closing = try parked("close", riskReducing: true)
        XCTAssertTrue(KafkaWait.until(timeout: 10) { metricValue(in: (try? first.metrics()) ?? "", "tmt_human_queue_depth") >= 2 })
        XCTAssertEqual(first.terminate(), 0, first.log.suffix(2000).description)
        // Down until both are more than 2 s overdue.
        while HopClock.nowMicros() < notBefore + 4_000_000 { usleep(200_000) }

        let second = try joinedAgent(environment)
        XCTAssertTrue(KafkaWait.until(timeout: 40) { seen.withLock { $0.count } >= 2 }, "\(seen.withLock { $0.keys })\n\(second.log.suffix(3000))")
        let got = seen.withLock { $0 }
        XCTAssertEqual(got[closing.id]?.topic, Topic.ordersHumanized.name, "a risk-reducing order goes out however late")
        XCTAssertEqual(got[closing.id]?.order.status, .humanized)
        XCTAssertEqual(got[opening.id]?.topic, Topic.ordersBlocked.name, "the stale order is not traded")
        let cancelled = try XCTUnwrap(got[opening.id]?.order)
        XCTAssertEqual(cancelled.status, .cancelled)
        let check = try XCTUnwrap(cancelled.decisions.last?.checks.first)
        XCTAssertEqual(check.rule, "releaseLateness")
        XCTAssertTrue(check.detail.contains("more than the 2 s allowed (HUMAN_MAX_RELEASE_LATENESS_SECONDS)"), check.detail)
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: try TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        XCTAssertEqual(try pool.queryOne("SELECT status FROM order_events WHERE order_id = $1 AND agent = 'human-behavior'", [opening.id])?
            .decode(String.self, column: "status"), "cancelled")
        XCTAssertEqual(metricValue(in: try second.metrics(), "tmt_human_cancelled_late_total{account=\"acct-ftmo-100k\"}"), 1)
        XCTAssertTrue(second.log.contains("order cancelled: too late to trade"), second.log.suffix(2000).description)
        XCTAssertEqual(metricValue(in: try second.metrics(), "tmt_human_queue_depth"), 0)

        // Read long after anti-correlation let it through (it waited on orders.decorrelated while
        // no instance ran): cancelled on arrival too; a risk-reducing one goes on.
        func unread(_ id: String, riskReducing: Bool) throws -> Order {
            try sendDecorrelated(producer, id: "\(id)-\(run)", riskReducing: riskReducing, throughAt: HopClock.nowMicros() - 10_000_000)
        }
        let stale = try unread("stale", riskReducing: false)
        let staleClose = try unread("stale-close", riskReducing: true)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { seen.withLock { $0.count } >= 4 }, "\(seen.withLock { $0.keys })\n\(second.log.suffix(3000))")
        let later = seen.withLock { $0 }
        XCTAssertEqual(later[stale.id]?.topic, Topic.ordersBlocked.name)
        XCTAssertEqual(later[stale.id]?.order.status, .cancelled)
        XCTAssertTrue(later[stale.id]?.order.decisions.last?.checks.first?.detail.hasPrefix("arrived ") == true,
                      "\(String(describing: later[stale.id]?.order.decisions.last))")
        XCTAssertEqual(later[staleClose.id]?.topic, Topic.ordersHumanized.name)
        XCTAssertEqual(metricValue(in: try second.metrics(), "tmt_human_cancelled_late_total{account=\"acct-ftmo-100k\"}"), 2)
        XCTAssertEqual(second.terminate(), 0, second.log.suffix(2000).description)
    }

    /// Two instances share the delay queue: every parked order is released exactly once (a
    /// release pass claims what is due before publishing it).
    func testTwoInstancesReleaseEachQueuedOrderOnce() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let run = UUID().uuidString.prefix(6).lowercased()
        let environment = try environment(group: "human-pair-\(run)")
        let agents = try (0..<2).map { _ in try joinedAgent(environment) }
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "human-pair-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let releases = Mutex<[String: Int]>([:])
        let reader = try KafkaConsumer(configuration: config, groupId: "human-pair-reader-\(run)", topics: [Topic.ordersHumanized.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.startEnvelopes(Order.self) { envelope, _ in
            if envelope.payload.id.hasSuffix(run) { releases.withLock { $0[envelope.payload.id, default: 0] += 1 } }
        }
        defer { reader.stop(timeout: 10) }
        usleep(1_000_000)
        // 40 orders over four accounts, all due 2 s from now: both release loops see them at once.
        let due = HopClock.nowMicros() + 2_000_000
        var ids: [String] = []
        for i in 0..<40 {
            ids.append(try sendDecorrelated(producer, id: "pair-\(i)-\(run)", account: "acct-pair-\(i % 4)", notBefore: due).id)
        }
        XCTAssertTrue(KafkaWait.until(timeout: 40) { releases.withLock { $0.count } == ids.count },
                      "released \(releases.withLock { $0.count }) of \(ids.count)")
        usleep(2_000_000) // time for a duplicate to show up
        let counts = releases.withLock { $0 }
        XCTAssertEqual(counts.filter { $0.value > 1 }.keys.sorted(), [], "released more than once")
        let released = agents.map { sum((try? $0.metrics()) ?? "", "tmt_human_released_total") }
        print("human pair: releases per instance \(released)")
        for a in agents { XCTAssertEqual(a.terminate(), 0, a.log.suffix(2000).description) }
    }
}
