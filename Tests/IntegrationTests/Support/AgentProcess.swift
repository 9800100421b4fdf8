import Foundation
import TMTCore
import XCTest

/// One of the project's executables running as a separate process, as a user would run it, with
/// its log captured to a file for failure messages.
final class AgentProcess {
    let process = Process()
    let port: Int
    let logFile: URL

    init(executable: String, port: Int, environment: [String: String], arguments: [String] = []) throws {
        self.port = port
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(executable)-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw TestServices.NotRunning(description: "cannot create \(logFile.path)")
        }
        process.executableURL = TestServices.executable(executable)
        process.arguments = arguments
        process.currentDirectoryURL = TestServices.repoRoot
        // Not the caller's own stack either: `eval "$(scripts/stack.sh env)"` exports the market-data
        // cluster, which the tests' single-cluster agents must not follow.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TMT_TEST_") && !$0.key.hasPrefix("KAFKA_MARKET_") }
        env["PORT"] = String(port)
        env["HTTP_HOST"] = "127.0.0.1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        // TMT_KEEP_AGENT_LOGS=1 keeps the logs (their paths are in the failure messages' context).
        if ProcessInfo.processInfo.environment["TMT_KEEP_AGENT_LOGS"] != "1" { try? FileManager.default.removeItem(at: logFile) }
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
    var base: String { "http://127.0.0.1:\(port)" }

    /// Waits until `/ready` answers 200.
    func waitUntilReady(timeout: Double = 60) throws {
        let client = HTTPClient(timeout: 2)
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            guard process.isRunning else { throw TestServices.NotRunning(description: "process exited (\(process.terminationStatus)):\n\(log)") }
            if let r = try? client.get(base + "/ready"), r.status == 200 { return }
            usleep(200_000)
        }
        throw TestServices.NotRunning(description: "/ready never answered 200 within \(timeout) s:\n\(log)")
    }

    func metrics() throws -> String { try HTTPClient(timeout: 5).get(base + "/metrics").text }

    /// Sends SIGTERM and waits for the exit status.
    func terminate(timeout: Double = 30) -> Int32? {
        kill(process.processIdentifier, SIGTERM)
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < end { usleep(50_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// A TCP port nobody listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

extension AgentProcess {
    /// Publishes a probe tick (US30 on 2000-01-01, far from any test's market data) until this
    /// agent's `market.ticks` consumer has handled one. A consumer joined with
    /// `auto.offset.reset=latest` shows its lag gauge before it has resolved where to start, so
    /// ticks sent in that moment would be skipped; after a handled probe they are not.
    func waitUntilConsumingTicks(producer: KafkaProducer, timeout: Double = 30) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        var n: Int64 = 0
        while Date() < end {
            let time: Int64 = 946_684_800_000_000 + n
            n += 1
            let probe = Tick(instrument: "US30", bid: 10_000, ask: 10_002, volume: 1, time: time)
            _ = try? producer.send(Envelope(id: "probe-US30-\(time)-\(UUID().uuidString.prefix(6))", type: "market.tick", traceId: "probe",
                                            source: "test", payload: probe), to: .marketTicks, key: "US30").wait(timeout: 5)
            let deadline = Date().addingTimeInterval(1)
            while Date() < deadline {
                if sum((try? metrics()) ?? "", "tmt_kafka_messages_consumed_total{topic=\"market.ticks\"") > 0 { return true }
                usleep(100_000)
            }
        }
        return false
    }
}

/// The scripted EUR_USD accumulation the Wyckoff tests feed an agent: seed 5, a 30-minute script
/// from Tuesday 2026-11-24 07:00 UTC (London session), 26,000 ticks at 20,000/s.
enum ScriptedAccumulation {
    static let start = "2026-11-24T07:00:00Z"
    static let startMicros: Int64 = 1_795_503_600_000_000

    /// Waits until `agent` consumes ticks, runs the generator, then waits until the agent has
    /// worked through the script (4,350 s of market time is about 72 one-minute bars).
    static func feed(_ agent: AgentProcess, bootstrap: String) throws {
        let probeProducer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientId: "probe"),
                                              metrics: MetricsRegistry())
        XCTAssertTrue(agent.waitUntilConsumingTicks(producer: probeProducer), "the agent never consumed a tick:\n\(agent.log.suffix(2000))")
        probeProducer.close()
        let generator = Process()
        generator.executableURL = TestServices.executable("tmt-data-generator")
        generator.arguments = ["--seed", "5", "--rate", "20000", "--count", "26000", "--instruments", "EUR_USD",
                               "--scenario", "accumulation:EUR_USD", "--scenario-minutes", "30", "--start", start, "--bootstrap", bootstrap]
        generator.standardError = FileHandle.nullDevice
        try generator.run()
        generator.waitUntilExit()
        XCTAssertEqual(generator.terminationStatus, 0)
        let processed = KafkaWait.until(timeout: 120) {
            metricValue(in: (try? agent.metrics()) ?? "", "tmt_wyckoff_bars_total{instrument=\"EUR_USD\"}") >= 70
        }
        XCTAssertTrue(processed, "the agent did not work through the script:\n\(agent.log.suffix(3000))")
    }
}

extension AgentProcess {
    /// Whether the agent's consumers of every topic in `topics` joined their groups (they report
    /// a lag) within `timeout` seconds.
    func joined(_ topics: [String], timeout: Double = 40) -> Bool {
        KafkaWait.until(timeout: timeout) {
            let m = (try? self.metrics()) ?? ""
            return topics.allSatisfy { m.contains("tmt_kafka_consumer_lag{topic=\"\($0)\"") }
        }
    }

    /// Sends EUR_USD ticks (bid 1.08500, ask 1.08508, now) until the agent's market view holds a
    /// quote: a consumer that starts at the latest offset may begin just after the first tick.
    func fedAQuote(through producer: KafkaProducer, timeout: Double = 30) -> Bool {
        KafkaWait.until(timeout: timeout) {
            let t = HopClock.nowMicros()
            let tick = Tick(instrument: "EUR_USD", bid: Decimal(string: "1.08500")!, ask: Decimal(string: "1.08508")!, volume: 100_000, time: t)
            _ = try? producer.send(Envelope(id: "EUR_USD-\(t)", type: "market.tick", traceId: "t", source: "test", payload: tick),
                                   to: .marketTicks, key: "EUR_USD").wait(timeout: 10)
            usleep(200_000)
            return metricValue(in: (try? self.metrics()) ?? "", "tmt_market_view_instruments") >= 1
        }
    }
}
