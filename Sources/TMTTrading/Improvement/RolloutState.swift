import TMTBase

/// Where a staged rollout is.
public enum RolloutState: Sendable, Equatable {
    /// Proposed, waiting for a manual approval; nothing deployed.
    case pending
    /// Running the variant on `stages[stage]` % of accounts since `since`.
    case rolling(stage: Int, since: Date)
    /// All stages passed; the variant is the new default.
    case completed(at: Date)
    /// Relative performance reached the rollback threshold; baseline restored.
    case rolledBack(at: Date, reason: String)
    /// Relative performance reached the emergency threshold; baseline restored at once.
    case emergencyStopped(at: Date, reason: String)
    /// Stopped by a manual command; baseline restored.
    case stopped(at: Date, by: String, reason: String)

    /// True for states no command or observation leaves.
    public var isTerminal: Bool {
        switch self {
        case .pending, .rolling: false
        case .completed, .rolledBack, .emergencyStopped, .stopped: true
        }
    }

    /// A short name for logs and metrics labels.
    public var name: String {
        switch self {
        case .pending: "pending"
        case .rolling: "rolling"
        case .completed: "completed"
        case .rolledBack: "rolled_back"
        case .emergencyStopped: "emergency_stopped"
        case .stopped: "stopped"
        }
    }
}
