/// What every service publishes on `agents.health` at a fixed interval. The circuit breaker trips
/// on missing heartbeats; the gateway shows them.
public struct AgentHeartbeat: Codable, Sendable, Equatable {
    /// The status of an instance's last heartbeat as it shuts down cleanly.
    public static let stoppingStatus = "stopping"

    /// Service name, e.g. `aria-risk`.
    public var service: String
    /// `<host>-<pid>-<nonce>`; several instances of one service (and every start of one) have
    /// different ids.
    public var instanceId: String
    /// Build version string.
    public var version: String
    /// `healthy` when every readiness check passed at the last probe, else `degraded`;
    /// `stopping` in the last heartbeat of an instance that shuts down cleanly.
    public var status: String
    /// Start of the process, µs since the epoch.
    public var startedAt: Int64
    /// Seconds since start.
    public var uptimeSeconds: Double
    /// Dependencies that failed their last readiness check.
    public var failingChecks: [String]
    /// When this heartbeat was sent, µs since the epoch.
    public var sentAt: Int64

    public init(service: String, instanceId: String, version: String, status: String, startedAt: Int64,
                uptimeSeconds: Double, failingChecks: [String], sentAt: Int64) {
        self.service = service
        self.instanceId = instanceId
        self.version = version
        self.status = status
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.failingChecks = failingChecks
        self.sentAt = sentAt
    }
}
