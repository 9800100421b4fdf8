import TMTBase
import Synchronization

/// Everything a TMT service process shares: options, logger, metrics, lifecycle, health checks,
/// the HTTP server with `/health`, `/ready` and `/metrics`, and the heartbeat on `agents.health`.
///
/// An agent's `main` is: `let rt = ServiceRuntime.boot(...)`, open its stores and clients (adding
/// a readiness check and a shutdown step for each), `try rt.startHTTP(router:)`,
/// `rt.startHeartbeat(producer:)`, start consuming, then `rt.runUntilStopped()`.
public final class ServiceRuntime: Sendable {
    public let options: ServiceOptions
    public let logger: Logger
    public let metrics: MetricsRegistry
    public let lifecycle: Lifecycle
    public let health: HealthChecks
    /// The service's structured configuration (`config/<service>-staging.yml`), if any.
    public let config: ConfigNode?
    /// Process start, µs since the epoch.
    public let startedAtMicros: Int64
    private let startNanos: UInt64
    private let server = Locked<HTTPServer?>(nil)
    private let heartbeatsSent: Counter
    private let heartbeatFailures: Counter

    /// Parses `--help`, flags and environment, sets up logging and signal handling. On `--help`
    /// prints `usage` and exits 0; on a configuration error prints it naming the key and exits 2.
    public static func boot(service: String, executable: String, summary: String, defaultPort: Int,
                            extraUsage: String = "", arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> ServiceRuntime {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(ServiceOptions.usage(service: service, executable: executable, summary: summary, defaultPort: defaultPort, extra: extraUsage))
            exit(0)
        }
        do {
            let options = try ServiceOptions.parse(service: service, defaultPort: defaultPort, arguments: arguments)
            let runtime = try ServiceRuntime(options: options)
            runtime.lifecycle.installSignalHandlers()
            runtime.startMemoryTrim()
            return runtime
        } catch {
            StandardError.write("\(executable): \(error)\n")
            exit(2)
        }
    }

    /// Builds a runtime without touching process-wide signal handling (tests use this directly).
    public init(options: ServiceOptions, logSink: any LogSink = StandardErrorSink(), metrics: MetricsRegistry = .shared) throws {
        self.options = options
        logger = Logger(service: options.service, level: options.logLevel, sink: logSink)
        self.metrics = metrics
        lifecycle = Lifecycle(logger: logger)
        health = HealthChecks()
        config = try options.resolvedConfigFile().map { try ConfigNode.load(path: $0) }
        startedAtMicros = HopClock.nowMicros()
        startNanos = Monotonic.nanos()
        ProcessMetrics.register(on: metrics)
        metrics.gauge("tmt_service_info", help: "Always 1; labels carry the service, instance and version.",
                      labels: ["service", "instance", "version"])
            .labels(options.service, options.instanceId, TMTVersion.current).set(1)
        heartbeatsSent = metrics.counter("tmt_heartbeats_sent_total", help: "Heartbeats published on agents.health.").labels()
        heartbeatFailures = metrics.counter("tmt_heartbeat_failures_total", help: "Heartbeats that could not be published.").labels()
        let uptime = metrics.gauge("tmt_service_uptime_seconds", help: "Seconds since the service started.").labels()
        let start = startNanos
        metrics.addCollector { uptime.set(Monotonic.secondsSince(start)) }
    }

    /// Hands freed heap memory back to the kernel every `options.memoryTrimInterval` seconds
    /// (`MemoryTrimmer`; `boot` starts it, tests may). Off when the interval is 0 or the C
    /// library cannot trim. Stops when shutdown begins.
    public func startMemoryTrim() {
        guard options.memoryTrimInterval > 0 else { return }
        let trimmer = MemoryTrimmer(interval: options.memoryTrimInterval, metrics: metrics)
        guard trimmer.start() else {
            logger.notice("freed memory is not handed back: this C library has no malloc_trim")
            return
        }
        lifecycle.onShutdown("memory trim", timeout: 6) { trimmer.stop() }
    }

    /// Seconds since start.
    public var uptimeSeconds: Double { Monotonic.secondsSince(startNanos) }

    /// The HTTP port actually bound (after `startHTTP`).
    public var httpPort: Int { server.withLock { $0?.port ?? 0 } }

    /// Adds `/health` (liveness), `/ready` (every health check passes) and `/metrics` to `router`
    /// and starts serving on the configured host and port. Registers the server's shutdown step.
    public func startHTTP(router: HTTPRouter = HTTPRouter(), configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        var r = router
        let service = options.service, instance = options.instanceId
        r.get("/health") { [self] _ in
            try .json(Liveness(status: "ok", service: service, instanceId: instance, version: TMTVersion.current,
                               uptimeSeconds: (uptimeSeconds * 1000).rounded() / 1000))
        }
        r.get("/ready") { [self] _ in
            let results = health.runAll()
            let ready = results.allSatisfy(\.healthy)
            return try .json(Readiness(status: ready ? "ready" : "not_ready", service: service, checks: results),
                             status: ready ? .ok : .serviceUnavailable)
        }
        r.get("/metrics") { [metrics] _ in
            .text(metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        var conf = HTTPServerConfiguration(host: options.host, port: options.port)
        conf.name = "http"
        configure(&conf)
        let s = HTTPServer(configuration: conf, router: r, metrics: metrics, logger: logger)
        try s.start()
        server.withLock { $0 = s }
        logger.info("listening", ["address": "\(options.host):\(s.port)"])
        lifecycle.onShutdown("http server", timeout: conf.shutdownTimeout + 1) { s.shutdown() }
    }

    /// Publishes an `AgentHeartbeat` on `agents.health` every `options.heartbeatInterval` seconds
    /// from a dedicated thread, running the health checks each time so the heartbeat's status is
    /// current. Stops when shutdown begins.
    public func startHeartbeat(producer: KafkaProducer) {
        let stop = DispatchSemaphore(value: 0)
        let stopped = DispatchSemaphore(value: 0)
        let interval = options.heartbeatInterval
        TMTThread.detach { [self] in
            repeat {
                sendHeartbeat(producer: producer)
            } while stop.wait(timeout: .now() + interval) == .timedOut
            stopped.signal()
        }
        lifecycle.onShutdown("heartbeat", timeout: 2) { [self] in
            stop.signal()
            _ = stopped.wait(timeout: .now() + 2)
            // The last one says this instance is leaving (the circuit breaker stops counting it).
            sendHeartbeat(producer: producer, stopping: true)
        }
    }

    private func sendHeartbeat(producer: KafkaProducer, stopping: Bool = false) {
        let failing = stopping ? [] : health.runAll().filter { !$0.healthy }.map(\.name)
        let now = HopClock.nowMicros()
        let status = stopping ? AgentHeartbeat.stoppingStatus : failing.isEmpty ? "healthy" : "degraded"
        let beat = AgentHeartbeat(service: options.service, instanceId: options.instanceId, version: TMTVersion.current,
                                  status: status, startedAt: startedAtMicros,
                                  uptimeSeconds: uptimeSeconds, failingChecks: failing, sentAt: now)
        let envelope = Envelope(id: "\(options.instanceId)-\(now)", type: "agent.heartbeat", traceId: "heartbeat-\(options.instanceId)",
                                createdAt: now, source: options.service, payload: beat)
        do {
            _ = try producer.send(envelope, to: .agentsHealth, key: options.service)
            heartbeatsSent.inc()
        } catch {
            heartbeatFailures.inc()
            logger.warning("heartbeat not published", ["error": "\(error)"])
        }
    }

    /// Blocks until a stop signal has run every shutdown step, then exits 0.
    public func runUntilStopped() -> Never {
        logger.notice("started", ["version": TMTVersion.current, "instance": options.instanceId])
        lifecycle.wait()
        exit(0)
    }

    struct Liveness: Codable {
        var status: String
        var service: String
        var instanceId: String
        var version: String
        var uptimeSeconds: Double
    }

    struct Readiness: Codable {
        var status: String
        var service: String
        var checks: [HealthChecks.Result]
    }
}
