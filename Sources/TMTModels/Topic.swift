/// The Kafka topics of the pipeline (ARCHITECTURE.md, "Topics"), with the key each is
/// partitioned by and the partition count the dev broker and the compose bootstrap create.
public enum Topic: String, CaseIterable, Sendable {
    case marketTicks = "market.ticks"
    case signalsGenerated = "signals.generated"
    case ordersProposed = "orders.proposed"
    case ordersApproved = "orders.approved"
    case complianceViolations = "compliance.violations"
    case ordersDecorrelated = "orders.decorrelated"
    case ordersHumanized = "orders.humanized"
    case ordersCleared = "orders.cleared"
    case ordersBlocked = "orders.blocked"
    case executionsFills = "executions.fills"
    case positionsUpdates = "positions.updates"
    case accountsUpdates = "accounts.updates"
    case breakerCommands = "breaker.commands"
    case breakerEvents = "breaker.events"
    case agentsHealth = "agents.health"
    case improvementProposals = "improvement.proposals"
    case configUpdates = "config.updates"
    /// Operator commands to the whole staging pipeline (e.g. start a new trading day), read by
    /// every instance of the agents that keep per-day state.
    case stagingCommands = "staging.commands"
    case dlq = "dlq"

    /// The topic name on the broker.
    public var name: String { rawValue }

    /// Partitions: the keyed, high-volume topics get enough for several instances of an agent to
    /// split the work; control topics get one so their order is total.
    public var partitions: Int {
        switch self {
        case .marketTicks, .signalsGenerated, .ordersProposed, .ordersApproved, .ordersDecorrelated,
             .ordersHumanized, .ordersCleared, .executionsFills, .positionsUpdates, .accountsUpdates:
            6
        case .complianceViolations, .ordersBlocked, .dlq:
            3
        case .breakerCommands, .breakerEvents, .agentsHealth, .improvementProposals, .configUpdates, .stagingCommands:
            1
        }
    }
}
