import Foundation
import Synchronization
import TMTCore
import XCTest

/// Scale-out: two `tmt-aria-risk` instances in one consumer group split the signals; one is
/// killed (SIGKILL) midway and the other takes over its partitions. No signal × account is lost
/// and none is duplicated: exactly one order row each, and every sized order on
/// `orders.proposed` (a redelivery repeats the same deterministic id, which downstream dedupes).
final class AriaScaleOutTests: XCTestCase {
    func testTwoInstancesSplitTheSignalsAndASurvivorFinishesAKilledOnesShare() throws {
        let stack = try PipelineStack()
        let aria = PipelineStack.agents.first { $0.service == "aria-risk" }!
        // No execution engine here to keep the quote board: both follow the ticks themselves.
        let first = try stack.start(aria, extra: ["MARKET_QUOTES": "kafka"])
        let second = try stack.start(aria, extra: ["MARKET_QUOTES": "kafka"])
        for agent in [first, second] { XCTAssertTrue(stack.waitJoined(agent, aria), agent.log.suffix(3000).description) }
        func partitions(_ agent: AgentProcess) -> Int {
            ((try? agent.metrics()) ?? "").split(separator: "\n").filter { $0.hasPrefix("tmt_kafka_consumer_lag{topic=\"signals.generated\"") }.count
        }
        // Both hold partitions once the group has rebalanced.
        XCTAssertTrue(KafkaWait.until(timeout: 60) { partitions(first) > 0 && partitions(second) > 0 },
                      "the group never split: \(partitions(first)) and \(partitions(second)) partitions")

        let config = KafkaConfiguration(bootstrapServers: stack.bootstrap, clientId: "scale-out-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let quotes: [(String, Decimal, Decimal)] = [
            ("EUR_USD", Decimal(string: "1.08500")!, Decimal(string: "1.08508")!), ("GBP_USD", Decimal(string: "1.27000")!, Decimal(string: "1.27012")!),
            ("USD_JPY", Decimal(string: "150.000")!, Decimal(string: "150.012")!), ("AUD_USD", Decimal(string: "0.66000")!, Decimal(string: "0.66010")!),
            ("XAU_USD", Decimal(string: "2000.00")!, Decimal(string: "2000.30")!), ("US30", Decimal(string: "38500.0")!, Decimal(string: "38502.0")!),
        ]
        // Live quotes in both market views.
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            for (instrument, bid, ask) in quotes {
                let t = HopClock.nowMicros()
                _ = try? producer.send(Envelope(id: "\(instrument)-\(t)", type: "market.tick", traceId: "t", source: "test",
                                                payload: Tick(instrument: instrument, bid: bid, ask: ask, volume: 1_000, time: t)),
                                       to: .marketTicks, key: instrument).wait(timeout: 10)
            }
            usleep(200_000)
            return [first, second].allSatisfy { metricValue(in: (try? $0.metrics()) ?? "", "tmt_market_view_instruments") >= 6 }
        }, "quotes never reached both instances")

        // A reader of everything ARIA proposes from now on.
        let proposed = Mutex<[String: Int]>([:])
        let accountPrefix = "e2e-\(stack.run)-"
        let reader = try KafkaConsumer(configuration: config, groupId: "scale-out-reader-\(stack.run)", topics: [Topic.ordersProposed.name],
                                       metrics: MetricsRegistry(), logger: Logger(service: "test", level: .warning))
        try reader.startEnvelopes(Order.self) { envelope, _ in
            if envelope.payload.accountId.hasPrefix(accountPrefix) { proposed.withLock { $0[envelope.payload.id, default: 0] += 1 } }
        }
        defer { reader.stop(timeout: 10) }
        usleep(2_000_000)

        var signals: [Signal] = []
        func publish(_ range: Range<Int>) throws {
            for i in range {
                let (instrument, _, ask) = quotes[i % quotes.count]
                let step = ask / 500 // stop 0.2 % away, target 0.4 %
                let signal = Signal(id: "scale-\(stack.run)-\(i)-\(instrument)", instrument: instrument, side: .buy, entry: ask,
                                    stopLoss: ask - step, takeProfit: ask + 2 * step, confidence: 0.7, pattern: "spring",
                                    phase: "accumulation", evidence: ["test": "scale-out"], createdAt: HopClock.nowMicros())
                signals.append(signal)
                _ = try producer.send(Envelope(id: signal.id, type: "signal.generated", traceId: "trace-\(signal.id)", source: "wyckoff-analysis",
                                               payload: signal), to: .signalsGenerated, key: instrument).wait(timeout: 10)
                usleep(100_000)
            }
        }
        try publish(0..<24)
        // Both did part of the work before one dies without a goodbye.
        XCTAssertTrue(KafkaWait.until(timeout: 30) {
            [first, second].allSatisfy {
                metricValue(in: (try? $0.metrics()) ?? "", "tmt_agent_messages_total{agent=\"aria-risk\",type=\"signal\",outcome=\"sized\"}") >= 1
            }
        }, "the two instances did not share the signals")
        let split = (partitions(first), partitions(second))
        kill(first.process.processIdentifier, SIGKILL)
        try publish(24..<48)

        let pool = try PostgresPool(configuration: PostgresConfiguration(url: stack.databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        let ids = "{" + signals.map(\.id).joined(separator: ",") + "}"
        func rows() -> Int64 {
            (try? pool.queryOne("SELECT count(*)::bigint AS n FROM orders WHERE signal_id = ANY($1::text[])", [ids])?
                .decode(Int64.self, column: "n")) ?? -1
        }
        let expected = Int64(signals.count * stack.accounts.count)
        XCTAssertTrue(KafkaWait.until(timeout: 90) { rows() == expected },
                      "\(rows()) of \(expected) orders recorded:\n\(second.log.suffix(4000))")
        // Exactly one row per signal × account, ids as derived.
        for signal in signals {
            let found = try pool.query("SELECT id, account_id, status FROM orders WHERE signal_id = $1 ORDER BY account_id", [signal.id])
            XCTAssertEqual(try found.map { try $0.decode(String.self, column: "account_id") }, stack.accounts.map(\.id).sorted())
            for row in found {
                XCTAssertEqual(try row.decode(String.self, column: "id"),
                               Order.id(signalId: signal.id, accountId: try row.decode(String.self, column: "account_id")))
            }
        }
        // Every sized order reached orders.proposed (any redelivery carries the same id).
        let sized = Set(try pool.query("SELECT id FROM orders WHERE signal_id = ANY($1::text[]) AND status <> 'skipped'", [ids])
            .map { try $0.decode(String.self, column: "id") })
        XCTAssertFalse(sized.isEmpty)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { Set(proposed.withLock { $0.keys }) == sized },
                      "missing on orders.proposed: \(sized.subtracting(proposed.withLock { $0.keys }).sorted().prefix(10))")
        // The survivor took over the killed instance's partitions.
        XCTAssertGreaterThanOrEqual(partitions(second), split.0 + split.1, "split was \(split)")
        let redelivered = proposed.withLock { $0.values.filter { $0 > 1 }.count }
        print("scale-out: \(signals.count) signals, \(sized.count) sized orders, \(redelivered) published more than once (same id)")
        XCTAssertGreaterThan(metricValue(in: try second.metrics(), "tmt_agent_messages_total{agent=\"aria-risk\",type=\"signal\",outcome=\"sized\"}"), 0)
        XCTAssertEqual(second.terminate(), 0, second.log.suffix(2000).description)
    }
}
