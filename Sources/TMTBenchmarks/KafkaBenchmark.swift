import Foundation
import Synchronization
import TMTCore

/// Produce→consume throughput through our wrappers and through kcat (raw librdkafka), on the same
/// broker, same message count and size, each on its own fresh topic.
enum KafkaBenchmark {
    static func run(count: Int, size: Int, bootstrap explicit: String?) throws {
        let bootstrap: String
        if let explicit {
            bootstrap = explicit
        } else if let text = try? String(contentsOfFile: testServicesFile("kafka.bootstrap"), encoding: .utf8), !text.isEmpty {
            bootstrap = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw BenchmarkError("no broker: pass --bootstrap or run scripts/test-services.sh start")
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
        guard done.wait(timeout: .now() + 300) == .success else { throw BenchmarkError("our consumer saw only \(seen.load(ordering: .relaxed)) of \(count)") }
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
                                               "-X", "linger.ms=1"], input: input)
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

        print("""

        ### Kafka — \(count) messages of \(size) B, dev broker (librdkafka mock cluster) at \(bootstrap)

        | client | produce msgs/s | consume msgs/s |
        |---|---:|---:|
        | TMTKafka (KafkaProducer idempotent acks=all, KafkaConsumer group, commit per message) | \(f0(ourProduce)) | \(f0(ourConsume)) |
        | kcat (raw librdkafka; consumer without a group) | \(f0(kProduce)) | \(f0(kConsume)) |

        ratio ours/kcat: produce \(f2(ourProduce / kProduce))×, consume \(f2(ourConsume / kConsume))×

        """)
    }
}
