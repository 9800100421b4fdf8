import Foundation
import Synchronization
import TMTCore
import TMTStagingTools
import TMTTrading

/// Ticks onto market.ticks as fast as asked, Wyckoff's consumption and lag followed on its /metrics.
struct KafkaLoad {
    struct Options {
        var messages: Int
        var rate: Double
        var duration: Double
        var drain: Double
        var marketTime: String
        var jsonPath: String?
        /// Which raw librdkafka references to measure: kcat following the load alongside Wyckoff
        /// (`same-run`), kcat reading the retained backlog afterwards (`after`), both or none.
        var raw: String

        init(_ arguments: [String]) throws {
            let a = try ToolArguments(arguments, valued: ["--messages", "--rate", "--duration", "--drain", "--market-time", "--json", "--raw"], switches: [])
            messages = try a.int("--messages", default: 200_000, range: 1...5_000_000)
            rate = try a.double("--rate", default: 0, range: 0...1_000_000)
            duration = try a.double("--duration", default: 120, range: 1...600)
            drain = try a.double("--drain", default: 60, range: 1...600)
            marketTime = a.string("--market-time") ?? "weekday"
            _ = try MarketTime.parse(marketTime, now: Date())
            jsonPath = a.string("--json")
            raw = a.string("--raw") ?? "both"
            guard ["both", "same-run", "after", "none"].contains(raw) else {
                throw TMTError(.invalidArgument, "--raw must be both, same-run, after or none, not '\(raw)' (see --help)")
            }
        }
    }

    let options: Options
    let kafka: KafkaConfiguration
    let wyckoff: String
    let endpoints: StackEndpoints

    /// One reading of Wyckoff's /metrics: its count of market.ticks messages, its group's lag
    /// gauge (refreshed by Wyckoff every few seconds, so it can be seconds old), and how many of
    /// this tool's ticks the broker had acknowledged when the reading was asked for (ticks still
    /// in the producer's queue are not on the broker, so not behind Wyckoff).
    struct Sample { var t: Double; var consumed: Double; var lag: Double; var sent: Double }

    func sample(_ t0: Date, sent: Int) throws -> Sample {
        let m = try MetricsScrape.fetch(wyckoff)
        return Sample(t: Date().timeIntervalSince(t0), consumed: m.sum("tmt_kafka_messages_consumed_total", ["topic": "market.ticks"]),
                      lag: m.sum("tmt_kafka_consumer_lag", ["topic": "market.ticks", "group": "wyckoff-analysis"]), sent: Double(sent))
    }

    func run() throws -> Int32 {
        let logger = Logger(service: "load-tester", level: .warning)
        let producer = try KafkaProducer(configuration: kafka.forMarketData(), metrics: MetricsRegistry(), logger: logger)
        // Ticks the broker acknowledged (the producer's own count): what Wyckoff can have read.
        @Sendable func acknowledged() -> Int { Int(producer.acknowledged(topic: Topic.marketTicks.name)) }
        defer { producer.close() }
        producer.prepare(topics: [Topic.marketTicks.name])
        let t0 = Date()
        let t0Nanos = Monotonic.nanos()
        let base = try sample(t0, sent: 0)
        // Ticks on the broker not yet consumed, from the counts (the lag gauge is too stale to
        // show a backlog that builds and drains within seconds). A running generator's ticks
        // count as consumed too, so this can only understate the backlog, by its few ticks a second.
        func behind(_ s: Sample) -> Double { max(0, s.sent - (s.consumed - base.consumed)) }
        print("load-tester kafka: \(options.messages) ticks onto market.ticks\(options.rate > 0 ? " at \(Int(options.rate))/s" : " as fast as the producer goes"); "
            + "following wyckoff-analysis at \(wyckoff) (consumed so far \(Int(base.consumed)))")

        let samples = Locked<[Sample]>([base])
        let stop = Atomic<Bool>(false)
        let sampler = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while !stop.load(ordering: .relaxed) {
                if let s = try? sample(t0, sent: acknowledged()) { samples.withLock { $0.append(s) } }
                usleep(250_000)
            }
            sampler.signal()
        }

        let (start, note) = try MarketTime.resolve(options.marketTime, endpoints: endpoints)
        if let note { print("load-tester: \(note)") }
        // From the stack's newest prices: starting at the generator's own prices would jump every
        // instrument the stack has seen trade elsewhere, and the circuit breaker rightly halts an
        // instrument on such a gap (which then blocked the next tool's orders on it).
        let prices = StackPrices.latest(logger: logger)
        var simulator = MarketSimulator(.init(seed: 99, startMicros: Int64(start.timeIntervalSince1970 * 1_000_000),
                                              profiles: StackPrices.starting(InstrumentProfile.defaults, at: prices)))
        // The ticks are encoded before the clock starts, in batches of up to 200,000 (~80 MB):
        // encoding each envelope while producing made this tool the limit of the run (25–33k
        // ticks/s) instead of the pipeline's first hop.
        func encodeBatch(_ n: Int) throws -> [(key: String, value: [UInt8])] {
            try (0..<n).map { _ in
                let tick = simulator.next()
                let id = "\(tick.instrument)-\(tick.time)-load"
                return (tick.instrument, try EnvelopeCoding.encode(Envelope(id: id, type: "market.tick", traceId: id, source: "load-tester", payload: tick)))
            }
        }
        let batchSize = 200_000
        var batch = try encodeBatch(min(batchSize, options.messages))
        let follower: RawFollower?
        if options.raw == "both" || options.raw == "same-run" {
            follower = RawFollower(kafka.forMarketData(), messages: options.messages)
            if let why = follower?.failure { print("load-tester: raw librdkafka follower: not measured (\(why))") }
        } else {
            follower = nil
        }
        var next = 0
        let began = Monotonic.nanos()
        let deadline = began + UInt64(options.duration * 1e9)
        var sent = 0, failures = 0
        var lastReport = began
        while sent < options.messages, Monotonic.nanos() < deadline {
            if options.rate > 0 {
                let due = began + UInt64(Double(sent) / options.rate * 1e9)
                let now = Monotonic.nanos()
                if due > now + 200_000 { usleep(UInt32(min((due - now) / 1000, 100_000))); continue }
            }
            if next == batch.count {
                batch = try encodeBatch(min(batchSize, options.messages - sent))
                next = 0
            }
            let record = batch[next]
            next += 1
            // A full local queue refuses the send: let the producer drain, then resend the same tick.
            var attempts = 0
            while true {
                do {
                    _ = try producer.send(topic: .marketTicks, key: record.key, value: record.value)
                    break
                } catch {
                    attempts += 1
                    failures += 1
                    if attempts > 10_000 { throw TMTError(.kafka, "a tick could not be sent after \(attempts) attempts: \(error)") }
                    usleep(1000)
                }
            }
            sent += 1
            if Monotonic.nanos() - lastReport >= 2_000_000_000 {
                lastReport = Monotonic.nanos()
                let last = samples.withLock { $0.last! }
                print(String(format: "  … %.1f s: %d sent (%.0f/s), Wyckoff consumed %.0f, behind %.0f", Date().timeIntervalSince(t0), sent,
                             Double(sent) / (Double(Monotonic.nanos() - began) / 1e9), last.consumed - base.consumed, behind(last)))
                fflush(nil)
            }
        }
        try producer.flush(timeout: 60)
        let produceSeconds = Double(Monotonic.nanos() - began) / 1e9
        let producedAt = Date().timeIntervalSince(t0)
        print(String(format: "  produced %d ticks in %.2f s (%.0f/s); waiting up to %.0f s for Wyckoff to catch up", sent, produceSeconds,
                     Double(sent) / produceSeconds, options.drain))
        fflush(nil)

        // Caught up: Wyckoff's count reached everything sent (its counter counts every
        // market.ticks message, so a running generator's ticks count too and only make this
        // sooner), confirmed by a lag reading under 1 % of what was sent. Wyckoff refreshes its
        // lag gauge every few seconds, so the confirmation can come seconds after the count got
        // there: the catch-up time is the first sample with the full count, not the confirmation.
        let drainDeadline = Date().addingTimeInterval(options.drain)
        var caughtUp: Sample?
        var reached: Sample?
        // The dev broker keeps about 5 MiB per partition: when the group falls further behind,
        // the oldest ticks are deleted before they are read. Then the group's lag is down while
        // the count stays short of what was sent; after 2 s without progress that is the end,
        // and the shortfall is reported as removed by retention.
        var lastProgress: (consumed: Double, at: Date) = (-1, Date())
        while Date() < drainDeadline {
            let s = try sample(t0, sent: acknowledged())
            samples.withLock { $0.append(s) }
            if s.consumed != lastProgress.consumed { lastProgress = (s.consumed, Date()) }
            // Only samples taken once every tick was on the broker: a running generator's ticks
            // could otherwise make the count look complete while some were still being produced.
            if reached == nil, s.consumed - base.consumed >= Double(sent) {
                reached = samples.withLock { $0 }.sorted { $0.t < $1.t }
                    .first { $0.sent >= Double(sent) && $0.consumed - base.consumed >= Double(sent) } ?? s
            }
            if let reached, s.lag <= Double(sent) / 100 { caughtUp = reached; break }
            if s.consumed > base.consumed, s.lag <= Double(sent) / 100, Date().timeIntervalSince(lastProgress.at) >= 2 {
                // Caught up when the count last moved.
                caughtUp = samples.withLock { $0 }.sorted { $0.t < $1.t }.first { $0.consumed == s.consumed } ?? s
                break
            }
            usleep(100_000)
        }
        let removed = caughtUp.map { max(0, Double(sent) - ($0.consumed - base.consumed)) } ?? 0
        stop.store(true, ordering: .relaxed)
        sampler.wait()
        let all = samples.withLock { $0 }.sorted { $0.t < $1.t }
        let firstConsume = all.first { $0.consumed > base.consumed }
        let maxLag = all.map(behind).max() ?? 0
        let lagAtEnd = all.last { $0.t <= producedAt }.map(behind) ?? 0
        var consumeRate: Double?
        if let c = caughtUp, let f = firstConsume, c.t > f.t {
            // From the sample before the first consumption to the catch-up sample.
            let before = all.last { $0.t < f.t } ?? base
            consumeRate = (c.consumed - before.consumed) / (c.t - before.t)
        }
        // Timed like the follower: every tick, from the first produced to the catch-up sample.
        let producedFromT = Double(began - t0Nanos) / 1e9
        let wyckoffSameLoad = caughtUp.flatMap { c in c.t > producedFromT ? Double(sent) / (c.t - producedFromT) : nil }
        // Lag over the loaded period, in quarters: does it grow?
        let loaded = all.filter { $0.t <= producedAt }
        var quarters: [Double] = []
        if loaded.count >= 4 {
            for q in 0..<4 {
                let slice = loaded[(q * loaded.count / 4)..<((q + 1) * loaded.count / 4)]
                quarters.append(slice.map(behind).reduce(0, +) / Double(max(slice.count, 1)))
            }
        }
        let followed = follower?.finish(producedFrom: began, deadline: drainDeadline)
        let raw: RawReading = options.raw == "both" || options.raw == "after" ? rawReference() : .unavailable("--raw \(options.raw)")
        print("")
        print(String(format: "produced %.0f msgs/s; Wyckoff consumed %@ msgs/s sustained; behind (acknowledged by the broker, not yet consumed) at most %.0f, at the end of producing %.0f, mean by quarter of the load %@; %@",
                     Double(sent) / produceSeconds, consumeRate.map { String(format: "%.0f", $0) } ?? "n/a", maxLag, lagAtEnd,
                     quarters.map { String(format: "%.0f", $0) }.joined(separator: " / "),
                     caughtUp.map { String(format: "caught up %.2f s after the last message", $0.t - producedAt) } ?? "did NOT catch up within the drain time"))
        if removed > 0 {
            print(String(format: "%.0f of the %d ticks were removed by the broker's retention before Wyckoff read them (the dev broker keeps about 5 MiB per partition; send fewer with --messages to measure without loss)",
                         removed, sent))
        }
        switch raw {
        case .measured(let count, let seconds):
            let rate = Double(count) / seconds
            print(String(format: "raw librdkafka on the same broker right after (kcat reading the %d ticks market.ticks retains, from process start): %.0f msgs/s; Wyckoff/kcat %@",
                         count, rate, consumeRate.map { String(format: "%.2f×", $0 / rate) } ?? "n/a"))
        case .unavailable(let why):
            print("raw librdkafka reference: not measured (\(why))")
        }
        if let followed, let seconds = followed.seconds {
            let rate = Double(followed.count) / seconds
            print(String(format: "raw librdkafka under the same load (kcat following market.ticks alongside Wyckoff, same fetch settings): %d ticks in %.2f s from the first tick produced, %.0f msgs/s; Wyckoff/kcat %@",
                         followed.count, seconds, rate, wyckoffSameLoad.map { String(format: "%.2f×", $0 / rate) } ?? "n/a"))
        } else if let followed {
            print("raw librdkafka under the same load: not measured (\(followed.note))")
        }
        if let path = options.jsonPath {
            var object: [String: Any] = [
                "mode": "kafka", "messages": sent, "produce_seconds": produceSeconds, "produce_msgs_per_s": Double(sent) / produceSeconds,
                "consume_msgs_per_s": consumeRate as Any, "behind_max": maxLag, "behind_at_end_of_produce": lagAtEnd, "behind_by_quarter": quarters,
                "drain_seconds": caughtUp.map { $0.t - producedAt } as Any, "send_retries": failures,
                "removed_by_retention": removed,
            ]
            if let followed, let seconds = followed.seconds {
                object["kcat_same_load_messages"] = followed.count
                object["kcat_same_load_msgs_per_s"] = Double(followed.count) / seconds
                object["wyckoff_same_load_msgs_per_s"] = wyckoffSameLoad as Any
                object["ratio_to_kcat_same_load"] = wyckoffSameLoad.map { $0 / (Double(followed.count) / seconds) } as Any
            }
            if case .measured(let count, let seconds) = raw {
                object["kcat_messages"] = count
                object["kcat_msgs_per_s"] = Double(count) / seconds
                object["ratio_to_kcat"] = consumeRate.map { $0 / (Double(count) / seconds) } as Any
            }
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
            print("figures: \(path)")
        }
        return caughtUp != nil ? ToolExit.passed : ToolExit.failed
    }

    enum RawReading {
        case measured(count: Int, seconds: Double)
        case unavailable(String)
    }

    /// The issue's reference for the first hop: raw librdkafka consumption (kcat) on the same
    /// broker in the same run. kcat reads every tick market.ticks still holds, all partitions from
    /// the beginning to the end, printing one byte per message; timed from process start (as in
    /// `tmt-benchmarks kafka`), with the consumers' `fetch.wait.max.ms`.
    func rawReference() -> RawReading {
        guard let path = kcatPath() else { return .unavailable("kcat is not installed") }
        let market = kafka.forMarketData()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["-C", "-b", market.bootstrapServers, "-t", Topic.marketTicks.name, "-o", "beginning", "-e", "-q", "-f", ".",
                       "-X", "fetch.wait.max.ms=\(market.fetchWaitMaxMs)"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let began = Monotonic.nanos()
        do { try p.run() } catch { return .unavailable("kcat did not start: \(error)") }
        // An unreachable broker would keep kcat waiting: it gets 60 s.
        let deadline = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: deadline)
        let errors = ReadToEnd(err.fileHandleForReading)
        var count = 0
        let handle = out.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            count += chunk.count
        }
        p.waitUntilExit()
        deadline.cancel()
        let seconds = Double(Monotonic.nanos() - began) / 1e9
        guard p.terminationStatus == 0 else {
            let text = String(decoding: errors.wait(), as: UTF8.self).split(separator: "\n").suffix(2).joined(separator: " ")
            return .unavailable(p.terminationReason == .uncaughtSignal ? "kcat did not finish within 60 s"
                                : "kcat exited with status \(p.terminationStatus): \(text)")
        }
        guard count > 0 else { return .unavailable("kcat read no messages") }
        return .measured(count: count, seconds: seconds)
    }
}

/// kcat following `market.ticks` from its end while the load runs, alongside Wyckoff, with the
/// same fetch settings as Wyckoff's consumer (`fetch.wait.max.ms`, an 8 MiB prefetch): raw
/// librdkafka under the same load, on the same broker, at the same time. It exits after reading
/// as many ticks as the run sends (`-c`); its exit is its catch-up time.
final class RawFollower: Sendable {
    struct Reading { var count: Int; var seconds: Double?; var note: String }

    private let process: Process?
    private let errors: ReadToEnd?
    private let exited = Locked<UInt64?>(nil)
    let messages: Int
    let failure: String?

    init(_ market: KafkaConfiguration, messages: Int) {
        self.messages = messages
        guard let path = kcatPath() else {
            process = nil; errors = nil; failure = "kcat is not installed"
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["-C", "-b", market.bootstrapServers, "-t", Topic.marketTicks.name, "-o", "end", "-c", String(messages), "-q", "-f", "",
                       "-X", "fetch.wait.max.ms=\(market.fetchWaitMaxMs)", "-X", "queued.max.messages.kbytes=8192"]
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let exited = self.exited
        p.terminationHandler = { _ in exited.withLock { $0 = Monotonic.nanos() } }
        do { try p.run() } catch {
            process = nil; errors = nil; failure = "kcat did not start: \(error)"
            return
        }
        process = p
        errors = ReadToEnd(err.fileHandleForReading)
        failure = nil
        // kcat has to learn the partitions' ends before the first tick is produced, or it would
        // start after some of them and never count the whole run.
        // (An early exit shows in `finish`: it ended before the first tick was produced.)
        usleep(1_500_000)
    }

    /// Waits for kcat to have read the whole run (until `deadline`), then reports its time from
    /// `producedFrom` (the first tick produced, `Monotonic.nanos()`).
    func finish(producedFrom: UInt64, deadline: Date) -> Reading? {
        guard let process, let errors else { return failure.map { Reading(count: 0, seconds: nil, note: $0) } }
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return Reading(count: 0, seconds: nil, note: "kcat had not read all \(messages) ticks by the end of the drain time")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0, let end = exited.withLock({ $0 }), end > producedFrom else {
            let text = String(decoding: errors.wait(), as: UTF8.self).split(separator: "\n").suffix(2).joined(separator: " ")
            return Reading(count: 0, seconds: nil, note: "kcat exited with status \(process.terminationStatus) before the load ended: \(text)")
        }
        return Reading(count: messages, seconds: Double(end - producedFrom) / 1e9, note: "")
    }
}

/// kcat on `PATH` (or in /usr/bin, /usr/local/bin), if installed.
func kcatPath() -> String? {
    ((ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/bin:/usr/local/bin").split(separator: ":")
        .map { "\($0)/kcat" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Reads a pipe to its end on its own thread (so a child filling it cannot block on it).
final class ReadToEnd: Sendable {
    private let data = Locked(Data())
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [data, done] in
            let all = handle.readDataToEndOfFile()
            data.withLock { $0 = all }
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        done.signal()
        return data.withLock { $0 }
    }
}
