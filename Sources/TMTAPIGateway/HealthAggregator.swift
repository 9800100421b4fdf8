import TMTBase
import Synchronization
import TMTCore

/// The aggregated `/health`: every component probed in parallel, each on its own thread with a
/// deadline, so one hanging dependency costs the caller at most the probe timeout.
final class HealthAggregator: Sendable {
    /// One component to probe: a name, a kind (`agent`, `database`, `redis`, `kafka`) and a
    /// blocking check that throws when the component is unhealthy.
    struct Probe: Sendable {
        var name: String
        var kind: String
        var check: @Sendable () throws -> Void
    }

    /// One component's result in the `/health` body.
    struct Component: Encodable, Sendable {
        var name: String
        var kind: String
        /// `healthy` or `unhealthy`.
        var status: String
        /// Probe latency in milliseconds (the timeout when it did not answer in time).
        var latencyMs: Double
        /// Why the last probe failed; nil when healthy.
        var error: String?
        /// The last time this component was seen healthy (RFC 3339), if ever.
        var lastHealthyAt: Date?
    }

    /// The `/health` body.
    struct Report: Encodable, Sendable {
        /// `healthy` when every component is, else `unhealthy`.
        var status: String
        var service: String
        var version: String
        var checkedAt: Date
        /// Names of the unhealthy components.
        var failing: [String]
        var components: [Component]
    }

    let probes: [Probe]
    let timeout: Double
    /// How long a report answers `/health` before the probes run again.
    let maxAge: Double
    private let lastHealthy = Locked<[String: Date]>([:])
    private let cached = Locked<Snapshot?>(nil)

    /// A report with its JSON body, encoded once per round: under load `/health` answers many
    /// thousands of times per round, and encoding the report was most of each answer's cost.
    struct Snapshot: Sendable {
        var report: Report
        var body: [UInt8]
        var at: UInt64
    }
    /// One probe round at a time: callers that arrive while one runs wait for it and share it.
    private let round = Locked(())

    init(probes: [Probe], timeout: Double, maxAge: Double = 0) {
        self.probes = probes
        self.timeout = timeout
        self.maxAge = maxAge
    }

    /// The newest report when it is at most `maxAge` old, else a new round (shared by every
    /// caller that arrives meanwhile). Each round probes every agent and store (16 HTTP requests
    /// and 3 pings): under many clients the aggregated `/health` would otherwise multiply them.
    func current() -> Report { snapshot().report }

    /// `current()` with its JSON body (`HTTPJSON.encode`), as `/health` answers it.
    func snapshot() -> Snapshot {
        func fresh() -> Snapshot? {
            cached.withLock { c in c.flatMap { Double(Monotonic.nanos() &- $0.at) / 1e9 <= maxAge ? $0 : nil } }
        }
        if let s = fresh() { return s }
        return round.withLock { _ in
            if let s = fresh() { return s }
            let report = run()
            // Encoding a report of plain strings, numbers and dates cannot fail; if it ever did,
            // the answer still carries the status.
            let body = (try? HTTPJSON.encode(report)) ?? Array(#"{"status":"\#(report.status)","error":"health report could not be encoded"}"#.utf8)
            let s = Snapshot(report: report, body: body, at: Monotonic.nanos())
            cached.withLock { $0 = s }
            return s
        }
    }

    /// Runs every probe at once and waits at most `timeout` (plus a little) for all of them.
    func run() -> Report {
        let results = Locked<[String: Component]>([:])
        let group = DispatchGroup()
        for probe in probes {
            group.enter()
            TMTThread.detach { [timeout] in
                let start = Monotonic.nanos()
                var failure: String?
                do { try probe.check() } catch { failure = "\(error)" }
                let ms = (Monotonic.secondsSince(start) * 1000 * 10).rounded() / 10
                if failure == nil, ms > timeout * 1000 { failure = "answered after \(ms) ms (limit \(timeout * 1000) ms)" }
                results.withLock {
                    $0[probe.name] = Component(name: probe.name, kind: probe.kind, status: failure == nil ? "healthy" : "unhealthy",
                                               latencyMs: ms, error: failure)
                }
                group.leave()
            }
        }
        _ = group.wait(timeout: .now() + timeout + 0.5)
        let now = Date()
        let done = results.withLock { $0 }
        var components: [Component] = []
        for probe in probes {
            var c = done[probe.name] ?? Component(name: probe.name, kind: probe.kind, status: "unhealthy", latencyMs: timeout * 1000,
                                                  error: "no answer within \(timeout) s")
            lastHealthy.withLock { map in
                if c.status == "healthy" { map[probe.name] = now }
                c.lastHealthyAt = map[probe.name]
            }
            components.append(c)
        }
        let failing = components.filter { $0.status != "healthy" }.map(\.name)
        return Report(status: failing.isEmpty ? "healthy" : "unhealthy", service: "api-gateway", version: TMTVersion.current,
                      checkedAt: now, failing: failing, components: components)
    }

    /// A probe of an agent's `/health`: healthy when it answers 200 within the timeout.
    static func agentProbe(_ agent: GatewaySettings.AgentTarget, timeout: Double) -> Probe {
        // Healthy = alive and every readiness check passes (its databases, Kafka, Redis): an
        // agent that answers but cannot reach what it needs is not doing its job.
        Probe(name: agent.name, kind: "agent") {
            let client = HTTPClient(timeout: timeout, maxResponseBytes: 64 * 1024)
            let live = try client.get(agent.url + "/health")
            guard live.status == 200 else {
                throw TMTError(.connection, "\(agent.name) /health answered \(live.status)")
            }
            let ready = try client.get(agent.url + "/ready")
            guard ready.status == 200 else {
                throw TMTError(.connection, "\(agent.name) not ready: \(AgentOverview.Readiness.failing(ready))")
            }
        }
    }
}
