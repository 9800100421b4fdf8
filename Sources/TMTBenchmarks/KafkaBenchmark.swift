import Foundation
import Synchronization
import TMTCore

/// Produce→consume throughput through our wrappers and through kcat (raw librdkafka), on the same
/// broker, same message count and size, each on its own fresh topic.
enum KafkaBenchmark {
    /// Runs the comparison `repeats` times (each on fresh topics) and reports every run and the
    /// medians: one run of 100k small messages lasts a fraction of a second, so single runs are noisy.
    static func run(count: Int, size: Int, bootstrap explicit: String?, repeats: Int = 5) throws {
        var runs: [(op: Double, oc: Double, kp: Double, kc: Double)] = []
        var broker = ""
        for i in 1...repeats {
            progress("run \(i) of \(repeats)")
            let r = try runOnce(count: count, size: size, bootstrap: explicit)
            broker = r.bootstrap
            runs.append((r.ourProduce, r.ourConsume, r.kProduce, r.kConsume))
        }
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
        let op = median(runs.map(\.op)), oc = median(runs.map(\.oc)), kp = median(runs.map(\.kp)), kc = median(runs.map(\.kc))
        let perRun = runs.enumerated().map { "| \($0.offset + 1) | \(f0($0.element.op)) | \(f0($0.element.kp)) | \(f0($0.element.oc)) | \(f0($0.element.kc)) |" }
            .joined(separator: "\n")
        print("""

        ### Kafka — \(count) messages of \(size) B, dev broker (librdkafka mock cluster) at \(broker), median of \(repeats) runs

        | client | produce msgs/s | consume msgs/s |
        |---|---:|---:|
        | TMTKafka (KafkaProducer idempotent, acks=all; KafkaConsumer in a group, offsets committed after each handler returns, in 100 ms batches; timed from the first message) | \(f0(op)) | \(f0(oc)) |
        | kcat (raw librdkafka; producer idempotent; consumer without a group, timed from process start) | \(f0(kp)) | \(f0(kc)) |

        ratio ours/kcat (medians): produce \(f2(op / kp))×, consume \(f2(oc / kc))×

        | run | ours produce | kcat produce | ours consume | kcat consume |
        |---:|---:|---:|---:|---:|
        \(perRun)

        """)
    }

    static func runOnce(count: Int, size: Int, bootstrap explicit: String?) throws
        -> (bootstrap: String, ourProduce: Double, ourConsume: Double, kProduce: Double, kConsume: Double) {
        let bootstrap: String
        if let explicit {
            bootstrap = explicit
        } else if let text = try? String(contentsOfFile: testServicesFile("kafka.bootstrap"), encoding: .utf8), !text.isEmpty {
            bootstrap = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw BenchmarkError("no broker: pass --bootstrap or run scripts/test-services.sh start")
        }
        // The mock broker keeps only about 5 MiB per partition (4 partitions for auto-created
        // topics) and silently drops older data; stay well inside it.
        let bytes = count * (size + 16)
        guard bytes <= 16 * 1024 * 1024 else {
            throw BenchmarkError("\(count) × \(size) B exceeds what the dev broker retains on a 4-partition topic (~20 MiB); lower --count or --size")
        }
        let run = UUID().uuidString.prefix(8)
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let registry = MetricsRegistry()
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "benchmark")

        // Ours: produce.
        let ourTopic = "bench.ours.\(run)"
        progress("ours: producing \(count) × \(size) B to \(ourTopic)")
        let producer = try KafkaProducer(configuration: config, metrics: registry, logger: Logger(service: "bench", sink: MemoryLogSink()))
        let p0 = Monotonic.nanos()
        for i in 0..<count {
            _ = try producer.send(topic: ourTopic, key: "k\(i % 64)", value: value)
        }
        try producer.flush(timeout: 120)
        let ourProduce = Double(count) / Monotonic.secondsSince(p0)
        producer.close()

        // Ours: consume (timed from the first message, so the group join is not counted).
        progress("ours: consuming \(count) in a consumer group")
        let seen = Atomic<Int>(0)
        let firstAt = Atomic<UInt64>(0)
        let done = DispatchSemaphore(value: 0)
        let consumer = try KafkaConsumer(configuration: config, groupId: "bench-\(run)", topics: [ourTopic], metrics: registry,
                                         logger: Logger(service: "bench", sink: MemoryLogSink()))
        try consumer.start { _ in
            let n = seen.add(1, ordering: .relaxed).newValue
            if n == 1 { firstAt.store(Monotonic.nanos(), ordering: .relaxed) }
            if n == count { done.signal() }
        }
        // Fail fast on a stall (e.g. the dev broker dropped data past its per-partition retention).
        var lastSeen = -1, stalledSince = Date()
        while done.wait(timeout: .now() + 1) == .timedOut {
            let n = seen.load(ordering: .relaxed)
            if n != lastSeen { lastSeen = n; stalledSince = Date() }
            if Date().timeIntervalSince(stalledSince) > 20 {
                throw BenchmarkError("our consumer stalled at \(n) of \(count); the dev broker keeps only ~5 MiB per partition, so lower --count or --size")
            }
        }
        let ourConsume = Double(count) / Monotonic.secondsSince(firstAt.load(ordering: .relaxed))
        consumer.stop(timeout: 10)

        // kcat: produce from stdin (key:value lines), then consume every partition from the start.
        let kTopic = "bench.kcat.\(run)"
        progress("kcat: producing \(count) × \(size) B to \(kTopic)")
        var input = Data()
        input.reserveCapacity(count * (size + 8))
        let line = String(repeating: "x", count: size)
        for i in 0..<count { input.append(Data("k\(i % 64):\(line)\n".utf8)) }
        let k0 = Monotonic.nanos()
        let prod = try Subprocess.run("kcat", ["-P", "-b", bootstrap, "-t", kTopic, "-K:", "-X", "enable.idempotence=true",
                                               "-X", "linger.ms=\(config.lingerMs)"], input: input)
        let kProduce = Double(count) / Monotonic.secondsSince(k0)
        guard prod.status == 0 else { throw BenchmarkError("kcat -P failed: \(prod.stderr)") }
        progress("kcat: consuming \(count)")
        let c0 = Monotonic.nanos()
        let cons = try Subprocess.run("kcat", ["-C", "-b", bootstrap, "-t", kTopic, "-o", "beginning", "-c", String(count), "-q",
                                               "-f", ".", "-X", "fetch.wait.max.ms=\(config.fetchWaitMaxMs)"])
        let kConsume = Double(count) / Monotonic.secondsSince(c0)
        guard cons.status == 0, cons.stdout.utf8.count == count else {
            throw BenchmarkError("kcat -C read \(cons.stdout.utf8.count) of \(count): \(cons.stderr)")
        }

        return (bootstrap, ourProduce, ourConsume, kProduce, kConsume)
    }
}
