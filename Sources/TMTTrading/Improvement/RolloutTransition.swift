import TMTBase
import TMTModels

/// One state change of a rollout and the parameter changes to publish on `config.updates`
/// for it (empty when none are needed, e.g. stopping a rollout that never started).
public struct RolloutTransition: Sendable, Equatable {
    /// The state before.
    public var from: RolloutState
    /// The state after.
    public var to: RolloutState
    /// When it happened (the machine's clock).
    public var at: Date
    /// Why, for the audit trail.
    public var reason: String
    /// The updates to send, in order.
    public var updates: [ConfigUpdate]

    public init(from: RolloutState, to: RolloutState, at: Date, reason: String, updates: [ConfigUpdate]) {
        self.from = from
        self.to = to
        self.at = at
        self.reason = reason
        self.updates = updates
    }
}
