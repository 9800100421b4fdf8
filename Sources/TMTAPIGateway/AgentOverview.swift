import TMTBase
import Synchronization
import TMTCore

/// `GET /api/v1/agents`: each agent of `AGENT_URLS` with its status, version, uptime, consumer
/// lag per topic and last error, read from the agent's own `/health` (liveness: version,
/// instance, uptime), `/ready` (its dependency checks: the failing ones give the error) and
/// `/metrics` (`tmt_kafka_consumer_lag` summed by topic). Every agent's three reads run at
/// once, each bounded by the probe timeout, so one hanging agent costs the caller at most that
/// timeout; an agent that does not answer is listed as `down` with the reason, never left out.
struct AgentOverview: Sendable {
    let agents: [GatewaySettings.AgentTarget]
    /// Seconds each read may take (`HEALTH_PROBE_TIMEOUT_SECONDS`).
    let timeout: Double

    /// One agent in the answer.
    struct Agent: Encodable, Sendable {
        var name: String
        var url: String
        /// `up` (answers `/health` and every readiness check passes), `degraded` (answers but a
        /// dependency check fails) or `down` (no usable `/health` answer).
        var status: String
        var version: String?
        var instanceId: String?
        var uptimeSeconds: Double?
        /// Latency of the `/health` read, ms.
        var latencyMs: Double
        /// Sum of `tmt_kafka_consumer_lag` samples (all partitions and groups) by topic.
        var consumerLag: [String: Double]
        /// Sum over every topic; nil when the agent exposes no lag (it consumes nothing, or is down).
        var totalLag: Double?
        /// Why the agent is down or degraded; nil when it is up.
        var lastError: String?
    }

    /// The `/api/v1/agents` body.
    struct Report: Encodable, Sendable {
        var checkedAt: Date
        /// Agents that are not `up`.
        var failing: [String]
        var items: [Agent]
    }

    /// One read's outcome.
    private enum Read: Sendable {
        case answered(HTTPClientResponse, ms: Double)
        case failed(String)
    }

    func collect() -> Report {
        let reads = Locked<[String: Read]>([:])
        let group = DispatchGroup()
        let client = HTTPClient(timeout: timeout, maxResponseBytes: 4 * 1024 * 1024)
        for agent in agents {
            for path in ["/health", "/ready", "/metrics"] {
                group.enter()
                // A thread per read, as the aggregated /health does: blocking sockets stay off
                // the shared queues, and a hanging agent holds nothing but its own thread.
                TMTThread.detach {
                    let start = Monotonic.nanos()
                    let read: Read
                    do {
                        let r = try client.get(agent.url + path)
                        read = .answered(r, ms: (Monotonic.secondsSince(start) * 10_000).rounded() / 10)
                    } catch {
                        read = .failed("\(error)")
                    }
                    reads.withLock { $0[agent.name + path] = read }
                    group.leave()
                }
            }
        }
        _ = group.wait(timeout: .now() + timeout + 0.5)
        let done = reads.withLock { $0 }
        let items = agents.map { agent in
            Self.agent(agent, health: done[agent.name + "/health"], ready: done[agent.name + "/ready"],
                       metrics: done[agent.name + "/metrics"], timeout: timeout)
        }
        return Report(checkedAt: Date(), failing: items.filter { $0.status != "up" }.map(\.name), items: items)
    }

    /// The `/health` body of a TMT service (`ServiceRuntime`'s liveness answer).
    private struct Liveness: Decodable {
        var status: String?
        var version: String?
        var instanceId: String?
        var uptimeSeconds: Double?
    }

    /// The `/ready` body: the failing checks name the last error.
    struct Readiness: Decodable {
        struct Check: Decodable {
            var name: String
            var healthy: Bool
            var error: String?
        }
        var checks: [Check]?

        /// What a non-200 `/ready` answer says is failing, one line.
        static func failing(_ r: HTTPClientResponse) -> String {
            let failing = ((try? r.decode(Readiness.self))?.checks ?? []).filter { !$0.healthy }
            return failing.isEmpty ? "/ready answered \(r.status)" : failing.map { "\($0.name): \($0.error ?? "failing")" }.joined(separator: "; ")
        }
    }

    private static func agent(_ target: GatewaySettings.AgentTarget, health: Read?, ready: Read?, metrics: Read?, timeout: Double) -> Agent {
        var out = Agent(name: target.name, url: target.url, status: "down", latencyMs: timeout * 1000, consumerLag: [:])
        // Version and uptime from the metrics too, for an agent whose /health body is not ours.
        if case .answered(let m, _) = metrics, m.status == 200 {
            let samples = PrometheusSamples(m.text)
            out.consumerLag = samples.sum("tmt_kafka_consumer_lag", by: "topic")
            out.totalLag = out.consumerLag.isEmpty ? nil : out.consumerLag.values.reduce(0, +)
            out.uptimeSeconds = samples.first("tmt_service_uptime_seconds")?.value
            out.version = samples.first("tmt_service_info")?.labels["version"]
            out.instanceId = samples.first("tmt_service_info")?.labels["instance"]
        }
        switch health {
        case nil:
            out.lastError = "/health: no answer within \(timeout) s"
        case .failed(let e)?:
            out.lastError = "/health: \(e)"
        case .answered(let r, let ms)?:
            out.latencyMs = ms
            guard r.status == 200 else {
                out.lastError = "/health answered \(r.status)"
                break
            }
            if let live = try? r.decode(Liveness.self) {
                out.version = live.version ?? out.version
                out.instanceId = live.instanceId ?? out.instanceId
                out.uptimeSeconds = live.uptimeSeconds ?? out.uptimeSeconds
            }
            out.status = "up"
            switch ready {
            case .answered(let r, _)? where r.status == 200:
                break
            case .answered(let r, _)?:
                out.status = "degraded"
                out.lastError = Readiness.failing(r)
            case .failed(let e)?:
                out.status = "degraded"
                out.lastError = "/ready: \(e)"
            case nil:
                out.status = "degraded"
                out.lastError = "/ready: no answer within \(timeout) s"
            }
        }
        return out
    }
}
