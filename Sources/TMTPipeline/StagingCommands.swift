import TMTBase
import TMTCore

/// The acknowledgements of `staging.commands` messages (`staging_command_acks`): one row per
/// command and agent instance that applied it, with what it did.
public struct StagingCommandStore: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// One agent instance's acknowledgement.
    public struct Acknowledgement: Codable, Sendable, Equatable {
        public var agent: String
        public var instance: String
        public var action: String
        /// What the agent did, one line.
        public var detail: String
        /// µs since the epoch.
        public var appliedAt: Int64
    }

    /// Whether `agent`'s `instance` already applied `commandId`.
    public func applied(_ commandId: String, agent: String, instance: String) throws -> Bool {
        try pool.queryOne("SELECT 1 FROM staging_command_acks WHERE command_id = $1 AND agent = $2 AND instance = $3",
                          [commandId, agent, instance]) != nil
    }

    /// Records that `agent`'s `instance` applied `command` (idempotent).
    public func acknowledge(_ command: StagingCommand, agent: String, instance: String, detail: String) throws {
        try pool.execute("""
            INSERT INTO staging_command_acks (command_id, agent, instance, action, detail) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT DO NOTHING
            """, [command.id, agent, instance, command.action.rawValue, String(detail.prefix(2000))])
    }

    /// The acknowledgements of `commandId`, by agent and instance.
    public func acknowledgements(_ commandId: String) throws -> [Acknowledgement] {
        try pool.query("""
            SELECT agent, instance, action, detail, (extract(epoch FROM applied_at) * 1000000)::bigint AS at
            FROM staging_command_acks WHERE command_id = $1 ORDER BY agent, instance
            """, [commandId]).map {
            Acknowledgement(agent: try $0.decode(String.self, column: "agent"), instance: try $0.decode(String.self, column: "instance"),
                            action: try $0.decode(String.self, column: "action"), detail: try $0.decode(String.self, column: "detail"),
                            appliedAt: try $0.decode(Int64.self, column: "at"))
        }
    }
}

extension ServiceRuntime {
    /// Reads `staging.commands` in a group of this instance's own (every instance applies every
    /// command; a new process starts at the end, so old commands are not replayed), skips a
    /// command this instance already acknowledged, runs `apply` and records its one-line result.
    /// Registered for shutdown with the other consumers.
    public func consumeStagingCommands(kafka: KafkaConfiguration, producer: KafkaProducer, pool: PostgresPool,
                                       apply: @escaping @Sendable (StagingCommand) throws -> String) throws {
        var live = kafka.forControlPlane()
        live.autoOffsetReset = "latest"
        let consumer = try KafkaConsumer(configuration: live, groupId: "\(options.service)-staging-\(options.instanceId)",
                                         topics: [Topic.stagingCommands.name], deadLetterProducer: producer, metrics: metrics, logger: logger)
        lifecycle.onShutdown("staging commands") { consumer.stop(timeout: 10) }
        let store = StagingCommandStore(pool: pool)
        let agent = options.service, instance = options.instanceId, log = logger
        try consumer.startEnvelopes(StagingCommand.self) { envelope, _ in
            let command = envelope.payload
            if try store.applied(command.id, agent: agent, instance: instance) { return }
            let detail = try apply(command)
            try store.acknowledge(command, agent: agent, instance: instance, detail: detail)
            log.notice("staging command applied", traceId: envelope.traceId,
                       ["command": command.id, "action": command.action.rawValue, "by": command.requestedBy, "detail": detail])
        }
    }
}

extension StagingCommand {
    /// For an account restart: waits until `epoch(account)` — this
    /// agent's own view of the account — has reached the command's target epoch for every
    /// account in `epochs`, and returns one "id at epoch N" per account. The agent's state for
    /// the account was started again when its view saw the new epoch; this only confirms it.
    /// Waits until the command's `deadline` (when the gateway stops waiting), at least 1 s,
    /// `defaultTimeout` seconds without one. Throws naming the accounts still behind (the command
    /// is then not acknowledged).
    public func awaitEpochs(defaultTimeout: Double = 20, _ epoch: (String) -> Int?) throws -> [String] {
        let timeout = deadline.map { max(1, Double($0 - HopClock.nowMicros()) / 1e6) } ?? defaultTimeout
        let until = Date().addingTimeInterval(timeout)
        while true {
            let behind = epochs.keys.sorted().filter { (epoch($0) ?? -1) < epochs[$0]! }
            if behind.isEmpty { return epochs.keys.sorted().map { "\($0) at epoch \(epoch($0) ?? 0)" } }
            if Date() >= until {
                throw TMTError(.timeout, "account restart \(id): after \(String(cFormat: "%.1f", timeout)) s still behind the target epoch: "
                               + StagingCommand.list(behind.map { "\($0) (epoch \(epoch($0).map(String.init) ?? "unknown"), target \(epochs[$0]!))" }))
            }
            usleep(20_000)
        }
    }
}
