import TMTBase
import TMTMetrics

/// The Redis client's metric families on one registry, shared by all connections of a client.
final class RedisMetrics: Sendable {
    let commands: CounterFamily
    let errors: CounterFamily
    let duration: Histogram
    let reconnects: Counter

    init(registry: MetricsRegistry) {
        commands = registry.counter("tmt_redis_commands_total", help: "Redis commands sent, by command name (pipelined commands count one each).",
                                    labels: ["command"])
        errors = registry.counter("tmt_redis_errors_total",
                                  help: "Redis failures by kind: connection (connect failed or lost), timeout, reply (error replies), protocol, pool (no free connection).",
                                  labels: ["kind"])
        duration = registry.histogram("tmt_redis_command_duration_seconds",
                                      help: "Time from sending a Redis command (or a whole pipeline) to its reply, reconnects included.")
            .labels()
        reconnects = registry.counter("tmt_redis_reconnects_total", help: "Redis connections re-established after they broke.").labels()
    }

    func command(_ name: String) { commands.labels(name).inc() }

    func error(_ kind: String, _ count: Int = 1) { errors.labels(kind).inc(Double(count)) }

    /// Counts a thrown error under the kind its code stands for.
    func error(_ e: TMTError) {
        switch e.code {
        case .redis: error("reply")
        case .protocolViolation: error("protocol")
        case .poolExhausted: error("pool")
        default: error(e.code.rawValue)
        }
    }
}
