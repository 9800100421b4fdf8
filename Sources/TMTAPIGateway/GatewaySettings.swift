import TMTBase
import TMTCore

/// The gateway's settings, read once from the environment at start-up. A malformed value stops
/// start-up with the variable named.
struct GatewaySettings: Sendable {
    /// One agent the aggregated `/health` probes.
    struct AgentTarget: Sendable, Equatable {
        /// Service name, e.g. `circuit-breaker`.
        var name: String
        /// Base URL (`http://host:port`, no trailing slash); `/health` is appended.
        var url: String
    }

    /// The eight pipeline agents on their ARCHITECTURE.md ports (8001–8008), the default of
    /// `AGENT_URLS`.
    static let defaultAgents: [AgentTarget] = [
        AgentTarget(name: "circuit-breaker", url: "http://127.0.0.1:8001"),
        AgentTarget(name: "compliance-engine", url: "http://127.0.0.1:8002"),
        AgentTarget(name: "wyckoff-analysis", url: "http://127.0.0.1:8003"),
        AgentTarget(name: "aria-risk", url: "http://127.0.0.1:8004"),
        AgentTarget(name: "execution-engine", url: "http://127.0.0.1:8005"),
        AgentTarget(name: "anti-correlation", url: "http://127.0.0.1:8006"),
        AgentTarget(name: "human-behavior", url: "http://127.0.0.1:8007"),
        AgentTarget(name: "continuous-improvement", url: "http://127.0.0.1:8008"),
    ]

    /// Agents probed by `/health`. Env `AGENT_URLS` as `name=url,name=url`; default the eight
    /// agents on 127.0.0.1:8001…8008. Only the listed agents are probed.
    var agents: [AgentTarget]
    /// Seconds each `/health` probe may take before it counts as failed. Env
    /// `HEALTH_PROBE_TIMEOUT_SECONDS`; default 2.
    var probeTimeout: Double
    /// Seconds an aggregated `/health` report is served before the probes run again (one round
    /// at a time, shared by the callers that arrive meanwhile). Env `HEALTH_CACHE_SECONDS`;
    /// default 1; 0 probes on every call.
    var healthCacheSeconds: Double
    /// Seconds a breaker command waits for the circuit breaker's answer (its Redis snapshot
    /// listing the command) before answering 504. Env `BREAKER_COMMAND_TIMEOUT_SECONDS`; default 10.
    var commandTimeout: Double
    /// Seconds an experiment approve/stop waits for the continuous-improvement agent's answer
    /// (it publishes the config update before answering). Env
    /// `IMPROVEMENT_COMMAND_TIMEOUT_SECONDS`; default 30.
    var improvementTimeout: Double
    /// Agents that must acknowledge a day reset before it is answered 200. Env
    /// `DAY_RESET_AGENTS` (comma-separated); default execution-engine, compliance-engine,
    /// circuit-breaker (the agents that keep per-day state).
    var dayResetAgents: [String]
    /// Seconds a day reset waits for those acknowledgements before answering 504. Env
    /// `DAY_RESET_TIMEOUT_SECONDS`; default 15.
    var dayResetTimeout: Double
    /// Agents that must acknowledge an account restart before it is answered 200. Env
    /// `ACCOUNT_RESTART_AGENTS`; default execution-engine, compliance-engine, circuit-breaker,
    /// anti-correlation (the agents that keep per-account state).
    var accountRestartAgents: [String]
    /// Seconds an account restart waits for those acknowledgements before answering 504. Env
    /// `ACCOUNT_RESTART_TIMEOUT_SECONDS`; default 20.
    var accountRestartTimeout: Double
    /// Redis key of the breaker snapshot (the breaker's `BREAKER_SNAPSHOT_KEY`). Default
    /// `tmt:breaker:snapshot`.
    var snapshotKey: String
    /// Compliance configuration with the firms' loss limits (`COMPLIANCE_CONFIG`; default
    /// `<CONFIG_DIR>/compliance-staging.yml`).
    var compliancePath: String
    /// Largest body of a mutating request, bytes (413 past it). Env `API_MAX_BODY_BYTES`; default 16 KiB.
    var maxBodyBytes: Int
    /// Port of the Trading Dashboard (the page plus the same API routes, so the page is
    /// same-origin). Env `DASHBOARD_PORT`; default 3000; 0 disables it. Binds `HTTP_HOST`.
    var dashboardPort: Int
    /// Seconds between keep-alive heartbeats on `/api/v1/stream`. Env
    /// `STREAM_HEARTBEAT_SECONDS`; default 15.
    var streamHeartbeat: Double
    /// Seconds between aggregated health polls while stream clients are connected (a `health`
    /// event goes out when the status or the failing set changes). Env
    /// `STREAM_HEALTH_INTERVAL_SECONDS`; default 5.
    var streamHealthInterval: Double
    /// Events queued for one stream client before it counts as too slow and is dropped (it
    /// reconnects and resynchronises). Env `STREAM_CLIENT_BUFFER_EVENTS`; default 1024.
    var streamClientBuffer: Int
    /// Stream clients served at once; more get 503. Env `STREAM_MAX_CLIENTS`; default 64.
    var streamMaxClients: Int

    init(environment env: Environment, configDirectory: String) throws {
        agents = try Self.parseAgents(env.string("AGENT_URLS"))
        probeTimeout = try env.double("HEALTH_PROBE_TIMEOUT_SECONDS", default: 2, range: 0.05...60)
        healthCacheSeconds = try env.double("HEALTH_CACHE_SECONDS", default: 1, range: 0...60)
        commandTimeout = try env.double("BREAKER_COMMAND_TIMEOUT_SECONDS", default: 10, range: 0.1...300)
        improvementTimeout = try env.double("IMPROVEMENT_COMMAND_TIMEOUT_SECONDS", default: 30, range: 0.5...300)
        dayResetAgents = env.string("DAY_RESET_AGENTS", default: "execution-engine,compliance-engine,circuit-breaker")
            .split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !dayResetAgents.isEmpty else { throw TMTError(.configuration, "DAY_RESET_AGENTS must name at least one agent") }
        dayResetTimeout = try env.double("DAY_RESET_TIMEOUT_SECONDS", default: 15, range: 0.5...300)
        accountRestartAgents = env.string("ACCOUNT_RESTART_AGENTS", default: "execution-engine,compliance-engine,circuit-breaker,anti-correlation")
            .split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !accountRestartAgents.isEmpty else { throw TMTError(.configuration, "ACCOUNT_RESTART_AGENTS must name at least one agent") }
        accountRestartTimeout = try env.double("ACCOUNT_RESTART_TIMEOUT_SECONDS", default: 20, range: 0.5...300)
        snapshotKey = env.string("BREAKER_SNAPSHOT_KEY", default: "tmt:breaker:snapshot")
        compliancePath = env.string("COMPLIANCE_CONFIG", default: "\(configDirectory)/compliance-staging.yml")
        maxBodyBytes = try env.int("API_MAX_BODY_BYTES", default: 16 * 1024, range: 64...(1024 * 1024))
        dashboardPort = try env.int("DASHBOARD_PORT", default: 3000, range: 0...65535)
        streamHeartbeat = try env.double("STREAM_HEARTBEAT_SECONDS", default: 15, range: 0.2...300)
        streamHealthInterval = try env.double("STREAM_HEALTH_INTERVAL_SECONDS", default: 5, range: 0.2...3600)
        streamClientBuffer = try env.int("STREAM_CLIENT_BUFFER_EVENTS", default: 1024, range: 8...100_000)
        streamMaxClients = try env.int("STREAM_MAX_CLIENTS", default: 64, range: 1...1000)
    }

    /// The continuous-improvement agent's base URL, nil when `AGENT_URLS` does not list it.
    var improvementAgentURL: String? { agents.first { $0.name == "continuous-improvement" }?.url }

    /// Parses `name=url,name=url`; nil or empty gives the defaults.
    static func parseAgents(_ raw: String?) throws -> [AgentTarget] {
        guard let raw, !raw.trimmingWhitespace().isEmpty else { return defaultAgents }
        var out: [AgentTarget] = []
        for entry in raw.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].lowercased().hasPrefix("http://") else {
                throw TMTError(.configuration, "environment variable AGENT_URLS: expected name=http://host:port[,…], got '\(entry)'")
            }
            guard !out.contains(where: { $0.name == parts[0] }) else {
                throw TMTError(.configuration, "environment variable AGENT_URLS: agent \(parts[0]) listed twice")
            }
            var url = parts[1]
            while url.hasSuffix("/") { url.removeLast() }
            out.append(AgentTarget(name: parts[0], url: url))
        }
        return out
    }
}
